"""Writing validated records: upserts by (source, source_id), reference resolution, pruning."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from mspkpi_tui.store.driver import DriverStatement
from mspkpi_tui.store.models import ENTITY_TABLES, table
from mspkpi_tui.store.records import SPECS, RecordError, text_problem, validate
from mspkpi_tui.store.rollups import day_floor, hour_floor, mark_pending
from mspkpi_tui.store.rollups.company_days import owned_entry_days

# Rows per statement; keeps SQLite under its bound-parameter limit with the widest table.
CHUNK = 500
# Entities other records refer to: the only ones whose local ids a sync needs to learn.
REFERENCED = {spec.ref for specs in SPECS.values() for spec in specs if spec.ref}


def table_of(entity: str) -> Table:
    return table(ENTITY_TABLES[entity])


def upsert_rows(conn, entity: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows (each with source and source_id) in the caller's transaction."""
    if not rows:
        return
    table = table_of(entity)
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = [c for c in rows[0] if c not in ("id",)]
    # One statement executed with many parameter sets: compiled once, not a 500-row VALUES
    # list per chunk (which dominated sync time), and run on the driver (store/driver.py).
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "source_id"],
        set_={c: stmt.excluded[c] for c in columns if c not in ("source", "source_id")},
    )
    upsert = DriverStatement(conn, stmt, table, columns)
    inputs = ROLLUP_INPUTS.get(entity)
    inputs_of = itemgetter(*inputs) if inputs else None  # every validated row has every field
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        before = _stored_inputs(conn, entity, part) if inputs_of is not None else {}
        owners = _stored_owners(conn, entity, part, before)
        upsert.executemany(conn, part)
        _mark_owner_changes(conn, entity, part, owners)
        if inputs_of is not None:
            _mark_changes(
                conn, entity, [(before.get((row["source"], row["source_id"])), inputs_of(row)) for row in part]
            )


# --- the KPI rollups (store/rollups/) ---------------------------------------------------
# A write marks the rollup keys it may have changed (before and after) as pending, in the
# same transaction; the writer recounts them (rollups.flush_pending) at the end of the pass.
# A row whose rollup inputs did not change marks nothing (an incremental pass over tickets
# whose status changed recounts no hour).

ROLLUP_INPUTS = {
    # completion, response, resolution, creation and due hours; then the other inputs of their sums
    "tickets": (
        "completed_at",
        "first_response_at",
        "resolved_at",
        "created_at",
        "first_response_due",
        "resolution_due",
        "is_closed",
        "company_id",
    ),
    # the ticket it counts for, the resource day it adds to; then the other inputs of its sums
    "time_entries": ("ticket_id", "started_at", "resource_id", "hours", "billable", "project_id"),
}


def _stored_inputs(conn, entity: str, rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple]:
    """(source, source id) -> the rollup inputs of these rows as stored now."""
    table = table_of(entity)
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    stored: dict[tuple[str, str], tuple] = {}
    for source, ids in by_source.items():
        query = select(table.c.source_id, *[table.c[c] for c in ROLLUP_INPUTS[entity]]).where(
            table.c.source == source, table.c.source_id.in_(ids)
        )
        stored.update(((source, sid), tuple(values)) for sid, *values in conn.execute(query))
    return stored


def _mark_changes(conn, entity: str, changes: list[tuple[tuple | None, tuple | None]]) -> None:
    """Mark pending what changed between (stored, new) rollup inputs (None = no row)."""
    tickets: set[int] = set()
    moments: set[datetime] = set()  # completion / response / resolution / creation times, or entry starts
    for old, new in changes:
        if old == new:
            continue
        versions = [v for v in (old, new) if v is not None]
        if entity == "tickets":
            moments.update(moment for v in versions for moment in v[:6])
        else:
            if old is None or new is None or old[0] != new[0]:
                tickets.update(v[0] for v in versions)
            moments.update(v[1] for v in versions)
    moments.discard(None)  # type: ignore[arg-type]
    if entity == "tickets":
        mark_pending(conn, hours={hour_floor(m) for m in moments})
    else:
        mark_pending(conn, tickets=tickets, days={day_floor(m) for m in moments})


# A change of who owns time entries (a ticket's or project's company) or of what they cost
# (a technician's hourly cost) moves them in company_days: the days of those entries are
# marked. entity -> (its column, the time entries' column pointing at it).
OWNER_INPUTS = {
    "tickets": ("company_id", "ticket_id"),
    "projects": ("company_id", "project_id"),
    "resources": ("hourly_cost", "resource_id"),
}


def _stored_owners(
    conn, entity: str, rows: list[dict[str, Any]], before: dict[tuple[str, str], tuple]
) -> dict[tuple[str, str], tuple[int, Any]]:
    """(source, source id) -> (local id, owner input) of these rows as stored now."""
    if entity not in OWNER_INPUTS:
        return {}
    if entity == "tickets":  # company_id is their last rollup input: look up only the tickets it moved
        assert ROLLUP_INPUTS["tickets"][-1] == "company_id"
        rows = [r for r in rows if (old := before.get((r["source"], r["source_id"]))) and old[-1] != r["company_id"]]
        if not rows:
            return {}
    table, column = table_of(entity), OWNER_INPUTS[entity][0]
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    stored: dict[tuple[str, str], tuple[int, Any]] = {}
    for source, ids in by_source.items():
        query = select(table.c.source_id, table.c.id, table.c[column]).where(
            table.c.source == source, table.c.source_id.in_(ids)
        )
        stored.update(((source, sid), (local, value)) for sid, local, value in conn.execute(query))
    return stored


