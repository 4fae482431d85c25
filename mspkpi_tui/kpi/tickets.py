"""The ticket lists the dashboard shows: the queue (filter, facets, sort, paging), the
tickets behind each SLA figure, the open escalated tickets, and one ticket's detail.

Built on `kpi/rules.py`, so a list and the figure it explains use the same rule. The
queue is read in two steps so 20,000 open tickets never become 20,000 objects: the
ordered ids of the matching tickets (one small query), then full rows only for the
ids on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Engine, FromClause, and_, case, func, or_, select

from mspkpi_tui.kpi import rules, sla_buckets
from mspkpi_tui.kpi.drills import issue_type_matches
from mspkpi_tui.kpi.escalations import escalated_now, first_escalations
from mspkpi_tui.kpi.views import View, view_filter
from mspkpi_tui.store import schema

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

tickets = rules.tickets
companies = schema.companies
resources = schema.resources
queues = schema.queues
time_entries = schema.time_entries
ticket_events = schema.ticket_events
ticket_notes = schema.ticket_notes

NONE_LABEL = "(none)"  # the facet value of a ticket without a queue, company, priority or status
NOBODY = "unassigned"  # the facet value (and the word everywhere) of a ticket nobody owns

# Sort orders in the order the sort key cycles through them; "due" is the default
# (kpi-definitions: overdue first, then next due ascending, then priority rank, then age).
SORTS: dict[str, str] = {
    "due": "overdue first, then next due",
    "priority": "priority, then next due",
    "age": "oldest first",
    "activity": "least recent activity first",
    "company": "company, then next due",
    "assignee": "assignee (unassigned first), then next due",
    "number": "ticket number",
    "title": "title, then next due",
    "status": "status, then next due",
    "queue": "queue, then next due",
}
FACETS = ("queue", "assignee", "company", "priority", "status")


@dataclass(frozen=True)
class TicketQuery:
    """What the queue shows: free text over number/title/company/assignee, one value per
    facet at most, a sort order, and a triage view (kpi/views.py) if one is chosen."""

    text: str = ""
    facets: tuple[tuple[str, str], ...] = ()
    sort: str = "due"
    descending: bool = False  # the sort order reversed (tickets without the value stay last)
    view: View | None = None

    def facet(self, name: str) -> str | None:
        return dict(self.facets).get(name)

    def with_facet(self, name: str, value: str | None) -> TicketQuery:
        kept = tuple((k, v) for k, v in self.facets if k != name)
        return replace(self, facets=kept + (((name, value),) if value is not None else ()))

    def narrows(self, other: TicketQuery) -> bool:
        """Every ticket this query matches is matched by `other` (the filter typed further)."""
        return (
            self.facets == other.facets
            and self.sort == other.sort
            and self.descending == other.descending
            and self.view == other.view
            and self.text.startswith(other.text)
            and self.text != other.text
        )

    def next_sort(self) -> TicketQuery:
        order = list(SORTS)
        return replace(self, sort=order[(order.index(self.sort) + 1) % len(order)])

    def reversed(self) -> TicketQuery:
        return replace(self, descending=not self.descending)

    @property
    def is_filtered(self) -> bool:
        return bool(self.text.strip() or self.facets or self.view)


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    title: str
    priority: str
    priority_rank: int
    status: str
    company: str | None
    assignee: str | None
    queue: str | None
    created_at: datetime
    next_due: datetime | None
    last_activity_at: datetime | None
    url: str | None

    def countdown(self, now: datetime) -> timedelta | None:
        """Time left to the next due time; negative when overdue."""
        return None if self.next_due is None else self.next_due - now

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at


@dataclass(frozen=True)
class TimeEntryLine:
    started_at: datetime
    resource: str | None
    hours: float
    billable: bool
    category: str | None


@dataclass(frozen=True)
class NoteLine:
    created_at: datetime
    author: str | None
    kind: str | None
    body: str
    internal: bool


@dataclass(frozen=True)
class EventLine:
    at: datetime
    field: str
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class TicketDetail:
    row: TicketRow
    fields: list[tuple[str, str]]  # every stored field, labelled, in reading order
    time_entries: list[TimeEntryLine] = field(default_factory=list)  # newest first
    events: list[EventLine] = field(default_factory=list)
    description: str | None = None  # as stored (bounded by the store; records.TEXT_LIMITS)
    contact: str | None = None  # the requester
    notes: list[NoteLine] = field(default_factory=list)  # the last NOTES_SHOWN, newest first
    notes_total: int = 0  # how many the ticket has in all

    @property
    def hours(self) -> float:
        return sum(e.hours for e in self.time_entries)


@dataclass(frozen=True)
class TicketList:
    """The first `limit` tickets of a list and how many there are in all."""

    rows: list[TicketRow]
    total: int


# --- building blocks ---------------------------------------------------------------

_company = companies.alias("company")
_assignee = resources.alias("assignee")
_queue = queues.alias("queue")
_joined = (
    tickets.outerjoin(_company, _company.c.id == tickets.c.company_id)
    .outerjoin(_assignee, _assignee.c.id == tickets.c.assigned_resource_id)
    .outerjoin(_queue, _queue.c.id == tickets.c.queue_id)
)
_ROW_COLUMNS = (
    tickets.c.id,
    tickets.c.number,
    tickets.c.title,
    tickets.c.priority,
    tickets.c.priority_rank,
    tickets.c.status,
    _company.c.name.label("company"),
    _assignee.c.name.label("assignee"),
    _queue.c.name.label("queue"),
    tickets.c.created_at,
    rules.next_due().label("next_due"),
    tickets.c.last_activity_at,
    tickets.c.url,
)


def _row(r) -> TicketRow:
    return TicketRow(*r)


def _like(column: ColumnElement, word: str) -> ColumnElement:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _text_filter(text: str) -> list[ColumnElement]:
    """Every word must appear in the number, title, company or assignee (case-insensitive)."""
    columns = (tickets.c.number, tickets.c.title, _company.c.name, _assignee.c.name)
    return [or_(*(_like(c, word) for c in columns)) for word in text.split()]


def _facet_column(name: str) -> ColumnElement:
    return {
        "queue": _queue.c.name,
        "assignee": _assignee.c.name,
        "company": _company.c.name,
        "priority": tickets.c.priority,
        "status": tickets.c.status,
    }[name]


def _facet_filter(name: str, value: str) -> ColumnElement:
    column = _facet_column(name)
    return column.is_(None) if value == missing_label(name) else column == value


def missing_label(facet: str) -> str:
    """The facet value shown for a ticket without one: "unassigned" for the assignee."""
    return NOBODY if facet == "assignee" else NONE_LABEL


def _nulls_last(column: ColumnElement) -> ColumnElement:
    return case((column.is_(None), 1), else_=0)


def _order(sort: str, now: datetime, descending: bool = False) -> list[ColumnElement]:
    """The sort's ORDER BY; `descending` reverses every term but the nulls-last flags, so
    tickets without a due time, an activity or a company stay at the end either way."""

    def way(column: ColumnElement) -> ColumnElement:
        return column.desc() if descending else column

    due = rules.next_due()
    by_due: list[ColumnElement] = [
        way(case((due < rules.at(now), 0), else_=1)),
        _nulls_last(due),
        way(due),
        way(tickets.c.priority_rank),
        way(tickets.c.created_at),
    ]
    orders: dict[str, list[ColumnElement]] = {
        "due": by_due,
        "priority": [way(tickets.c.priority_rank), *by_due],
        "age": [way(tickets.c.created_at)],
        "activity": [
            _nulls_last(tickets.c.last_activity_at),
            way(tickets.c.last_activity_at),
            way(tickets.c.created_at),
        ],
        "company": [_nulls_last(_company.c.name), way(_company.c.name), *by_due],
        "assignee": [way(case((_assignee.c.name.is_(None), 0), else_=1)), way(_assignee.c.name), *by_due],
        # Numbers of one PSA share a prefix and width ("T20261118.0042", "48213"): as text, by length first.
        "number": [way(func.length(tickets.c.number)), way(tickets.c.number)],
        "title": [way(func.lower(tickets.c.title)), *by_due],
        "status": [_nulls_last(tickets.c.status), way(tickets.c.status), *by_due],
        "queue": [_nulls_last(_queue.c.name), way(_queue.c.name), *by_due],
    }
    return [*orders[sort], way(tickets.c.id)]  # the id makes every order total, so paging is stable


def _where(query: TicketQuery) -> list[ColumnElement]:
    terms = [rules.is_open(), *_text_filter(query.text)]
    terms += [_facet_filter(name, value) for name, value in query.facets]
    return terms


# --- the queue ---------------------------------------------------------------------


def _queue_from(query: TicketQuery):
    """Only the joins the query uses: without them SQLite reads the open tickets from the
    covering partial index ix_tickets_open_cover alone (no table rows), which makes the
    unfiltered sorts about a third faster on 1,000,000 tickets."""
    needed = {query.sort} & {"company", "assignee", "queue"}
    if query.text.strip():
        needed |= {"company", "assignee"}
    needed |= {name for name, _ in query.facets} & {"queue", "assignee", "company"}
    joined: FromClause = tickets
    if "company" in needed:
        joined = joined.outerjoin(_company, _company.c.id == tickets.c.company_id)
    if "assignee" in needed:
        joined = joined.outerjoin(_assignee, _assignee.c.id == tickets.c.assigned_resource_id)
    if "queue" in needed:
        joined = joined.outerjoin(_queue, _queue.c.id == tickets.c.queue_id)
    return joined


NARROW_LIMIT = 5000  # at most this many ids are passed back to narrow a filter as it is typed


def queue_ids(engine: Engine, now: datetime, query: TicketQuery, within: Sequence[int] | None = None) -> list[int]:
    """The ids of the open tickets the query matches, in its order.

    `within`: the ids of a query this one only narrows (the same facets and sort, the filter
    text typed further); only those tickets are read again. Ignored when there are more than
    NARROW_LIMIT of them (reading them all is cheaper than passing that many ids)."""
    where = _where(query)
    if within is not None and len(within) <= NARROW_LIMIT:
        where.append(tickets.c.id.in_(list(within)))
    joined = _queue_from(query)
    order = _order(query.sort, now, query.descending)
    if query.view is not None:
        chosen = view_filter(query.view, now)
        where += chosen.where
        order = [*chosen.order, *order]
    stmt = select(tickets.c.id).select_from(joined).where(*where).order_by(*order)
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars().all())  # all(): one fetchall, not a fetch per id (~10 % of its CPU)


def rows_by_id(engine: Engine, ids: Sequence[int]) -> list[TicketRow]:
    """Full rows for these ticket ids, in the order given (missing ids are skipped)."""
    if not ids:
        return []
    with engine.connect() as conn:
        found = {
            r.id: _row(r)
            for r in conn.execute(select(*_ROW_COLUMNS).select_from(_joined).where(tickets.c.id.in_(list(ids))))
        }
    return [found[i] for i in ids if i in found]


def facet_values(engine: Engine) -> dict[str, list[tuple[str, int]]]:
    """Each facet's values over the open tickets with how many tickets have each, most first."""
    result: dict[str, list[tuple[str, int]]] = {}
    with engine.connect() as conn:
        for name in FACETS:
            column = _facet_column(name)
            n = func.count()
            stmt = (
                select(column, n)
                .select_from(_joined)
                .where(rules.is_open())
                .group_by(column)
                .order_by(n.desc(), column)
            )
            missing = missing_label(name)
            result[name] = [(value if value is not None else missing, count) for value, count in conn.execute(stmt)]
    return result


