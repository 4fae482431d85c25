"""What a picker offers for a ticket: the values the store knows for the ticket's source."""

from __future__ import annotations

from sqlalchemy import Engine, select

from mspkpi_tui.actions.request import find_ticket
from mspkpi_tui.store.models import Resource, Ticket


def choices_for(engine: Engine, number: str, what: str) -> list[str]:
    """Active technicians (by name) for assign; the source's status or priority labels otherwise."""
    source = find_ticket(engine, number).source
    with engine.connect() as conn:
        if what == "assign":
            query = select(Resource.name).where(Resource.source == source, Resource.active).order_by(Resource.name)
        else:
            column = Ticket.priority if what == "priority" else Ticket.status
            query = select(column).where(Ticket.source == source).distinct().order_by(column)
        return [v for v in conn.scalars(query) if v]
