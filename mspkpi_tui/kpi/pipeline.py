"""Pipeline: open opportunities by stage, ageing against the check-ins, coverage, won and lost.

Rules in force (config [pipeline]):
- Days in stage = now - the time the deal entered its current stage: stage_entered_at, else
  its latest recorded stage change, else its creation time. A deal is past the N-day
  check-in when it has been in its stage N days or more (checkin_days, default 15/30/45).
- Coverage = open amount / target, only when `target` is set (else null); the seed's rule
  of thumb is coverage_multiple (4x).
- Won / lost this month: closed_on in the current calendar month of the business zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, case, func, literal, select

from mspkpi_tui.kpi.common import Result, label, maybe, ratio
from mspkpi_tui.kpi.rules import epoch_seconds, period_bounds
from mspkpi_tui.store import models

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

opportunities = models.table(models.Opportunity)
stage_changes = models.table(models.OpportunityStageChange)

DAY = 86400.0


@dataclass(frozen=True)
class StageFigures(Result):
    stage: str
    count: int
    amount: float
    avg_days_in_stage: float | None
    max_days_in_stage: float | None
    past_checkins: dict[int, int] = field(default_factory=dict)  # check-in day -> deals past it


@dataclass(frozen=True)
class ClosedDeals(Result):
    count: int
    amount: float
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineFigures(Result):
    stages: list[StageFigures]
    open_amount: float
    coverage: float | None  # open amount / target (a multiple, e.g. 4.0 = 4x)
    won_month: ClosedDeals
    lost_month: ClosedDeals


def stage_entered_at():
    latest_change = (
        select(func.max(stage_changes.c.entered_at))
        .where(stage_changes.c.opportunity_id == opportunities.c.id, stage_changes.c.stage == opportunities.c.stage)
        .scalar_subquery()
    )
    return func.coalesce(opportunities.c.stage_entered_at, latest_change, opportunities.c.created_at)


def days_in_stage(now: datetime):
    """An open deal's days in its current stage (the one rule behind the check-in counts and
    the lists behind them)."""
    return (literal(now.timestamp()) - epoch_seconds(stage_entered_at())) / DAY


def pipeline_figures(engine: Engine, now: datetime, config: Config) -> PipelineFigures:
    periods = period_bounds(now, config)
    checkins = sorted(int(d) for d in config.pipeline.checkin_days)
    days = days_in_stage(now)
    aged = (
        select(opportunities.c.stage, opportunities.c.stage_rank, opportunities.c.amount, days.label("days"))
        .where(opportunities.c.status == "open")
        .subquery()
    )
    past = [func.coalesce(func.sum(case((aged.c.days >= d, 1), else_=0)), 0) for d in checkins]
    by_stage = select(
        aged.c.stage,
        func.min(aged.c.stage_rank),
        func.count(),
        func.coalesce(func.sum(aged.c.amount), 0.0),
        func.avg(aged.c.days),
        func.max(aged.c.days),
        *past,
    ).group_by(aged.c.stage)
    month_first, today = periods.month_start.astimezone(config.zone).date(), periods.today
    reason = case((opportunities.c.status == "won", opportunities.c.win_reason), else_=opportunities.c.loss_reason)
    closed = (
        select(opportunities.c.status, reason, func.count(), func.coalesce(func.sum(opportunities.c.amount), 0.0))
        .where(
            opportunities.c.status.in_(["won", "lost"]),
            opportunities.c.closed_on >= month_first,
            opportunities.c.closed_on <= today,
        )
        .group_by(opportunities.c.status, reason)
    )
    with engine.connect() as conn:
        stage_rows = conn.execute(by_stage).all()
        closed_rows = conn.execute(closed).all()
    stage_rows = sorted(stage_rows, key=lambda r: (r[1], r[0]))
    stages = [
        StageFigures(
            stage=row[0],
            count=row[2],
            amount=round(float(row[3]), 2),
            avg_days_in_stage=maybe(row[4], 1),
            max_days_in_stage=maybe(row[5], 1),
            past_checkins={d: int(n) for d, n in zip(checkins, row[6:])},
        )
        for row in stage_rows
    ]
    open_amount = round(sum(s.amount for s in stages), 2)
    target = config.pipeline.target
    return PipelineFigures(
        stages=stages,
        open_amount=open_amount,
        coverage=ratio(open_amount, target) if target else None,
        won_month=_closed(closed_rows, "won"),
        lost_month=_closed(closed_rows, "lost"),
    )


def _closed(rows, status: str) -> ClosedDeals:
    mine = [r for r in rows if r[0] == status]
    by_reason: dict[str, int] = {}
    for _status, why, n, _amount in mine:
        by_reason[label(why)] = by_reason.get(label(why), 0) + n
    return ClosedDeals(
        count=sum(r[2] for r in mine),
        amount=round(sum(float(r[3]) for r in mine), 2),
        by_reason=dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
