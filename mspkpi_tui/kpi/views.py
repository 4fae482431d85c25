"""Triage views: saved filters of the queue that answer "what needs me now?".

Five built in (at risk, new / unassigned, stale, waiting on customer, aged) and the user's
own (``[[views.custom]]``: the filter's text and facets under a name and a key). A view is
part of the queue's query (`TicketQuery.view`): its terms are added to the filter, so a
view can be narrowed further by typing. Every view is built on `kpi/rules.py`; the alerts
(kpi/alerts.py) use the same rules.

A `View` carries the settings it needs (horizon, statuses, business hours), so the query
is complete without the config and two views with different settings never compare equal.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Engine, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from mspkpi_tui.kpi import rules
from mspkpi_tui.store import schema

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

tickets = rules.tickets
ticket_events = rules.ticket_events
time_entries = schema.time_entries

AT_RISK, NEW, STALE, WAITING, AGED, CUSTOM = "at_risk", "new", "stale", "waiting", "aged", "custom"
AGED_WEEKS = (1, 2, 3)  # the aged view's steps: open more than 1, 2, 3+ weeks


@dataclass(frozen=True)
class BusinessHours:
    """The working week: weekdays (0 = Monday) and local hours [start, end)."""

    zone: tzinfo
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start_hour: float = 8.0
    end_hour: float = 18.0

    def before(self, moment: datetime, hours: float) -> datetime:
        """The instant `hours` business hours before `moment` (walking back through the working
        days, so a Monday morning reaches back into Friday)."""
        left = timedelta(hours=hours)
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(3700):  # ten years of days: a bound, never reached with sane settings
            if day.weekday() in self.days and self.end_hour > self.start_hour:
                midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
                opens = midnight + timedelta(hours=self.start_hour)
                closes = midnight + timedelta(hours=self.end_hour)
                end = min(closes, local) if day == local.date() else closes
                if end > opens:
                    if end - opens >= left:
                        return (end - left).astimezone(UTC)
                    left -= end - opens
            day -= timedelta(days=1)
        return datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class View:
    """One view: its key in the Queue pane, its name, and what it lists."""

    key: str
    name: str
    kind: str
    description: str = ""
    hours: float = 0.0  # at risk: the horizon; stale: business hours without activity
    days: float = 0.0  # waiting: days in the status; aged: 7 x weeks
    statuses: tuple[str, ...] = ()  # waiting: the statuses that wait on the customer
    business: BusinessHours | None = None  # stale
    text: str = ""  # custom: the saved filter
    facets: tuple[tuple[str, str], ...] = ()
    sort: str = "due"


@dataclass(frozen=True)
class ViewFilter:
    """What a view adds to the queue's query: terms, and an order before the query's own."""

    where: list[ColumnElement] = field(default_factory=list)
    order: list[ColumnElement] = field(default_factory=list)  # before the query's own sort order


def built_in(config: Config) -> list[View]:
    v = config.views
    business = BusinessHours(config.zone, tuple(v.business_days), v.business_start_hour, v.business_end_hour)
    return [
        View("R", "At risk", AT_RISK, f"Due within {v.at_risk_hours:g} h, or overdue", hours=v.at_risk_hours),
        View("N", "New / unassigned", NEW, "Open and unassigned, longest waiting first", sort="age"),
        View(
            "Z",
            "Stale",
            STALE,
            f"No time entry or status change for {v.stale_business_hours:g} business hours",
            hours=v.stale_business_hours,
            business=business,
            sort="age",
        ),
        View(
            "W",
            "Waiting on customer",
            WAITING,
            f"In a waiting status for more than {v.waiting_days:g} days",
            days=v.waiting_days,
            statuses=tuple(v.waiting_statuses),
            sort="age",
        ),
        View("A", "Aged", AGED, "Open more than 1 week (A again: 2, 3+ weeks)", days=7.0, sort="age"),
    ]


def custom(config: Config) -> list[View]:
    found = []
    for c in config.views.custom:
        facets = tuple(
            (name, value) for name in ("queue", "assignee", "priority", "status") if (value := getattr(c, name))
        )
        found.append(View(c.key, c.name, CUSTOM, "Saved filter", text=c.text, facets=facets, sort=c.sort))
    return found


def all_views(config: Config) -> list[View]:
    return built_in(config) + custom(config)


def aged_step(view: View) -> View:
    """The aged view's next step: 1 -> 2 -> 3+ -> 1 weeks."""
    weeks = int(view.days // 7)
    following = AGED_WEEKS[(AGED_WEEKS.index(weeks) + 1) % len(AGED_WEEKS)] if weeks in AGED_WEEKS else 1
    return View(view.key, view.name, AGED, f"Open more than {following} week(s)", days=7.0 * following, sort="age")


# --- the computed times ------------------------------------------------------------------


class not_indexed(FunctionElement):
    """The column, kept from choosing the index: SQLite's documented unary + (without statistics
    its planner takes any equality on `field` over a range on `at`, and reads all 2,000,000
    status changes instead of the last day's); PostgreSQL plans by statistics and needs nothing."""

    inherit_cache = True

    def __init__(self, column: ColumnElement) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(not_indexed, "sqlite")
def _plus_sqlite(element, compiler, **kw):
    return "+%s" % compiler.process(element.clauses, **kw)


@compiles(not_indexed, "postgresql")
def _plain_pg(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


def untouched_since(cutoff: datetime) -> ColumnElement:
    """Created before `cutoff`, and no time entry started or status change since.

    Asked the other way round: the few tickets touched since the cutoff are two index ranges
    (ix_time_entries_week by start, ix_ticket_events_at from 0015), read once, and each open
    ticket is checked against them. Looking up every open ticket's last entry and status
    change instead took 2 index seeks per open ticket (5x the CPU on 1,000,000 tickets)."""
    entries = select(time_entries.c.ticket_id).where(
        time_entries.c.started_at >= rules.at(cutoff), time_entries.c.ticket_id.is_not(None)
    )
    changes = select(ticket_events.c.ticket_id).where(
        not_indexed(ticket_events.c.field) == "status", ticket_events.c.at >= rules.at(cutoff)
    )
    return and_(tickets.c.created_at < rules.at(cutoff), tickets.c.id.not_in(entries), tickets.c.id.not_in(changes))


def entered_status() -> ColumnElement:
    """When the ticket last moved into its current status (its creation if no event says)."""
    entered = (
        select(func.max(ticket_events.c.at))
        .where(
            ticket_events.c.ticket_id == tickets.c.id,
            ticket_events.c.field == "status",
            ticket_events.c.new_value == tickets.c.status,
        )
        .scalar_subquery()
    )
    return func.coalesce(entered, tickets.c.created_at)


def view_filter(view: View, now: datetime) -> ViewFilter:
    """The terms a view adds to the queue's (the queue adds "open" and the typed filter)."""
    if view.kind == AT_RISK:
        return ViewFilter(where=[rules.at_risk_or_overdue(now, view.hours)])
    if view.kind == NEW:
        return ViewFilter(where=[rules.is_unassigned()])
    if view.kind == AGED:
        return ViewFilter(where=[tickets.c.created_at < rules.at(now - timedelta(days=view.days))])
    if view.kind == STALE:
        assert view.business is not None
        return ViewFilter(where=[untouched_since(view.business.before(now, view.hours))])
    if view.kind == WAITING:
        # the status first (ix_tickets_open_cover), then one seek per waiting ticket
        entered_before = entered_status() < rules.at(now - timedelta(days=view.days))
        return ViewFilter(where=[tickets.c.status.in_(list(view.statuses)), entered_before])
    return ViewFilter()


# --- the figures beside a view -------------------------------------------------------------


@dataclass(frozen=True)
class AgedCounts:
    over_1w: int
    over_2w: int
    over_3w: int


def aged_counts(engine: Engine, now: datetime) -> AgedCounts:
    """Open tickets older than 1, 2 and 3 weeks (one pass over the open tickets' index)."""

    def older(weeks: int) -> ColumnElement:
        return func.count().filter(tickets.c.created_at < rules.at(now - timedelta(weeks=weeks)))

    with engine.connect() as conn:
        row = conn.execute(select(older(1), older(2), older(3)).where(rules.is_open())).one()
    return AgedCounts(*row)


def triage_times(engine: Engine, now: datetime, days: int) -> list[float]:
    """Seconds from arrival to first assignment of the tickets created in the last `days` days
    and assigned since (the first assignee event with a value; a ticket created assigned has
    no such event and is not counted). The difference is taken in SQL: no datetimes to parse."""
    start = now - timedelta(days=days)
    first = (
        select(func.min(ticket_events.c.at))
        .where(
            ticket_events.c.ticket_id == tickets.c.id,
            ticket_events.c.field == "assignee",
            ticket_events.c.new_value.is_not(None),
        )
        .scalar_subquery()
    )
    seconds = (rules.epoch_seconds(first) - rules.epoch_seconds(tickets.c.created_at)).label("seconds")
    window = select(seconds).where(tickets.c.created_at >= rules.at(start), tickets.c.created_at < rules.at(now))
    assigned = window.subquery()
    # Filtered in SQL: returning every ticket of the window (most never assigned) costs twice as much.
    stmt = select(assigned.c.seconds).where(assigned.c.seconds >= 0)
    with engine.connect() as conn:
        return [round(float(s), 1) for s in conn.execute(stmt).scalars().all()]  # julianday: 1e-5 s noise


def median_triage_seconds(engine: Engine, now: datetime, config: Config) -> float | None:
    """The period's median triage time (arrival to first assignment), None when nothing was assigned."""
    times = triage_times(engine, now, config.views.triage_days)
    return statistics.median(times) if times else None
