"""Queue and SLA figures, and the shared rules, on hand-made tickets (answers worked by hand)."""

from datetime import timedelta

from sqlalchemy import select
from test_kpi_builder import NOW, Data, config, utc

from mspkpi_tui.kpi import rules
from mspkpi_tui.kpi.queue import queue_figures
from mspkpi_tui.kpi.sla import sla_figures

UTC = config("UTC")


def test_queue_counts_open_tickets_by_priority_status_and_queue(engine):
    d = Data()
    d.add("queues", id="Q1", name="Service Desk")
    d.add("queues", id="Q2", name="Tier 2")
    d.resource("R1", "Alice")
    d.ticket("1", priority="High", priority_rank=1, status="New", queue_id="Q1", assigned_resource_id="R1")
    d.ticket("2", priority="High", priority_rank=1, status="In Progress")
    d.ticket("3", priority="Low", priority_rank=4, status="New", queue_id="Q1")
    d.ticket("4", priority="Medium", priority_rank=2, status="Escalate", queue_id="Q2", assigned_resource_id="R1")
    d.closed("5", priority="High", priority_rank=1, queue_id="Q1")
    d.store(engine)
    q = queue_figures(engine, NOW, UTC)
    assert (q.open, q.unassigned) == (4, 2)
    assert list(q.by_priority.items()) == [("High", 2), ("Medium", 1), ("Low", 1)]  # by rank, not by name
    assert list(q.by_status.items()) == [("New", 2), ("Escalate", 1), ("In Progress", 1)]
    assert list(q.by_queue.items()) == [("Service Desk", 2), ("(none)", 1), ("Tier 2", 1)]


def test_queue_on_an_empty_database(engine):
    assert queue_figures(engine, NOW, UTC).to_dict() == {
        "open": 0,
        "unassigned": 0,
        "by_priority": {},
        "by_status": {},
        "by_queue": {},
    }


def test_sla_buckets_with_tickets_on_the_boundaries(engine):
    d = Data()
    far = "2026-12-01 00:00"
    d.ticket("A", first_response_due="2026-11-23 11:00", resolution_due=far)  # first response overdue
    d.ticket("B", first_response_due="2026-11-23 12:00")  # due exactly now: not overdue, due within 1 h
    d.ticket("C", first_response_due="2026-11-23 12:59:59")  # due within 1 h
    d.ticket("D", first_response_due="2026-11-23 13:00")  # exactly now + 1 h: not within
    d.ticket("E")  # no SLA at all: in no bucket
    d.ticket(
        "F",
        first_response_due="2026-11-23 09:00",
        first_response_at="2026-11-23 10:00",
        resolution_due="2026-11-23 11:00",
    )
    d.ticket("G", resolution_due="2026-11-23 12:00")  # exactly now: due today, not overdue
    d.ticket("H", resolution_due="2026-11-23 23:59")  # due today
    d.ticket("I", resolution_due="2026-11-24 00:00")  # exactly the end of today: not today
    d.closed("J", first_response_due="2026-11-20 00:00", resolution_due="2026-11-20 00:00")  # closed: never counted
    d.store(engine)
    s = sla_figures(engine, NOW, UTC)
    assert (s.first_response_overdue, s.first_response_due_1h, s.resolution_overdue, s.resolution_due_today) == (
        1,
        2,
        1,
        2,
    )
    # The same rules pick the same tickets for the TUI's lists.
    with engine.connect() as conn:
        pick = lambda clause: sorted(conn.execute(select(rules.tickets.c.source_id).where(clause)).scalars())  # noqa: E731
        assert pick(rules.first_response_overdue(NOW)) == ["A"]
        assert pick(rules.first_response_due_within(NOW, 1)) == ["B", "C"]
        assert pick(rules.resolution_overdue(NOW)) == ["F"]
        assert pick(rules.resolution_due_today(NOW, utc("2026-11-24 00:00"))) == ["G", "H"]
        assert pick(rules.is_overdue(NOW)) == ["A", "F"]


def test_sla_due_today_ends_at_local_midnight(engine):
    d = Data()
    d.ticket("X", resolution_due="2026-11-24 04:30")  # 23:30 in New York on the 23rd
    d.ticket("Y", resolution_due="2026-11-24 05:00")  # local midnight: tomorrow
    d.store(engine)
    assert sla_figures(engine, NOW, config("America/New_York")).resolution_due_today == 1
    assert sla_figures(engine, NOW, UTC).resolution_due_today == 0


