"""Service times and SLA compliance: ``ticket_response_hours``.

Invariant kept exact: for every UTC hour, its row holds, over the tickets first responded
to in that hour, how many, the sum of their seconds from creation, how many had a
first-response due time and how many met it; and the same four figures over the tickets
resolved in that hour. An hour with neither has no row. So the 30-day service times and
SLA compliance sum ~720 rows instead of reading ~70,000 tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, case, delete, func, insert, select

from mspkpi_tui.store import models
from mspkpi_tui.store.timeslots import HOUR, at, epoch_seconds, hour_ceil, hour_floor, runs, utc_hour_start

tickets = models.table(models.Ticket)
response_hours = models.table(models.TicketResponseHour)

# Two halves per hour: (when done, when due, the rollup's four columns for it).
RESPONSE = (
    "first_response_at",
    "first_response_due",
    ("responded", "response_seconds", "responded_with_due", "responded_in_time"),
)
RESOLUTION = (
    "resolved_at",
    "resolution_due",
    ("resolved", "resolution_seconds", "resolved_with_due", "resolved_in_time"),
)
RESPONSE_COLUMNS = RESPONSE[2] + RESOLUTION[2]
MAX_GAP = timedelta(hours=24)  # touched hours closer than this are recounted as one range
BATCH = 5000


def timing_sums(done_name: str, due_name: str) -> list[ColumnElement]:
    """Over tickets selected by their `done` time: how many, the sum of their seconds from
    creation to done, how many had a due time, how many were done at or before it."""
    done, due = tickets.c[done_name], tickets.c[due_name]
    return [
        func.count(),
        func.coalesce(func.sum(epoch_seconds(done) - epoch_seconds(tickets.c.created_at)), 0.0),
        func.count(due),
        func.coalesce(func.sum(case((done <= due, 1), else_=0)), 0),
    ]


def _response_rows(conn: Connection, lo: datetime | None = None, hi: datetime | None = None) -> list[dict]:
    """Rollup rows recounted from the tickets for every hour in [lo, hi) (all hours if no range):
    one grouped index range per half (ix_tickets_first_response, ix_tickets_resolved)."""
    rows: dict[datetime, dict] = {}
    for done_name, due_name, names in (RESPONSE, RESOLUTION):
        done = tickets.c[done_name]
        hour = utc_hour_start(done)
        where = [done >= at(lo), done < at(hi)] if lo is not None and hi is not None else [done.is_not(None)]
        for moment, *sums in conn.execute(select(hour, *timing_sums(done_name, due_name)).where(*where).group_by(hour)):
            row = rows.setdefault(moment, dict.fromkeys(RESPONSE_COLUMNS, 0) | {"hour": moment})
            row.update(zip(names, sums))
    return [rows[h] for h in sorted(rows)]


def refresh_response_hours(conn: Connection, hours: Iterable[datetime]) -> None:
    """Recount these hours (and any hour between two of them less than MAX_GAP apart)."""
    for lo, hi in runs(hours, HOUR, MAX_GAP):
        rows = _response_rows(conn, lo, hi)
        conn.execute(delete(response_hours).where(response_hours.c.hour >= at(lo), response_hours.c.hour < at(hi)))
        if rows:
            conn.execute(insert(response_hours), rows)


def rebuild_response_hours(conn: Connection) -> None:
    conn.execute(delete(response_hours))
    rows = _response_rows(conn)
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(response_hours), rows[start : start + BATCH])


def response_sums(conn: Connection, start: datetime, end: datetime) -> dict[str, float]:
    """The rollup's figures over tickets responded to / resolved in [start, end]: whole hours
    from the rollup, the partial hours at either end from the tickets themselves."""
    totals: dict[str, float] = dict.fromkeys(RESPONSE_COLUMNS, 0)

    def exact(lo: datetime, hi: datetime, hi_inclusive: bool) -> None:
        for done_name, due_name, names in (RESPONSE, RESOLUTION):
            done = tickets.c[done_name]
            upper = done <= at(hi) if hi_inclusive else done < at(hi)
            for name, value in zip(
                names, conn.execute(select(*timing_sums(done_name, due_name)).where(done >= at(lo), upper)).one()
            ):
                totals[name] += value or 0

    whole_from, whole_to = hour_ceil(start), hour_floor(end)
    if whole_from >= whole_to:
        exact(start, end, True)
        return totals
    rolled = select(*[func.coalesce(func.sum(response_hours.c[name]), 0) for name in RESPONSE_COLUMNS]).where(
        response_hours.c.hour >= at(whole_from), response_hours.c.hour < at(whole_to)
    )
    for name, value in zip(RESPONSE_COLUMNS, conn.execute(rolled).one()):
        totals[name] += value or 0
    exact(whole_to, end, True)
    if start < whole_from:
        exact(start, whole_from, False)
    return totals
