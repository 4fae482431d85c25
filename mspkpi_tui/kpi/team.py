"""Team: each technician's hours this week and last week, utilization, and overdue timesheets.

Rules in force (config [timesheet]):
- Utilization = billable hours this week / available hours (the technician's weekly hours,
  minus time off this week when time-off time codes are configured). Billable % = billable /
  worked. Customer-facing % = hours on a ticket or project / worked. All this week.
- Overdue timesheet (sources with timesheet records): period ended, deadline passed (or, with
  no deadline, period end + grace_days), status not one of done_statuses.
- "Under hours" (sources with no timesheet records, e.g. Autotask): an ended week of the last
  lookback_weeks, past its grace period, with hours logged < weekly hours x threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, case, func, literal, or_, select, union_all

from mspkpi_tui.clock import local_midnight_utc
from mspkpi_tui.kpi.common import Result, hours, pct
from mspkpi_tui.kpi.rules import at, period_bounds
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups import billable_hours, customer_facing_hours, day_ceil, day_floor, resource_days

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

resources = models.table(models.Resource)
entries = models.table(models.TimeEntry)
timesheets = models.table(models.Timesheet)

UNDER_HOURS = "Under hours"


@dataclass(frozen=True)
class ResourceHours(Result):
    name: str
    hours_this_week: float
    billable_this_week: float
    non_billable_this_week: float
    hours_last_week: float
    utilization_pct: float | None
    billable_pct: float | None
    customer_facing_pct: float | None
    # Week to date: billable / the availability up to now (WORKDAY_START..+WORKDAY_HOURS local,
    # Monday to Friday), so Monday morning does not read as failure beside the full week's.
    utilization_wtd_pct: float | None = None


@dataclass(frozen=True)
class OverdueTimesheet(Result):
    resource: str
    period_start: date
    period_end: date
    billable_hours: float
    non_billable_hours: float
    hours_worked: float
    status: str


@dataclass(frozen=True)
class TeamFigures(Result):
    week_start: date
    resources: list[ResourceHours] = field(default_factory=list)
    overdue_timesheets: list[OverdueTimesheet] = field(default_factory=list)


@dataclass
class _Tally:
    billable: float = 0.0
    non_billable: float = 0.0
    customer_facing: float = 0.0
    time_off: float = 0.0

    @property
    def worked(self) -> float:
        return self.billable + self.non_billable


WORKDAY_START, WORKDAY_HOURS, WORKDAYS = 9, 8, 5  # the week-to-date availability's working day


def week_share_elapsed(local: datetime) -> float:
    """The share (0..1) of the working week (Mon-Fri, 09:00-17:00 local) gone by at `local`."""
    if local.weekday() >= WORKDAYS:
        return 1.0
    today = min(max(local.hour + local.minute / 60 - WORKDAY_START, 0.0), WORKDAY_HOURS) / WORKDAY_HOURS
    return (local.weekday() + today) / WORKDAYS


def team_figures(engine: Engine, now: datetime, config: Config) -> TeamFigures:
    periods = period_bounds(now, config)
    zone, rules = config.zone, config.timesheet
    week_day = periods.week_start.astimezone(zone).date()
    with engine.connect() as conn:
        people = conn.execute(
            select(resources.c.id, resources.c.name, resources.c.weekly_hours, resources.c.source)
            .where(resources.c.active)
            .order_by(resources.c.name, resources.c.id)
        ).all()
        timesheet_sources = set(conn.execute(select(timesheets.c.source).distinct()).scalars())
        # Week bucket 0 = this week, 1 = last week, ... (local weeks, DST-safe instants); the
        # "Under hours" weeks are read only when some technician's source has no timesheets.
        under_hours_needed = any(source not in timesheet_sources for _i, _n, _w, source in people)
        weeks = max(2, int(rules.lookback_weeks) + 1) if under_hours_needed else 2
        week_starts = [local_midnight_utc(week_day - timedelta(days=7 * k), zone) for k in range(weeks)]
        if rules.time_off_categories:  # time codes are not in the rollup: read the entries
            tallies = _weekly_tallies(conn, week_starts, now, rules.time_off_categories)
        else:
            tallies = _rolled_up_tallies(conn, week_starts, now)
        overdue = _overdue_timesheets(conn, now, periods.today, config)
    team = []
    share = week_share_elapsed(now.astimezone(zone))
    for rid, name, weekly, _source in people:
        this, last = tallies.get((rid, 0), _Tally()), tallies.get((rid, 1), _Tally())
        available = (weekly or 0.0) - this.time_off
        available_so_far = (weekly or 0.0) * share - this.time_off
        team.append(
            ResourceHours(
                name=name,
                hours_this_week=hours(this.worked),
                billable_this_week=hours(this.billable),
                non_billable_this_week=hours(this.non_billable),
                hours_last_week=hours(last.worked),
                utilization_pct=pct(this.billable, available) if available > 0 else None,
                billable_pct=pct(this.billable, this.worked),
                customer_facing_pct=pct(this.customer_facing, this.worked),
                utilization_wtd_pct=pct(this.billable, available_so_far) if available_so_far > 0 else None,
            )
        )
    overdue += _under_hours(people, tallies, week_starts, now, config, timesheet_sources)
    overdue.sort(key=lambda o: (o.period_start, o.resource))
    return TeamFigures(week_start=week_day, resources=team, overdue_timesheets=overdue)


def _weekly_tallies(
    conn, week_starts: list[datetime], now: datetime, time_off_categories
) -> dict[tuple[int, int], _Tally]:
    """(resource id, week bucket) -> hours: one grouped scan of ix_time_entries_week."""
    bucket = case(
        *[(entries.c.started_at >= at(start), k) for k, start in enumerate(week_starts)], else_=len(week_starts)
    )
    facing = case((or_(entries.c.ticket_id.is_not(None), entries.c.project_id.is_not(None)), 1), else_=0)
    off = case((entries.c.category.in_(list(time_off_categories)), 1), else_=0) if time_off_categories else None
    columns = [entries.c.resource_id, bucket, entries.c.billable, facing] + ([off] if off is not None else [])
    query = (
        select(*columns, func.sum(entries.c.hours))
        .where(entries.c.started_at >= at(week_starts[-1]), entries.c.started_at <= at(now))
        .group_by(*columns)
    )
    tallies: dict[tuple[int, int], _Tally] = {}
    for row in conn.execute(query):
        rid, k, billable, is_facing = row[0], row[1], row[2], row[3]
        is_off, total = (row[4], row[5]) if off is not None else (0, row[4])
        tally = tallies.setdefault((rid, k), _Tally())
        if is_off:
            tally.time_off += total or 0.0
        elif billable:
            tally.billable += total or 0.0
        else:
            tally.non_billable += total or 0.0
        if is_facing and not is_off:
            tally.customer_facing += total or 0.0
    return tallies


def _rolled_up_tallies(conn, week_starts: list[datetime], now: datetime) -> dict[tuple[int, int], _Tally]:
    """The same tallies (without time off) from resource_day_hours: whole UTC days from the
    rollup, and the partial days at each week's edges (local midnights) from the entries.
    One UNION ALL statement; each part is a small index range."""
    ends = [now] + week_starts[:-1]
    parts = []
    for k, (start, end) in enumerate(zip(week_starts, ends)):
        last = k == 0  # this week runs up to and including now
        whole_from, whole_to = day_ceil(start), day_floor(end)
        if whole_from < whole_to:
            parts.append(
                select(
                    literal(k).label("k"),
                    resource_days.c.resource_id,
                    resource_days.c.hours,
                    resource_days.c.billable_hours,
                    resource_days.c.customer_facing_hours,
                ).where(resource_days.c.day >= at(whole_from), resource_days.c.day < at(whole_to))
            )
            edges = [(start, whole_from, False), (whole_to, end, last)]
        else:
            edges = [(start, end, last)]
        for lo, hi, inclusive in edges:
            if lo < hi or (inclusive and lo <= hi):
                upper = entries.c.started_at <= at(hi) if inclusive else entries.c.started_at < at(hi)
                parts.append(
                    select(
                        literal(k).label("k"),
                        entries.c.resource_id.label("resource_id"),
                        entries.c.hours.label("hours"),
                        billable_hours().label("billable_hours"),
                        customer_facing_hours().label("customer_facing_hours"),
                    ).where(entries.c.started_at >= at(lo), upper)
                )
    rows = union_all(*parts).subquery()
    query = select(
        rows.c.resource_id,
        rows.c.k,
        func.sum(rows.c.hours),
        func.sum(rows.c.billable_hours),
        func.sum(rows.c.customer_facing_hours),
    ).group_by(rows.c.resource_id, rows.c.k)
    tallies: dict[tuple[int, int], _Tally] = {}
    for rid, k, total, billable, facing in conn.execute(query):
        total, billable = total or 0.0, billable or 0.0
        tallies[(rid, k)] = _Tally(billable=billable, non_billable=total - billable, customer_facing=facing or 0.0)
    return tallies


def _overdue_timesheets(conn, now: datetime, today: date, config: Config) -> list[OverdueTimesheet]:
    """Timesheets whose period ended, whose deadline (or end + grace) passed, not submitted/approved."""
    zone, rules = config.zone, config.timesheet
    done = {s.lower() for s in rules.done_statuses}
    # The statuses in use (a walk of ix_timesheets_status), so the candidates are index
    # ranges of the few not-done statuses rather than a scan of every past timesheet.
    statuses = conn.execute(select(timesheets.c.status).distinct()).scalars().all()
    pending = [status for status in statuses if status.lower() not in done]
    if not pending:
        return []
    candidates = conn.execute(
        select(timesheets, resources.c.name.label("resource_name"))
        .select_from(timesheets.join(resources, resources.c.id == timesheets.c.resource_id))
        .where(timesheets.c.status.in_(pending), timesheets.c.period_end < today)
    ).all()
    due = []
    for ts in candidates:
        period_from = local_midnight_utc(ts.period_start, zone)
        period_to = local_midnight_utc(ts.period_end + timedelta(days=1), zone)
        deadline = ts.deadline or period_to + timedelta(days=rules.grace_days)
        if deadline < now:
            due.append((ts, period_from, period_to))
    sums = _period_sums(conn, [(ts.resource_id, lo, hi) for ts, lo, hi in due])
    return [
        OverdueTimesheet(
            resource=ts.resource_name,
            period_start=ts.period_start,
            period_end=ts.period_end,
            billable_hours=hours(billable),
            non_billable_hours=hours(total - billable),
            hours_worked=hours(total),
            status=ts.status,
        )
        for (ts, _lo, _hi), (billable, total) in zip(due, sums)
    ]


def _period_sums(conn, periods: list[tuple[int, datetime, datetime]]) -> list[tuple[float, float]]:
    """(billable, total) hours of each (resource, [lo, hi)): one grouped statement per distinct
    period (overdue timesheets share a few weeks), probing ix_time_entries_resource per technician."""
    wanted: dict[tuple[datetime, datetime], set[int]] = {}
    for rid, lo, hi in periods:
        wanted.setdefault((lo, hi), set()).add(rid)
    billable = func.coalesce(func.sum(case((entries.c.billable, entries.c.hours), else_=0.0)), 0.0)
    total = func.coalesce(func.sum(entries.c.hours), 0.0)
    sums: dict[tuple[int, datetime, datetime], tuple[float, float]] = {}
    for (lo, hi), rids in wanted.items():
        query = (
            select(entries.c.resource_id, billable, total)
            .where(
                entries.c.resource_id.in_(sorted(rids)), entries.c.started_at >= at(lo), entries.c.started_at < at(hi)
            )
            .group_by(entries.c.resource_id)
        )
        for rid, b, t in conn.execute(query):
            sums[(rid, lo, hi)] = (float(b), float(t))
    return [sums.get(period, (0.0, 0.0)) for period in periods]


def _under_hours(people, tallies, week_starts, now, config: Config, timesheet_sources) -> list[OverdueTimesheet]:
    """Sources without timesheet records: ended weeks, past grace, under weekly hours x threshold."""
    zone, rules = config.zone, config.timesheet
    flagged = []
    for k in range(1, len(week_starts)):
        week_end = week_starts[k - 1]  # the next week's start
        if week_end + timedelta(days=rules.grace_days) >= now:
            continue
        first_day = week_starts[k].astimezone(zone).date()
        for rid, name, weekly, source in people:
            if source in timesheet_sources or not weekly:
                continue
            tally = tallies.get((rid, k), _Tally())
            logged = tally.worked + tally.time_off
            if logged < weekly * rules.threshold:
                flagged.append(
                    OverdueTimesheet(
                        resource=name,
                        period_start=first_day,
                        period_end=first_day + timedelta(days=6),
                        billable_hours=hours(tally.billable),
                        non_billable_hours=hours(tally.non_billable + tally.time_off),
                        hours_worked=hours(logged),
                        status=UNDER_HOURS,
                    )
                )
    return flagged
