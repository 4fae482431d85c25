"""Rollups the KPI engine reads instead of scanning millions of rows, kept exact at write time.

- ``tickets.time_entry_count``: each ticket's number of time entries (first contact resolution).
- ``ticket_completion_hours``: per UTC hour, the tickets completed in it and how many of them
  were first touch (fewer than 2 time entries), so FCR over a year sums ~8,760 rows.
- ``ticket_response_hours``: per UTC hour, the tickets first responded to / resolved in it,
  the sum of their times since creation and how many had a due time and met it, so the
  30-day service times and SLA compliance sum ~720 rows instead of ~70,000 tickets.
- ``resource_day_hours``: per technician and UTC day, hours / billable / customer-facing
  hours of the time entries started that day (team hours).

Every write path of the store (ingest.upsert_rows, the deletes) marks the keys it may have
changed in the rollup_pending_* tables, in the same transaction as the write; ``flush_pending``
recounts them from the base tables (never adding deltas, so a rollup row is always exactly
what its hour holds) and clears them, in one transaction. The sync runner flushes at the end
of each entity's pass before its cursor moves, after prunes and deletes, when a run ends, and
when a run starts (repairing what a killed run left): after a sync a reader never sees a
rollup disagree with its rows; while a pass is storing pages, the rollups lag it.
Writers that bypass ingest (a bulk loader) call ``rebuild`` afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float

from mspkpi_tui.store import models
from mspkpi_tui.store.driver import DriverStatement
from mspkpi_tui.store.types import UTCDateTime

tickets = models.Ticket.__table__  # type: ignore[attr-defined]
entries = models.TimeEntry.__table__  # type: ignore[attr-defined]
completion_hours = models.TicketCompletionHour.__table__  # type: ignore[attr-defined]
resource_days = models.ResourceDayHours.__table__  # type: ignore[attr-defined]
response_hours = models.TicketResponseHour.__table__  # type: ignore[attr-defined]

FIRST_TOUCH_MAX_ENTRIES = 1  # first touch = fewer than 2 time entries
IDS_PER_STATEMENT = 500
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_ceil(moment: datetime) -> datetime:
    floor = hour_floor(moment)
    return floor if floor == moment else floor + HOUR


def at(moment: datetime):
    return literal(moment, UTCDateTime)


class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a stored timestamp, as a float (for differences and means)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return "CAST(EXTRACT(EPOCH FROM %s) AS DOUBLE PRECISION)" % compiler.process(element.clauses, **kw)


def first_touch():
    return case((tickets.c.time_entry_count <= FIRST_TOUCH_MAX_ENTRIES, 1), else_=0)


# --- the write side: pending keys and their recount ------------------------------------------
# Recounting at the end of a pass instead of for every page makes a first sync count each
# ticket, hour and day once, instead of once for every page of time entries that touches it.

pending_tickets = models.RollupPendingTicket.__table__  # type: ignore[attr-defined]
pending_hours = models.RollupPendingHour.__table__  # type: ignore[attr-defined]
pending_days = models.RollupPendingDay.__table__  # type: ignore[attr-defined]
MAX_DAY_GAP = timedelta(days=7)  # touched days closer than this are recounted as one range


def mark_pending(
    conn, tickets: Iterable[int | None] = (), hours: Iterable[datetime] = (), days: Iterable[datetime] = ()
) -> None:
    """Remember, in the caller's transaction, what to recount: tickets whose time entries
    changed, UTC hours of ticket completions / responses / resolutions, UTC days of time entries."""
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for table, column, keys in (
        (pending_tickets, "ticket_id", tickets),
        (pending_hours, "hour", hours),
        (pending_days, "day", days),
    ):
        values = [{column: key} for key in sorted({k for k in keys if k is not None})]
        if values:  # one compiled statement, many parameter sets, on the driver
            DriverStatement(conn, insert_(table).on_conflict_do_nothing(), table, [column], "ignore").executemany(
                conn, values
            )


def flush_pending(conn) -> None:
    """Recount every pending key from the base tables and clear them (in the caller's transaction)."""
    hours = set(conn.execute(select(pending_hours.c.hour)).scalars())
    days = set(conn.execute(select(pending_days.c.day)).scalars())
    has_tickets = conn.execute(select(pending_tickets.c.ticket_id).limit(1)).first() is not None
    if not (hours or days or has_tickets):
        return
    flipped = refresh_time_entry_counts(conn) if has_tickets else set()
    refresh_completion_hours(conn, hours | flipped)
    refresh_response_hours(conn, hours)
    refresh_resource_days(conn, days)
    for table in (pending_tickets, pending_hours, pending_days):
        conn.execute(delete(table))


def refresh_time_entry_counts(conn) -> set[datetime]:
    """Set time_entry_count to the real count for the pending tickets; returns the completion
    hours of those whose first-touch state changed (their hour's rollup is off by one)."""
    pending = tickets.c.id.in_(select(pending_tickets.c.ticket_id))
    count = select(func.count()).select_from(entries).where(entries.c.ticket_id == tickets.c.id).scalar_subquery()
    flipped = select(tickets.c.completed_at).where(
        pending,
        tickets.c.completed_at.is_not(None),
        first_touch() != case((count <= FIRST_TOUCH_MAX_ENTRIES, 1), else_=0),
    )
    hours = {hour_floor(moment) for moment in conn.execute(flipped).scalars()}
    conn.execute(update(tickets).where(pending, tickets.c.time_entry_count != count).values(time_entry_count=count))
    return hours


def refresh_completion_hours(conn, hours: Iterable[datetime]) -> None:
    """Recount these hours (and any hour between two of them less than MAX_GAP apart): one
    grouped range of ix_tickets_completed_touch per run of hours."""
    for lo, hi in _runs(hours, HOUR, MAX_GAP):
        done = tickets.c.completed_at
        hour = utc_hour_start(done)
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


def _runs(moments: Iterable[datetime], step: timedelta, gap: timedelta) -> list[tuple[datetime, datetime]]:
    """Period starts as [start, end) ranges, merging periods less than `gap` apart."""
    runs: list[list[datetime]] = []
    for moment in sorted(set(moments)):
        if runs and moment - runs[-1][1] < gap:
            runs[-1][1] = moment + step
        else:
            runs.append([moment, moment + step])
    return [(lo, hi) for lo, hi in runs]


def rebuild(conn) -> None:
    """Recompute every rollup from the base tables (after a bulk load that bypassed ingest)."""
    rebuild_ticket_rollups(conn)
    rebuild_response_hours(conn)
    rebuild_resource_days(conn)


def rebuild_ticket_rollups(conn) -> None:
    """time_entry_count and ticket_completion_hours from the tickets and time entries."""
    count = select(func.count()).select_from(entries).where(entries.c.ticket_id == tickets.c.id).scalar_subquery()
    conn.execute(update(tickets).values(time_entry_count=count))
    conn.execute(delete(completion_hours))
    tally: dict[datetime, list[int]] = {}
    for moment, touch in conn.execute(
        select(tickets.c.completed_at, first_touch()).where(tickets.c.completed_at.is_not(None))
    ):
        row = tally.setdefault(hour_floor(moment), [0, 0])
        row[0] += 1
        row[1] += touch
    rows = [{"hour": h, "completed": n, "first_touch": f} for h, (n, f) in sorted(tally.items())]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(completion_hours), rows[start : start + 5000])


