"""What a picker offers for a ticket: the values the store knows for the ticket's source."""

from __future__ import annotations

from sqlalchemy import Engine, select

from mspkpi_tui.actions.request import find_ticket
from mspkpi_tui.store.models import Resource, Ticket, table


def choices_for(engine: Engine, number: str, what: str) -> list[str]:
    """Active technicians (by name) for assign; the source's status or priority labels otherwise."""
    source = find_ticket(engine, number).source
    r, t = table(Resource), table(Ticket)
    with engine.connect() as conn:
        if what == "assign":
            query = select(r.c.name).where(r.c.source == source, r.c.active.is_(True)).order_by(r.c.name)
        else:
            column = t.c.priority if what == "priority" else t.c.status
            query = select(column).where(t.c.source == source).distinct().order_by(column)
        return [v for v in conn.scalars(query) if v]
