"""Is the sync that a "running" row names still alive?

A sync killed with kill -9 (or on a machine that lost power) never marks its run finished.
Its lock row tells whether it is alive: the holder (host:pid) is gone when that process no
longer exists on this host, and a holder anywhere is presumed gone when it has not touched
the lock (its heartbeat, refreshed with every stored page) for HEARTBEAT_MINUTES. Readers
(the status line, `kpi`) then report the run as interrupted without writing; the next sync
takes the lock over and marks the run interrupted in the database.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import select

from mspkpi_tui.store import schema

HEARTBEAT_MINUTES = 15
LOCK_NAME = "sync"
sync_locks = schema.sync_locks


def holder_gone(holder: str, last_beat: datetime | None, now: datetime) -> str | None:
    """Why the lock's holder is presumed dead, or None while it may be alive."""
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
        return f"the sync process {holder} died"
    if last_beat is not None and now - last_beat > timedelta(minutes=HEARTBEAT_MINUTES):
        return f"the sync process {holder} has not been heard from since {last_beat:%Y-%m-%d %H:%M} UTC"
    return None


def dead_run_reason(conn, now: datetime) -> str | None:
    """Why the runs marked running are not running any more, or None if their sync is alive."""
    lock = conn.execute(select(sync_locks).where(sync_locks.c.name == LOCK_NAME)).first()
    if lock is None:
        return "the sync process ended without finishing its run"
    return holder_gone(lock.holder, lock.acquired_at, now)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
