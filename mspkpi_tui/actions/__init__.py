"""Triage actions: the one door through which a change goes back to a PSA.

The TUI and the CLI call this package, never a connector's writer. An action is first
a row of the action log (``outbox``), then ``sender`` sends it through the source's
``Writer`` (``writer``) with the safety checks: compare-before-write, only the changed
fields, at most once, and a re-read stored in the database when the PSA confirms.
"""

from mspkpi_tui.actions.errors import ActionError, NotWritable, ReadOnly
from mspkpi_tui.actions.outbox import cancel, list_actions, retry
from mspkpi_tui.actions.request import TicketRequest, submit
from mspkpi_tui.actions.sender import Outcome, send, send_queued
from mspkpi_tui.actions.undo import undo

__all__ = [
    "ActionError",
    "NotWritable",
    "Outcome",
    "ReadOnly",
    "TicketRequest",
    "cancel",
    "list_actions",
    "retry",
    "send",
    "send_queued",
    "submit",
    "undo",
]
