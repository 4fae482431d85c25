"""Service: throughput, response and resolution times, first contact resolution, CSAT, reopens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, func, select

from mspkpi_tui.errors import ConfigError
from mspkpi_tui.kpi.common import Refresh, Result, maybe, pct
from mspkpi_tui.kpi.rules import at, period_bounds, ticket_events, tickets
from mspkpi_tui.kpi.sla import responses_in_window
from mspkpi_tui.kpi.throughput import count_in, opened_in
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups import fcr_counts

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

surveys = models.table(models.SurveyResult)

CSAT_FOLLOW_UP_BELOW = 3.0


@dataclass(frozen=True)
class Fcr(Result):
    total: int
    first_touch: int
    multi_touch: int
    pct: float | None


@dataclass(frozen=True)
class Csat(Result):
    avg: float | None
    responses: int
    below_3: int


@dataclass(frozen=True)
class ServiceFigures(Result):
    opened_30d: int
    closed_30d: int
    kill_rate_30d: float | None  # closed / opened as a percentage (above 100 when the backlog shrinks)
    avg_first_response_minutes_30d: float | None  # wall-clock
    avg_resolution_hours_30d: float | None  # wall-clock
    fcr_ytd: Fcr
    csat_30d: Csat
    reopened_30d: int


def fcr_start(now: datetime, config: Config) -> datetime:
    periods = period_bounds(now, config)
    if config.service.fcr_period == "ytd":
        return periods.year_start
    if config.service.fcr_period == "30d":
        return periods.window_start
    raise ConfigError(f"[service] fcr_period must be 'ytd' or '30d', not {config.service.fcr_period!r}")


def csat_window(start: datetime, end: datetime) -> list:
    """The survey responses a CSAT figure counts: completed in [start, end]."""
    return [surveys.c.completed_at >= at(start), surveys.c.completed_at <= at(end)]


def csat_follow_up():
    """A response to follow up: rated below 3 (the rule behind "below 3" and its list)."""
    return surveys.c.rating < CSAT_FOLLOW_UP_BELOW


def service_figures(engine: Engine, now: datetime, config: Config, refresh: Refresh | None = None) -> ServiceFigures:
    start = period_bounds(now, config).window_start
    csat = select(
        func.avg(surveys.c.rating),
        func.count(),
        func.coalesce(func.sum(case((csat_follow_up(), 1), else_=0)), 0),
    ).where(*csat_window(start, now))
    with engine.connect() as conn:
        opened = opened_in(conn, start, now, refresh)
        closed = conn.execute(count_in(tickets.c.completed_at, start, now)).scalar_one()
        timing = responses_in_window(conn, start, now, refresh)
        # Whole hours from the ticket_completion_hours rollup, the partial ones exactly.
        fcr_total, fcr_first = fcr_counts(conn, fcr_start(now, config), now)
        csat_avg, csat_n, csat_low = conn.execute(csat).one()
        reopened = conn.execute(reopened_query(start, now, config)).scalar_one()
    return ServiceFigures(
        opened_30d=opened,
        closed_30d=closed,
        kill_rate_30d=pct(closed, opened),
        avg_first_response_minutes_30d=maybe(_mean(timing["response_seconds"], timing["responded"], 60.0)),
        avg_resolution_hours_30d=maybe(_mean(timing["resolution_seconds"], timing["resolved"], 3600.0)),
        fcr_ytd=Fcr(
            total=fcr_total,
            first_touch=int(fcr_first),
            multi_touch=fcr_total - int(fcr_first),
            pct=pct(fcr_first, fcr_total),
        ),
        csat_30d=Csat(avg=maybe(csat_avg), responses=csat_n, below_3=int(csat_low)),
        reopened_30d=reopened,
    )


def _mean(total_seconds: float, n: float, unit_seconds: float) -> float | None:
    return total_seconds / n / unit_seconds if n else None


def reopen_event(config: Config, events=ticket_events):
    """A status change from a closed status (config [service] closed_statuses) to an open one."""
    closed = list(config.service.closed_statuses)
    return and_(events.c.field == "status", events.c.old_value.in_(closed), events.c.new_value.not_in(closed))


def reopened_query(start: datetime, end: datetime, config: Config):
    """Tickets reopened in [start, end]: each ticket once, however often (ix_ticket_events_field)."""
    return select(func.count(func.distinct(ticket_events.c.ticket_id))).where(
        reopen_event(config), ticket_events.c.at >= at(start), ticket_events.c.at <= at(end)
    )
