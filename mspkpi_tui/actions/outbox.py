"""The action log: every action is a row here before anything is sent (an outbox).

A row moves queued -> sending -> done | conflict | failed; `cancel` and `retry` act on the
rows a lead can still decide about. A process killed while sending leaves "sending": the
next sender takes it up again, and the sender's compare-before-write (or, for a note, the
look for the note) makes that safe.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from mspkpi_tui.actions.errors import ActionError
from mspkpi_tui.clock import utcnow
from mspkpi_tui.store.models import ActionLogEntry

STATES = ("queued", "sending", "done", "conflict", "failed", "cancelled")
PENDING = ("queued", "sending")  # what a sender picks up
RETRYABLE = ("conflict", "failed", "cancelled")


def enqueue(engine: Engine, entry: ActionLogEntry) -> ActionLogEntry:
    """Store the action (committed before the caller may send it)."""
    now = utcnow()
    entry.created_at = entry.created_at or now
    entry.updated_at = now
    entry.state = "queued"
    with Session(engine, expire_on_commit=False) as session:
        session.add(entry)
        session.commit()
        session.refresh(entry)
    return entry


def get(engine: Engine, action_id: int) -> ActionLogEntry:
    with Session(engine, expire_on_commit=False) as session:
        entry = session.get(ActionLogEntry, action_id)
    if entry is None:
        raise ActionError(f"no action {action_id} in the action log (see: mspkpi actions)")
    return entry


def claim(engine: Engine, action_id: int) -> ActionLogEntry | None:
    """queued/sending -> sending, attempts + 1; None when another sender finished it meanwhile."""
    table = ActionLogEntry.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        claimed = conn.execute(
            update(table)
            .where(table.c.id == action_id, table.c.state.in_(PENDING))
            .values(state="sending", attempts=table.c.attempts + 1, updated_at=utcnow())
        ).rowcount
    return get(engine, action_id) if claimed else None


def finish(engine: Engine, action_id: int, state: str, answer: str, new_state_from: tuple[str, ...] = PENDING) -> None:
    table = ActionLogEntry.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == action_id, table.c.state.in_(new_state_from))
            .values(state=state, answer=answer[:2000], updated_at=utcnow())
        )


def pending_ids(engine: Engine, source: str | None = None) -> list[int]:
    table = ActionLogEntry.__table__  # type: ignore[attr-defined]
    query = select(table.c.id).where(table.c.state.in_(PENDING)).order_by(table.c.id)
    if source:
        query = query.where(table.c.source == source)
    with engine.connect() as conn:
        return list(conn.scalars(query))


def list_actions(engine: Engine, states: list[str] | None = None, limit: int = 200) -> list[ActionLogEntry]:
    """The newest actions first, optionally only those in the given states."""
    unknown = set(states or []) - set(STATES)
    if unknown:
        raise ActionError(f"unknown state(s) {', '.join(sorted(unknown))}; states: {', '.join(STATES)}")
    query = select(ActionLogEntry).order_by(ActionLogEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
    if states:
        query = query.where(ActionLogEntry.state.in_(states))  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(query))


def retry(engine: Engine, action_id: int, seen: dict | None = None) -> ActionLogEntry:
    """Queue a conflicted, failed or cancelled action again. After a conflict the lead re-applies
    knowingly: the values the PSA has now become the values seen (`seen`)."""
    entry = get(engine, action_id)
    if entry.state not in RETRYABLE:
        raise ActionError(f"action {action_id} is {entry.state}; only {', '.join(RETRYABLE)} actions can be retried")
    table = ActionLogEntry.__table__  # type: ignore[attr-defined]
    values: dict = {"state": "queued", "updated_at": utcnow()}
    if seen is not None:
        values["seen"] = seen
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == action_id).values(**values))
    return get(engine, action_id)


def cancel(engine: Engine, action_id: int) -> ActionLogEntry:
    """Drop a queued (or conflicted/failed) action; one being sent right now cannot be recalled."""
    entry = get(engine, action_id)
    if entry.state not in ("queued", "conflict", "failed"):
        raise ActionError(
            f"action {action_id} is {entry.state}; only queued, conflict or failed actions can be cancelled"
        )
    finish(engine, action_id, "cancelled", f"cancelled at {_stamp(utcnow())}", ("queued", "conflict", "failed"))
    return get(engine, action_id)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
