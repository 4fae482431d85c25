"""Sending a logged action through its source's writer, safely.

- compare-before-write: the ticket is re-read from the PSA; a field the action changes
  that no longer holds what the lead saw is a conflict, and nothing is sent;
- only the fields still to change are sent (one already at the new value is skipped, which
  also makes re-sending an interrupted update harmless);
- at most once: a note whose answer was lost (or whose process died mid-send) is looked
  for on the ticket before it is posted again;
- after the PSA confirms, the ticket is re-read and stored, so every pane shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from mspkpi_tui.actions import outbox
from mspkpi_tui.actions.errors import ActionError, Conflict
from mspkpi_tui.actions.fields import same
from mspkpi_tui.actions.writer import Writer, writer_session
from mspkpi_tui.clock import utcnow
from mspkpi_tui.errors import MaybeSent, MspkpiError
from mspkpi_tui.store.models import ActionLogEntry, Resource, table
from mspkpi_tui.store.writer import store_confirmed_change


@dataclass
class Outcome:
    action_id: int
    ticket_number: str
    state: str  # done | conflict | failed (or the state another sender left)
    message: str


def send_queued(engine: Engine, config, source: str | None = None) -> list[Outcome]:
    """Send every queued action (and any a killed process left "sending"), oldest first."""
    return [send(engine, config, action_id) for action_id in outbox.pending_ids(engine, source)]


def send(engine: Engine, config, action_id: int) -> Outcome:
    entry = outbox.claim(engine, action_id)
    if entry is None:  # finished or cancelled meanwhile
        entry = outbox.get(engine, action_id)
        return Outcome(action_id, entry.ticket_number, entry.state, entry.answer or "")
    try:
        with writer_session(entry.source, config, engine) as writer:
            if entry.kind == "note":
                state, answer = "done", _send_note(writer, entry)
            else:
                state, answer = "done", _send_update(engine, writer, entry)
    except Conflict as exc:
        state, answer = "conflict", str(exc)
    except MspkpiError as exc:
        state, answer = "failed", str(exc)
    outbox.finish(engine, action_id, state, answer)
    return Outcome(action_id, entry.ticket_number, state, answer)


def _send_update(engine: Engine, writer: Writer, entry: ActionLogEntry) -> str:
    sid = entry.ticket_source_id
    remote = writer.read_ticket(sid)
    fields = list(entry.new)
    pending = [f for f in fields if not same(remote.values.get(f), entry.new[f])]
    moved = [f for f in pending if not same(remote.values.get(f), entry.seen.get(f))]
    if moved:
        now = ", ".join(f"{f} is now {_shown(engine, entry.source, f, remote.values.get(f))}" for f in moved)
        raise Conflict(f"changed by the PSA since you looked: {now} (nothing sent; retry to apply it anyway)")
    answer = writer.apply(sid, {f: entry.new[f] for f in pending}) if pending else "already so in the PSA: nothing sent"
    after = writer.read_ticket(sid)
    store_confirmed_change(
        engine,
        entry.source,
        sid,
        after.values,
        at=utcnow(),
        is_closed=after.is_closed,
        priority_rank=after.priority_rank,
    )
    return answer


def _send_note(writer: Writer, entry: ActionLogEntry) -> str:
    sid, text = entry.ticket_source_id, entry.note or ""
    # A previous attempt may have reached the PSA before the process or the connection died.
    if entry.attempts > 1 and writer.has_note(sid, text):
        return "the note was already on the ticket (an earlier attempt had posted it): not sent again"
    try:
        return writer.add_note(sid, text)
    except MaybeSent:
        if writer.has_note(sid, text):
            return "posted (the PSA's answer was lost; the note was found on the ticket)"
        return writer.add_note(sid, text)  # not there: it was never applied, so one more send is safe


def _shown(engine: Engine, source: str, field: str, value: str | None) -> str:
    if value is None:
        return "empty" if field != "assignee" else "unassigned"
    if field != "assignee":
        return value
    with engine.connect() as conn:
        r = table(Resource)
        name = conn.scalar(select(r.c.name).where(r.c.source == source, r.c.source_id == value))
    return name or f"resource {value}"


def current_values(engine: Engine, config, action_id: int) -> dict:
    """What the PSA has now for the fields of an action (to re-apply knowingly after a conflict)."""
    entry = outbox.get(engine, action_id)
    if entry.kind == "note":
        return {}
    with writer_session(entry.source, config, engine) as writer:
        remote = writer.read_ticket(entry.ticket_source_id)
    return {f: remote.values.get(f) for f in entry.new}


__all__ = ["ActionError", "Outcome", "current_values", "send", "send_queued"]
