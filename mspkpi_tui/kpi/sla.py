"""SLA: the overdue and soon-due open tickets, and 30-day compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, func, select

from mspkpi_tui.kpi.common import Refresh, Result, pct
from mspkpi_tui.kpi.rules import at, is_open, period_bounds, tickets
from mspkpi_tui.kpi.sla_buckets import SLA_BUCKETS
from mspkpi_tui.store.rollups import response_sums

if TYPE_CHECKING:
    from mspkpi_tui.config import Config


@dataclass(frozen=True)
class Compliance(Result):
    first_response_pct: float | None
    resolution_pct: float | None


@dataclass(frozen=True)
class SlaFigures(Result):
    # one count per bucket of kpi/sla_buckets.py, named by its key
    first_response_overdue: int
    first_response_due_1h: int
    resolution_overdue: int
    resolution_due_today: int
    compliance_30d: Compliance

    def bucket_counts(self) -> dict[str, int]:
        """The count of every SLA bucket, in the table's order."""
        return {key: getattr(self, key) for key in SLA_BUCKETS}


def responses_in_window(conn, start: datetime, now: datetime, refresh: Refresh | None = None) -> dict[str, float]:
    """The tickets first responded to / resolved in [start, now] (counts, seconds taken, met):
    whole hours from the ticket_response_hours rollup, the partial ones exactly. SLA and
    service both read it; within one report refresh it is read once."""
    if refresh is None:
        return response_sums(conn, start, now)
    return refresh.once(("responses_in_window", start, now), lambda: response_sums(conn, start, now))


def sla_figures(engine: Engine, now: datetime, config: Config, refresh: Refresh | None = None) -> SlaFigures:
    periods = period_bounds(now, config)
    flag = lambda clause: func.coalesce(func.sum(case((clause, 1), else_=0)), 0)  # noqa: E731
    buckets = select(*[flag(bucket.rule(periods)) for bucket in SLA_BUCKETS.values()]).where(is_open())
    with engine.connect() as conn:
        counts = {key: int(n) for key, n in zip(SLA_BUCKETS, conn.execute(buckets).one())}
        done = responses_in_window(conn, periods.window_start, now, refresh)
        missed_response = conn.execute(
            _missed(tickets.c.first_response_at, tickets.c.first_response_due, periods.window_start, now)
        ).scalar_one()
        missed_resolution = conn.execute(
            _missed(tickets.c.resolved_at, tickets.c.resolution_due, periods.window_start, now)
        ).scalar_one()
    compliance = Compliance(
        first_response_pct=compliance_pct(done["responded_in_time"], done["responded_with_due"], missed_response),
        resolution_pct=compliance_pct(done["resolved_in_time"], done["resolved_with_due"], missed_resolution),
    )
    return SlaFigures(**counts, compliance_30d=compliance)


def missed_due(done, due, start: datetime, now: datetime):
    """Compliance = met / (tickets done in [start, now] with a due time, met = done at or
    before due; plus those whose due time passed in [start, now) without it being done).
    This selects the latter (an index range of the due time); kpi/clients.py groups it by company."""
    return and_(done.is_(None), due >= at(start), due < at(now))


def compliance_pct(met: float, done_with_due: float, missed: float) -> float | None:
    """The compliance rule above, in one place: None when no ticket counts."""
    return pct(met, done_with_due + missed)


def _missed(done, due, start: datetime, now: datetime):
    return select(func.count()).select_from(tickets).where(missed_due(done, due, start, now))