def _mark_owner_changes(conn, entity: str, rows: list[dict[str, Any]], stored: dict) -> None:
    if not stored:
        return
    column, entry_column = OWNER_INPUTS[entity]
    changed = [
        found[0]
        for row in rows
        if (found := stored.get((row["source"], row["source_id"]))) is not None and found[1] != row.get(column)
    ]
    if changed:
        mark_pending(conn, days=owned_entry_days(conn, entry_column, changed))


def mark_deleting(conn, entity: str, local_ids: list[int]) -> None:
    """Before rows are deleted: mark the rollup keys they count in as pending."""
    if entity not in ROLLUP_INPUTS or not local_ids:
        return
    table = table_of(entity)
    columns = [table.c[c] for c in ROLLUP_INPUTS[entity]]
    for start in range(0, len(local_ids), CHUNK):
        rows = conn.execute(select(*columns).where(table.c.id.in_(local_ids[start : start + CHUNK])))
        _mark_changes(conn, entity, [(tuple(row), None) for row in rows])


class IdMap:
    """source id -> local id for one source, looked up in batches as pages need them.

    Loading a whole entity's map costs seconds on a million tickets, so an incremental
    pass over a few changes would pay for rows it never touches. Instead each page's
    references are fetched with one IN query per referenced entity (``prefetch``), rows
    just upserted are learned in their transaction (``refresh``), and a lookup that is
    still unknown asks the database once. Only this run writes (the sync lock), so an id
    found absent stays absent until this run stores it.
    """

    def __init__(self, engine: Engine, source: str):
        self.engine = engine
        self.source = source
        self._maps: dict[str, dict[str, int]] = {}
        self._absent: dict[str, set[str]] = {}

    def get(self, entity: str, source_id: str) -> int | None:
        known = self._maps.setdefault(entity, {})
        local = known.get(source_id)
        if local is None and source_id not in self._absent.setdefault(entity, set()):
            with self.engine.connect() as conn:
                self._lookup(conn, entity, [source_id])
            local = known.get(source_id)
        return local

    def prefetch(self, entity: str, source_ids: Iterable[str]) -> None:
        """Look up, in one query per chunk, the ids not known yet."""
        known = self._maps.setdefault(entity, {})
        absent = self._absent.setdefault(entity, set())
        wanted = [s for s in set(source_ids) if s not in known and s not in absent]
        if wanted:
            with self.engine.connect() as conn:
                self._lookup(conn, entity, wanted)

    def refresh(self, conn, entity: str, source_ids: list[str]) -> None:
        """Learn the local ids of rows just upserted (inside the same transaction)."""
        if entity not in REFERENCED:  # nothing names these rows (a million time entries): not worth a query
            self._absent.get(entity, set()).difference_update(source_ids)
            return
        known = self._maps.setdefault(entity, {})
        self._lookup(conn, entity, [s for s in source_ids if s not in known])

    def _lookup(self, conn, entity: str, source_ids: list[str]) -> None:
        table = table_of(entity)
        known = self._maps.setdefault(entity, {})
        absent = self._absent.setdefault(entity, set())
        for start in range(0, len(source_ids), CHUNK):
            part = source_ids[start : start + CHUNK]
            rows = conn.execute(
                select(table.c.source_id, table.c.id).where(table.c.source == self.source, table.c.source_id.in_(part))
            ).all()
            known.update(rows)
            absent.update(part)
            absent.difference_update(sid for sid, _ in rows)

    def forget(self, entity: str, source_ids: Iterable[str]) -> None:
        known = self._maps.get(entity, {})
        absent = self._absent.setdefault(entity, set())
        for sid in source_ids:
            known.pop(sid, None)
            absent.add(sid)


def prefetch_references(entity: str, records: list[Any], ids: IdMap) -> None:
    """Look up every source id a page of records refers to, one query per referenced entity."""
    dicts = [record for record in records if isinstance(record, dict)]
    for spec in SPECS[entity]:
        if spec.kind != "ref" or spec.ref is None:
            continue
        # distinct values first (a page's entries name few resources); a value left out here
        # (True and 1 are one set member) is still looked up, one at a time, by IdMap.get
        values = {v for record in dicts if isinstance(v := record.get(spec.name), (str, int, float))}
        # (a value the database cannot hold, NUL or a lone surrogate, is rejected by validate)
        wanted = {str(v) for v in values if not isinstance(v, bool) and v != "" and text_problem(str(v)) is None}
        if wanted:
            ids.prefetch(spec.ref, wanted)


def validate_batch(entity: str, records: list[Any], ids: IdMap):
    """Split records into rows to store and (index, reason) pairs to reject."""
    prefetch_references(entity, records, ids)
    rows, rejects = [], []
    for index, record in enumerate(records):
        try:
            row = validate(entity, record, ids.get)
        except RecordError as exc:
            rejects.append((index, str(exc)))
            continue
        row["source"] = ids.source
        rows.append(row)
    return rows, rejects


def delete_missing(conn, entity: str, source: str, keep: set[str]) -> list[str]:
    """Delete this source's rows of an entity whose source id is not in `keep`; returns them."""
    table = table_of(entity)
    existing = conn.execute(select(table.c.source_id, table.c.id).where(table.c.source == source)).all()
    gone = [(sid, local) for sid, local in existing if sid not in keep]
    for start in range(0, len(gone), CHUNK):
        local_ids = [local for _sid, local in gone[start : start + CHUNK]]
        mark_deleting(conn, entity, local_ids)
        conn.execute(delete(table).where(table.c.id.in_(local_ids)))
    return [sid for sid, _local in gone]
