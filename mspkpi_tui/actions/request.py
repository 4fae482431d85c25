"""Turning what the lead asked for into action log rows, checked against the store.

Names are resolved against what the sync stored: technicians (active resources, by
e-mail or name), and statuses, priorities and queues / boards against the PSA's own
picklists (actions/picklists.py; a ConnectWise status against the ticket's board, or the
target board of a move). A value the picklist does not hold is refused before it is queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from mspkpi_tui.actions import outbox, picklists
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
    """The values asked for, each checked against the PSA's picklist as the last sync stored it."""
    wanted: dict[str, str] = {}
    if request.escalate:
        rules = config.escalation
        if not rules.statuses and not rules.queues:
            raise ActionError("[escalation] names no status or queue to escalate to")
        if rules.statuses:
            wanted["status"] = rules.statuses[0]
        if rules.queues:
            wanted["queue"] = rules.queues[0]
    for field in ("status", "priority", "queue"):
        if getattr(request, field):
            wanted[field] = getattr(request, field)
    new: TicketValues = {}
    if "queue" in wanted:
        new["queue"] = picklists.check(engine, ticket.source, "queue", wanted["queue"])
    board = new.get("queue") or ticket.values.get("queue")
    if "status" in wanted:
        new["status"] = picklists.check(engine, ticket.source, "status", wanted["status"], board)
    elif "queue" in new and picklists.scoped(ticket.source, "status"):
        new["status"] = _status_on_new_board(engine, ticket, board)
    if "priority" in wanted:
        new["priority"] = picklists.check(engine, ticket.source, "priority", wanted["priority"])
    if request.assign:
        new["assignee"] = resolve_technician(engine, config, ticket.source, request.assign)
    return new


def _status_on_new_board(engine: Engine, ticket: StoredTicket, board: str | None) -> str:
    """A board move keeps the ticket's status when the target board has one of that name."""
    current = ticket.values.get("status") or ""
    try:
        return picklists.check(engine, ticket.source, "status", current, board)
    except ActionError:
        offered = ", ".join(picklists.labels(engine, ticket.source, "status", board or ""))
        raise ActionError(
            f"status {current!r} is not a status of board {board}: a board move needs a status of the "
            f"target board (it has: {offered})"
        ) from None


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
