"""The long view (the Trends pane, `mspkpi kpi --section trends`): 30, 90 or 365 days by day or week.

Every series is counted in the database, never by loading tickets: the periods go in as a
small VALUES table of [lo, hi) UTC instants (local midnights converted one by one, so a DST
day is 23 or 25 hours long), joined to an indexed time column and grouped by period, so a
period costs one index range. Hours come from the resource_day_hours rollup (whole UTC days)
plus the time entries of the partial days at the edges; SLA compliance from the
ticket_response_hours rollup (UTC hours, each counted in the period its start falls in);
opened, closed, closures and the aged series' starts and ends from the ticket_flow_hours
rollup (UTC hours, the partial hours at the edges from the tickets: `flow`).

Open backlog at each period's end E (kpi-definitions.md, Trends): created before E and not
closed by E. "Closed by E" is: closed now with completed_at before E, or inside a closed
spell that a reopen ended (from the last close before the reopen, a close event or
completed_at, up to the reopen). Counted as a running sum: the backlog at the window's start,
plus each period's opened, minus its closures, minus the closed spells around E; the start
is the backlog now (the open tickets) less the window's opened plus its closures. A ticket
closed now without a completion time was never counted open (its close time is unknown).
Aged (open more than 7, 14, 21 days at E) is the same count over tickets created before E - k.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from sqlalchemy import (
    Engine,
    Integer,
    String,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    select,
    text,
    true,
    type_coerce,
    union_all,
)

from mspkpi_tui.clock import local_midnight_utc, start_of_week
from mspkpi_tui.kpi.common import Refresh, Result, half_up, maybe, pct
from mspkpi_tui.kpi.escalations import first_escalations, first_escalations_since, shared_window_start
from mspkpi_tui.kpi.rules import at, ticket_events, tickets
from mspkpi_tui.kpi.service import reopen_event
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups import (
    day_ceil,
    day_floor,
    flow_hours,
    hour_ceil,
    hour_floor,
    resource_days,
    response_hours,
)
from mspkpi_tui.store.rollups.flow_hours import COMPLETED_COLUMNS, CREATED_COLUMNS, completed_measures, created_measures
from mspkpi_tui.store.types import UTCDateTime

entries = models.TimeEntry.__table__  # type: ignore[attr-defined]
surveys = models.SurveyResult.__table__  # type: ignore[attr-defined]

RANGES = (30, 90, 365)  # days the Trends pane switches between
BUCKETS = ("day", "week")
AGES = (7, 14, 21)  # open more than 1, 2 and 3 weeks


@dataclass(frozen=True)
class History(Result):
    days: int  # the window: the last `days` local days, today last (up to now)
    by: str  # "day" or "week" (weeks start on the configured weekday)
    periods: list[date]  # each period's first local day
    opened: list[int]
    closed: list[int]
    backlog: list[int]  # open at each period's end
    previous_opened: list[int]  # the same periods one window earlier (the faint series)
    previous_backlog: list[int]
    aged_over_7d: list[int]  # open at each period's end, created more than 7 days before it
    aged_over_14d: list[int]
    aged_over_21d: list[int]
    escalations: list[int]  # first escalations in the period
    escalation_rate_pct: list[float | None]  # escalations / opened
    billable_hours: list[float]
    non_billable_hours: list[float]
    weeks: list[date]  # the weekly series below, always by week
    first_response_pct: list[float | None]
    resolution_pct: list[float | None]
    previous_first_response_pct: list[float | None]
    previous_resolution_pct: list[float | None]
    csat: list[float | None]
    csat_responses: list[int]


Bounds = list[tuple[datetime, datetime]]


def periods(now: datetime, config, days: int, by: str) -> tuple[list[date], Bounds]:
    """The local periods covering the last `days` days (today last) and their [lo, hi) UTC
    instants; the last ends at now. Weeks are whole weeks, the first one reaching back to its start."""
    if by not in BUCKETS:
        raise ValueError(f"by must be one of {BUCKETS}, not {by!r}")
    zone = config.zone
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    if by == "week":
        first = start_of_week(local_midnight_utc(first, zone), zone, config.week_start).astimezone(zone).date()
        starts = [first + timedelta(weeks=i) for i in range((today - first).days // 7 + 1)]
    else:
        starts = [first + timedelta(days=i) for i in range(days)]
    return starts, _bounds(starts, by, zone, now)


def _bounds(starts: list[date], by: str, zone, end: datetime) -> Bounds:
    step = timedelta(weeks=1) if by == "week" else timedelta(days=1)
    edges = [local_midnight_utc(d, zone) for d in starts] + [local_midnight_utc(starts[-1] + step, zone)]
    bounds = list(zip(edges[:-1], edges[1:]))
    bounds[-1] = (bounds[-1][0], min(bounds[-1][1], end))
    return bounds


def _previous(starts: list[date], by: str, zone) -> Bounds:
    """The same number of periods just before the first one (the previous window)."""
    step = timedelta(weeks=1) if by == "week" else timedelta(days=1)
    earlier = [d - step * len(starts) for d in starts]
    return _bounds(earlier, by, zone, local_midnight_utc(starts[0], zone))


# --- counting per period in the database ------------------------------------------------------


def _table(n: int):
    """A table of n periods (i, lo, hi) whose times are bound parameters lo0.., hi0..: written
    as text (SELECT ... UNION ALL in groups of VALUES rows) so that the statement has a cache
    key and SQLAlchemy compiles it once per n; its `values()` construct has none, and
    compiling 365 rows anew cost ~5 ms a statement, eight statements a view."""
    rows = ", ".join(f"({i}, :lo{i}, :hi{i})" for i in range(n))
    return (
        text(f"SELECT column1 AS i, column2 AS lo, column3 AS hi FROM (VALUES {rows}) AS v")
        .bindparams(*[bindparam(f"{edge}{i}", type_=UTCDateTime) for i in range(n) for edge in ("lo", "hi")])
        .columns(column("i", Integer), column("lo", UTCDateTime), column("hi", UTCDateTime))
    )


def _params(bounds: Bounds) -> dict[str, datetime]:
    return {f"lo{i}": lo for i, (lo, _hi) in enumerate(bounds)} | {f"hi{i}": hi for i, (_lo, hi) in enumerate(bounds)}


def per_period(conn, bounds: Bounds, time_column, *where, measures=None) -> list[list]:
    """For each [lo, hi): the measures (default: count) over rows with lo <= time_column < hi.
    Returns one list per measure, 0 for a period without rows. Each measure is a subquery
    correlated to the period's row, so both databases run it as one index range per period
    (a join lets SQLite's planner start from the big table when the filter looks selective)."""
    measures = measures or [func.count()]
    b = _table(len(bounds)).cte("b")
    table = time_column.table
    statement = select(
        b.c.i,
        *[
            select(measure)
            .select_from(table)
            .where(time_column >= b.c.lo, time_column < b.c.hi, *where)
            .correlate(b)
            .scalar_subquery()
            for measure in measures
        ],
    ).select_from(b)
    out = [[0] * len(bounds) for _ in measures]
    for i, *got in conn.execute(statement, _params(bounds)):
        for k, value in enumerate(got):
            out[k][i] = value if value is not None else 0
    return out


# --- stored times, compared as stored --------------------------------------------------------
# Reading a time through UTCDateTime costs ~2 us a value (the dialect's parse, then the
# decorator's); a year of hourly rollup keys and a window's reopens are ~100,000 values, most
# of a long view's time. Where the values are only compared (bisection), they are read as the
# driver returns them (SQLite: the stored 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text, which sorts as
# the times do; PostgreSQL: aware datetimes) and the few bounds are put in the same form.


def _raw(column):
    """`column` as the driver returns it: no result processing."""
    return type_coerce(column, String)


def _stored(conn):
    """A function putting an aware datetime in the form _raw values of this database have."""
    process = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process if process is not None else (lambda moment: moment)


def _naive(value) -> datetime:
    """A _raw time, or an aware datetime, as a naive UTC datetime: the closed spells are
    compared only with each other and with period ends made naive the same way."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def slot_sums(conn, key, measures: list, ranges: Bounds, *where) -> list[list[float]]:
    """For each [lo, hi): the sums of `measures` over the rows with lo <= key < hi, where `key`
    is a rollup's slot (an hour, a day). One statement reads the slots from the earliest lo to
    the latest hi, grouped by slot; each range is then a difference of prefix sums. (A VALUES
    table of the ranges has no SQLAlchemy cache key: it was compiled anew on every read, which
    cost more than the query on a year of days.)"""
    out = [[0.0] * len(ranges) for _ in measures]
    real = [(lo, hi) for lo, hi in ranges if lo < hi]
    if not real:
        return out
    first, last = min(lo for lo, _hi in real), max(hi for _lo, hi in real)
    rows = conn.execute(
        select(_raw(key), *[func.sum(m) for m in measures])
        .where(key >= at(first), key < at(last), *where)
        .group_by(key)
        .order_by(key)
    ).all()
    keys = [row[0] for row in rows]
    stored = _stored(conn)
    edges = [
        (i, bisect.bisect_left(keys, stored(lo)), bisect.bisect_left(keys, stored(hi)))
        for i, (lo, hi) in enumerate(ranges)
        if lo < hi
    ]
    columns = list(zip(*rows))[1:] if rows else [() for _ in measures]
    for k, values_ in enumerate(columns):
        numbers = map(float, values_) if None not in values_ else (float(v or 0) for v in values_)
        prefix = list(accumulate(numbers, initial=0.0))
        for i, a, b in edges:
            out[k][i] = prefix[b] - prefix[a]
    return out


def flow(conn, wanted: list[tuple[Bounds, list[str]]]) -> list[dict[str, list[int]]]:
    """For each (bounds, names): the ticket_flow_hours columns `names` summed over each
    [lo, hi). The whole UTC hours come from the rollup (one statement for every request), the
    partial hours at the edges (the window's end at now, a zone whose midnight is not on the
    hour) are counted from the tickets as the rollup counts them."""
    names = sorted({n for _bounds, asked in wanted for n in asked})
    whole: Bounds = []
    pieces: list[tuple[int, datetime, datetime]] = []  # (index into whole, lo, hi)
    for bounds, _asked in wanted:
        for lo, hi in bounds:
            a, b = hour_ceil(lo), hour_floor(hi)
            i = len(whole)
            if a < b:
                whole.append((a, b))
                pieces += [(i, x, y) for x, y in ((lo, a), (b, hi)) if x < y]
            else:
                whole.append((lo, lo))
                pieces.append((i, lo, hi))
    sums = slot_sums(conn, flow_hours.c.hour, [flow_hours.c[n] for n in names], whole)
    totals = {n: [int(v) for v in got] for n, got in zip(names, sums)}
    ranges = [(lo, hi) for _i, lo, hi in pieces]
    for moment, measures, columns in (
        (tickets.c.created_at, created_measures(), CREATED_COLUMNS),
        (tickets.c.completed_at, completed_measures(), COMPLETED_COLUMNS),
    ):
        picked = [k for k, column in enumerate(columns) if column in totals]
        if not picked or not ranges:
            continue
        got = per_period(conn, ranges, moment, measures=[measures[k] for k in picked])
        for k, values_ in zip(picked, got):
            for (i, _lo, _hi), value in zip(pieces, values_):
                totals[columns[k]][i] += int(value)
    out, start = [], 0
    for bounds, asked in wanted:
        out.append({n: totals[n][start : start + len(bounds)] for n in asked})
        start += len(bounds)
    return out


def _closed_now():
    """Closed now, written so that no index on is_closed is used for it: with the time ranges
    beside it, SQLite's planner would otherwise walk every closed ticket (ix_tickets_open)."""
    return func.coalesce(tickets.c.is_closed, false()) == true()  # noqa: E712


def _open_now():
    """Open now, written as _closed_now (no index on is_closed: the time range beside it is the one to read)."""
    return func.coalesce(tickets.c.is_closed, false()) == false()  # noqa: E712


def _count(conn, *where) -> int:
    return conn.execute(select(func.count()).select_from(tickets).where(*where)).scalar_one()


def _running(start: int, adds: list[int], subtracts: list[int]) -> list[int]:
    out, level = [], start
    for a, s in zip(adds, subtracts):
        level += a - s
        out.append(level)
    return out


def closed_spells(conn, config, start: datetime, now: datetime) -> list[tuple[datetime, datetime, datetime]]:
    """(closed from, reopened at, ticket created), naive UTC, for each reopen in (start, now]: the spell a
    reopen ended began at the ticket's last close event before it, or at its completed_at when
    that is later and still before the reopen. Reopens are rare: these rows are few."""
    later = ticket_events.alias("closes")
    closed = list(config.service.closed_statuses)
    last_close = (
        select(func.max(later.c.at))
        .where(
            later.c.ticket_id == ticket_events.c.ticket_id,
            later.c.field == "status",
            later.c.new_value.in_(closed),
            later.c.at < ticket_events.c.at,
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            _raw(ticket_events.c.at),
            _raw(last_close),
            _raw(tickets.c.completed_at),
            _raw(tickets.c.created_at),
        )
        .select_from(ticket_events.join(tickets, tickets.c.id == ticket_events.c.ticket_id))
        .where(reopen_event(config), ticket_events.c.at > at(start), ticket_events.c.at <= at(now))
    )
    spells = []
    for reopened, close_event, completed, created in rows:  # compared as stored (_raw)
        closed_at = close_event
        if completed is not None and completed < reopened and (closed_at is None or completed > closed_at):
            closed_at = completed
        if closed_at is not None:
            spells.append((_naive(closed_at), _naive(reopened), _naive(created)))
    return spells


def in_spells(spells, moments: list[datetime], age: timedelta | None = None) -> list[int]:
    """For each moment m: tickets inside a closed spell at m (closed before m, reopened at or
    after m) and, with an age, created before m - age. A spell counts for m in (start,
    reopened], start being its close or created + age if later: #starts before m less #ends
    before m, by bisection (a year's reopens times 365 periods, one by one, cost seconds)."""
    starts, ends = [], []
    for closed_at, reopened, created in spells:
        start = closed_at if age is None else max(closed_at, created + age)
        if start < reopened:
            starts.append(start)
            ends.append(reopened)
    starts.sort()
    ends.sort()
    naive = [_naive(m) for m in moments]
    return [bisect.bisect_left(starts, m) - bisect.bisect_left(ends, m) for m in naive]


def open_at(conn, pairs: list[tuple[datetime, datetime]]) -> list[int]:
    """For each (E, C): tickets open at E (by their state now: open, or closed now and
    completed at or after E) created before C. Three statements for every pair: the open
    tickets created before C are all the open ones (a count of a narrow partial index) less
    those created at or after C (one range of ix_tickets_created from the earliest C: history
    asks for the last three weeks), and one range of ix_tickets_completed from the earliest E
    (history asks at now: a range of almost nothing). A pass over the open tickets' wide
    covering index for their created_at cost more than both ranges."""
    if not pairs:
        return []
    created, completed = tickets.c.created_at, tickets.c.completed_at
    open_now = conn.execute(
        select(func.count()).select_from(tickets).where(tickets.c.is_closed == false())
    ).scalar_one()
    open_since = conn.execute(
        select(*[func.count().filter(created >= at(c)) for _e, c in pairs]).where(
            _open_now(), created >= at(min(c for _e, c in pairs))
        )
    ).one()
    closed_after = conn.execute(
        select(*[func.count().filter(completed >= at(e), created < at(c)) for e, c in pairs]).where(
            _closed_now(), completed >= at(min(e for e, _c in pairs))
        )
    ).one()
    return [open_now - int(a or 0) + int(b or 0) for a, b in zip(open_since, closed_after)]


def backlog(at_start: int, bounds: Bounds, opened_counted: list[int], closes: list[int], spells) -> list[int]:
    """Open tickets at each period's end (see the module's docstring), from `at_start` (open at
    the first period's start: open_at)."""
    levels = _running(at_start, opened_counted, closes)
    return [level - gone for level, gone in zip(levels, in_spells(spells, [hi for _lo, hi in bounds]))]


def aged(at_start: int, bounds: Bounds, days: int, starts: list[int], ends: list[int], spells) -> list[int]:
    """Open at each period's end and created more than `days` days before it: the tickets that
    lived longer than `days` start counting `days` after creation (`starts`: created in the
    period shifted back by `days`) and stop when completed (`ends`)."""
    levels = _running(at_start, starts, ends)
    inside = in_spells(spells, [hi for _lo, hi in bounds], timedelta(days=days))
    return [level - gone for level, gone in zip(levels, inside)]


FEW_RANGES = 4  # entry_hours reads up to this many ranges in one pass each


def entry_hours(conn, ranges: Bounds) -> tuple[list, list]:
    """(hours, billable hours) of the time entries started in each [lo, hi), 0 for none. A few
    ranges (the usual: today so far, where local midnight is a UTC midnight) are one statement
    that passes over each range once for both sums; per_period, for many ranges (every day of
    a zone whose midnight is not UTC's), compiles once per number of ranges but passes over a
    range once per sum."""
    billable = func.sum(case((entries.c.billable == true(), entries.c.hours), else_=0))
    if len(ranges) > FEW_RANGES:
        total, billed = per_period(conn, ranges, entries.c.started_at, measures=[func.sum(entries.c.hours), billable])
        return total, billed
    started = entries.c.started_at
    parts = [
        select(literal(k).label("k"), func.sum(entries.c.hours), billable).where(started >= at(lo), started < at(hi))
        for k, (lo, hi) in enumerate(ranges)
    ]
    total, billed = [0] * len(ranges), [0] * len(ranges)
    for k, hours, billable_hours in conn.execute(union_all(*parts)):
        total[k], billed[k] = hours or 0, billable_hours or 0
    return total, billed


def hours_per_period(conn, bounds: Bounds) -> tuple[list[float], list[float]]:
    """(billable, non-billable) hours of time entries started in each period: whole UTC days
    from the resource_day_hours rollup, the partial days at the edges from the entries."""
    whole: Bounds = []
    pieces: list[tuple[int, datetime, datetime]] = []  # (period, lo, hi) read from the entries
    for i, (lo, hi) in enumerate(bounds):
        a, b = day_ceil(lo), day_floor(hi)
        if a < b:
            whole.append((a, b))
            pieces += [(i, x, y) for x, y in ((lo, a), (b, hi)) if x < y]
        else:
            whole.append((lo, lo))  # an empty range: all of it is a piece
            pieces.append((i, lo, hi))
    total, billable = slot_sums(
        conn, resource_days.c.day, [resource_days.c.hours, resource_days.c.billable_hours], whole
    )
    if pieces:
        got_total, got_billable = entry_hours(conn, [(lo, hi) for _i, lo, hi in pieces])
        for (i, _lo, _hi), t, bill in zip(pieces, got_total, got_billable):
            total[i] += float(t)
            billable[i] += float(bill)
    return [half_up(v, 2) for v in billable], [half_up(t - v, 2) for t, v in zip(total, billable)]


def compliance(conn, bounds: Bounds) -> tuple[list[float | None], list[float | None]]:
    """First-response and resolution compliance per period, the SLA pane's rule: met / (done
    with a due time in the period, plus due in the period and still not done)."""
    h = response_hours.c
    with_due_r, met_r, with_due_s, met_s = slot_sums(
        conn, h.hour, [h.responded_with_due, h.responded_in_time, h.resolved_with_due, h.resolved_in_time], bounds
    )
    (missed_r,) = per_period(conn, bounds, tickets.c.first_response_due, tickets.c.first_response_at.is_(None))
    (missed_s,) = per_period(conn, bounds, tickets.c.resolution_due, tickets.c.resolved_at.is_(None))
    return (
        [pct(m, d + x) for m, d, x in zip(met_r, with_due_r, missed_r)],
        [pct(m, d + x) for m, d, x in zip(met_s, with_due_s, missed_s)],
    )


def escalations_per_period(conn, config, bounds: Bounds, now: datetime, refresh: Refresh | None) -> list[int]:
    """First escalations in each [lo, hi). Within a report refresh whose shared escalation
    window covers these periods (the 30-day view), the rows escalations and trends read once;
    otherwise their times only (no priority look-ups), compared as stored."""
    start = bounds[0][0]
    if refresh is not None and start >= shared_window_start(now, config):
        escalated = [row[0] for row in first_escalations_since(conn, config, start, now, refresh)]
        los, his = [lo for lo, _hi in bounds], [hi for _lo, hi in bounds]
    else:
        first = first_escalations(config, start, now)
        escalated = list(conn.execute(select(_raw(first.c.escalated_at))).scalars())
        stored = _stored(conn)
        los, his = [stored(lo) for lo, _hi in bounds], [stored(hi) for _lo, hi in bounds]
    counts = [0] * len(bounds)
    for moment in escalated:
        i = bisect.bisect_right(los, moment) - 1
        if 0 <= i and moment < his[i]:
            counts[i] += 1
    return counts


def history(
    engine: Engine, now: datetime, config, days: int = 30, by: str = "day", refresh: Refresh | None = None
) -> History:
    """The long view; `refresh` (a report's kpi.common.Refresh) shares the first escalations."""
    starts, bounds = periods(now, config, days, by)
    before = _previous(starts, by, config.zone)
    week_starts, weeks = periods(now, config, days, "week")
    previous_weeks = _previous(week_starts, "week", config.zone)
    n = len(bounds)
    shifted = [(lo - timedelta(days=k), hi - timedelta(days=k)) for k in AGES for lo, hi in bounds]
    with engine.connect() as conn:
        now_, then, lived = flow(
            conn,
            [
                (bounds, ["opened", "opened_counted", "completed", "closes", *(f"ended_{k}d" for k in AGES)]),
                (before, ["opened", "opened_counted", "closes"]),
                (shifted, [f"lived_{k}d" for k in AGES]),  # each age's own n periods
            ],
        )
        opened, closed = now_["opened"], now_["completed"]
        spells = closed_spells(conn, config, before[0][0], now)
        # Open at the window's end (now): a count of the open tickets, no history read. Each
        # series' level at the window's start is that less the window's running changes (the
        # same running sum the levels are drawn from), and the previous window's start that
        # less its own: no count over the years of completed tickets before the window.
        end = bounds[-1][1]
        at_end = open_at(conn, [(end, end), *((end, end - timedelta(days=k)) for k in AGES)])
        start = at_end[0] - sum(now_["opened_counted"]) + sum(now_["closes"])
        start_before = start - sum(then["opened_counted"]) + sum(then["closes"])
        levels = backlog(start, bounds, now_["opened_counted"], now_["closes"], spells)
        before_levels = backlog(start_before, before, then["opened_counted"], then["closes"], spells)
        aged_series = {}
        for j, k in enumerate(AGES):
            starts_k, ends_k = lived[f"lived_{k}d"][j * n : (j + 1) * n], now_[f"ended_{k}d"]
            aged_start = at_end[1 + j] - sum(starts_k) + sum(ends_k)
            aged_series[k] = aged(aged_start, bounds, k, starts_k, ends_k, spells)
        escalations = escalations_per_period(conn, config, bounds, now, refresh)
        billable, non_billable = hours_per_period(conn, bounds)
        first_response, resolution = compliance(conn, weeks)
        before_first_response, before_resolution = compliance(conn, previous_weeks)
        csat, responses = per_period(
            conn, weeks, surveys.c.completed_at, measures=[func.avg(surveys.c.rating), func.count()]
        )
    return History(
        days=days,
        by=by,
        periods=starts,
        opened=[int(n) for n in opened],
        closed=[int(n) for n in closed],
        backlog=levels,
        previous_opened=then["opened"],
        previous_backlog=before_levels,
        aged_over_7d=aged_series[7],
        aged_over_14d=aged_series[14],
        aged_over_21d=aged_series[21],
        escalations=escalations,
        escalation_rate_pct=[pct(e, o) for e, o in zip(escalations, opened)],
        billable_hours=billable,
        non_billable_hours=non_billable,
        weeks=week_starts,
        first_response_pct=first_response,
        resolution_pct=resolution,
        previous_first_response_pct=before_first_response,
        previous_resolution_pct=before_resolution,
        csat=[maybe(c) if n else None for c, n in zip(csat, responses)],
        csat_responses=[int(n) for n in responses],
    )
