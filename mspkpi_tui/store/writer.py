"""The store's one door for writes: a sync run, its pages, cursors, rejects, deletes and prunes.

Every source (the file importer and the PSA synchronizers) writes through a SyncWriter, so
the guarantees hold for all of them: a page is stored in one transaction, a cursor
moves only when its entity's pass has finished, a bad record is kept with its reason,
and a full pass never deletes more than MAX_PRUNE_SHARE of an entity's rows.

The KPI rollups (store/rollups/) are recounted here: a page only marks what it changed
(in its own transaction), and the writer recounts the marks at the end of each entity's
pass (in the cursor's transaction, before the cursor moves), after deletes and prunes,
when the run ends, and when a run starts (what a killed run left). So once a sync has
finished, killed or not and re-run, the rollups agree with their rows; during a pass they
lag the pages already stored (recounting per page cost most of a first sync's time).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, select, update

from mspkpi_tui.clock import utcnow
from mspkpi_tui.redact import redact
from mspkpi_tui.store import models, sync_lock
from mspkpi_tui.store.deletes import delete_rows, detach_dependents
from mspkpi_tui.store.ingest import IdMap, delete_missing, table_of, upsert_rows, validate_batch
from mspkpi_tui.store.records import storable
from mspkpi_tui.store.rollups import flush_pending

MAX_PRUNE_SHARE = 0.9
sync_runs = models.table(models.SyncRun)
sync_cursors = models.table(models.SyncCursor)
rejected_records = models.table(models.RejectedRecord)
picklist_values = models.table(models.PicklistValue)


@dataclass(frozen=True)
class PicklistEntry:
    """One value of a PSA picklist: the PSA's id, its label, and the board it belongs to (ConnectWise)."""

    value: str
    label: str
    scope: str = ""
    sort_order: int = 0
    active: bool = True


class Texts(Protocol):
    """The text each record of a page was read from, by index (a list, or one made on demand)."""

    def __getitem__(self, index: int, /) -> str: ...


@dataclass
class Reject:
    entity: str
    location: str
    reason: str


@dataclass
class RunSummary:
    run_id: int
    source: str
    counts: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    pruned: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0


