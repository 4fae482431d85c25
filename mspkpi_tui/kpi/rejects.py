"""The records the last syncs and imports could not store, with where they came from and why
(kept in rejected_records by the store). Behind the status line's "N records rejected" and
`mspkpi rejects`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from mspkpi_tui.store import schema

rejected = schema.rejected_records
sync_runs = schema.sync_runs


@dataclass(frozen=True)
class Reject:
    created_at: datetime
    source: str
    entity: str
    location: str
    reason: str


def last_run_rejected(conn) -> int:
    """How many records the last finished sync or import rejected (0 before any)."""
    found = conn.execute(
        select(sync_runs.c.rejected).where(sync_runs.c.status != "running").order_by(sync_runs.c.id.desc()).limit(1)
    ).scalar()
    return int(found or 0)


def list_rejects(engine: Engine, source: str | None = None, limit: int = 50) -> list[Reject]:
    """The newest rejects first, optionally of one source."""
    c = rejected.c
    query = select(c.created_at, c.source, c.entity, c.location, c.reason).order_by(c.id.desc()).limit(limit)
    if source is not None:
        query = query.where(c.source == source)
    with engine.connect() as conn:
        return [Reject(*row) for row in conn.execute(query)]
