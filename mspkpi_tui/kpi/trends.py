"""Trends: daily series over the last 30 local days (today last, counted up to now).

Days are business-zone calendar days; their boundaries are computed in Python as UTC
instants (a DST day is 23 or 25 hours long), and each day is one index range aggregate,
so the 30 buckets cost 30 small index range scans, not a scan of the period.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, or_, select

from mspkpi_tui.kpi.common import Result, hours, maybe
from mspkpi_tui.kpi.escalations import first_escalations
from mspkpi_tui.kpi.rules import WINDOW_DAYS, at, day_bounds, tickets
from mspkpi_tui.store import models

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


def _per_day(conn, bounds, aggregate, column, *where) -> list:
    """aggregate over rows whose `column` falls in each [lo, hi): one statement, one subquery a day."""
    table = column.table
    columns = [
        select(aggregate).select_from(table).where(column >= at(lo), column < at(hi), *where).scalar_subquery()
        for lo, hi in bounds
    ]
    return list(conn.execute(select(*columns)).one())


def trend_series(engine: Engine, now: datetime, config) -> Trends:
    days, bounds = day_bounds(now, config, WINDOW_DAYS)
    due, done = tickets.c.first_response_due, tickets.c.first_response_at
    starts = [lo for lo, _hi in bounds]
    with engine.connect() as conn:
        opened = _per_day(conn, bounds, func.count(), tickets.c.created_at)
        closed = _per_day(conn, bounds, func.count(), tickets.c.completed_at)
        # A breach is dated by its due time: due that day (before now) and not met by then.
        breaches = _per_day(conn, bounds, func.count(), due, or_(done.is_(None), done > due))
        logged = _per_day(conn, bounds, func.sum(entries.c.hours), entries.c.started_at)
        csat = _per_day(conn, bounds, func.avg(surveys.c.rating), surveys.c.completed_at)
        first = first_escalations(config, starts[0], now)
        escalated_at = conn.execute(select(first.c.escalated_at)).scalars().all()
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
