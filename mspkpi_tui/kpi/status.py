"""How fresh the data is: the last successful sync, a stale or failed state with its
reason, whether there is any data at all, and a cheap test for "another process wrote".

The times come from the sync_runs table (when the data was fetched), never from when
the screen was drawn.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, exists, func, select

from mspkpi_tui.clock import utcnow
from mspkpi_tui.kpi.rejects import last_run_rejected
from mspkpi_tui.store import schema
from mspkpi_tui.store.engine import is_read_only
from mspkpi_tui.store.liveness import dead_run_reason

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

sync_runs = schema.sync_runs
tickets = schema.tickets

OK, STALE, FAILED, NEVER = "ok", "stale", "failed", "never"
DEMO_SOURCE = "demo"  # the demo data's source (its manifest), whose writes go to the simulated PSA


@dataclass(frozen=True)
class SyncStatus:
    state: str  # ok | stale | failed | never
    reason: str | None  # why the state is not ok, for the badge
    last_ok_at: datetime | None  # when the last successful sync finished
    last_ok_source: str | None
    running_since: datetime | None  # a sync is running now (started then)
    has_tickets: bool
    rejected: int = 0  # records the last finished sync or import could not store (`mspkpi rejects`)
    read_only: bool = False  # a read-only copy or snapshot: nothing can be stored
    demo_psa: bool = False  # the demo data: triage actions go to a simulated PSA, not a real one


def sync_status(engine: Engine, now: datetime, config: Config) -> SyncStatus:
    """The state of the last syncs; stale after config.tui.stale_after_minutes without a good one."""
    with engine.connect() as conn:
        last_ok = conn.execute(
            select(sync_runs.c.finished_at, sync_runs.c.source)
            .where(sync_runs.c.status == "ok")
            .order_by(sync_runs.c.finished_at.desc(), sync_runs.c.id.desc())
            .limit(1)
        ).first()
        last_finished = conn.execute(
            select(sync_runs.c.status, sync_runs.c.finished_at, sync_runs.c.error, sync_runs.c.source)
            .where(sync_runs.c.status != "running")
            .order_by(sync_runs.c.id.desc())
            .limit(1)
        ).first()
        running = conn.execute(select(func.max(sync_runs.c.started_at)).where(sync_runs.c.status == "running")).scalar()
        dead = dead_run_reason(conn, utcnow()) if running is not None else None  # real time: --now may be pinned
        has_tickets = bool(conn.execute(select(exists().where(tickets.c.id.is_not(None)))).scalar())
        rejected = last_run_rejected(conn)
        demo_psa = bool(conn.execute(select(exists().where(tickets.c.source == DEMO_SOURCE))).scalar())
    last_ok_at, last_ok_source = (last_ok.finished_at, last_ok.source) if last_ok else (None, None)
    state, reason = OK, None
    if dead is not None:  # killed mid-sync: shown as interrupted, not "running" all day
        state, reason = FAILED, f"sync interrupted (started {running:%H:%M} UTC): {dead}"
        running = None
    elif last_finished is not None and last_finished.status != "ok":
        state = FAILED
        when = last_finished.finished_at.strftime("%H:%M UTC") if last_finished.finished_at else "?"
        reason = f"{last_finished.source} sync {last_finished.status} at {when}: {last_finished.error or 'no reason recorded'}"
    elif last_ok_at is None:
        state, reason = NEVER, "no sync has finished yet"
    elif now - last_ok_at > timedelta(minutes=config.tui.stale_after_minutes):
        state, reason = STALE, f"no successful sync for {_span(now - last_ok_at)}"
    return SyncStatus(
        state, reason, last_ok_at, last_ok_source, running, has_tickets, rejected, is_read_only(engine), demo_psa
    )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class ChangeWatch:
    """Tells, cheaply, whether the database changed since the last call to `changed()`.

    On SQLite `PRAGMA data_version` (on one connection kept for it) moves whenever another
    connection commits, which also catches pages stored while a sync runs. On other
    databases the sync_runs table is the signal (a run starting or finishing), and while a
    run is in progress every check reports a change, since its pages land meanwhile.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._last: tuple | None = None
        self._lock = threading.Lock()
        self._pragma_conn = engine.raw_connection() if engine.dialect.name == "sqlite" else None

    def token(self) -> tuple:
        with self.engine.connect() as conn:
            runs = conn.execute(
                select(func.max(sync_runs.c.id), func.max(sync_runs.c.finished_at), func.count()).select_from(sync_runs)
            ).one()
            running = conn.execute(select(func.count()).where(sync_runs.c.status == "running")).scalar()
            if running and dead_run_reason(conn, utcnow()) is not None:
                running = 0  # a dead run lands no more pages: no need to re-read on every check
        version = None
        if self._pragma_conn is not None:
            cursor = self._pragma_conn.cursor()
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            version = row[0] if row else None
            cursor.close()
        return (tuple(runs), running, version)

    def changed(self) -> bool:
        """True on the first call, and whenever the database changed since the previous one."""
        with self._lock:
            token = self.token()
            running = token[1] > 0 and self._pragma_conn is None
            changed = token != self._last or running
            self._last = token
            return changed

    def close(self) -> None:
        if self._pragma_conn is not None:
            self._pragma_conn.close()
            self._pragma_conn = None
