"""Deleting synced rows so that foreign keys hold and the rollups follow.

Rows that mean nothing without the row they point at go with it (a deleted ticket's
events, notes and time entries, OWNED_BY); any other reference is cleared (a survey keeps its
rating). Every delete marks the rollup keys it touches (``mark_deleting``) in the
caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, delete, select, update

from mspkpi_tui.store import models
from mspkpi_tui.store.ingest import CHUNK, mark_deleting, table_of
from mspkpi_tui.store.rollups import flush_pending, mark_pending
from mspkpi_tui.store.rollups.company_days import owned_entry_days, ticket_days

OWNED_BY = {
    ("ticket_events", "ticket_id"),
    ("ticket_notes", "ticket_id"),
    ("time_entries", "ticket_id"),
    ("time_entries", "project_id"),
    ("opportunity_stage_changes", "opportunity_id"),
}


def delete_rows(conn: Connection, entity: str, source: str, source_ids: list[str]) -> int:
    """Delete rows by source id, and deal with the rows that reference them (so foreign keys hold)."""
    table = table_of(entity)
    deleted = 0
    for start in range(0, len(source_ids), CHUNK):
        part = source_ids[start : start + CHUNK]
        local_ids = detach_dependents(conn, entity, source, part)
        if local_ids:
            flush_pending(conn)  # rollup rows that reference them (a resource's days) go first
            mark_deleting(conn, entity, local_ids)
            deleted += conn.execute(delete(table).where(table.c.id.in_(local_ids))).rowcount
    return deleted


def detach_dependents(conn: Connection, entity: str, source: str, source_ids: list[str]) -> list[int]:
    """Before rows go: delete the rows owned by them, clear other references. Returns their local ids."""
    table = table_of(entity)
    found: list[int] = []
    for start in range(0, len(source_ids), CHUNK):
        part = source_ids[start : start + CHUNK]
        local_ids = list(
            conn.execute(select(table.c.id).where(table.c.source == source, table.c.source_id.in_(part))).scalars()
        )
        if local_ids:
            _detach_by_local_id(conn, table, local_ids)
        found += local_ids
    return found


def _detach_by_local_id(conn: Connection, table: Table, local_ids: list[int]) -> None:
    for name, model in models.ENTITY_TABLES.items():
        child = models.table(model)
        for fk in child.foreign_keys:
            if fk.column.table is not table:
                continue
            column = fk.parent
            if (name, column.name) in OWNED_BY or not column.nullable:
                doomed = list(conn.execute(select(child.c.id).where(column.in_(local_ids))).scalars())
                for begin in range(0, len(doomed), CHUNK):
                    part = doomed[begin : begin + CHUNK]
                    _detach_by_local_id(conn, child, part)
                    mark_deleting(conn, name, part)
                    conn.execute(delete(child).where(child.c.id.in_(part)))
            else:
                _mark_detaching(conn, name, column.name, local_ids)
                conn.execute(update(child).where(column.in_(local_ids)).values({column.name: None}))


def _mark_detaching(conn: Connection, entity: str, column: str, local_ids: list[int]) -> None:
    """A company's tickets and projects lose it: mark the company_days they counted in."""
    if (entity, column) not in {("tickets", "company_id"), ("projects", "company_id")}:
        return
    child = table_of(entity)
    ids = list(conn.execute(select(child.c.id).where(child.c[column].in_(local_ids))).scalars())
    if entity == "tickets":
        mark_pending(conn, days=ticket_days(conn, ids))
    else:
        mark_pending(conn, days=owned_entry_days(conn, "project_id", ids))
