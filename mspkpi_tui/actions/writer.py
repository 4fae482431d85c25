"""The interface every PSA writer implements, and finding the writer of a source.

One writer per PSA lives beside its reader (``sources/autotask/writer.py``,
``sources/connectwise/writer.py``); the sender only knows this protocol.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from mspkpi_tui.actions.errors import NotWritable
from mspkpi_tui.actions.fields import TicketValues

WRITERS = {
    "autotask": "mspkpi_tui.sources.autotask.writer",
    "connectwise": "mspkpi_tui.sources.connectwise.writer",
    "halo": "mspkpi_tui.sources.halo.writer",
}


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


def writer_for(source: str, config) -> Writer:
    """The writer of a source; the import source and the demo data say they cannot be written."""
    module = WRITERS.get(source)
    if module is None:
        raise NotWritable(
            f"tickets from {source!r} cannot be changed from here: that source is a one-way import "
            "(change the ticket where it lives, then import again)"
        )
    return importlib.import_module(module).writer_from_config(config)
