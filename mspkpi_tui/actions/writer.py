"""The interface every PSA writer implements, and finding the writer of a source.

One writer per PSA lives beside its reader (``sources/autotask/writer.py``,
``sources/connectwise/writer.py``); the sender only knows this protocol.
"""

from __future__ import annotations

import atexit
import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine

from mspkpi_tui.actions.errors import NotWritable
from mspkpi_tui.actions.fields import TicketValues

WRITERS = {
    "autotask": "mspkpi_tui.sources.autotask.writer",
    "connectwise": "mspkpi_tui.sources.connectwise.writer",
    "halo": "mspkpi_tui.sources.halo.writer",
    "demo": "mspkpi_tui.sources.demo_writer",  # the simulated PSA of `mspkpi demo`
}
# A writer (its HTTP connection, the picklists and roles it read) is kept this long after its
# last use: a lead triaging a queue sends one action after another, and building a client and
# re-reading the picklists for each would cost a TLS handshake and several requests apiece.
KEEP_SECONDS = 180.0


@dataclass
class RemoteTicket:
    """A ticket as the PSA has it right now, in the store's terms (labels, resource source ids)."""

    values: TicketValues
    is_closed: bool | None = None  # None: the writer cannot tell; the store keeps its flag
    priority_rank: int | None = None


class Writer(Protocol):
    source: str

    def read_ticket(self, ticket_id: str) -> RemoteTicket:
        """The ticket as the PSA has it now (ActionError when it no longer exists)."""
        ...

    def apply(self, ticket_id: str, changes: TicketValues) -> str:
        """Send only these fields; returns the PSA's answer. Raises Refused with the PSA's message."""
        ...

    def add_note(self, ticket_id: str, text: str) -> str:
        """Post an internal note (never visible to the customer). MaybeSent when the answer was lost."""
        ...

    def has_note(self, ticket_id: str, text: str) -> bool:
        """Whether the ticket already carries a note with this text (to decide about a resend)."""
        ...

    def close(self) -> None: ...


def writer_for(source: str, config, engine: Engine) -> Writer:
    """A new writer of a source; the import source says it cannot be written."""
    module = WRITERS.get(source)
    if module is None:
        raise NotWritable(
            f"tickets from {source!r} cannot be changed from here: that source is a one-way import "
            "(change the ticket where it lives, then import again)"
        )
    return importlib.import_module(module).writer_from_config(config, engine)


@dataclass
class _Kept:
    writer: Writer
    config: Any
    engine: Engine
    last_used: float
    busy: bool


_kept: dict[str, _Kept] = {}
_lock = threading.Lock()


@contextmanager
def writer_session(source: str, config, engine: Engine) -> Iterator[Writer]:
    """A writer for one send: the one kept from a send less than KEEP_SECONDS ago (same config and
    database), else a new one, kept afterwards. A writer serves one send at a time: a second send
    meanwhile (another worker) gets a writer of its own, closed when it is done."""
    now = time.monotonic()
    writer = None
    with _lock:
        _close_idle(now)
        kept = _kept.get(source)
        if kept is not None and not kept.busy and kept.config is config and kept.engine is engine:
            kept.busy, writer = True, kept.writer
    if writer is None:
        writer = writer_for(source, config, engine)
        stale = None
        with _lock:
            kept = _kept.get(source)
            if kept is None or not kept.busy:  # none kept, or one for another config or database
                stale = kept
                _kept[source] = _Kept(writer, config, engine, now, True)
        if stale is not None:
            stale.writer.close()
    try:
        yield writer
    finally:
        with _lock:
            kept = _kept.get(source)
            mine = kept is not None and kept.writer is writer
            if mine and kept is not None:
                kept.busy, kept.last_used = False, time.monotonic()
        if not mine:
            writer.close()


def _close_idle(now: float) -> None:
    for source, kept in list(_kept.items()):
        if not kept.busy and now - kept.last_used > KEEP_SECONDS:
            del _kept[source]
            kept.writer.close()


@atexit.register
def close_writers() -> None:
    """Close every kept writer that is not in use (at exit, and for tests)."""
    with _lock:
        for source, kept in list(_kept.items()):
            if not kept.busy:
                del _kept[source]
                kept.writer.close()
