"""First contact resolution: ``tickets.time_entry_count`` and ``ticket_completion_hours``.

Invariant kept exact: every ticket's ``time_entry_count`` is the number of its time
entries, and for every UTC hour the row of ``ticket_completion_hours`` holds how many
tickets were completed in that hour and how many of them were first touch (fewer than 2
time entries); an hour with no completion has no row. So FCR over a year sums ~8,760 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, case, delete, func, insert, select, update

from mspkpi_tui.store import models
from mspkpi_tui.store.timeslots import HOUR, at, hour_ceil, hour_floor, runs, utc_hour_start

tickets = models.table(models.Ticket)
entries = models.table(models.TimeEntry)
completion_hours = models.table(models.TicketCompletionHour)
pending_tickets = models.table(models.RollupPendingTicket)

FIRST_TOUCH_MAX_ENTRIES = 1  # first touch = fewer than 2 time entries
MAX_GAP = timedelta(hours=24)  # touched hours closer than this are recounted as one range
BATCH = 5000


def first_touch() -> ColumnElement:
    return case((tickets.c.time_entry_count <= FIRST_TOUCH_MAX_ENTRIES, 1), else_=0)


def _entry_count() -> ColumnElement:
    return select(func.count()).select_from(entries).where(entries.c.ticket_id == tickets.c.id).scalar_subquery()


def refresh_time_entry_counts(conn: Connection) -> set[datetime]:
    """Set time_entry_count to the real count for the pending tickets; returns the completion
    hours of those whose first-touch state changed (their hour's rollup is off by one)."""
    pending = tickets.c.id.in_(select(pending_tickets.c.ticket_id))
    count = _entry_count()
    flipped = select(tickets.c.completed_at).where(
        pending,
        tickets.c.completed_at.is_not(None),
        first_touch() != case((count <= FIRST_TOUCH_MAX_ENTRIES, 1), else_=0),
    )
    hours = {hour_floor(moment) for moment in conn.execute(flipped).scalars()}
    conn.execute(update(tickets).where(pending, tickets.c.time_entry_count != count).values(time_entry_count=count))
    return hours


def refresh_completion_hours(conn: Connection, hours: Iterable[datetime]) -> None:
    """Recount these hours (and any hour between two of them less than MAX_GAP apart): one
    grouped range of ix_tickets_completed_touch per run of hours."""
    done = tickets.c.completed_at
    hour = utc_hour_start(done)
    for lo, hi in runs(hours, HOUR, MAX_GAP):
        conn.execute(
            delete(completion_hours).where(completion_hours.c.hour >= at(lo), completion_hours.c.hour < at(hi))
        )
        conn.execute(
            insert(completion_hours).from_select(
                ["hour", "completed", "first_touch"],
                select(hour, func.count(), func.coalesce(func.sum(first_touch()), 0))
                .where(done >= at(lo), done < at(hi))
                .group_by(hour),
            )
        )


def rebuild_ticket_rollups(conn: Connection) -> None:
    """time_entry_count and ticket_completion_hours from the tickets and time entries."""
    conn.execute(update(tickets).values(time_entry_count=_entry_count()))
    conn.execute(delete(completion_hours))
    tally: dict[datetime, list[int]] = {}
    for moment, touch in conn.execute(
        select(tickets.c.completed_at, first_touch()).where(tickets.c.completed_at.is_not(None))
    ):
        row = tally.setdefault(hour_floor(moment), [0, 0])
        row[0] += 1
        row[1] += touch
    rows = [{"hour": h, "completed": n, "first_touch": f} for h, (n, f) in sorted(tally.items())]
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(completion_hours), rows[start : start + BATCH])


def fcr_counts(conn: Connection, start: datetime, end: datetime) -> tuple[int, int]:
    """(completed, first touch) over tickets completed in [start, end]: whole hours from the
    rollup, the partial hours at either end counted from the tickets themselves."""

    def exact(lo: datetime, hi: datetime, hi_inclusive: bool) -> tuple[int, int]:
        done = tickets.c.completed_at
        upper = done <= at(hi) if hi_inclusive else done < at(hi)
        query = select(func.count(), func.coalesce(func.sum(first_touch()), 0)).where(done >= at(lo), upper)
        total, touch = conn.execute(query).one()
        return int(total), int(touch)

    whole_from, whole_to = hour_ceil(start), hour_floor(end)
    if whole_from >= whole_to:
        return exact(start, end, True)
    rolled = select(
        func.coalesce(func.sum(completion_hours.c.completed), 0),
        func.coalesce(func.sum(completion_hours.c.first_touch), 0),
    ).where(and_(completion_hours.c.hour >= at(whole_from), completion_hours.c.hour < at(whole_to)))
    total, touch = conn.execute(rolled).one()
    parts = [(int(total), int(touch)), exact(whole_to, end, True)]
    if start < whole_from:
        parts.append(exact(start, whole_from, False))
    return sum(p[0] for p in parts), sum(p[1] for p in parts)
