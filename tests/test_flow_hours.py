"""The ticket_flow_hours rollup (the Trends' opened, closed, backlog and aged series): equal to
a recount from the tickets after a sync, a reopen, a close stored by a triage action, deletes,
prunes and a rebuild; worked by hand for one hour. On SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import select
from test_kpi_builder import Data, utc

from mspkpi_tui.store import rollups
from mspkpi_tui.store.models import Ticket
from mspkpi_tui.store.ticket_update import store_ticket_state
from mspkpi_tui.store.writer import SyncWriter

AGES = (7, 14, 21)


def flow_rollup(engine) -> dict:
    table = rollups.flow_hours
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.hour, *[table.c[name] for name in rollups.FLOW_COLUMNS])).all()
    return {row[0]: tuple(row[1:]) for row in rows if any(row[1:])}


def recount(engine) -> dict:
    """The rollup worked out in Python from the tickets themselves (the invariant as stated)."""
    expected: dict = {}
    with engine.connect() as conn:
        tickets = conn.execute(select(Ticket.created_at, Ticket.completed_at, Ticket.is_closed)).all()

    def row(moment):
        return expected.setdefault(rollups.hour_floor(moment), [0] * len(rollups.FLOW_COLUMNS))

    for created, completed, closed in tickets:
        lived = [not closed or (completed is not None and completed - created > timedelta(days=k)) for k in AGES]
        r = row(created)
        r[0] += 1
        r[1] += not (closed and completed is None)
        for j, flag in enumerate(lived):
            r[2 + j] += flag
        if completed is not None:
            r = row(completed)
            r[5] += 1
            r[6] += bool(closed)
            for j, flag in enumerate(lived):
                r[7 + j] += bool(closed) and flag
    return {hour: tuple(r) for hour, r in expected.items()}


def test_flow_hours_follow_syncs_reopens_triage_deletes_and_rebuilds(engine):
    data = Data()
    data.ticket("A", "2026-11-02 09:00")  # open
    data.closed("B", "2026-11-02 09:20", completed_at="2026-11-02 12:30")  # closed the same day
    data.closed("C", "2026-10-01 09:40", completed_at="2026-11-02 12:10")  # lived 32 days
    data.closed("D", "2026-11-02 09:50")  # closed, completion time unknown: never counted open
    data.closed("E", "2026-10-25 12:00", completed_at="2026-11-02 12:45")  # lived 8 days
    data.closed("F", "2026-11-05 08:00", completed_at="2026-11-06 08:00")  # alone in its hours
    data.store(engine)
    h9, h12 = utc("2026-11-02 09:00"), utc("2026-11-02 12:00")
    # (opened, counted, lived >7/14/21 d; completed, closes, ended >7/14/21 d)
    assert flow_rollup(engine)[h9] == (3, 2, 1, 1, 1, 0, 0, 0, 0, 0)  # A open lives on; B closed; D not counted
    assert flow_rollup(engine)[h12] == (0, 0, 0, 0, 0, 3, 3, 2, 1, 1)  # B, C, E completed
    assert flow_rollup(engine) == recount(engine)

    later = Data()
    later.ticket("B", "2026-11-02 09:20", status="In Progress", completed_at="2026-11-02 12:30")  # reopened
    later.ticket("E", "2026-10-25 12:00", status="In Progress")  # reopened, completion cleared
    later.closed("A", "2026-11-02 09:00", completed_at="2026-11-20 10:00")  # closed after 18 days
    later.ticket("F", "2026-11-05 08:00", completed_at="2026-11-06 08:00")  # reopened: only is_closed changed
    later.store(engine)
    assert flow_rollup(engine) == recount(engine)
    assert flow_rollup(engine)[h12] == (0, 0, 0, 0, 0, 2, 1, 1, 1, 1)  # B completed, open again; C
    assert flow_rollup(engine)[utc("2026-11-05 08:00")] == (1, 1, 1, 1, 1, 0, 0, 0, 0, 0)  # F open: lives on
    assert flow_rollup(engine)[utc("2026-11-06 08:00")] == (0, 0, 0, 0, 0, 1, 0, 0, 0, 0)  # no close now

    # A triage action the PSA confirmed: only is_closed changes, no time does.
    store_ticket_state(
        engine, "t", "C", {"status": "In Progress", "priority": "Medium"}, at=utc("2026-11-21 08:00"), is_closed=False
    )
    assert flow_rollup(engine) == recount(engine)
    store_ticket_state(
        engine, "t", "C", {"status": "Complete", "priority": "Medium"}, at=utc("2026-11-21 09:00"), is_closed=True
    )
    assert flow_rollup(engine) == recount(engine)

    with SyncWriter(engine, "t") as run:
        run.delete("tickets", ["C"])
    assert flow_rollup(engine) == recount(engine)
    with SyncWriter(engine, "t", "full") as run:
        run.prune("tickets", {"B", "D", "E", "F"})  # A is gone from the source
    assert flow_rollup(engine) == recount(engine)
    assert utc("2026-11-20 10:00") not in flow_rollup(engine)  # A's completion hour is empty again

    with engine.begin() as conn:  # as a bulk loader would leave it
        conn.execute(rollups.flow_hours.delete())
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert flow_rollup(engine) == recount(engine) != {}
