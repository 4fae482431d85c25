"""Per-client figures (the Clients pane, a company page, the review): ``company_days``.

Invariant kept exact: for every company and UTC day, its row holds, over that company's
tickets (``tickets.company_id``) created in that day, how many (``opened``); over those
completed in it, how many and how many were first-touch (``closed``, ``first_touch``); over
those first responded to in it, and over those resolved in it, the four ``timing_sums`` of
the response rollup; over those whose first-response (resolution) due time falls in it and
that are not responded to (resolved), how many (``response_missed``, ``resolution_missed``);
and over the time entries started in it on the company's tickets, or on its projects when
the entry has no ticket, the hours, billable hours, hours on tickets, labour cost (hours x
the technician's hourly cost), its part on tickets, and the hours of technicians with no
hourly cost. A company-day with none of these has no row; tickets and entries with no
company count nowhere.

And ``company_months``: for every company and UTC month, the sum of its company_days rows in
that month (recounted from them whenever one of its days is), so exact too.

Why UTC days and months: a window's whole UTC months are summed from company_months, its
other whole UTC days from company_days and its partial days at either end from the base rows
(``company_sums``), so the sums are exact for any boundary (a local midnight in any zone,
"now"), while a year for 2,000 companies reads about 12 + 30 rows per company instead of
8,760 hours (or 365 days: 700,000 rows, over a second on SQLite).

Inputs and who marks them (store/ingest.py, store/deletes.py): a ticket's created, completed,
responded, resolved and due times and its company (hours, through ``pending_hours``); its
first-touch state (the completion hours ``refresh_time_entry_counts`` flips); a time entry's
start, ticket, project, technician, hours and billable flag (days); and, through the days of
the entries they own, a ticket's or project's company and a technician's hourly cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, case, delete, func, insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from mspkpi_tui.store import models
from mspkpi_tui.store.rollups.completion_hours import first_touch
from mspkpi_tui.store.rollups.response_hours import timing_sums
from mspkpi_tui.store.timeslots import DAY, at, day_ceil, day_floor, runs, utc_day_start
from mspkpi_tui.store.types import UTCDateTime

companies = models.table(models.Company)
tickets = models.table(models.Ticket)
entries = models.table(models.TimeEntry)
projects = models.table(models.Project)
resources = models.table(models.Resource)
company_days = models.table(models.CompanyDay)
company_months = models.table(models.CompanyMonth)

TICKET_COLUMNS = (
    "opened",
    "closed",
    "first_touch",
    "responded",
    "response_seconds",
    "responded_with_due",
    "responded_in_time",
    "resolved",
    "resolution_seconds",
    "resolved_with_due",
    "resolved_in_time",
    "response_missed",
    "resolution_missed",
)
HOUR_COLUMNS = ("hours", "billable_hours", "ticket_hours", "labour_cost", "ticket_labour_cost", "uncosted_hours")
COMPANY_COLUMNS = TICKET_COLUMNS + HOUR_COLUMNS
FLOAT_COLUMNS = frozenset(("response_seconds", "resolution_seconds", *HOUR_COLUMNS))
MAX_DAY_GAP = timedelta(days=7)  # touched days closer than this are recounted as one range
BATCH = 5000

Key = tuple[int, datetime]
Range = tuple[datetime, datetime] | None


_ZERO: dict[str, float] = {name: 0.0 if name in FLOAT_COLUMNS else 0 for name in COMPANY_COLUMNS}
ZERO_ROW: tuple[float, ...] = tuple(_ZERO.values())  # zero_row's values, in COMPANY_COLUMNS order


def zero_row() -> dict[str, float]:
    """A row with no ticket and no hour: counts 0, sums 0.0 (as the base queries' defaults)."""
    return _ZERO.copy()  # a copy of one made once: a comprehension each was ~5 ms of a Clients read


def _ticket_halves() -> list[tuple[str, list[str], list[ColumnElement], list[ColumnElement]]]:
    """(the time that picks the day, the rollup columns, their sums, extra conditions)."""
    ones = func.coalesce(func.sum(first_touch()), 0)
    return [
        ("created_at", ["opened"], [func.count()], []),
        ("completed_at", ["closed", "first_touch"], [func.count(), ones], []),
        ("first_response_at", list(TICKET_COLUMNS[3:7]), timing_sums("first_response_at", "first_response_due"), []),
        ("resolved_at", list(TICKET_COLUMNS[7:11]), timing_sums("resolved_at", "resolution_due"), []),
        ("first_response_due", ["response_missed"], [func.count()], [tickets.c.first_response_at.is_(None)]),
        ("resolution_due", ["resolution_missed"], [func.count()], [tickets.c.resolved_at.is_(None)]),
    ]


def _in(column: ColumnElement, span: Range) -> list[ColumnElement]:
    return [column >= at(span[0]), column < at(span[1])] if span else [column.is_not(None)]


def _hour_sums() -> list[ColumnElement]:
    """hours, billable hours, labour cost, hours without a cost (kpi/clients.py's rules)."""
    cost, hours = resources.c.hourly_cost, entries.c.hours
    return [
        func.coalesce(func.sum(hours), 0.0),
        func.coalesce(func.sum(case((entries.c.billable, hours), else_=0.0)), 0.0),
        func.coalesce(func.sum(hours * cost), 0.0),
        func.coalesce(func.sum(case((cost.is_(None), hours), else_=0.0)), 0.0),
    ]


def base_rows(conn: Connection, span: Range = None, company_id: int | None = None) -> dict[Key, dict[str, float]]:
    """Rows recounted from the base tables, per (company, UTC day), for the times in the
    half-open span (all times if None), for one company or all."""
    return _base_rows(conn, span, company_id, None)


def _base_rows(
    conn: Connection, span: Range, company_id: int | None, one_day: datetime | None
) -> dict[Key, dict[str, float]]:
    """base_rows; given `one_day` (the UTC day the whole span lies in), grouped by company
    only: the same groups, summed over the same rows in the same order, without a day
    computed and parsed per row (the Clients pane's partial days)."""
    rows: dict[Key, dict[str, float]] = {}

    def add(company: int | None, day: datetime, names: Iterable[str], values: Iterable) -> None:
        if company is None:
            return
        row = rows.setdefault((company, day), zero_row())
        for name, value in zip(names, values):
            row[name] += value or 0

    # One company's partial day: "+ 0" keeps SQLite on the time index (a few hundred rows)
    # instead of ix_tickets_company (every ticket of a busy company, ~20 ms a query).
    mine = [tickets.c.company_id + 0 == company_id] if company_id is not None else [tickets.c.company_id.is_not(None)]

    def by_day(company: ColumnElement, moment: ColumnElement) -> list[ColumnElement]:
        return [company] if one_day else [company, utc_day_start(moment)]

    def grouped(query) -> Iterable[tuple]:
        if one_day is None:
            return conn.execute(query)
        return ((company, one_day, *values) for company, *values in conn.execute(query))

    for name, names, sums, extra in _ticket_halves():
        moment = tickets.c[name]
        keys = by_day(tickets.c.company_id, moment)
        query = select(*keys, *sums).where(*_in(moment, span), *mine, *extra)
        for company, start, *values in grouped(query.group_by(*keys)):
            add(company, start, names, values)
    when = _in(entries.c.started_at, span)
    keys = by_day(tickets.c.company_id, entries.c.started_at)
    on_tickets = (
        select(*keys, *_hour_sums())
        .select_from(entries.join(tickets, tickets.c.id == entries.c.ticket_id))
        .join(resources, resources.c.id == entries.c.resource_id)
        .where(*when, *mine)
        .group_by(*keys)
    )
    for company, start, hours, billable, labour, uncosted in grouped(on_tickets):
        add(company, start, HOUR_COLUMNS, (hours, billable, hours, labour, labour, uncosted))
    owner = [projects.c.company_id == company_id] if company_id is not None else []
    keys = by_day(projects.c.company_id, entries.c.started_at)
    on_projects = (
        select(*keys, *_hour_sums())
        .select_from(entries.join(projects, projects.c.id == entries.c.project_id))
        .join(resources, resources.c.id == entries.c.resource_id)
        .where(*when, entries.c.ticket_id.is_(None), *owner)
        .group_by(*keys)
    )
    for company, start, hours, billable, labour, uncosted in grouped(on_projects):
        add(company, start, HOUR_COLUMNS, (hours, billable, 0.0, labour, 0.0, uncosted))
    return rows


def _write(conn: Connection, rows: dict[Key, dict[str, float]]) -> None:
    # in the table's key order (company, day), as the company-first b-tree stores them (0019)
    listed = [{"company_id": c, "day": d, **row} for (c, d), row in sorted(rows.items())]
    for start in range(0, len(listed), BATCH):
        conn.execute(insert(company_days), listed[start : start + BATCH])


def month_floor(moment: datetime) -> datetime:
    return day_floor(moment).replace(day=1)


def next_month(month: datetime) -> datetime:
    return (month + timedelta(days=32)).replace(day=1)


class utc_month_start(FunctionElement):
    """00:00 UTC of the first day of a stored timestamp's UTC month, in the stored form."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_month_start, "sqlite")
def _month_sqlite(element, compiler, **kw):
    return "(substr(%s, 1, 7) || '-01 00:00:00.000000')" % compiler.process(element.clauses, **kw)


@compiles(utc_month_start, "postgresql")
def _month_pg(element, compiler, **kw):
    return "(date_trunc('month', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')" % compiler.process(element.clauses, **kw)


def _refresh_months(conn: Connection, lo: datetime | None = None, hi: datetime | None = None) -> None:
    """Recount the month rows of [lo, hi) (whole months; all if no range) from the day rows."""
    columns = ["company_id", "month", *COMPANY_COLUMNS]
    if lo is None or hi is None:
        conn.execute(delete(company_months))
        of_day = utc_month_start(company_days.c.day)
        summed = select(company_days.c.company_id, of_day, *[func.sum(company_days.c[n]) for n in COMPANY_COLUMNS])
        conn.execute(insert(company_months).from_select(columns, summed.group_by(company_days.c.company_id, of_day)))
        return
    conn.execute(delete(company_months).where(company_months.c.month >= at(lo), company_months.c.month < at(hi)))
    month = lo
    while month < hi:  # a month at a time: each company's days of it are one range of the key
        following = next_month(month)
        summed = by_company(company_days, "day", month, following, at(month))
        conn.execute(insert(company_months).from_select(columns, summed))
        month = following


def by_company(table: Table, key: str, lo: datetime, hi: datetime, *extra: ColumnElement) -> Select:
    """Every company's sums of the table's rows with `key` in [lo, hi): (company, *extra, the
    COMPANY_COLUMNS sums), companies with no row left out.

    Companies in id order, each one's rows a range of the company-first key (0019), so read
    already grouped: grouping the range by company otherwise sorts its rows through a temp
    b-tree (58 -> 44 ms for 30 days of 2,000 companies). LEFT JOIN with the range in ON keeps
    companies the outer loop on SQLite (an inner join may be reordered to go by the day index).
    Every row has its company (a company's days are recounted when it goes), so none is left out."""
    span = and_(table.c.company_id == companies.c.id, table.c[key] >= at(lo), table.c[key] < at(hi))
    return (
        select(companies.c.id, *extra, *[func.sum(table.c[name]) for name in COMPANY_COLUMNS])
        .select_from(companies.outerjoin(table, span))
        .group_by(companies.c.id)
        .having(func.count(table.c.company_id) > 0)
    )


def refresh_company_days(conn: Connection, days: Iterable[datetime]) -> None:
    """Recount every company on these UTC days (and the days between two of them less than
    MAX_DAY_GAP apart), then the months they fall in."""
    for lo, hi in runs(days, DAY, MAX_DAY_GAP):
        conn.execute(delete(company_days).where(company_days.c.day >= at(lo), company_days.c.day < at(hi)))
        _write(conn, base_rows(conn, (lo, hi)))
        _refresh_months(conn, month_floor(lo), next_month(month_floor(hi - DAY)))


def rebuild_company_days(conn: Connection) -> None:
    """Recount everything, a UTC month at a time (a million company-days at once would hold
    gigabytes of Python rows)."""
    conn.execute(delete(company_days))
    columns = [tickets.c[name] for name, *_ in _ticket_halves()] + [entries.c.started_at]
    found = [m for c in columns for m in conn.execute(select(func.min(c), func.max(c))).one() if m is not None]
    if found:
        month, last = month_floor(min(found)), max(found)
        while month <= last:
            _write(conn, base_rows(conn, (month, next_month(month))))
            month = next_month(month)
    _refresh_months(conn)


def company_sums(
    conn: Connection, start: datetime, stop: datetime, company_id: int | None = None
) -> dict[int, dict[str, float]]:
    """Per company, the rollup's figures over the times in [start, stop): whole UTC months from
    company_months, the other whole UTC days from company_days, the partial days at either
    end from the base rows."""
    # Each company's sums as a list in COMPANY_COLUMNS order, added to with one list
    # comprehension per row (the same additions, in the same order, as a dict's name by name:
    # 19 dict updates per row were ~30 ms of a 12-month read for 2,000 companies).
    totals: dict[int, list[float]] = {}

    def add(company: int, values: Iterable[float]) -> None:
        row = totals.get(company, ZERO_ROW)
        totals[company] = [total + (value or 0) for total, value in zip(row, values)]

    def exact(lo: datetime, hi: datetime) -> None:
        # one UTC day at a time: a day's row is (0 + each part) as the rollup's, then added
        for day_lo in _day_starts(lo, hi) if lo < hi else []:
            part = (max(lo, day_lo), min(hi, day_lo + DAY))
            for (company, _), row in _base_rows(conn, part, company_id, day_lo).items():
                add(company, row.values())

    def named() -> dict[int, dict[str, float]]:
        return {company: dict(zip(COMPANY_COLUMNS, row)) for company, row in totals.items()}

    whole_from, whole_to = day_ceil(start), day_floor(stop)
    if whole_from >= whole_to:
        exact(start, stop)
        return named()

    def rolled(table, key: str, lo: datetime, hi: datetime) -> None:
        if lo >= hi:
            return
        if company_id is None:
            query = by_company(table, key, lo, hi)
        else:
            query = (
                select(table.c.company_id, *[func.sum(table.c[name]) for name in COMPANY_COLUMNS])
                .where(table.c.company_id == company_id, table.c[key] >= at(lo), table.c[key] < at(hi))
                .group_by(table.c.company_id)
            )
        for company, *values in conn.execute(query):
            add(company, values)

    months_from, months_to = month_floor(whole_from), month_floor(whole_to)
    if months_from < whole_from:
        months_from = next_month(months_from)
    if months_from < months_to:
        rolled(company_months, "month", months_from, months_to)
        rolled(company_days, "day", whole_from, months_from)
        rolled(company_days, "day", months_to, whole_to)
    else:
        rolled(company_days, "day", whole_from, whole_to)
    exact(start, whole_from)
    exact(whole_to, stop)
    return named()


def _day_starts(lo: datetime, hi: datetime) -> list[datetime]:
    """The UTC days [lo, hi) touches, as their 00:00."""
    days, day = [], day_floor(lo)
    while day < hi:
        days.append(day)
        day += DAY
    return days


def owned_entry_days(conn: Connection, column: str, ids: Iterable[int]) -> set[datetime]:
    """The UTC days of the time entries whose `column` (ticket_id, project_id, resource_id) is
    one of `ids`: what a change of their ticket's or project's company, or their technician's
    hourly cost, moves in this rollup."""
    listed = sorted(set(ids))
    days: set[datetime] = set()
    for start in range(0, len(listed), BATCH):
        part = listed[start : start + BATCH]
        query = select(utc_day_start(entries.c.started_at)).where(entries.c[column].in_(part)).distinct()
        days.update(day_floor(d) for d in conn.execute(query).scalars() if d is not None)
    return days


def ticket_days(conn: Connection, ids: Iterable[int]) -> set[datetime]:
    """Every UTC day a ticket counts in (its own times and its time entries')."""
    listed = sorted(set(ids))
    days: set[datetime] = set()
    names = ("created_at", "completed_at", "first_response_at", "resolved_at", "first_response_due", "resolution_due")
    for start in range(0, len(listed), BATCH):
        part = listed[start : start + BATCH]
        for row in conn.execute(select(*[tickets.c[n] for n in names]).where(and_(tickets.c.id.in_(part)))):
            days.update(day_floor(m) for m in row if m is not None)
    return days | owned_entry_days(conn, "ticket_id", listed)
