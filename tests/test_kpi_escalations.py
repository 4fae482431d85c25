"""Escalation figures on hand-made tickets and events (answers worked by hand)."""

from sqlalchemy import select
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.kpi.common import Refresh
from mspkpi_tui.kpi.escalations import escalated_now, escalation_figures
from mspkpi_tui.kpi.rules import tickets
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.kpi.trends import trend_series

RULES = config("UTC", escalation={"statuses": ["Escalate"], "queues": ["Tier 2"]})


def dataset() -> Data:
    d = Data()
    d.add("queues", id="Q1", name="Service Desk")
    d.add("queues", id="Q2", name="Tier 2")
    # E1: into Escalate on 1 Nov; its priority went Low -> Medium before and Medium -> High after.
    d.ticket("E1", "2026-10-30 00:00", issue_type="Network", priority="High", priority_rank=1, status="Escalate")
    d.event("E1", "2026-10-30 12:00", "priority", "Low", "Medium")
    d.event("E1", "2026-11-01 10:00", "status", "New", "Escalate")
    d.event("E1", "2026-11-05 10:00", "priority", "Medium", "High")
    # E2: moved into the Tier 2 queue on 10 Nov, closed since.
    d.closed("E2", "2026-11-09 00:00", issue_type="Email", priority="Low", priority_rank=4, queue_id="Q2")
    d.event("E2", "2026-11-10 10:00", "queue", "Service Desk", "Tier 2")
    # E3: the source marked it escalated (UDF) on 15 Nov; priority changed after: Medium then.
    d.ticket(
        "E3",
        "2026-11-14 00:00",
        issue_type="Network",
        priority="High",
        priority_rank=1,
        status="In Progress",
        escalated_at="2026-11-15 10:00",
    )
    d.event("E3", "2026-11-20 10:00", "priority", "Medium", "High")
    # E4: first escalated before the period, again inside it: not a new escalation.
    d.ticket("E4", "2026-09-30 00:00", status="Escalate")
    d.event("E4", "2026-10-01 10:00", "status", "New", "Escalate")
    d.event("E4", "2026-11-02 10:00", "status", "Waiting", "Escalate")
    # E5: already escalated when first imported: counts from its last activity.
    d.ticket(
        "E5",
        "2026-11-21 00:00",
        priority="Medium",
        priority_rank=2,
        status="Escalate",
        last_activity_at="2026-11-22 10:00",
    )
    # E6: the same, but its last activity is older than the period.
    d.ticket("E6", "2026-08-30 00:00", status="Escalate", last_activity_at="2026-09-01 10:00")
    d.ticket("E7", "2026-11-01 00:00")  # never escalated
    for t in ("E9", "E10", "E11"):
        d.ticket(t, "2026-11-02 00:00")
    return d


def test_escalation_figures(engine):
    dataset().store(engine)
    e = escalation_figures(engine, NOW, RULES)
    assert (e.period_days, e.total, e.open) == (30, 4, 5)  # E1 E2 E3 E5; open: E1 E3 E4 E5 E6
    assert e.rate_pct == 50.0  # 4 of the 8 opened in the period
    assert list(e.by_issue_type.items()) == [("Network", 2), ("(none)", 1), ("Email", 1)]
    assert list(e.by_priority.items()) == [("Medium", 3), ("Low", 1)]  # the priority when escalated
    with engine.connect() as conn:
        open_escalated = sorted(conn.execute(select(tickets.c.source_id).where(escalated_now(RULES))).scalars())
    assert open_escalated == ["E1", "E3", "E4", "E5", "E6"]


def test_in_a_report_refresh_the_rate_counts_the_opened_the_service_figures_read(engine):
    """Within one refresh (kpi.common.Refresh) the 30-day opened count is read once, by the
    service figures, and the escalation rate divides by it: the same figures as alone."""
    dataset().store(engine)
    refresh = Refresh()
    assert service_figures(engine, NOW, RULES, refresh=refresh).opened_30d == 8
    assert escalation_figures(engine, NOW, RULES, refresh=refresh) == escalation_figures(engine, NOW, RULES)


