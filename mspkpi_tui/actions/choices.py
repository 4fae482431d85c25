"""What a picker offers for a ticket: technicians, or the PSA's own picklist as synced."""

from __future__ import annotations

from sqlalchemy import Engine, select

from mspkpi_tui.actions import picklists
from mspkpi_tui.actions.request import find_ticket
from mspkpi_tui.store.models import Resource, table


def choices_for(engine: Engine, number: str, what: str, board: str | None = None) -> list[str]:
    """Active technicians (by name) for assign; otherwise the active values of the status,
    priority or queue picklist (a ConnectWise status: of the ticket's board, or `board`)."""
    ticket = find_ticket(engine, number)
    if what == "assign":
        r = table(Resource)
        query = select(r.c.name).where(r.c.source == ticket.source, r.c.active.is_(True)).order_by(r.c.name)
        with engine.connect() as conn:
            return [v for v in conn.scalars(query) if v]
    scope = None
    if picklists.scoped(ticket.source, what):
        scope = board or ticket.values.get("queue") or ""
    return picklists.labels(engine, ticket.source, what, scope)
