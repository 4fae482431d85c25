"""Team hours: ``resource_day_hours``.

Invariant kept exact: for every technician and UTC day, its row holds the hours, billable
hours, customer-facing hours (on a ticket or a project) and number of the time entries
started that day; a technician-day with no entry has no row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Select, case, delete, func, insert, or_, select

from mspkpi_tui.store import models
from mspkpi_tui.store.timeslots import DAY, at, runs, utc_day_start

entries = models.table(models.TimeEntry)
resource_days = models.table(models.ResourceDayHours)

MAX_DAY_GAP = timedelta(days=7)  # touched days closer than this are recounted as one range
COLUMNS = ["resource_id", "day", "hours", "billable_hours", "customer_facing_hours", "entries"]


def customer_facing_hours() -> ColumnElement:
    return case((or_(entries.c.ticket_id.is_not(None), entries.c.project_id.is_not(None)), entries.c.hours), else_=0.0)


def billable_hours() -> ColumnElement:
    return case((entries.c.billable, entries.c.hours), else_=0.0)


def _day_rows() -> Select:
    """Every technician-day's figures, grouped from the time entries (filter with .where)."""
    day = utc_day_start(entries.c.started_at)
    return select(
        entries.c.resource_id,
        day,
        func.sum(entries.c.hours),
        func.sum(billable_hours()),
        func.sum(customer_facing_hours()),
        func.count(),
    ).group_by(entries.c.resource_id, day)


def refresh_resource_days(conn: Connection, days: Iterable[datetime]) -> None:
    """Recount every technician's hours on these UTC days (and the days between two of them
    less than MAX_DAY_GAP apart): one grouped range of ix_time_entries_week per run of days."""
    for lo, hi in runs(days, DAY, MAX_DAY_GAP):
        conn.execute(delete(resource_days).where(resource_days.c.day >= at(lo), resource_days.c.day < at(hi)))
        started = entries.c.started_at
        conn.execute(insert(resource_days).from_select(COLUMNS, _day_rows().where(started >= at(lo), started < at(hi))))


def rebuild_resource_days(conn: Connection) -> None:
    conn.execute(delete(resource_days))
    conn.execute(insert(resource_days).from_select(COLUMNS, _day_rows()))