def test_escalation_daily_trend(engine):
    dataset().store(engine)
    series = trend_series(engine, NOW, RULES).escalations  # days 2026-10-24 (from 12:00) .. 2026-11-23
    assert series == [1 if i in (8, 17, 22, 29) else 0 for i in range(31)]  # 1, 10, 15, 22 Nov
    assert sum(series) == escalation_figures(engine, NOW, RULES).total  # the same 30d window


def test_a_shorter_period_and_no_queue_rule(engine):
    dataset().store(engine)
    e = escalation_figures(engine, NOW, config("UTC", escalation={"period_days": 10}))
    assert (e.period_days, e.total) == (10, 2)  # E3 (15 Nov) and E5 (22 Nov); E2's queue move no longer escalates
    assert e.rate_pct == 100.0  # 2 escalated of the 2 opened since 13 Nov (E3, E5)


def test_escalations_on_an_empty_database(engine):
    assert escalation_figures(engine, NOW, RULES).to_dict() == {
        "period_days": 30,
        "total": 0,
        "rate_pct": None,
        "open": 0,
        "by_issue_type": {},
        "by_priority": {},
    }


def test_an_escalation_flag_set_counts_and_a_flag_cleared_does_not(engine):
    d = Data()
    # The source's escalation field (an Autotask UDF, a level): "1" escalates, "0" de-escalates.
    d.ticket("F1", "2026-11-10 00:00", status="In Progress")
    d.event("F1", "2026-11-11 10:00", "escalation", "0", "1")
    d.ticket("F2", "2026-11-10 00:00", status="In Progress")
    d.event("F2", "2026-11-12 10:00", "escalation", "1", "0")
    d.ticket("F3", "2026-11-10 00:00", status="In Progress")
    d.event("F3", "2026-11-13 10:00", "escalation", "1", "")
    d.store(engine)
    assert escalation_figures(engine, NOW, config("UTC")).total == 1  # F1 only


def test_every_escalation_count_and_list_agree_on_hostile_values(engine):
    """The escalation field's "0" (de-escalated), "" and NULL escalate nowhere: not in the period's
    total, the trend, the open count, nor the open list, which all name the same tickets."""
    d = Data()
    d.ticket("H1", "2026-11-10 00:00", status="In Progress")
    d.event("H1", "2026-11-11 10:00", "escalation", "0", "1")  # set: escalates
    d.ticket("H2", "2026-11-10 00:00", status="In Progress")
    d.event("H2", "2026-11-12 10:00", "escalation", "1", "0")  # "0": de-escalated
    d.ticket("H3", "2026-11-10 00:00", status="In Progress")
    d.event("H3", "2026-11-13 10:00", "escalation", "1", "")  # empty
    d.ticket("H4", "2026-11-10 00:00", status="In Progress")
    d.event("H4", "2026-11-14 10:00", "escalation", "1", None)  # NULL
    d.ticket("H5", "2026-11-10 00:00", status="In Progress")  # escalated by status, moved on since
    d.event("H5", "2026-11-15 10:00", "status", "New", "Escalate")
    d.event("H5", "2026-11-16 10:00", "status", "Escalate", "In Progress")
    d.ticket("H6", "2026-11-10 00:00", status="Escalate")  # in an escalation status now
    d.store(engine)

    figures = escalation_figures(engine, NOW, RULES)
    listed = ticket_lists.open_escalated(engine, NOW, RULES)
    trend = trend_series(engine, NOW, RULES).escalations
    with engine.connect() as conn:
        rule = sorted(conn.execute(select(tickets.c.source_id).where(escalated_now(RULES))).scalars())
    escalated = ["H1", "H5", "H6"]
    assert rule == escalated
    assert sorted(row.number.removeprefix("T") for row in listed.rows) == escalated
    assert figures.open == listed.total == len(escalated)
    assert figures.total == sum(trend) == len(escalated)  # all first escalated in the period
