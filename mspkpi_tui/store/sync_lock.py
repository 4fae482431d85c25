"""One sync per database at a time, whatever its source: a row in sync_lock.

The holder is ``host:pid``, so a lock left by a process that died on this host (killed
mid-sync) can be taken over, and its run marked interrupted; a live holder, or one on
another host, is refused with a message naming it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from mspkpi_tui.errors import SyncError
from mspkpi_tui.store import models
from mspkpi_tui.store.liveness import holder_gone

LOCK_NAME = "sync"
sync_lock = models.table(models.SyncLock)
sync_runs = models.table(models.SyncRun)


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(engine: Engine, clock: Callable[[], datetime]) -> None:
    """Take the lock, breaking a dead holder's; SyncError when another sync holds it."""
    for _attempt in range(2):
        try:
            with engine.begin() as conn:
                conn.execute(sync_lock.insert().values(name=LOCK_NAME, holder=holder(), acquired_at=clock()))
            return
        except IntegrityError:
            if not _break_dead_lock(engine, clock):
                break
    with engine.connect() as conn:
        row = conn.execute(select(sync_lock).where(sync_lock.c.name == LOCK_NAME)).first()
    since = f", last active {row.acquired_at:%Y-%m-%d %H:%M} UTC" if row else ""
    named = row.holder if row else "another process"
    raise SyncError(f"another sync is already running on this database ({named}{since}); try again when it ends")


def heartbeat(conn, now: datetime) -> None:
    """The lock's time is when its holder was last heard from (readers tell a dead sync by it)."""
    conn.execute(
        update(sync_lock).where(sync_lock.c.name == LOCK_NAME, sync_lock.c.holder == holder()).values(acquired_at=now)
    )


def release(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sync_lock.delete().where(sync_lock.c.name == LOCK_NAME, sync_lock.c.holder == holder()))


def _break_dead_lock(engine: Engine, clock: Callable[[], datetime]) -> bool:
    """Take over a lock whose holder died (killed mid-sync): see store/liveness.py."""
    with engine.begin() as conn:
        row = conn.execute(select(sync_lock).where(sync_lock.c.name == LOCK_NAME)).first()
        if row is None:
            return True
        reason = holder_gone(row.holder, row.acquired_at, clock())
        if reason is None:
            return False
        conn.execute(sync_lock.delete().where(sync_lock.c.name == LOCK_NAME, sync_lock.c.holder == row.holder))
        conn.execute(
            update(sync_runs)
            .where(sync_runs.c.status == "running")
            .values(status="interrupted", error=reason, finished_at=clock())
        )
        return True
