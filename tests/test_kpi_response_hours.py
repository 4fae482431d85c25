"""The ticket_response_hours rollup (service times, SLA compliance) and the per-refresh
sharing of intermediate results: worked by hand, on SQLite and PostgreSQL."""

from sqlalchemy import select
from test_kpi_builder import Data, config, utc

from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.report import compute_report
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.kpi.sla import sla_figures
from mspkpi_tui.kpi.trends import trend_series
from mspkpi_tui.store import rollups
from mspkpi_tui.store.models import Ticket
from mspkpi_tui.store.writer import SyncWriter

UTC = config("UTC")
NOW = utc("2026-11-23 12:30")  # the 30-day window starts 2026-10-24 12:30


def response_rollup(engine) -> dict:
    table = rollups.response_hours
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.hour, *[table.c[name] for name in rollups.RESPONSE_COLUMNS])).all()
    return {row[0]: tuple(round(v, 2) for v in row[1:]) for row in rows if any(row[1:])}


def recount(engine) -> dict:
    """The rollup worked out in Python from the tickets themselves."""
    expected: dict = {}
    with engine.connect() as conn:
        tickets = conn.execute(
            select(
                Ticket.created_at,
                Ticket.first_response_at,
                Ticket.first_response_due,
                Ticket.resolved_at,
                Ticket.resolution_due,
            )
        ).all()
    for created, responded, response_due, resolved, resolution_due in tickets:
        for half, done, due in ((0, responded, response_due), (4, resolved, resolution_due)):
            if done is None:
                continue
            row = expected.setdefault(rollups.hour_floor(done), [0, 0.0, 0, 0, 0, 0.0, 0, 0])
            row[half] += 1
            row[half + 1] += (done - created).total_seconds()
            row[half + 2] += due is not None
            row[half + 3] += due is not None and done <= due
    return {hour: tuple(round(v, 2) for v in row) for hour, row in expected.items()}


def test_response_hours_follow_responses_resolutions_and_prunes(engine):
    data = Data()
    data.ticket("A", "2026-11-02 09:00", first_response_at="2026-11-02 09:30", first_response_due="2026-11-02 10:00")
    data.closed(
        "B",
        "2026-11-02 08:00",
        first_response_at="2026-11-02 09:45",
        first_response_due="2026-11-02 09:00",
        resolved_at="2026-11-02 12:00",
        resolution_due="2026-11-02 16:00",
    )
    data.closed("C", "2026-11-01 12:00", resolved_at="2026-11-02 12:30")  # no SLA
    data.ticket("D", "2026-11-02 09:10")  # not responded yet
    data.store(engine)
    h9, h12 = utc("2026-11-02 09:00"), utc("2026-11-02 12:00")
    # (responded, seconds, with due, in time, resolved, seconds, with due, in time)
    assert (
        response_rollup(engine)
        == {
            h9: (2, 1800.0 + 6300.0, 2, 1, 0, 0.0, 0, 0),
            h12: (0, 0.0, 0, 0, 2, 14400.0 + 88200.0, 1, 1),
        }
        == recount(engine)
    )

    later = Data()
    later.ticket("D", "2026-11-02 09:10", first_response_at="2026-11-03 15:00")  # answered the next day
    later.ticket(
        "B",
        "2026-11-02 08:00",
        status="In Progress",
        first_response_at="2026-11-02 09:45",
        first_response_due="2026-11-02 09:00",
    )  # reopened
    later.store(engine)
    assert response_rollup(engine) == recount(engine)
    assert response_rollup(engine)[utc("2026-11-03 15:00")] == (1, 107400.0, 0, 0, 0, 0.0, 0, 0)
    assert response_rollup(engine)[h12] == (0, 0.0, 0, 0, 1, 88200.0, 0, 0)  # only C is still resolved

    with SyncWriter(engine, "t", "full") as run:
        run.prune("tickets", {"B", "C", "D"})  # A is gone from the source
    assert response_rollup(engine) == recount(engine)
    assert response_rollup(engine)[h9] == (1, 6300.0, 1, 0, 0, 0.0, 0, 0)

    with engine.connect() as conn:
        # whole hours from the rollup plus the exact partial hours at both ends (end inclusive)
        assert rollups.response_sums(conn, utc("2026-11-02 09:00"), utc("2026-11-03 15:00"))["responded"] == 2
        assert rollups.response_sums(conn, utc("2026-11-02 09:50"), utc("2026-11-03 14:59"))["responded"] == 0
        part = rollups.response_sums(conn, utc("2026-11-02 09:40"), utc("2026-11-02 12:30"))
        seconds = (
            round(part["response_seconds"], 2),
            round(part["resolution_seconds"], 2),
        )  # SQLite's julianday: ~0.1 ms
        assert (part["responded"], part["resolved"], *seconds) == (1, 1, 6300.0, 88200.0)

    with engine.begin() as conn:  # as a bulk loader would leave it
        conn.execute(rollups.response_hours.delete())
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert response_rollup(engine) == recount(engine) != {}


