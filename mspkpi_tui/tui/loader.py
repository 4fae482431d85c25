"""What each pane shows, read through the KPI engine (never SQL of its own).

Each loader is a plain function run in a worker thread; it returns an immutable bundle
the pane renders on the UI thread. Loaders never touch widgets: what they need from the
screen (the queue's query, cursor, height) is captured on the UI thread as a QueueRequest.
The KPI modules of the panes after the queue are imported on first use, so the first
screen does not wait for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.kpi.queue import QueueFigures, queue_figures
from mspkpi_tui.kpi.tickets import TicketList, TicketQuery, TicketRow
from mspkpi_tui.kpi.views import AGED, NEW, AgedCounts, View, aged_counts, median_triage_seconds

if TYPE_CHECKING:
    from mspkpi_tui.config import Config
    from mspkpi_tui.kpi.contracts import ContractFigures
    from mspkpi_tui.kpi.dispatch import Technician
    from mspkpi_tui.kpi.escalations import EscalationFigures
    from mspkpi_tui.kpi.money import MoneyFigures
    from mspkpi_tui.kpi.pipeline import PipelineFigures
    from mspkpi_tui.kpi.projects import ProjectFigures
    from mspkpi_tui.kpi.service import ServiceFigures
    from mspkpi_tui.kpi.sla import SlaFigures
    from mspkpi_tui.kpi.team import TeamFigures
    from mspkpi_tui.kpi.technicians import TechnicianEfficiency
    from mspkpi_tui.kpi.trends import Trends

LIST_LIMIT = 200  # tickets listed under an SLA figure or as open escalations


@dataclass(frozen=True)
class QueueRequest:
    """What the queue shows, read on the UI thread before a worker starts."""

    query: TicketQuery = TicketQuery()
    keep_id: int | None = None  # keep the cursor on this ticket if it is still listed
    cursor: int = 0  # else at this position
    height: int = 24  # rows on screen


@dataclass(frozen=True)
class ViewNote:
    """The figures shown beside a triage view (kpi/views.py)."""

    triage_median_seconds: float | None = None  # New / unassigned
    aged: AgedCounts | None = None  # Aged


@dataclass(frozen=True)
class QueueData:
    figures: QueueFigures
    query: TicketQuery
    ids: list[int]
    rows: list[TicketRow]  # the window around the kept cursor
    keep_id: int | None
    note: ViewNote | None = None


@dataclass(frozen=True)
class SlaData:
    figures: SlaFigures
    lists: dict[str, TicketList]
    trends: Trends


@dataclass(frozen=True)
class EscalationData:
    figures: EscalationFigures
    open_tickets: TicketList
    trends: Trends


@dataclass(frozen=True)
class TeamData:
    figures: TeamFigures
    trends: Trends
    efficiency: list[TechnicianEfficiency] = field(default_factory=list)
    dispatch: list[Technician] = field(default_factory=list)  # best placed first


@dataclass(frozen=True)
class ServiceData:
    service: ServiceFigures
    contracts: ContractFigures
    projects: ProjectFigures
    trends: Trends
    money: MoneyFigures  # MRR and its split by category, seats, churn over the last 30 days (kpi.money)
    client_totals: dict[str, Any]  # new vs closed, cost per ticket: kpi.clients' 30-day totals (service_totals)


def load_queue_ids(
    engine: Engine,
    now: datetime,
    query: TicketQuery,
    keep_id: int | None,
    fallback: int,
    height: int,
    within: list[int] | None = None,
) -> tuple[list[int], list[TicketRow]]:
    """The query's ordered ids and the rows around where the cursor will be."""
    ids = ticket_lists.queue_ids(engine, now, query, within)
    position = fallback
    if keep_id is not None and keep_id in ids:
        position = ids.index(keep_id)
    start = max(0, min(position, len(ids) - 1) - height)
    return ids, ticket_lists.rows_by_id(engine, ids[start : start + 3 * height + 40])


def load_view_note(engine: Engine, now: datetime, config: Config, view: View | None) -> ViewNote | None:
    """The figures beside a view, read only while that view is shown."""
    if view is None:
        return None
    if view.kind == NEW:
        return ViewNote(triage_median_seconds=median_triage_seconds(engine, now, config))
    if view.kind == AGED:
        return ViewNote(aged=aged_counts(engine, now))
    return None


def load_queue(engine: Engine, now: datetime, config: Config, request: QueueRequest) -> QueueData:
    ids, rows = load_queue_ids(engine, now, request.query, request.keep_id, request.cursor, max(request.height, 24))
    note = load_view_note(engine, now, config, request.query.view)
    return QueueData(queue_figures(engine, now, config), request.query, ids, rows, request.keep_id, note)


def load_sla(engine: Engine, now: datetime, config: Config, trends: Trends) -> SlaData:
    from mspkpi_tui.kpi.sla import sla_figures
    from mspkpi_tui.kpi.sla_buckets import SLA_BUCKETS

    lists = {bucket: ticket_lists.sla_bucket(engine, now, config, bucket, LIST_LIMIT) for bucket in SLA_BUCKETS}
    return SlaData(sla_figures(engine, now, config), lists, trends)


def load_escalations(engine: Engine, now: datetime, config: Config, trends: Trends) -> EscalationData:
    from mspkpi_tui.kpi.escalations import escalation_figures

    return EscalationData(
        escalation_figures(engine, now, config), ticket_lists.open_escalated(engine, now, config, LIST_LIMIT), trends
    )


def load_team(engine: Engine, now: datetime, config: Config, trends: Trends) -> TeamData:
    from mspkpi_tui.kpi.dispatch import dispatch_now
    from mspkpi_tui.kpi.team import team_figures
    from mspkpi_tui.kpi.technicians import technician_efficiency

    return TeamData(
        team_figures(engine, now, config),
        trends,
        technician_efficiency(engine, now, config),
        dispatch_now(engine, now, config),
    )


def load_pipeline(engine: Engine, now: datetime, config: Config, trends: Trends) -> PipelineFigures:
    from mspkpi_tui.kpi.pipeline import pipeline_figures

    return pipeline_figures(engine, now, config)


def load_service(engine: Engine, now: datetime, config: Config, trends: Trends) -> ServiceData:
    from mspkpi_tui.kpi.clients import service_totals
    from mspkpi_tui.kpi.contracts import contract_figures
    from mspkpi_tui.kpi.projects import project_figures
    from mspkpi_tui.kpi.service import service_figures

    # The MSP-wide money and ticket totals of kpi.clients (the Clients pane's and `mspkpi kpi
    # --section clients`' figures for the same 30 days), not a second derivation of them; read
    # without the per-company figures only the Clients pane shows (each refresh reads these).
    money, totals = service_totals(engine, now, config, "30d")
    return ServiceData(
        service_figures(engine, now, config),
        contract_figures(engine, now, config),
        project_figures(engine, now, config),
        trends,
        money,
        totals,
    )


def load_trends(engine: Engine, now: datetime, config: Config) -> Trends:
    from mspkpi_tui.kpi.trends import trend_series

    return trend_series(engine, now, config)
