"""The rules every figure and every ticket list share, so each exists in exactly one place.

Clause builders over the ``tickets`` table (SQLAlchemy Core, the same SQL on SQLite and
PostgreSQL) and the business-time periods. Times are always compared with bound
parameters of the column's own type (``UTCDateTime``), never formatted into SQL text:
SQLite stores them as naive UTC text and only a same-typed parameter compares right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, false, literal, null, or_, select, true, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer

from mspkpi_tui.clock import local_midnight_utc, start_of_week
from mspkpi_tui.store import escalation as store_escalation
from mspkpi_tui.store import schema
from mspkpi_tui.store.timeslots import epoch_seconds  # noqa: F401  (shared with the store's rollups)
from mspkpi_tui.store.types import UTCDateTime

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

tickets = schema.tickets
ticket_events = schema.ticket_events
queues = schema.queues

WINDOW_DAYS = 30  # "30d" = the 30 x 24 hours ending at now


def at(moment: datetime) -> ColumnElement:
    """A time as a bound parameter of the stored type (compares right on both databases)."""
    return literal(moment, UTCDateTime)


# --- portable time arithmetic ------------------------------------------------------


class day_number(FunctionElement):
    """Whole days since 1970-01-01 of a DATE column (for date differences)."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _days_sqlite(element, compiler, **kw):
    return "CAST(julianday(%s) - 2440587.5 AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(day_number, "postgresql")
def _days_pg(element, compiler, **kw):
    return "(%s - DATE '1970-01-01')" % compiler.process(element.clauses, **kw)


def epoch_of(moment: datetime) -> float:
    return moment.timestamp()


# --- tickets -------------------------------------------------------------------------


def is_open() -> ColumnElement:
    """Open: the source does not mark the status closed (served by ix_tickets_open)."""
    return tickets.c.is_closed == false()


def _pending_first_response_due() -> ColumnElement:
    return case((tickets.c.first_response_at.is_(None), tickets.c.first_response_due), else_=null())


def _pending_resolution_due() -> ColumnElement:
    return case((tickets.c.resolved_at.is_(None), tickets.c.resolution_due), else_=null())


def next_due() -> ColumnElement:
    """The earliest of first-response due (if not yet responded) and resolution due (if not
    resolved); NULL when neither applies. CASE, not min(a, b): portable and NULL-aware."""
    fr, rd = _pending_first_response_due(), _pending_resolution_due()
    earliest = case((fr.is_(None), rd), (rd.is_(None), fr), (fr <= rd, fr), else_=rd)
    return type_coerce(earliest, UTCDateTime)  # read back as aware UTC datetimes


def is_overdue(now: datetime) -> ColumnElement:
    """Open and next due has passed (the queue's "overdue first" ordering)."""
    return and_(is_open(), next_due() < at(now))


def at_risk(now: datetime, hours: float) -> ColumnElement:
    """Open and next due within the horizon, not yet passed: now <= next due < now + hours."""
    due = next_due()
    return and_(is_open(), due >= at(now), due < at(now + timedelta(hours=hours)))


def at_risk_or_overdue(now: datetime, hours: float) -> ColumnElement:
    """Open and next due before now + hours: at risk (above) or overdue (is_overdue)."""
    return and_(is_open(), next_due() < at(now + timedelta(hours=hours)))


def is_unassigned() -> ColumnElement:
    """Open and no technician assigned (the New / unassigned view, the queue's count)."""
    return and_(is_open(), tickets.c.assigned_resource_id.is_(None))


def first_response_overdue(now: datetime) -> ColumnElement:
    """Open, no first response, first-response due < now."""
    return and_(is_open(), tickets.c.first_response_at.is_(None), tickets.c.first_response_due < at(now))


def first_response_due_within(now: datetime, hours: float = 1.0) -> ColumnElement:
    """Open, no first response, now <= due < now + hours."""
    return and_(
        is_open(),
        tickets.c.first_response_at.is_(None),
        tickets.c.first_response_due >= at(now),
        tickets.c.first_response_due < at(now + timedelta(hours=hours)),
    )


def resolution_overdue(now: datetime) -> ColumnElement:
    """Open, resolution due < now (a reopened ticket counts again, whatever its old resolved time)."""
    return and_(is_open(), tickets.c.resolution_due < at(now))


