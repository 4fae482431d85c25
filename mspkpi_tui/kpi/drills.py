"""The records behind a figure: the list a count counts, built from the same rule.

Each function here takes the rule from the module that computes the figure (projects'
lateness, pipeline's days in stage, service's CSAT window and follow-up test, escalations'
first escalations) and lists the rows it counts, so a count and its list always match.
Plain data only: the presentation picks the formats. The figures' modules (projects, pipeline,
service) are imported by the functions that use them: the dashboard's first screen imports this
module, and their tables are SQLModel's (store/schema.py says why that matters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, false, func, select

from mspkpi_tui.kpi.common import NO_LABEL
from mspkpi_tui.kpi.rules import period_bounds, tickets
from mspkpi_tui.store import schema

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

companies = schema.companies
MAX_ROWS = 500  # a list behind a figure shows at most this many rows (the total is always exact)


@dataclass(frozen=True)
class Records:
    """The rows behind one figure: column names, rows of plain values, and the exact total."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    total: int = 0


def _records(engine: Engine, columns: tuple[str, ...], query, limit: int) -> Records:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        rows = [tuple(r) for r in conn.execute(query.limit(limit))]
    return Records(columns, rows, total)


def projects_at_risk(
    engine: Engine, now: datetime, config: Config, colour: str = "Red", limit: int = MAX_ROWS
) -> Records:
    """Open projects of one risk colour (projects.lateness: Red late on calendar and hours)."""
    from mspkpi_tui.kpi.projects import RISK_COLOURS, lateness, projects

    today = period_bounds(now, config).today
    p = projects.c
    query = (
        select(p.name, companies.c.name, p.category, p.end_date, p.percent_complete, p.estimated_hours, p.actual_hours)
        .select_from(projects.outerjoin(companies, companies.c.id == p.company_id))
        .where(p.is_closed == false(), lateness(today) == RISK_COLOURS.index(colour))
        .order_by(p.end_date, p.name, p.id)
    )
    columns = ("Project", "Company", "Category", "End", "% done", "Est h", "Actual h")
    return _records(engine, columns, query, limit)


def deals_past_checkin(
    engine: Engine, now: datetime, days: int, stage: str | None = None, limit: int = MAX_ROWS
) -> Records:
    """Open deals `days` or more days in their stage (pipeline.days_in_stage), longest first."""
    from mspkpi_tui.kpi.pipeline import days_in_stage, opportunities

    o = opportunities.c
    in_stage = days_in_stage(now)
    where = [o.status == "open", in_stage >= days]
    if stage is not None:
        where.append(o.stage == stage)
    query = (
        select(o.title, companies.c.name, o.stage, o.amount, in_stage)
        .select_from(opportunities.outerjoin(companies, companies.c.id == o.company_id))
        .where(*where)
        .order_by(in_stage.desc(), o.id)
    )
    return _records(engine, ("Deal", "Company", "Stage", "Amount", "Days in stage"), query, limit)


def csat_to_follow_up(engine: Engine, now: datetime, config: Config, limit: int = MAX_ROWS) -> Records:
    """The CSAT responses rated below 3 in the last 30 days (service.csat_window, csat_follow_up)."""
    from mspkpi_tui.kpi.service import csat_follow_up, csat_window, surveys

    start = period_bounds(now, config).window_start
    s = surveys.c
    query = (
        select(s.completed_at, tickets.c.number, companies.c.name, s.rating, tickets.c.title)
        .select_from(
            surveys.outerjoin(tickets, tickets.c.id == s.ticket_id).outerjoin(companies, companies.c.id == s.company_id)
        )
        .where(*csat_window(start, now), csat_follow_up())
        .order_by(s.completed_at.desc(), s.id)
    )
    return _records(engine, ("Completed", "Ticket", "Company", "Rating", "Title"), query, limit)


def ends_within(today: date, days: int) -> date:
    """The last end date a contract "expiring within `days` days" may have (kpi.contracts)."""
    return today + timedelta(days=days)


def issue_type_matches(issue_type: str):
    """The tickets whose issue type reads `issue_type` in the by-type figure (common.label)."""
    column = tickets.c.issue_type
    if issue_type == NO_LABEL:
        return column.is_(None) | (column == "")
    return column == issue_type