def test_compliance_counts_done_in_window_and_missed_due_in_window(engine):
    d = Data()
    d.closed("K1", first_response_due="2026-11-10 10:00", first_response_at="2026-11-10 09:00")  # met
    d.closed("K2", first_response_due="2026-11-10 10:00", first_response_at="2026-11-10 10:00")  # on the dot: met
    d.closed("K3", first_response_due="2026-11-10 10:00", first_response_at="2026-11-10 10:01")  # late
    d.ticket("K4", first_response_due="2026-11-20 00:00")  # passed without a response: missed
    d.closed("K5", first_response_at="2026-11-10 09:00")  # no SLA: not counted
    d.closed("K6", first_response_due="2026-10-01 00:00", first_response_at="2026-10-01 00:00")  # before the window
    d.ticket("K7", first_response_due="2026-11-25 00:00")  # not due yet
    d.ticket("K8", first_response_due="2026-10-24 11:59")  # passed just before the window
    d.closed("L1", resolution_due="2026-11-16 00:00", resolved_at="2026-11-15 00:00")  # met
    d.closed("L2", resolution_due="2026-11-14 00:00", resolved_at="2026-11-15 00:00")  # late
    d.ticket("L3", resolution_due="2026-11-23 11:59")  # passed unresolved
    d.store(engine)
    c = sla_figures(engine, NOW, UTC).compliance_30d
    assert c.first_response_pct == 50.0  # 2 met of K1 K2 K3 K4
    assert c.resolution_pct == 33.33  # 1 met of L1 L2 L3


def test_compliance_is_null_without_tickets(engine):
    d = Data()
    d.ticket("E")  # a ticket without any SLA
    d.store(engine)
    s = sla_figures(engine, NOW, UTC)
    assert s.to_dict()["compliance_30d"] == {"first_response_pct": None, "resolution_pct": None}


def test_next_due_is_the_earliest_pending_due(engine):
    d = Data()
    d.ticket("both", first_response_due="2026-11-23 10:00", resolution_due="2026-11-23 09:00")
    d.ticket(
        "responded",
        first_response_due="2026-11-23 10:00",
        first_response_at="2026-11-23 09:00",
        resolution_due="2026-11-23 15:00",
    )
    d.ticket(
        "done",
        first_response_due="2026-11-23 10:00",
        first_response_at="2026-11-23 09:00",
        resolution_due="2026-11-23 15:00",
        resolved_at="2026-11-23 11:00",
    )
    d.ticket("response-only", first_response_due="2026-11-23 10:00")
    d.ticket("equal", first_response_due="2026-11-23 10:00", resolution_due="2026-11-23 10:00")
    d.ticket("none")
    d.store(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(select(rules.tickets.c.source_id, rules.next_due())).all())
    assert got == {
        "both": utc("2026-11-23 09:00"),
        "responded": utc("2026-11-23 15:00"),
        "done": None,
        "response-only": utc("2026-11-23 10:00"),
        "equal": utc("2026-11-23 10:00"),
        "none": None,
    }


def test_period_bounds_across_the_us_dst_change():
    now = utc("2026-03-11 15:00")  # Wednesday; DST began Sunday 8 March in New York
    p = rules.period_bounds(now, config("America/New_York"))
    assert p.today.isoformat() == "2026-03-11"
    assert p.week_start == utc("2026-03-09 04:00")  # Monday 00:00 EDT
    assert p.last_week_start == utc("2026-03-02 05:00")  # Monday 00:00 EST: last week was 167 h
    assert p.month_start == utc("2026-03-01 05:00")
    assert p.year_start == utc("2026-01-01 05:00")
    assert p.end_of_today == utc("2026-03-12 04:00")
    assert p.window_start == now - timedelta(days=30)


def test_window_days_cover_the_30d_window_and_the_dst_day_is_23_hours_long():
    now = utc("2026-04-10 12:00")
    days, bounds = rules.window_days(now, config("Europe/London"))
    # 30 x 24 h back from 13:00 BST is 12:00 GMT on 03-11: 31 local days, the first and today partial.
    assert len(days) == len(bounds) == 31
    assert (days[0].isoformat(), days[-1].isoformat()) == ("2026-03-11", "2026-04-10")
    assert bounds[0] == (now - timedelta(days=30), utc("2026-03-12 00:00"))
    lengths = {d.isoformat(): hi - lo for d, (lo, hi) in zip(days, bounds)}
    assert lengths["2026-03-29"] == timedelta(hours=23)
    assert lengths["2026-03-28"] == lengths["2026-03-30"] == timedelta(hours=24)
    assert bounds[-1] == (utc("2026-04-09 23:00"), now + rules.JUST_AFTER)  # today (BST) runs up to now, now included
    assert all(lo < hi and lo.tzinfo is not None for lo, hi in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(30))  # no gap, no overlap
