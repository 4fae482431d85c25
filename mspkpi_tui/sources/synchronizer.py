"""Declared synchronizers and the one loop that runs them, the same for every PSA.

A PSA connector declares, per entity, a ``Synchronizer``: the entity it fills, the endpoint
it reads, the cursor field an incremental pass filters on, the page size, how a page is
mapped and stored, and its deletion rule. Between them it may put ``Reference`` steps
(lists read whole every run: picklists, boards, SLAs). It also gives a ``Reader``, which
turns an endpoint, a cursor and a page size into pages with the PSA's client. ``SyncPass.execute``
then applies the same rules to every PSA (django-connectwise's shape):

- resume: an entity with a cursor field is read from its cursor; its cursor moves to the
  start of its pass minus OVERLAP only once its whole pass is stored (upserts make the
  overlap harmless). With no cursor field it is read whole every run. A full pass reads
  everything, and still moves the cursors.
- stop: checked after each stored page. The pass ends there, the entity's cursor stays
  put, and the run is recorded "interrupted" with a warning naming the entity.
- guard: on a full pass, the ids every PRUNE entity returned are collected, and once the
  last step has run, what the PSA no longer has is pruned, in reverse step order (children
  before the rows they point at), through the store's writer, which refuses a mass delete.
- deletion logs: a LOG synchronizer lists rows the PSA deleted (Autotask's
  DeletedTicketLogs). It is read only from a cursor (a full pass prunes instead; a first
  pass has nothing to delete), and its cursor starts from the run's start, so a row deleted
  while the others were being read still counts.

A new PSA is a client, its mappings, a Reader and a list of declarations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from mspkpi_tui.store.writer import SyncWriter

# Cursor = start of the entity's last finished pass minus this, so clock skew and records
# committed while we read are not missed.
OVERLAP = timedelta(minutes=5)


class Deletion(Enum):
    PRUNE = "prune"  # a full pass deletes the rows the PSA no longer returned
    LOG = "log"  # the pages list deleted rows of another entity (`deletes`), by `id_field`
    NONE = "none"  # never deleted by the sync (rows that only go with their parent)


@dataclass(frozen=True)
class Synchronizer:
    """One entity of one PSA, declared."""

    entity: str  # ours, e.g. "time_entries" (the cursor's name)
    endpoint: str | Callable[[], Sequence[str]]  # the PSA's; or, read from several lists found at run time, a function
    cursor_field: str | None  # the field an incremental pass filters on; None = read whole every run
    page_size: int
    store: Callable[[Any], None]  # map one page (with the PSA's mapping) and store it through the writer
    deletion: Deletion = Deletion.PRUNE
    deletes: str | None = None  # for Deletion.LOG: the entity whose rows the pages name
    id_field: str = "id"  # the vendor field that is the record's id (or, for a LOG, the deleted row's id)
    # The record's source id when one field is not enough (HaloPSA's action ids are unique per
    # ticket only: "ticket:action"); None when it has none. Default: the id_field's value.
    key: Callable[[Any], str | None] | None = None

    def source_ids(self, records: list[Any]) -> Iterator[str]:
        """The source ids of a page's records, as the store keys them (what a full pass saw)."""
        if self.key is None:
            return _ids(records, self.id_field)
        return (k for k in map(self.key, records) if k is not None)

    def endpoints(self) -> Sequence[str]:
        return [self.endpoint] if isinstance(self.endpoint, str) else self.endpoint()


@dataclass(frozen=True)
class Reference:
    """A step that reads a list whole every run (lookups, picklists, boards); `entity`, when
    it stores rows, names them, so a full pass prunes them in step order too."""

    name: str
    read: Callable[[], None]
    entity: str | None = None


Step = Synchronizer | Reference


class Reader(Protocol):
    """How one PSA reads an endpoint: pages from a cursor, and its cursors' text."""

    def pages(self, sync: Synchronizer, endpoint: str, cursor: str | None) -> Generator[Any, None, None]: ...

    def records(self, page: Any) -> list[Any]: ...

    def cursor_text(self, moment: datetime) -> str: ...


class SyncPass:
    """One pass of one PSA: the writer, the mode, and the ids a full pass has seen."""

    def __init__(self, writer: SyncWriter, *, full: bool, now_fn: Callable[[], datetime], stop: threading.Event):
        self.writer = writer
        self.full = full
        self.now_fn = now_fn
        self.stop = stop
        self.seen: dict[str, set[str]] = {}  # on a full pass: source ids each entity returned

    def saw(self, entity: str, source_ids: Iterable[str]) -> None:
        """Record rows the PSA has (only a full pass prunes, so only it keeps them)."""
        if self.full:
            self.seen.setdefault(entity, set()).update(source_ids)

    def keep_on_prune(self, entity: str) -> set[str]:
        """The source ids a full pass keeps of an entity: by default what it listed. A PSA whose
        listing can miss rows it still has (Autotask) overrides this to check them first."""
        return self.seen[entity]

    def execute(self, reader: Reader, steps: Iterable[Step]) -> bool:
        """Run the steps in order; False when stopped before the end (the run is then interrupted)."""
        order: list[str] = []
        for step in steps:
            if isinstance(step, Reference):
                step.read()
                if step.entity:
                    order.append(step.entity)
                continue
            if step.deletion is Deletion.PRUNE:
                order.append(step.entity)
            if not self._entity_pass(reader, step):
                self.writer.interrupted = True  # recorded as "interrupted", not "ok"
                assert self.writer.summary is not None
                self.writer.summary.warnings.append(
                    f"stopped before {step.entity} finished; the next pass picks up from there"
                )
                return False
        if self.full:
            for entity in reversed(order):  # children before the rows they point at
                if entity in self.seen:
                    self.writer.prune(entity, self.keep_on_prune(entity))
        return True

    def _entity_pass(self, reader: Reader, sync: Synchronizer) -> bool:
        if sync.deletion is Deletion.LOG:
            return self._deletion_log(reader, sync)
        started = self.now_fn()
        cursor = None if self.full or not sync.cursor_field else self.writer.get_cursor(sync.entity)
        if self.full and sync.deletion is Deletion.PRUNE:
            self.seen.setdefault(sync.entity, set())
        for endpoint in sync.endpoints():
            with closing(reader.pages(sync, endpoint, cursor)) as pages:
                for page in pages:
                    if sync.deletion is Deletion.PRUNE:
                        self.saw(sync.entity, sync.source_ids(reader.records(page)))
                    sync.store(page)
                    if self.stop.is_set():
                        return False
        if sync.cursor_field:
            self.writer.set_cursor(sync.entity, reader.cursor_text(started - OVERLAP))
        return True

    def _deletion_log(self, reader: Reader, sync: Synchronizer) -> bool:
        assert sync.deletes is not None, f"{sync.entity}: a deletion log names the entity it deletes"
        started = self.writer.started_at or self.now_fn()
        cursor = None if self.full else self.writer.get_cursor(sync.entity)
        if cursor:
            for endpoint in sync.endpoints():
                with closing(reader.pages(sync, endpoint, cursor)) as pages:
                    for page in pages:
                        self.writer.delete(sync.deletes, list(sync.source_ids(reader.records(page))))
                        if self.stop.is_set():
                            return False
        self.writer.set_cursor(sync.entity, reader.cursor_text(started - OVERLAP))
        return True


def _ids(records: list[Any], field: str) -> Iterator[str]:
    return (str(r[field]) for r in records if isinstance(r, dict) and r.get(field) is not None)
