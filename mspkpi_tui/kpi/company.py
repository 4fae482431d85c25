"""One company's page (the Clients pane's Enter): 12 months by month, its contracts, its
top issue types. Its figures for the chosen period are the Clients pane's row (kpi/clients.py).

Months are local calendar months (business zone), the current one up to now. Each series
follows the rule of the figure it charts: opened / closed by created / completed time,
hours by the time entry's start (these three from the store's company_days rollup), revenue by kpi.money (recurring prorated) plus
non-recurring billing items, CSAT by the survey's completion time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, func, select

from mspkpi_tui.clock import local_midnight_utc
from mspkpi_tui.kpi.clients import TICK
from mspkpi_tui.kpi.common import NO_LABEL, Result, half_up, maybe
from mspkpi_tui.kpi.money import (
    ContractTerms,
    has_billing_items,
    has_recurring_contracts,
    read_contracts,
    recurring_revenue,
)
from mspkpi_tui.kpi.rules import at, period_bounds, tickets
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups.company_days import company_sums

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

entries = models.table(models.TimeEntry)
projects = models.table(models.Project)
surveys = models.table(models.SurveyResult)
billing = models.table(models.BillingItem)

MONTHS = 12
TOP_ISSUE_TYPES = 5


@dataclass(frozen=True)
class CompanyMonths(Result):
    months: list[date]  # each month's first local day, oldest first
    opened: list[int]
    closed: list[int]
    hours: list[float]
    revenue: list[float | None]  # None when the source has no money data
    csat: list[float | None]


@dataclass(frozen=True)
class CompanyContract(Result):
    name: str
    category: str | None
    type: str | None
    monthly_value: float | None
    seats: float | None
    start: date | None
    end: date | None
    status: str


@dataclass(frozen=True)
class CompanyPage(Result):
    company_id: int
    trends: CompanyMonths
    contracts: list[CompanyContract] = field(default_factory=list)  # soonest end first
    top_issue_types: list[tuple[str, int]] = field(default_factory=list)  # last 12 months


def month_starts(today: date, n: int = MONTHS) -> list[date]:
    first = today.replace(day=1)
    out = []
    for back in range(n - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(date(year, month + 1, 1))
    return out


def company_page(engine: Engine, now: datetime, config: Config, company_id: int) -> CompanyPage:
    zone = config.zone
    today = period_bounds(now, config).today
    months = month_starts(today)
    edges = [local_midnight_utc(m, zone) for m in months] + [now]
    start = edges[0]

    def bucket(moment: datetime | None) -> int | None:
        if moment is None or moment < start or moment > now:
            return None
        return max(i for i, edge in enumerate(edges[:-1]) if edge <= moment)

    mine = tickets.c.company_id == company_id
    opened, closed, hours = [0] * MONTHS, [0] * MONTHS, [0.0] * MONTHS
    rating_sum, rating_n = [0.0] * MONTHS, [0] * MONTHS
    billed = [0.0] * MONTHS
    stops = [*edges[1:-1], now + TICK]  # the current month includes now
    with engine.connect() as conn:
        # Opened by creation, closed by completion, hours by the entry's start: the company_days
        # rollup's whole UTC months and days, the partial days at the month edges from the rows.
        for n, (lo, stop) in enumerate(zip(edges, stops)):
            row = company_sums(conn, lo, stop, company_id).get(company_id)
            if row:
                opened[n], closed[n], hours[n] = int(row["opened"]), int(row["closed"]), row["hours"]
        for done, rating in conn.execute(
            select(surveys.c.completed_at, surveys.c.rating).where(
                surveys.c.company_id == company_id, surveys.c.completed_at >= at(start)
            )
        ):
            if (i := bucket(done)) is not None:
                rating_sum[i] += rating
                rating_n[i] += 1
        for day, price in conn.execute(
            select(billing.c.item_date, billing.c.extended_price).where(
                billing.c.company_id == company_id, billing.c.item_date >= months[0], ~billing.c.recurring
            )
        ):
            i = max(k for k, m in enumerate(months) if m <= day) if day <= today else None
            if i is not None:
                billed[i] += price
        money_known = has_billing_items(conn) or has_recurring_contracts(conn)
        own = read_contracts(conn, company_id)
        issue_types = Counter(
            {
                (label or NO_LABEL): n
                for label, n in conn.execute(
                    select(tickets.c.issue_type, func.count())
                    .where(and_(mine, tickets.c.created_at >= at(start)))
                    .group_by(tickets.c.issue_type)
                )
            }
        )
    revenue: list[float | None] = []
    for i in range(MONTHS):
        recurring = recurring_revenue(own, edges[i], edges[i + 1], zone).get(company_id, 0.0)
        revenue.append(half_up(recurring + billed[i], 2) if money_known else None)
    return CompanyPage(
        company_id=company_id,
        trends=CompanyMonths(
            months=months,
            opened=opened,
            closed=closed,
            hours=[half_up(h, 2) for h in hours],
            revenue=revenue,
            csat=[maybe(s / n) if n else None for s, n in zip(rating_sum, rating_n)],
        ),
        contracts=_contracts(own),
        top_issue_types=sorted(issue_types.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ISSUE_TYPES],
    )


def _contracts(own: list[ContractTerms]) -> list[CompanyContract]:
    listed = [
        CompanyContract(
            name=c.name,
            category=c.category,
            type=c.type,
            monthly_value=c.monthly_value,
            seats=c.seats,
            start=c.start,
            end=c.end,
            status=c.status,
        )
        for c in own
    ]
    return sorted(listed, key=lambda c: (c.end is None, c.end or date.max, c.name))
