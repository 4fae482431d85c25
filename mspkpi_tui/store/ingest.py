"""Writing validated records: upserts by (source, source_id), reference resolution, pruning."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Engine, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.rollups import (
    completion_hours_by_source_ids,
    day_floor,
    refresh_completion_hours,
    refresh_resource_days,
    refresh_response_hours,
    refresh_time_entry_counts,
    resource_days_by_source_ids,
    response_hours_by_source_ids,
)
from mspkpi_tui.store.records import SPECS, RecordError, validate

# Rows per statement; keeps SQLite under its bound-parameter limit with the widest table.
CHUNK = 500


def table_of(entity: str) -> Table:
    return ENTITY_TABLES[entity].__table__  # type: ignore[attr-defined]


def upsert_rows(conn, entity: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows (each with source and source_id) in the caller's transaction."""
    if not rows:
        return
    table = table_of(entity)
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = [c for c in rows[0] if c not in ("id",)]
    # One statement executed with many parameter sets: SQLAlchemy compiles it once (cached)
    # instead of compiling a 500-row VALUES list per chunk, which dominated sync time.
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "source_id"],
        set_={c: stmt.excluded[c] for c in columns if c not in ("source", "source_id")},
    )
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        touched = _tickets_of_entries(conn, part) if entity == "time_entries" else None
        days_before = _resource_days_of_rows(conn, part) if entity == "time_entries" else None
        completed_before = _completion_hours_of_rows(conn, part) if entity == "tickets" else None
        responses_before = _response_hours_of_rows(conn, part) if entity == "tickets" else None
        conn.execute(stmt, part)
        if touched is not None:
            refresh_time_entry_counts(conn, touched | {r["ticket_id"] for r in part})
        if days_before is not None:
            refresh_resource_days(conn, days_before | {(r["resource_id"], day_floor(r["started_at"])) for r in part})
        if completed_before is not None:
            refresh_completion_hours(conn, completed_before | _completion_hours_of_rows(conn, part))
        if responses_before is not None:
            refresh_response_hours(conn, responses_before | _response_hours_of_rows(conn, part))


# --- the KPI rollups (store/rollups.py) --------------------------------------------------
# First contact resolution needs each completed ticket's number of time entries and, over a
# year, the completions per hour; counting them at query time over millions of rows is too
# slow, so every write recounts what it touched (before and after) in the same transaction.


def _tickets_of_entries(conn, rows: list[dict[str, Any]]) -> set:
    """The tickets these time entries point at now (before they are overwritten)."""
    table = table_of("time_entries")
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    touched: set = set()
    for source, ids in by_source.items():
        touched.update(
            conn.execute(select(table.c.ticket_id).where(table.c.source == source, table.c.source_id.in_(ids))).scalars()
        )
    return touched


def _resource_days_of_rows(conn, rows: list[dict[str, Any]]) -> set:
    """The (technician, UTC day) keys of these time entries (by source id), as stored now."""
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    keys: set = set()
    for source, ids in by_source.items():
        keys |= resource_days_by_source_ids(conn, source, ids)
    return keys


def _completion_hours_of_rows(conn, rows: list[dict[str, Any]]) -> set:
    """The hours in which these tickets (by source id) are completed, as stored now."""
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    hours: set = set()
    for source, ids in by_source.items():
        hours |= completion_hours_by_source_ids(conn, source, ids)
    return hours


def _response_hours_of_rows(conn, rows: list[dict[str, Any]]) -> set:
    """The hours in which these tickets (by source id) were first responded to or resolved, as stored now."""
    by_source: dict[str, list[str]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["source_id"])
    hours: set = set()
    for source, ids in by_source.items():
        hours |= response_hours_by_source_ids(conn, source, ids)
    return hours


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
    for spec in SPECS[entity]:
        if spec.kind != "ref":
            continue
        wanted = set()
        for record in records:
            value = record.get(spec.name) if isinstance(record, dict) else None
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != "":
                wanted.add(str(value))
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


def count_rows(conn, entity: str, source: str) -> int:
    table = table_of(entity)
    return conn.execute(select(func.count()).select_from(table).where(table.c.source == source)).scalar_one()


def delete_missing(conn, entity: str, source: str, keep: set[str]) -> list[str]:
    """Delete this source's rows of an entity whose source id is not in `keep`; returns them."""
    table = table_of(entity)
    existing = conn.execute(select(table.c.source_id).where(table.c.source == source)).scalars().all()
    gone = [sid for sid in existing if sid not in keep]
    for start in range(0, len(gone), CHUNK):
        part = gone[start : start + CHUNK]
        touched = _tickets_of_entries(conn, [{"source": source, "source_id": s} for s in part]) if entity == "time_entries" else None
        completed = completion_hours_by_source_ids(conn, source, part) if entity == "tickets" else None
        responses = response_hours_by_source_ids(conn, source, part) if entity == "tickets" else None
        days = resource_days_by_source_ids(conn, source, part) if entity == "time_entries" else None
        conn.execute(delete(table).where(table.c.source == source, table.c.source_id.in_(part)))
        if touched:
            refresh_time_entry_counts(conn, touched)
        if completed:
            refresh_completion_hours(conn, completed)
        if responses:
            refresh_response_hours(conn, responses)
        if days:
            refresh_resource_days(conn, days)
    return gone
