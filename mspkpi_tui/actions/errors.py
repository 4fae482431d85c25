"""Why an action was not taken, in words the lead can act on."""

from mspkpi_tui.errors import MspkpiError


class ActionError(MspkpiError):
    """An action that cannot be queued or sent as asked (unknown value, no such ticket ...)."""


class ReadOnly(ActionError):
    """Writes are switched off (--readonly, or readonly = true in [tui])."""


class NotWritable(ActionError):
    """The ticket's source cannot be written (the JSON Lines import, the demo data)."""


class Conflict(ActionError):
    """The PSA's ticket no longer shows what the lead saw: sending would overwrite someone's change."""


class Refused(ActionError):
    """The PSA (or its picklists) refused the change: the message says why, in the PSA's words."""
