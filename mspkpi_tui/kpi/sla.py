"""SLA: the overdue and soon-due open tickets, and 30-day compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, case, func, select

from mspkpi_tui.kpi.common import Result, pct
from mspkpi_tui.kpi.rules import (
    at,
    first_response_due_within,
    first_response_overdue,
    is_open,
    period_bounds,
    resolution_due_today,
    resolution_overdue,
    tickets,
)

DUE_SOON_HOURS = 1.0


@dataclass(frozen=True)
class Compliance(Result):
    first_response_pct: float | None
    resolution_pct: float | None


@dataclass(frozen=True)
class SlaFigures(Result):
    first_response_overdue: int
    first_response_due_1h: int
    resolution_overdue: int
    resolution_due_today: int
    compliance_30d: Compliance


def sla_figures(engine: Engine, now: datetime, config) -> SlaFigures:
    periods = period_bounds(now, config)
    flag = lambda clause: func.coalesce(func.sum(case((clause, 1), else_=0)), 0)  # noqa: E731
    buckets = select(
        flag(first_response_overdue(now)),
        flag(first_response_due_within(now, DUE_SOON_HOURS)),
        flag(resolution_overdue(now)),
        flag(resolution_due_today(now, periods.end_of_today)),
    ).where(is_open())
    with engine.connect() as conn:
        fr_overdue, fr_soon, res_overdue, res_today = conn.execute(buckets).one()
        compliance = Compliance(
            first_response_pct=_compliance(conn, tickets.c.first_response_at, tickets.c.first_response_due, periods.window_start, now),
            resolution_pct=_compliance(conn, tickets.c.resolved_at, tickets.c.resolution_due, periods.window_start, now),
        )
    return SlaFigures(int(fr_overdue), int(fr_soon), int(res_overdue), int(res_today), compliance)


def _compliance(conn, done, due, start: datetime, now: datetime) -> float | None:
    """Share met among tickets done in [start, now] (with a due time) or whose due time passed
    in [start, now) without it being done. Met = done at or before due. None when no such ticket.

    Two index range scans (done, due), disjoint because one needs done set and the other unset.
    """
    done_in_window = select(func.count(), func.coalesce(func.sum(case((done <= due, 1), else_=0)), 0)).where(
        done >= at(start), done <= at(now), due.is_not(None)
    )
    missed_in_window = select(func.count()).where(done.is_(None), due >= at(start), due < at(now))
    n_done, n_met = conn.execute(done_in_window.select_from(tickets)).one()
    n_missed = conn.execute(missed_in_window.select_from(tickets)).scalar_one()
    return pct(n_met, n_done + n_missed)