class SyncWriter:
    """One sync run, as a context manager: ``with SyncWriter(engine, "autotask", "incremental") as run: ...``.

    (The row it keeps up to date is the ``SyncRun`` model, table sync_runs.)"""

    def __init__(
        self, engine: Engine, source: str, mode: str = "incremental", *, clock: Callable[[], datetime] = utcnow
    ):
        self.engine = engine
        self.source = source
        self.mode = mode
        self.clock = clock
        self.ids = IdMap(engine, source)
        self.summary: RunSummary | None = None
        self.started_at: datetime | None = None
        self.on_reject: Callable[[Reject], None] | None = None
        # Set by a synchronizer that returned early because it was asked to stop (Ctrl-C in --watch).
        self.interrupted = False

    # --- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> SyncWriter:
        sync_lock.acquire(self.engine, self.clock)
        self.started_at = self.clock()
        try:
            self.flush_rollups()  # what a killed run left pending
        except BaseException:
            sync_lock.release(self.engine)
            raise
        with self.engine.begin() as conn:
            key = conn.execute(
                sync_runs.insert().values(
                    source=self.source, mode=self.mode, started_at=self.started_at, status="running", counts={}
                )
            ).inserted_primary_key
        assert key is not None
        self.summary = RunSummary(run_id=key[0], source=self.source)
        return self

    def __exit__(self, exc_type, exc, _tb) -> None:
        summary = self.summary
        assert summary is not None
        flush_failure = None
        stopping = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        try:
            if not stopping:  # stopped (Ctrl-C, SIGTERM): end within a second; the next run recounts
                self.flush_rollups()
        except BaseException as failure:  # still pending: the next run recounts them
            flush_failure = failure
            if exc_type is None:
                exc_type, exc = type(failure), failure
        if exc_type is None and self.interrupted:
            status, error = "interrupted", "stopped by the user before the pass finished"
        elif exc_type is None:
            status, error = "ok", None
        elif issubclass(exc_type, KeyboardInterrupt):
            status, error = "interrupted", "stopped by the user"
        else:
            status, error = "failed", _one_line(exc)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(sync_runs)
                    .where(sync_runs.c.id == summary.run_id)
                    .values(
                        finished_at=self.clock(),
                        status=status,
                        error=error,
                        counts=summary.counts,
                        rejected=len(summary.rejects),
                        requests=summary.requests,
                    )
                )
        finally:
            sync_lock.release(self.engine)
        if flush_failure is not None and exc is flush_failure:
            raise flush_failure

    def flush_rollups(self) -> None:
        """Recount the rollup keys the stored pages marked, in one transaction."""
        with self.engine.begin() as conn:
            flush_pending(conn)

    # --- writing -------------------------------------------------------------------

    def store_page(
        self,
        entity: str,
        records: list[Any],
        locations: list[str] | Callable[[int], str],
        raws: Texts | None = None,
    ) -> int:
        """Validate and upsert one page in one transaction; bad records go to rejected_records.

        `locations` names where each record came from (file:line, or the request), for rejects.
        `raws` is the text each record was read from, when the caller has it (kept for rejects).
        Returns how many records were stored.
        """
        summary = self.summary
        assert summary is not None
        rows, rejects = validate_batch(entity, records, self.ids)
        with self.engine.begin() as conn:
            sync_lock.heartbeat(conn, self.clock())
            upsert_rows(conn, entity, rows)
            self.ids.refresh(conn, entity, [r["source_id"] for r in rows])
            for index, reason in rejects:
                location = locations(index) if callable(locations) else locations[index]
                raw = raws[index] if raws is not None else _raw_text(records[index])
                self._write_reject(conn, entity, location, raw, reason)
        summary.counts[entity] = summary.counts.get(entity, 0) + len(rows)
        return len(rows)

    def reject(self, entity: str, location: str, raw: str, reason: str) -> None:
        """Keep a record that could not even be read as a record (bad JSON, unmappable vendor data)."""
        with self.engine.begin() as conn:
            self._write_reject(conn, entity, location, raw, reason)

    def _write_reject(self, conn: Connection, entity: str, location: str, raw: str, reason: str) -> None:
        assert self.summary is not None
        conn.execute(
            rejected_records.insert().values(
                sync_run_id=self.summary.run_id,
                source=self.source,
                entity=entity,
                # what the database can hold (PostgreSQL refuses NUL), and no password from a URL
                location=storable(redact(location)),
                raw=storable(raw),
                reason=storable(redact(reason)),
                created_at=self.clock(),
            )
        )
        item = Reject(entity, location, reason)
        self.summary.rejects.append(item)
        if self.on_reject:
            self.on_reject(item)

    def store_picklist(self, field: str, entries: list[PicklistEntry]) -> int:
        """Replace the source's `field` picklist (every scope) with what the PSA listed now, in one
        transaction. An empty listing keeps the old one: a PSA that answered nothing is no reason
        to forget which statuses exist."""
        if not entries:
            return 0
        now = self.clock()
        rows = {}
        for e in entries:  # one row per (scope, value): a PSA listing a value twice keeps the last
            rows[(e.scope, e.value)] = {
                "source": self.source,
                "field": field,
                "scope": storable(e.scope),
                "value": storable(e.value),
                "label": storable(e.label),
                "sort_order": e.sort_order,
                "active": e.active,
                "updated_at": now,
            }
        with self.engine.begin() as conn:
            conn.execute(
                picklist_values.delete().where(
                    picklist_values.c.source == self.source, picklist_values.c.field == field
                )
            )
            conn.execute(picklist_values.insert(), list(rows.values()))
        return len(rows)

    def add_requests(self, n: int = 1) -> None:
        assert self.summary is not None
        self.summary.requests += n

    # --- cursors -------------------------------------------------------------------

    def get_cursor(self, entity: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(sync_cursors.c.cursor).where(
                    sync_cursors.c.source == self.source, sync_cursors.c.entity == entity
                )
            ).scalar()

    def set_cursor(self, entity: str, value: str) -> None:
        """Call only after the entity's whole pass is stored; its rollups are recounted first."""
        with self.engine.begin() as conn:
            flush_pending(conn)
            changed = conn.execute(
                update(sync_cursors)
                .where(sync_cursors.c.source == self.source, sync_cursors.c.entity == entity)
                .values(cursor=value, updated_at=self.clock())
            ).rowcount
            if not changed:
                conn.execute(
                    sync_cursors.insert().values(
                        source=self.source, entity=entity, cursor=value, updated_at=self.clock()
                    )
                )

    def delete(self, entity: str, source_ids: list[str]) -> int:
        """Delete rows the source reports deleted (e.g. Autotask's DeletedTicketLogs), in one transaction.

        Rows that cannot live without them (a ticket's events and time entries) go too."""
        summary = self.summary
        assert summary is not None
        if not source_ids:
            return 0
        with self.engine.begin() as conn:
            gone = delete_rows(conn, entity, self.source, source_ids)
            flush_pending(conn)
        self.ids.forget(entity, source_ids)
        summary.pruned[entity] = summary.pruned.get(entity, 0) + gone
        return gone

    # --- pruning -------------------------------------------------------------------

    def prune(self, entity: str, seen_source_ids: set[str]) -> int:
        """After a full pass: delete rows the source no longer has, unless that is most of them."""
        summary = self.summary
        assert summary is not None
        table = table_of(entity)
        with self.engine.begin() as conn:
            stored = set(conn.execute(select(table.c.source_id).where(table.c.source == self.source)).scalars())
            missing = len(stored - seen_source_ids)
            if stored and missing / len(stored) > MAX_PRUNE_SHARE:
                summary.warnings.append(
                    f"{entity}: the source returned {len(stored) - missing} of {len(stored)} stored rows; "
                    f"refusing to delete {missing} ({missing / len(stored):.0%}) in one pass"
                )
                return 0
            detach_dependents(conn, entity, self.source, sorted(stored - seen_source_ids))
            flush_pending(conn)  # e.g. a pruned resource's day rows go with its time entries
            gone = delete_missing(conn, entity, self.source, seen_source_ids)
            flush_pending(conn)
        self.ids.forget(entity, gone)
        summary.pruned[entity] = len(gone)
        return len(gone)


def _raw_text(record: Any) -> str:
    if isinstance(record, str):
        return record
    try:
        return json.dumps(record, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(record)


def _one_line(exc: BaseException | None) -> str:
    text = redact(str(exc)).strip() if exc else ""  # stored with the run: never a password
    return storable(text.splitlines()[0]) if text else type(exc).__name__