def fcr_counts(conn, start: datetime, end: datetime) -> tuple[int, int]:
    """(completed, first touch) over tickets completed in [start, end]: whole hours from the
    rollup, the partial hours at either end counted from the tickets themselves."""
    exact = lambda lo, hi, hi_inclusive: select(func.count(), func.coalesce(func.sum(first_touch()), 0)).where(  # noqa: E731
        tickets.c.completed_at >= at(lo),
        tickets.c.completed_at <= at(hi) if hi_inclusive else tickets.c.completed_at < at(hi),
    )
    whole_from, whole_to = hour_ceil(start), hour_floor(end)
    if whole_from >= whole_to:
        total, touch = conn.execute(exact(start, end, True)).one()
        return int(total), int(touch)
    rolled = select(
        func.coalesce(func.sum(completion_hours.c.completed), 0),
        func.coalesce(func.sum(completion_hours.c.first_touch), 0),
    ).where(and_(completion_hours.c.hour >= at(whole_from), completion_hours.c.hour < at(whole_to)))
    parts = [conn.execute(rolled).one(), conn.execute(exact(whole_to, end, True)).one()]
    if start < whole_from:
        parts.append(conn.execute(exact(start, whole_from, False)).one())
    return sum(int(p[0]) for p in parts), sum(int(p[1]) for p in parts)


