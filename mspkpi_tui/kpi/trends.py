"""Trends: daily series over the 30d window (the local days it touches, today last, counted
up to now; the first day only from the window's start), so each sums to its 30d figure.

Days are business-zone calendar days; their boundaries are computed in Python as UTC
instants (a DST day is 23 or 25 hours long), and each day is one index range aggregate,
so the 30 buckets cost 30 small index range scans, not a scan of the period.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, func, or_, select

from mspkpi_tui.kpi.common import Refresh, Result, hours, maybe
from mspkpi_tui.kpi.escalations import first_escalations_since
from mspkpi_tui.kpi.rules import tickets, window_days
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups import DAY, day_ceil, day_floor, resource_days
from mspkpi_tui.store.types import UTCDateTime

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

entries = models.table(models.TimeEntry)
surveys = models.table(models.SurveyResult)


@dataclass(frozen=True)
class Trends(Result):
    days: list[date]
    opened: list[int]
    closed: list[int]
    first_response_breaches: list[int]
    escalations: list[int]
    hours: list[float]
    csat: list[float | None]


@cache
def _series_statements(days: int):
    """One statement per series: a scalar subquery a day over bound [lo_i, hi_i) parameters.
    Built once and reused (building 150 subqueries costs more than running them)."""
    due, done = tickets.c.first_response_due, tickets.c.first_response_at
    series = {
        "opened": (func.count(), tickets.c.created_at, ()),
        "closed": (func.count(), tickets.c.completed_at, ()),
        # A breach is dated by its due time: due that day (before now) and not met by then.
        "first_response_breaches": (func.count(), due, (or_(done.is_(None), done > due),)),
        "csat": (func.avg(surveys.c.rating), surveys.c.completed_at, ()),
    }
    statements = {}
    for name, (aggregate, column, where) in series.items():
        columns = [
            select(aggregate)
            .select_from(column.table)
            .where(
                column >= bindparam(f"lo{i}", type_=UTCDateTime),
                column < bindparam(f"hi{i}", type_=UTCDateTime),
                *where,
            )
            .scalar_subquery()
            for i in range(days)
        ]
        statements[name] = select(*columns)
    return statements


@cache
def _entry_hours_statement(ranges: int):
    """The hours of time entries started in each of `ranges` bound [lo_i, hi_i) ranges."""
    return select(
        *[
            select(func.sum(entries.c.hours))
            .where(
                entries.c.started_at >= bindparam(f"lo{i}", type_=UTCDateTime),
                entries.c.started_at < bindparam(f"hi{i}", type_=UTCDateTime),
            )
            .scalar_subquery()
            for i in range(ranges)
        ]
    )


_ROLLED_UP_DAYS = (
    select(resource_days.c.day, func.sum(resource_days.c.hours))
    .where(
        resource_days.c.day >= bindparam("lo", type_=UTCDateTime),
        resource_days.c.day < bindparam("hi", type_=UTCDateTime),
    )
    .group_by(resource_days.c.day)
)


def _hours_per_day(conn, bounds: list[tuple[datetime, datetime]]) -> list[float | None]:
    """Hours logged per [lo, hi) day: the whole UTC days inside a day from the
    resource_day_hours rollup, the rest (the edges, or all of a day whose local midnights
    are not UTC midnights) from the time entries. Exact either way."""
    whole: list[tuple[datetime, datetime] | None] = []
    edges: list[tuple[int, datetime, datetime]] = []  # (day index, lo, hi) read from the entries
    for i, (lo, hi) in enumerate(bounds):
        whole_from, whole_to = day_ceil(lo), day_floor(hi)
        if whole_from < whole_to:
            whole.append((whole_from, whole_to))
            edges += [(i, a, b) for a, b in ((lo, whole_from), (whole_to, hi)) if a < b]
        else:
            whole.append(None)
            edges.append((i, lo, hi))
    totals: list[float | None] = [None] * len(bounds)

    def add(i: int, value) -> None:
        if value is not None:
            totals[i] = (totals[i] or 0.0) + value

    day_index: dict[datetime, int] = {}  # UTC day -> the day it belongs to
    for i, span in enumerate(whole):
        if span is None:
            continue
        day, end = span
        while day < end:
            day_index[day] = i
            day += DAY
    if day_index:
        params = {"lo": min(day_index), "hi": max(day_index) + DAY}
        for day, total in conn.execute(_ROLLED_UP_DAYS, params):
            add(day_index[day], total)
    if edges:
        params = {f"lo{k}": lo for k, (_i, lo, _hi) in enumerate(edges)} | {
            f"hi{k}": hi for k, (_i, _lo, hi) in enumerate(edges)
        }
        for (i, _lo, _hi), total in zip(edges, conn.execute(_entry_hours_statement(len(edges)), params).one()):
            add(i, total)
    return totals


def trend_series(engine: Engine, now: datetime, config: Config, refresh: Refresh | None = None) -> Trends:
    days, bounds = window_days(now, config)
    starts = [lo for lo, _hi in bounds]
    params = {f"lo{i}": lo for i, (lo, _hi) in enumerate(bounds)} | {f"hi{i}": hi for i, (_lo, hi) in enumerate(bounds)}
    with engine.connect() as conn:
        got = {
            name: list(conn.execute(statement, params).one())
            for name, statement in _series_statements(len(bounds)).items()
        }
        got["hours"] = _hours_per_day(conn, bounds)
        escalated_at = [row[0] for row in first_escalations_since(conn, config, starts[0], now, refresh)]
    opened, closed, breaches, logged, csat = (
        got[k] for k in ("opened", "closed", "first_response_breaches", "hours", "csat")
    )
    escalations = [0] * len(bounds)
    for moment in escalated_at:
        index = bisect.bisect_right(starts, moment) - 1
        if 0 <= index and moment < bounds[index][1]:  # the same [lo, hi) days as the other series
            escalations[index] += 1
    return Trends(
        days=days,
        opened=[int(n) for n in opened],
        closed=[int(n) for n in closed],
        first_response_breaches=[int(n) for n in breaches],
        escalations=escalations,
        hours=[hours(h) for h in logged],
        csat=[maybe(c) for c in csat],
    )
