"""Dispatch now: who is best placed to take an urgent ticket.

Per active technician: open tickets assigned, of which at risk or overdue (kpi/rules.py, the
rule of the At risk view and the alerts), hours logged today against their day (weekly hours
/ 5), the ticket they are on (the last one with time today), and whether they are on time off
today (an entry today with a time-off code, config [timesheet] time_off_categories).

Ordered best placed first: not on time off, then fewest at risk or overdue, then fewest open,
then the least of their day used, then by name. The assign picker uses the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from mspkpi_tui.kpi import rules
from mspkpi_tui.kpi.common import Result, hours
from mspkpi_tui.store import models

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

tickets = rules.tickets
resources = models.table(models.Resource)
entries = models.table(models.TimeEntry)

WORK_DAYS_PER_WEEK = 5


@dataclass(frozen=True)
class Technician(Result):
    resource_id: int
    name: str
    open_assigned: int
    at_risk: int  # at risk or overdue, of the open assigned
    hours_today: float
    day_hours: float  # their day: weekly hours / 5
    current_ticket: str | None  # the number of the last ticket with time today
    time_off_today: bool

    @property
    def day_used(self) -> float:
        return self.hours_today / self.day_hours if self.day_hours > 0 else 0.0


def placement(t: Technician) -> tuple:
    """The dispatch order's key: the best placed technician sorts first."""
    return (t.time_off_today, t.at_risk, t.open_assigned, t.day_used, t.name.casefold())


def dispatch_now(engine: Engine, now: datetime, config: Config) -> list[Technician]:
    """Every active technician, best placed first."""
    periods = rules.period_bounds(now, config)
    horizon = config.views.at_risk_hours
    off_codes = list(config.timesheet.time_off_categories)
    risky = func.count().filter(rules.at_risk_or_overdue(now, horizon))
    today = (entries.c.started_at >= rules.at(periods.today_start), entries.c.started_at < rules.at(now))
    with engine.connect() as conn:
        people = conn.execute(
            select(resources.c.id, resources.c.name, resources.c.weekly_hours).where(resources.c.active.is_(True))
        ).all()
        loads = {
            r: (n, k)
            for r, n, k in conn.execute(
                select(tickets.c.assigned_resource_id, func.count(), risky)
                .where(rules.is_open(), tickets.c.assigned_resource_id.is_not(None))
                .group_by(tickets.c.assigned_resource_id)
            )
        }
        day_rows = conn.execute(
            select(
                entries.c.resource_id, entries.c.started_at, entries.c.hours, entries.c.ticket_id, entries.c.category
            )
            .where(*today)
            .order_by(entries.c.started_at, entries.c.id)
        ).all()
        last_ticket: dict[int, int] = {}
        logged: dict[int, float] = {}
        off: set[int] = set()
        for resource_id, _, spent, ticket_id, category in day_rows:
            logged[resource_id] = logged.get(resource_id, 0.0) + (spent or 0.0)
            if ticket_id is not None:
                last_ticket[resource_id] = ticket_id
            if category is not None and category in off_codes:
                off.add(resource_id)
        numbers = dict(
            conn.execute(
                select(tickets.c.id, tickets.c.number).where(tickets.c.id.in_(list(set(last_ticket.values()))))
            ).all()
        )
    found = [
        Technician(
            resource_id=rid,
            name=name,
            open_assigned=loads.get(rid, (0, 0))[0],
            at_risk=loads.get(rid, (0, 0))[1],
            hours_today=hours(logged.get(rid, 0.0)),
            day_hours=hours((weekly or 0.0) / WORK_DAYS_PER_WEEK),
            current_ticket=numbers.get(last_ticket[rid]) if rid in last_ticket else None,
            time_off_today=rid in off,
        )
        for rid, name, weekly in people
    ]
    return sorted(found, key=placement)