def resolution_due_today(now: datetime, end_of_today: datetime) -> ColumnElement:
    """Open, now <= resolution due < end of today (business zone)."""
    return and_(is_open(), tickets.c.resolution_due >= at(now), tickets.c.resolution_due < at(end_of_today))


def escalation_queue_ids(config: Config) -> ColumnElement:
    """A subquery of the ids of the configured escalation queues (by name)."""
    return select(queues.c.id).where(queues.c.name.in_(list(config.escalation.queues))).scalar_subquery()


def in_escalation_state(config: Config) -> ColumnElement:
    """The ticket's current status or queue is an escalation one (config [escalation])."""
    terms = []
    if config.escalation.statuses:
        terms.append(tickets.c.status.in_(list(config.escalation.statuses)))
    if config.escalation.queues:
        terms.append(tickets.c.queue_id.in_(escalation_queue_ids(config)))
    return or_(*terms) if terms else false()


def is_escalated(config: Config) -> ColumnElement:
    """Escalated: now in an escalation status or queue, or marked escalated by the source
    (escalated_at set, e.g. from the escalation UDF, or an escalation level above 0)."""
    return or_(in_escalation_state(config), tickets.c.escalated_at.is_not(None), tickets.c.escalation_level > 0)


def escalation_event(config: Config, events=ticket_events) -> ColumnElement:
    """A ticket event that escalates (store/escalation.py: "0", "" and NULL never do)."""
    return store_escalation.escalation_event(events, config.escalation.statuses, config.escalation.queues)


# --- periods -------------------------------------------------------------------------


@dataclass(frozen=True)
class Periods:
    """Business-time boundaries around `now`, as UTC instants (DST-safe)."""

    now: datetime
    today: date  # the local date
    today_start: datetime
    end_of_today: datetime  # next local midnight
    week_start: datetime
    last_week_start: datetime
    month_start: datetime
    year_start: datetime
    window_start: datetime  # now - 30 x 24 h


def period_bounds(now: datetime, config: Config) -> Periods:
    zone = config.zone
    now = now.astimezone(UTC)
    today = now.astimezone(zone).date()
    week_start = start_of_week(now, zone, config.week_start)
    week_start_day = week_start.astimezone(zone).date()
    return Periods(
        now=now,
        today=today,
        today_start=local_midnight_utc(today, zone),
        end_of_today=local_midnight_utc(today + timedelta(days=1), zone),
        week_start=week_start,
        last_week_start=local_midnight_utc(week_start_day - timedelta(days=7), zone),
        month_start=local_midnight_utc(today.replace(day=1), zone),
        year_start=local_midnight_utc(date(today.year, 1, 1), zone),
        window_start=now - timedelta(days=WINDOW_DAYS),
    )


# A figure counts [now - 30d, now], ends included; a bucket is [lo, hi): today's ends this
# much after now, the stored times' resolution, so "<= now" and "< hi" agree.
JUST_AFTER = timedelta(microseconds=1)


def window_days(now: datetime, config: Config) -> tuple[list[date], list[tuple[datetime, datetime]]]:
    """The local days the 30d window touches (usually 31: the first and today are partial),
    each day's share of the window as a [lo, hi) UTC range.

    The first day starts at the window's start and today ends at now, so a daily trend sums
    to the 30d figure beside it (kpi-definitions.md: a figure and its trend agree)."""
    zone = config.zone
    start = (now - timedelta(days=WINDOW_DAYS)).astimezone(UTC)
    first, today = start.astimezone(zone).date(), now.astimezone(zone).date()
    dates = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    midnights = [local_midnight_utc(d, zone) for d in dates[1:]]
    return dates, list(zip([start, *midnights], [*midnights, now.astimezone(UTC) + JUST_AFTER], strict=True))


__all__ = [
    "Periods",
    "at",
    "at_risk",
    "at_risk_or_overdue",
    "window_days",
    "day_number",
    "epoch_of",
    "epoch_seconds",
    "escalation_event",
    "first_response_due_within",
    "first_response_overdue",
    "in_escalation_state",
    "is_escalated",
    "is_open",
    "is_overdue",
    "is_unassigned",
    "next_due",
    "period_bounds",
    "resolution_due_today",
    "resolution_overdue",
    "tickets",
    "ticket_events",
    "true",
]