# --- the lists behind figures ------------------------------------------------------


def _limited(engine: Engine, where: ColumnElement, order: list[ColumnElement], limit: int) -> TicketList:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(tickets).where(where)).scalar_one()
        rows = conn.execute(
            select(*_ROW_COLUMNS).select_from(_joined).where(where).order_by(*order, tickets.c.id).limit(limit)
        )
        return TicketList([_row(r) for r in rows], total)


def sla_bucket(engine: Engine, now: datetime, config: Config, bucket: str, limit: int = 200) -> TicketList:
    """The tickets behind one SLA figure (same rule as kpi/sla.py), the most urgent first."""
    chosen = sla_buckets.bucket(bucket)
    where = chosen.rule(rules.period_bounds(now, config))
    return _limited(engine, where, [chosen.due, tickets.c.priority_rank], limit)


def open_escalated(engine: Engine, now: datetime, config: Config, limit: int = 200) -> TicketList:
    """Open tickets that are escalated now (escalations.escalated_now, the rule behind the
    count), in the queue's default order."""
    where = escalated_now(config)
    return _limited(engine, where, _order("due", now)[:-1], limit)


def escalated_of_type(engine: Engine, now: datetime, config: Config, issue_type: str, limit: int = 200) -> TicketList:
    """The tickets first escalated in the escalation period with this issue type: the list
    behind one bar of "By issue type" (escalations.first_escalations, the rule it counts)."""
    first = first_escalations(config, now - timedelta(days=int(config.escalation.period_days)), now)
    where = tickets.c.id.in_(select(first.c.ticket_id)) & issue_type_matches(issue_type)
    return _limited(engine, where, [tickets.c.created_at.desc()], limit)


