"""Errors a user can act on: the CLI prints them as one line, never a traceback."""


class MspkpiError(Exception):
    """An error with a message meant for the person at the terminal."""


class ConfigError(MspkpiError):
    pass


class DatabaseError(MspkpiError):
    pass


class SyncError(MspkpiError):
    pass


class MaybeSent(SyncError):
    """A request that creates was sent but no answer came back (dropped, timed out): the PSA may
    have applied it. Resending blindly could apply it twice; the caller must look first."""
