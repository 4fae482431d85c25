"""Trends: daily series over the last 30 local days (today last, counted up to now).

Days are business-zone calendar days; their boundaries are computed in Python as UTC
instants (a DST day is 23 or 25 hours long), and each day is one index range aggregate,
so the 30 buckets cost 30 small index range scans, not a scan of the period.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, bindparam, func, or_, select

from mspkpi_tui.kpi.common import Result, hours, maybe
from mspkpi_tui.kpi.escalations import first_escalations
from mspkpi_tui.kpi.rules import WINDOW_DAYS, day_bounds, tickets
from mspkpi_tui.store import models
from mspkpi_tui.store.types import UTCDateTime

entries = models.TimeEntry.__table__  # type: ignore[attr-defined]
surveys = models.SurveyResult.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Trends(Result):
    days: list[date]
    opened: list[int]
    closed: list[int]
    first_response_breaches: list[int]
    escalations: list[int]
    hours: list[float]
    csat: list[float | None]


def _series_statements(days: int):
    """One statement per series: a scalar subquery a day over bound [lo_i, hi_i) parameters.
    Built once and reused (building 150 subqueries costs more than running them)."""
    due, done = tickets.c.first_response_due, tickets.c.first_response_at
    series = {
        "opened": (func.count(), tickets.c.created_at, ()),
        "closed": (func.count(), tickets.c.completed_at, ()),
        # A breach is dated by its due time: due that day (before now) and not met by then.
        "first_response_breaches": (func.count(), due, (or_(done.is_(None), done > due),)),
        "hours": (func.sum(entries.c.hours), entries.c.started_at, ()),
        "csat": (func.avg(surveys.c.rating), surveys.c.completed_at, ()),
    }
    statements = {}
    for name, (aggregate, column, where) in series.items():
        columns = [
            select(aggregate)
            .select_from(column.table)
            .where(column >= bindparam(f"lo{i}", type_=UTCDateTime), column < bindparam(f"hi{i}", type_=UTCDateTime), *where)
            .scalar_subquery()
            for i in range(days)
        ]
        statements[name] = select(*columns)
    return statements


_STATEMENTS = _series_statements(WINDOW_DAYS)


def trend_series(engine: Engine, now: datetime, config) -> Trends:
    days, bounds = day_bounds(now, config, WINDOW_DAYS)
    starts = [lo for lo, _hi in bounds]
    params = {f"lo{i}": lo for i, (lo, _hi) in enumerate(bounds)} | {f"hi{i}": hi for i, (_lo, hi) in enumerate(bounds)}
    with engine.connect() as conn:
        got = {name: list(conn.execute(statement, params).one()) for name, statement in _STATEMENTS.items()}
        first = first_escalations(config, starts[0], now)
        escalated_at = conn.execute(select(first.c.escalated_at)).scalars().all()
    opened, closed, breaches, logged, csat = (got[k] for k in ("opened", "closed", "first_response_breaches", "hours", "csat"))
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
