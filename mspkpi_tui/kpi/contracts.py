"""Contracts: active contracts ending within 30 / 60 / 90 days from today (cumulative)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from mspkpi_tui.kpi.common import Result
from mspkpi_tui.kpi.rules import period_bounds
from mspkpi_tui.store import models

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

contracts = models.table(models.Contract)
companies = models.table(models.Company)

HORIZONS = (30, 60, 90)
ACTIVE = "active"  # status compared case-insensitively


@dataclass(frozen=True)
class ExpiringContract(Result):
    company: str | None
    contract: str
    number: str | None
    type: str | None
    period_type: str | None
    start: date | None
    end: date


@dataclass(frozen=True)
class ContractFigures(Result):
    expiring_30d: int
    expiring_60d: int
    expiring_90d: int
    expiring: list[ExpiringContract] = field(default_factory=list)  # soonest first, up to 90 days


def contract_figures(engine: Engine, now: datetime, config: Config) -> ContractFigures:
    """Ends today .. today + N days inclusive, "today" in the business zone."""
    today = period_bounds(now, config).today
    query = (
        select(
            companies.c.name,
            contracts.c.name,
            contracts.c.number,
            contracts.c.type,
            contracts.c.period_type,
            contracts.c.start_date,
            contracts.c.end_date,
        )
        .select_from(contracts.outerjoin(companies, companies.c.id == contracts.c.company_id))
        .where(
            func.lower(contracts.c.status) == ACTIVE,
            contracts.c.end_date >= today,
            contracts.c.end_date <= today + timedelta(days=max(HORIZONS)),
        )
        .order_by(contracts.c.end_date, companies.c.name, contracts.c.name)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    listed = [ExpiringContract(*row) for row in rows]
    within = lambda days: sum(1 for c in listed if c.end <= today + timedelta(days=days))  # noqa: E731
    return ContractFigures(expiring_30d=within(30), expiring_60d=within(60), expiring_90d=within(90), expiring=listed)
