"""The Trends' long view (opened, closed, backlog, aged): ``ticket_flow_hours``.

Invariant kept exact: for every UTC hour, its row holds, over the tickets created in that
hour, how many (``opened``), how many of them are not closed-without-a-completion-time
(``opened_counted``: such a ticket was never counted open) and how many lived longer than
7, 14 and 21 days (open now, or completed more than that after creation: ``lived_*``); and,
over the tickets completed in that hour, how many (``completed``), how many are closed now
(``closes``) and how many of those lived longer than 7, 14 and 21 days (``ended_*``). An
hour with neither has no row. So a 365-day backlog sums ~8,760 small rows instead of
reading the tickets of a year. The inputs are created_at, completed_at and is_closed: every
write path marks the created and completed hours of a ticket whose inputs changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, case, delete, false, func, insert, or_, select, true

from mspkpi_tui.store import models
from mspkpi_tui.store.timeslots import HOUR, at, epoch_seconds, runs, utc_hour_start

tickets = models.table(models.Ticket)
flow_hours = models.table(models.TicketFlowHour)

AGES = (7, 14, 21)
CREATED_COLUMNS = ("opened", "opened_counted", *(f"lived_{k}d" for k in AGES))
COMPLETED_COLUMNS = ("completed", "closes", *(f"ended_{k}d" for k in AGES))
FLOW_COLUMNS = CREATED_COLUMNS + COMPLETED_COLUMNS
MAX_GAP = timedelta(hours=24)  # touched hours closer than this are recounted as one range
BATCH = 5000


def closed_now() -> ColumnElement:
    return tickets.c.is_closed == true()


def never_open() -> ColumnElement:
    """Closed without a completion time: when it closed is unknown, so it is never counted open."""
    return and_(closed_now(), tickets.c.completed_at.is_(None))


def lived_longer(days: int) -> ColumnElement:
    """Open now, or completed more than `days` days after it was created."""
    return or_(
        tickets.c.is_closed == false(),
        and_(
            tickets.c.completed_at.is_not(None),
            epoch_seconds(tickets.c.completed_at) - epoch_seconds(tickets.c.created_at) > days * 86400.0,
        ),
    )


def _ones(condition: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def created_measures() -> list[ColumnElement]:
    """Over tickets selected by created_at: the CREATED_COLUMNS."""
    return [func.count(), _ones(~never_open()), *(_ones(lived_longer(k)) for k in AGES)]


def completed_measures() -> list[ColumnElement]:
    """Over tickets selected by completed_at: the COMPLETED_COLUMNS."""
    return [func.count(), _ones(closed_now()), *(_ones(and_(closed_now(), lived_longer(k))) for k in AGES)]


def _flow_rows(conn: Connection, lo: datetime | None = None, hi: datetime | None = None) -> list[dict]:
    """Rollup rows recounted from the tickets for every hour in [lo, hi) (all hours if no range):
    one grouped index range per half (ix_tickets_created, ix_tickets_completed: both cover
    created_at, completed_at and is_closed, so no table row is read)."""
    rows: dict[datetime, dict] = {}
    for name, names, measures in (
        ("created_at", CREATED_COLUMNS, created_measures()),
        ("completed_at", COMPLETED_COLUMNS, completed_measures()),
    ):
        moment = tickets.c[name]
        hour = utc_hour_start(moment)
        where = [moment >= at(lo), moment < at(hi)] if lo is not None and hi is not None else [moment.is_not(None)]
        for start, *sums in conn.execute(select(hour, *measures).where(*where).group_by(hour)):
            row = rows.setdefault(start, dict.fromkeys(FLOW_COLUMNS, 0) | {"hour": start})
            row.update(zip(names, (int(v) for v in sums)))
    return [rows[h] for h in sorted(rows)]


def refresh_flow_hours(conn: Connection, hours: Iterable[datetime]) -> None:
    """Recount these hours (and any hour between two of them less than MAX_GAP apart)."""
    for lo, hi in runs(hours, HOUR, MAX_GAP):
        rows = _flow_rows(conn, lo, hi)
        conn.execute(delete(flow_hours).where(flow_hours.c.hour >= at(lo), flow_hours.c.hour < at(hi)))
        if rows:
            conn.execute(insert(flow_hours), rows)


def rebuild_flow_hours(conn: Connection) -> None:
    conn.execute(delete(flow_hours))
    rows = _flow_rows(conn)
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(flow_hours), rows[start : start + BATCH])