# --- one ticket ----------------------------------------------------------------------


_DETAIL_NAMES = (
    "issue_type",
    "sub_issue_type",
    "first_response_due",
    "first_response_at",
    "resolution_due",
    "resolved_at",
    "completed_at",
    "sla_name",
    "escalation_level",
    "escalated_at",
    "source",
    "source_id",
    "description",
    "contact_name",
)
NOTES_SHOWN = 20  # the detail shows the last this many notes (a long-running ticket has hundreds)
_DETAIL_COLUMNS = tuple(tickets.c[name] for name in _DETAIL_NAMES)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def ticket_detail(engine: Engine, ticket_id: int) -> TicketDetail | None:
    """Everything stored about one ticket: its fields, description and requester, its last
    notes and its time entries (newest first, with their authors), and its events (oldest first)."""
    with engine.connect() as conn:
        found = conn.execute(
            select(*_ROW_COLUMNS, *_DETAIL_COLUMNS).select_from(_joined).where(tickets.c.id == ticket_id)
        ).first()
        if found is None:
            return None
        entries = conn.execute(
            select(
                time_entries.c.started_at,
                resources.c.name,
                time_entries.c.hours,
                time_entries.c.billable,
                time_entries.c.category,
            )
            .select_from(time_entries.outerjoin(resources, resources.c.id == time_entries.c.resource_id))
            .where(time_entries.c.ticket_id == ticket_id)
            .order_by(time_entries.c.started_at.desc(), time_entries.c.id.desc())
        ).all()
        notes = conn.execute(
            select(
                ticket_notes.c.created_at,
                ticket_notes.c.author,
                ticket_notes.c.kind,
                ticket_notes.c.body,
                ticket_notes.c.internal,
            )
            .where(ticket_notes.c.ticket_id == ticket_id)
            .order_by(ticket_notes.c.created_at.desc(), ticket_notes.c.id.desc())
            .limit(NOTES_SHOWN)
        ).all()
        notes_total = (
            conn.execute(select(func.count()).where(ticket_notes.c.ticket_id == ticket_id)).scalar_one()
            if len(notes) == NOTES_SHOWN
            else len(notes)
        )
        events = conn.execute(
            select(ticket_events.c.at, ticket_events.c.field, ticket_events.c.old_value, ticket_events.c.new_value)
            .where(ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.at, ticket_events.c.id)
        ).all()
    row = _row(found[: len(_ROW_COLUMNS)])
    t = dict(zip(_DETAIL_NAMES, found[len(_ROW_COLUMNS) :]))
    fields = [
        ("Number", row.number),
        ("Title", row.title),
        ("PSA URL", row.url or "(the source gave no URL)"),
        ("Company", row.company or ""),
        ("Requester", t["contact_name"] or ""),
        ("Status", row.status),
        ("Priority", f"{row.priority} (rank {row.priority_rank})"),
        ("Queue", row.queue or ""),
        ("Assignee", row.assignee or NOBODY),
        ("Issue type", t["issue_type"] or ""),
        ("Sub-issue type", t["sub_issue_type"] or ""),
        ("Created", _when(row.created_at)),
        ("First response due", _when(t["first_response_due"])),
        ("First response", _when(t["first_response_at"])),
        ("Resolution due", _when(t["resolution_due"])),
        ("Resolved", _when(t["resolved_at"])),
        ("Completed", _when(t["completed_at"])),
        ("Next due", _when(row.next_due)),
        ("SLA", t["sla_name"] or ""),
        ("Escalation level", str(t["escalation_level"])),
        ("Escalated", _when(t["escalated_at"])),
        ("Last activity", _when(row.last_activity_at)),
        ("Source", f"{t['source']} #{t['source_id']}"),
    ]
    return TicketDetail(
        row=row,
        fields=fields,
        time_entries=[TimeEntryLine(*e) for e in entries],
        events=[EventLine(*e) for e in events],
        description=t["description"],
        contact=t["contact_name"],
        notes=[NoteLine(*n) for n in notes],
        notes_total=notes_total,
    )


def company_open(
    engine: Engine, now: datetime, company_id: int, limit: int = 200, query: TicketQuery | None = None
) -> TicketList:
    """One company's open tickets (the Clients pane's company page), filtered and ordered as
    the queue would: `query` carries the filter text, facets and sort of the page's / f s keys."""
    query = query or TicketQuery()
    where = and_(*_where(query), tickets.c.company_id == company_id)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(_joined).where(where)).scalar_one()
        order = _order(query.sort, now, query.descending)
        rows = conn.execute(select(*_ROW_COLUMNS).select_from(_joined).where(where).order_by(*order).limit(limit))
        return TicketList([_row(r) for r in rows], total)
