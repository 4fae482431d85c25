"""Technician efficiency over the last 30 days (the Team pane): per active technician, the
hours logged on tickets, the tickets they closed (assigned when completed), time per ticket
(ticket hours / tickets closed), their first contact resolution (the store's `first_touch`
rule over the tickets they closed) and training hours (time entries whose category is one
of config `[clients] training_categories`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, func, select

from mspkpi_tui.kpi.common import Result, hours, pct, ratio
from mspkpi_tui.kpi.rules import at, period_bounds, tickets
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups import first_touch

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

resources = models.table(models.Resource)
entries = models.table(models.TimeEntry)


@dataclass(frozen=True)
class TechnicianEfficiency(Result):
    name: str
    ticket_hours: float
    tickets_closed: int
    hours_per_ticket: float | None
    fcr_pct: float | None
    training_hours: float


def technician_efficiency(engine: Engine, now: datetime, config: Config) -> list[TechnicianEfficiency]:
    start = period_bounds(now, config).window_start
    training = list(config.clients.training_categories)
    logged = (
        select(
            entries.c.resource_id,
            func.coalesce(func.sum(case((entries.c.ticket_id.is_not(None), entries.c.hours), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((entries.c.category.in_(training), entries.c.hours), else_=0.0)), 0.0),
        )
        .where(entries.c.started_at >= at(start), entries.c.started_at <= at(now))
        .group_by(entries.c.resource_id)
    )
    closed = (
        select(tickets.c.assigned_resource_id, func.count(), func.sum(first_touch()))
        .where(
            tickets.c.assigned_resource_id.is_not(None),
            and_(tickets.c.completed_at >= at(start), tickets.c.completed_at <= at(now)),
        )
        .group_by(tickets.c.assigned_resource_id)
    )
    with engine.connect() as conn:
        names = conn.execute(select(resources.c.id, resources.c.name).where(resources.c.active)).all()
        hours_by = {rid: (h, t) for rid, h, t in conn.execute(logged)}
        closed_by = {rid: (n, int(f or 0)) for rid, n, f in conn.execute(closed)}
    out = []
    for rid, name in sorted(names, key=lambda r: (r[1].lower(), r[0])):
        ticket_h, training_h = hours_by.get(rid, (0.0, 0.0))
        n, first = closed_by.get(rid, (0, 0))
        out.append(
            TechnicianEfficiency(
                name=name,
                ticket_hours=hours(ticket_h),
                tickets_closed=n,
                hours_per_ticket=ratio(ticket_h, n),
                fcr_pct=pct(first, n),
                training_hours=hours(training_h),
            )
        )
    return out
