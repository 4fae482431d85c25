"""Turning what the lead asked for into action log rows, checked against the store.

Names are resolved against what the sync stored: technicians (active resources, by
e-mail or name), queues / boards, and the status and priority labels the tickets carry
(spelled as stored). A status or priority the store has never seen is passed on as typed:
the writer checks it against the PSA's own picklist before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from mspkpi_tui.actions import outbox
from mspkpi_tui.actions.errors import ActionError, NotWritable, ReadOnly
from mspkpi_tui.actions.fields import TicketValues, same
from mspkpi_tui.actions.writer import WRITERS
from mspkpi_tui.store.models import ActionLogEntry, Queue, Resource, Ticket, table

READONLY_MESSAGE = "read-only mode (--readonly or readonly = true in [tui]): no change was made or queued"


@dataclass
class TicketRequest:
    number: str
    assign: str | None = None  # a technician's e-mail or name, or "me"
    status: str | None = None
    priority: str | None = None
    queue: str | None = None
    escalate: bool = False
    note: str | None = None


@dataclass
class StoredTicket:
    source: str
    source_id: str
    number: str
    values: TicketValues


def submit(engine: Engine, config, request: TicketRequest, *, readonly: bool, actor: str) -> list[ActionLogEntry]:
    """Validate and log the request (an update and/or a note); returns the queued rows."""
    if readonly or getattr(config.tui, "readonly", False):
        raise ReadOnly(READONLY_MESSAGE)
    ticket = find_ticket(engine, request.number)
    if ticket.source not in WRITERS:
        raise NotWritable(
            f"ticket {ticket.number} comes from {ticket.source!r}, a one-way import that cannot be written; "
            "change it where it lives and import again"
        )
    new = _new_values(engine, config, ticket, request)
    changed = {f: v for f, v in new.items() if not same(v, ticket.values.get(f))}
    if new and not changed and request.note is None:
        raise ActionError(f"nothing to change: ticket {ticket.number} already has {_describe(new)}")
    entries = []
    if changed:
        entries.append(
            outbox.enqueue(
                engine,
                ActionLogEntry(
                    source=ticket.source,
                    ticket_source_id=ticket.source_id,
                    ticket_number=ticket.number,
                    kind="escalate" if request.escalate else "update",
                    seen={f: ticket.values.get(f) for f in changed},
                    new=changed,
                    actor=actor,
                ),
            )
        )
    if request.note is not None:
        if not request.note.strip():
            raise ActionError("the note is empty")
        entries.append(
            outbox.enqueue(
                engine,
                ActionLogEntry(
                    source=ticket.source,
                    ticket_source_id=ticket.source_id,
                    ticket_number=ticket.number,
                    kind="note",
                    note=request.note,
                    actor=actor,
                ),
            )
        )
    if not entries:
        raise ActionError("nothing to do: give --assign, --status, --priority, --queue, --escalate or --note")
    return entries


def find_ticket(engine: Engine, number: str) -> StoredTicket:
    t, q, r = Ticket.__table__, Queue.__table__, Resource.__table__  # type: ignore[attr-defined]
    query = (
        select(t.c.source, t.c.source_id, t.c.number, t.c.status, t.c.priority, q.c.name, r.c.source_id)
        .select_from(t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id))
        .where(func.lower(t.c.number) == number.strip().lower())
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        raise ActionError(f"no ticket {number} in the database (run mspkpi sync first?)")
    if len(rows) > 1:
        raise ActionError(f"ticket number {number} exists in several sources: {', '.join(r[0] for r in rows)}")
    source, source_id, found, status, priority, queue, assignee = rows[0]
    values = {"status": status, "priority": priority, "queue": queue, "assignee": assignee}
    return StoredTicket(source, source_id, found, values)


def _new_values(engine: Engine, config, ticket: StoredTicket, request: TicketRequest) -> TicketValues:
    new: TicketValues = {}
    if request.escalate:
        rules = config.escalation
        if not rules.statuses and not rules.queues:
            raise ActionError(
                "[escalation] names no status or queue to escalate to (an Autotask UDF cannot be set yet)"
            )
        if rules.statuses:
            new["status"] = _label(engine, ticket.source, "status", rules.statuses[0])
        if rules.queues:
            new["queue"] = _queue(engine, ticket.source, rules.queues[0])
    if request.status:
        new["status"] = _label(engine, ticket.source, "status", request.status)
    if request.priority:
        new["priority"] = _label(engine, ticket.source, "priority", request.priority)
    if request.queue:
        new["queue"] = _queue(engine, ticket.source, request.queue)
    if request.assign:
        new["assignee"] = resolve_technician(engine, config, ticket.source, request.assign)
    return new


def _label(engine: Engine, source: str, field: str, wanted: str) -> str:
    """The stored spelling of a status or priority label; an unseen one is left to the writer."""
    t = table(Ticket)
    with engine.connect() as conn:
        known = conn.scalars(select(t.c[field]).where(t.c.source == source).distinct()).all()
    return next((k for k in known if same(k, wanted)), wanted.strip())


def _queue(engine: Engine, source: str, wanted: str) -> str:
    with engine.connect() as conn:
        q = table(Queue)
        known = list(conn.scalars(select(q.c.name).where(q.c.source == source).order_by(q.c.name)))
    found = next((k for k in known if same(k, wanted)), None)
    if found is None:
        raise ActionError(f"no queue {wanted!r} in {source} (known: {', '.join(known) or 'none synced yet'})")
    return found


def resolve_technician(engine: Engine, config, source: str, wanted: str) -> str:
    """An active technician's source id, by e-mail or full name; 'me' is the config's `me`."""
    if wanted.strip().lower() == "me":
        me = getattr(config, "me", None)
        if not me:
            raise ActionError('"me" is not set: add  me = "you@example.com"  (your e-mail or name) to the config')
        wanted = me
    r = table(Resource)
    with engine.connect() as conn:
        people = conn.execute(
            select(r.c.source_id, r.c.name, r.c.email).where(r.c.source == source, r.c.active.is_(True))
        ).all()
    exact = [p for p in people if same(p.email, wanted) or same(p.name, wanted)]
    partial = [p for p in people if wanted.strip().casefold() in (p.name or "").casefold()]
    matches = exact or partial
    if len(matches) == 1:
        return matches[0].source_id
    if not matches:
        raise ActionError(f"no active technician {wanted!r} in {source}")
    names = ", ".join(sorted(p.name for p in matches))
    raise ActionError(f"{wanted!r} matches several technicians ({names}); give the e-mail or the full name")


def _describe(values: TicketValues) -> str:
    return ", ".join(f"{f} {v}" for f, v in values.items())