# --- resource_day_hours ----------------------------------------------------------------------


def day_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day_ceil(moment: datetime) -> datetime:
    floor = day_floor(moment)
    return floor if floor == moment else floor + DAY


def customer_facing_hours():
    return case((or_(entries.c.ticket_id.is_not(None), entries.c.project_id.is_not(None)), entries.c.hours), else_=0.0)


def billable_hours():
    return case((entries.c.billable, entries.c.hours), else_=0.0)


def refresh_resource_days(conn, days: Iterable[datetime]) -> None:
    """Recount every technician's hours on these UTC days (and the days between two of them
    less than MAX_DAY_GAP apart): one grouped range of ix_time_entries_week per run of days."""
    for lo, hi in _runs(days, DAY, MAX_DAY_GAP):
        day = utc_day_start(entries.c.started_at)
        conn.execute(delete(resource_days).where(resource_days.c.day >= at(lo), resource_days.c.day < at(hi)))
        conn.execute(
            insert(resource_days).from_select(
                ["resource_id", "day", "hours", "billable_hours", "customer_facing_hours", "entries"],
                select(
                    entries.c.resource_id,
                    day,
                    func.sum(entries.c.hours),
                    func.sum(billable_hours()),
                    func.sum(customer_facing_hours()),
                    func.count(),
                )
                .where(entries.c.started_at >= at(lo), entries.c.started_at < at(hi))
                .group_by(entries.c.resource_id, day),
            )
        )


class utc_day_start(FunctionElement):
    """00:00 UTC of a stored timestamp's day, in the stored form (for a bulk rebuild)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_day_start, "sqlite")
def _day_sqlite(element, compiler, **kw):
    # UTCDateTime is stored on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
    return "(substr(%s, 1, 10) || ' 00:00:00.000000')" % compiler.process(element.clauses, **kw)


@compiles(utc_day_start, "postgresql")
def _day_pg(element, compiler, **kw):
    return "(date_trunc('day', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')" % compiler.process(element.clauses, **kw)


def rebuild_resource_days(conn) -> None:
    conn.execute(delete(resource_days))
    day = utc_day_start(entries.c.started_at)
    conn.execute(
        insert(resource_days).from_select(
            ["resource_id", "day", "hours", "billable_hours", "customer_facing_hours", "entries"],
            select(
                entries.c.resource_id,
                day,
                func.sum(entries.c.hours),
                func.sum(billable_hours()),
                func.sum(customer_facing_hours()),
                func.count(),
            ).group_by(entries.c.resource_id, day),
        )
    )


# --- ticket_response_hours -------------------------------------------------------------------
# Two halves per hour: tickets first responded to in the hour, and tickets resolved in it.
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


class utc_hour_start(FunctionElement):
    """The start of a stored timestamp's UTC hour, in the stored form (for grouping by hour)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_hour_start, "sqlite")
