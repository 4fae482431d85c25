"""Storing a ticket's new state after a triage action the PSA confirmed.

The sender re-reads the ticket from the PSA and hands the fields here, so every pane shows
the change at once, and each changed field becomes a ticket event like any sync-observed
transition (same id scheme: ticket:field:time, so a repeated store is harmless). The next
sync finds the row already current and records no second event.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from mspkpi_tui.store.ingest import upsert_rows
from mspkpi_tui.store.models import Queue, Resource, Ticket
from mspkpi_tui.store.rollups import flush_pending, hour_floor, mark_pending

FIELDS = ("status", "priority", "queue", "assignee")


def store_ticket_state(
    engine: Engine,
    source: str,
    source_id: str,
    values: dict[str, str | None],
    *,
    at: datetime,
    is_closed: bool | None = None,
    priority_rank: int | None = None,
) -> list[str]:
    """Update the stored ticket to `values` (labels; assignee = resource source id); returns the fields that changed."""
    t, q, r = Ticket.__table__, Queue.__table__, Resource.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        row = conn.execute(
            select(
                t.c.id,
                t.c.status,
                t.c.priority,
                q.c.name.label("queue"),
                r.c.name.label("assignee"),
                t.c.is_closed,
                t.c.created_at,
                t.c.completed_at,
            )
            .select_from(t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id))
            .where(t.c.source == source, t.c.source_id == source_id)
        ).one_or_none()
        if row is None:
            return []  # not synced yet: the next sync stores it whole
        queue = _lookup(conn, q, source, "name", values.get("queue"))
        person = _lookup(conn, r, source, "source_id", values.get("assignee"))
        changes: dict = {"status": values.get("status"), "priority": values.get("priority")}
        changes["queue_id"] = queue[0] if queue else None
        changes["assigned_resource_id"] = person[0] if person else None
        if is_closed is not None:
            changes["is_closed"] = is_closed
        if priority_rank is not None:
            changes["priority_rank"] = priority_rank
        conn.execute(update(t).where(t.c.id == row.id).values(**changes))
        if is_closed is not None and is_closed != row.is_closed:  # the flow rollup counts is_closed
            mark_pending(conn, hours={hour_floor(m) for m in (row.created_at, row.completed_at) if m is not None})
            flush_pending(conn)
        new = {
            "status": values.get("status"),
            "priority": values.get("priority"),
            "queue": queue[1] if queue else None,
            "assignee": person[1] if person else None,
        }
        old = {"status": row.status, "priority": row.priority, "queue": row.queue, "assignee": row.assignee}
        changed = [f for f in FIELDS if (old[f] or None) != (new[f] or None)]
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        upsert_rows(
            conn,
            "ticket_events",
            [
                {
                    "source": source,
                    "source_id": f"{source_id}:{f}:{stamp}",
                    "ticket_id": row.id,
                    "at": at,
                    "field": f,
                    "old_value": old[f],
                    "new_value": new[f],
                }
                for f in changed
            ],
        )
    return changed


def _lookup(conn, table, source: str, column: str, value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    found = conn.execute(
        select(table.c.id, table.c.name).where(table.c.source == source, table.c[column] == value)
    ).first()
    return (found[0], found[1]) if found else None