def test_partial_hours_at_the_window_edges_count_exactly(engine):
    data = Data()
    # responded 12:29 on the window's first day (outside) and 12:30 (the first instant inside)
    data.ticket("1", "2026-10-24 12:00", first_response_at="2026-10-24 12:29", first_response_due="2026-10-24 13:00")
    data.ticket("2", "2026-10-24 12:00", first_response_at="2026-10-24 12:30", first_response_due="2026-10-24 12:15")
    data.ticket(
        "3", "2026-11-23 12:00", first_response_at="2026-11-23 12:30", first_response_due="2026-11-23 13:00"
    )  # at now
    data.ticket("4", "2026-11-23 12:00", first_response_at="2026-11-23 12:31")  # after now
    data.ticket("5", "2026-11-10 10:00", first_response_at="2026-11-10 10:10", first_response_due="2026-11-10 10:30")
    data.store(engine)
    s = service_figures(engine, NOW, UTC)
    assert s.avg_first_response_minutes_30d == 23.33  # tickets 2, 3 and 5: (30 + 30 + 10) / 3
    assert sla_figures(engine, NOW, UTC).compliance_30d.first_response_pct == 66.67  # 3 and 5 met, 2 late


def test_one_refresh_shares_work_and_gives_the_areas_own_figures(engine):
    data = Data()
    data.resource("R", "Alice")
    data.ticket("1", "2026-11-20 09:00", status="Escalate", first_response_at="2026-11-20 09:20")
    data.event("1", "2026-11-20 10:00", "status", "New", "Escalate")
    data.ticket(
        "2", "2026-10-24 13:00", escalated_at="2026-10-24 13:30"
    )  # in the 30 x 24 h: the trends' first, partial day (24 Oct from 12:00)
    data.ticket("3", "2026-10-25 07:00", escalated_at="2026-10-25 08:00")  # the trends' second day
    data.entry("R", "2026-11-21 08:00", 2.5)  # a whole UTC day: from resource_day_hours
    data.entry("R", "2026-11-23 08:00", 1.0)  # today, up to now: from the entries
    data.store(engine)
    for period_days, total in ((30, 3), (7, 1)):  # 7 days: the trends reach further back than escalations
        cfg = config("UTC", escalation={"period_days": period_days})
        report = compute_report(engine, NOW, cfg)
        assert report["escalations"] == escalation_figures(engine, NOW, cfg).to_dict()
        assert report["trends"] == trend_series(engine, NOW, cfg).to_dict() | {"history": report["trends"]["history"]}
        assert report["service"] == service_figures(engine, NOW, cfg).to_dict()
        assert report["sla"] == sla_figures(engine, NOW, cfg).to_dict()
        assert report["escalations"]["total"] == total
        escalations = report["trends"]["escalations"]
        # 2 on 24 Oct, 3 on 25 Oct, 1 on 20 Nov: the trend covers the 30d window, so it sums to its figure
        assert escalations[:2] == [1, 1] and escalations[-4] == 1 and sum(escalations) == 3
        hours = report["trends"]["hours"]
        assert hours[-3] == 2.5 and hours[-1] == 1.0 and sum(hours) == 3.5