def _hour_sqlite(element, compiler, **kw):
    # UTCDateTime is stored on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
    return "(substr(%s, 1, 13) || ':00:00.000000')" % compiler.process(element.clauses, **kw)


@compiles(utc_hour_start, "postgresql")
def _hour_pg(element, compiler, **kw):
    return "(date_trunc('hour', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')" % compiler.process(element.clauses, **kw)


def timing_sums(done_name: str, due_name: str) -> list:
    """Over tickets selected by their `done` time: how many, the sum of their seconds from
    creation to done, how many had a due time, how many were done at or before it."""
    done, due = tickets.c[done_name], tickets.c[due_name]
    return [
        func.count(),
        func.coalesce(func.sum(epoch_seconds(done) - epoch_seconds(tickets.c.created_at)), 0.0),
        func.count(due),
        func.coalesce(func.sum(case((done <= due, 1), else_=0)), 0),
    ]


def response_hours_by_source_ids(conn, source: str, source_ids: list[str]) -> set[datetime]:
    """The UTC hours in which these tickets (by source id) were first responded to or resolved, as stored now."""
    hours: set[datetime] = set()
    for start in range(0, len(source_ids), IDS_PER_STATEMENT):
        part = source_ids[start : start + IDS_PER_STATEMENT]
        rows = conn.execute(
            select(tickets.c.first_response_at, tickets.c.resolved_at).where(
                tickets.c.source == source, tickets.c.source_id.in_(part)
            )
        )
        hours.update(hour_floor(moment) for row in rows for moment in row if moment is not None)
    return hours


def _hour_runs(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Touched hours as [start, end) ranges, merging hours less than MAX_GAP apart."""
    runs: list[list[datetime]] = []
    for hour in sorted(set(hours)):
        if runs and hour - runs[-1][1] < MAX_GAP:
            runs[-1][1] = hour + HOUR
        else:
            runs.append([hour, hour + HOUR])
    return [(lo, hi) for lo, hi in runs]


def _response_rows(conn, lo: datetime | None = None, hi: datetime | None = None) -> list[dict]:
    """Rollup rows recounted from the tickets for every hour in [lo, hi) (all hours if no range):
    one grouped index range per half (ix_tickets_first_response, ix_tickets_resolved)."""
    rows: dict[datetime, dict] = {}
    for done_name, due_name, names in (RESPONSE, RESOLUTION):
        done = tickets.c[done_name]
        hour = utc_hour_start(done)
        where = [done >= at(lo), done < at(hi)] if lo is not None else [done.is_not(None)]
        for moment, *sums in conn.execute(select(hour, *timing_sums(done_name, due_name)).where(*where).group_by(hour)):
            row = rows.setdefault(moment, dict.fromkeys(RESPONSE_COLUMNS, 0) | {"hour": moment})
            row.update(zip(names, sums))
    return [rows[h] for h in sorted(rows)]


def refresh_response_hours(conn, hours: Iterable[datetime]) -> None:
    """Recount these hours (and any hour between two of them less than MAX_GAP apart)."""
    for lo, hi in _hour_runs(hours):
        rows = _response_rows(conn, lo, hi)
        conn.execute(delete(response_hours).where(response_hours.c.hour >= at(lo), response_hours.c.hour < at(hi)))
        if rows:
            conn.execute(insert(response_hours), rows)


def rebuild_response_hours(conn) -> None:
    conn.execute(delete(response_hours))
    rows = _response_rows(conn)
    for start in range(0, len(rows), 5000):
        conn.execute(insert(response_hours), rows[start : start + 5000])


def response_sums(conn, start: datetime, end: datetime) -> dict[str, float]:
    """The rollup's figures over tickets responded to / resolved in [start, end]: whole hours
    from the rollup, the partial hours at either end from the tickets themselves."""
    totals = dict.fromkeys(RESPONSE_COLUMNS, 0)

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
