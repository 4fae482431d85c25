"""Projects: open projects at risk (Red / Amber / Green) and the hours still to deliver.

Rules in force:
- Late on calendar: past the end date (end < today, business zone), or percent complete
  behind the share of scheduled time elapsed ((today - start) / (end - start)); the second
  test needs start, end (after start) and percent complete.
- Late on hours: actual hours above estimated hours (no estimate: never late on hours).
- Red = late on both, Amber = late on one, Green = neither.
- Hours to be delivered = sum of max(estimated - actual, 0), by category; a project with no
  estimate adds 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, false, func, literal, or_, select

from mspkpi_tui.kpi.common import Result, hours, label
from mspkpi_tui.kpi.rules import day_number, period_bounds
from mspkpi_tui.store import models

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

projects = models.table(models.Project)
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class HoursToDeliver(Result):
    total: float
    by_category: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectFigures(Result):
    at_risk: dict[str, int]  # {"Red": n, "Amber": n, "Green": n}
    hours_to_be_delivered: HoursToDeliver


def late_on_calendar(today: date):
    p = projects.c
    today_n = literal((today - EPOCH).days)
    elapsed_ahead = and_(
        p.start_date.is_not(None),
        p.end_date > p.start_date,
        p.percent_complete.is_not(None),
        # percent complete < 100 x elapsed share, without dividing
        p.percent_complete * (day_number(p.end_date) - day_number(p.start_date))
        < 100.0 * (today_n - day_number(p.start_date)),
    )
    return or_(p.end_date < today, elapsed_ahead)


def late_on_hours():
    p = projects.c
    return and_(p.estimated_hours.is_not(None), func.coalesce(p.actual_hours, 0.0) > p.estimated_hours)


RISK_COLOURS = ("Green", "Amber", "Red")  # by lateness: late on none, one or both


def lateness(today: date):
    """0, 1 or 2: how many of the two lateness tests a project fails (the one rule behind the
    Red/Amber/Green counts and the lists behind them)."""
    return case((late_on_calendar(today), 1), else_=0) + case((late_on_hours(), 1), else_=0)


def project_figures(engine: Engine, now: datetime, config: Config) -> ProjectFigures:
    today = period_bounds(now, config).today
    p = projects.c
    late = lateness(today)
    remaining = case(
        (
            p.estimated_hours > func.coalesce(p.actual_hours, 0.0),
            p.estimated_hours - func.coalesce(p.actual_hours, 0.0),
        ),
        else_=0.0,
    )
    query = (
        select(p.category, late.label("late"), func.count(), func.coalesce(func.sum(remaining), 0.0))
        .where(p.is_closed == false())
        .group_by(p.category, late)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    at_risk = {"Red": 0, "Amber": 0, "Green": 0}
    by_category: dict[str, float] = {}
    for category, late, n, left in rows:
        at_risk[RISK_COLOURS[int(late)]] += n
        by_category[label(category)] = by_category.get(label(category), 0.0) + float(left)
    return ProjectFigures(
        at_risk=at_risk,
        hours_to_be_delivered=HoursToDeliver(
            total=hours(sum(by_category.values())),
            by_category={k: hours(v) for k, v in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))},
        ),
    )
