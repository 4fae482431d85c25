"""Undo: a done change sent back as its inverse, through the same log and safety checks.

The inverse's "seen" values are what the action set, so if someone changed the ticket
after it, the undo is a conflict instead of an overwrite. A note cannot be taken back.
"""

from __future__ import annotations

from sqlalchemy import Engine

from mspkpi_tui.actions import outbox
from mspkpi_tui.actions.errors import ActionError, ReadOnly
from mspkpi_tui.actions.request import READONLY_MESSAGE
from mspkpi_tui.store.models import ActionLogEntry


def undo(engine: Engine, config, action_id: int, *, readonly: bool, actor: str) -> ActionLogEntry:
    """Queue the inverse of a done update or escalation; returns the new log row."""
    if readonly or config.tui.readonly:
        raise ReadOnly(READONLY_MESSAGE)
    done = outbox.get(engine, action_id)
    if done.kind == "note":
        raise ActionError(f"action {action_id} posted a note; a note cannot be taken back (add another one)")
    if done.state != "done":
        raise ActionError(f"action {action_id} is {done.state}; only a done change can be undone")
    return outbox.enqueue(
        engine,
        ActionLogEntry(
            source=done.source,
            ticket_source_id=done.ticket_source_id,
            ticket_number=done.ticket_number,
            kind="undo",
            seen=dict(done.new),
            new=dict(done.seen),
            actor=actor,
        ),
    )
