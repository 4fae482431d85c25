"""The pending queue: which rollup keys a write may have changed, until they are recounted.

Invariant kept exact: after ``flush_pending`` commits, every rollup row agrees with its
base rows. Every write path of the store (ingest.upsert_rows, the deletes) marks the keys
it may have changed (before and after) in the rollup_pending_* tables, in the same
transaction as the write; ``flush_pending`` recounts them from the base tables (never
adding deltas, so a rollup row is always exactly what its slot holds) and clears them, in
one transaction. A killed sync leaves its marks behind; the next run recounts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from mspkpi_tui.store import models
from mspkpi_tui.store.driver import DriverStatement
from mspkpi_tui.store.rollups.company_days import refresh_company_days
from mspkpi_tui.store.rollups.completion_hours import refresh_completion_hours, refresh_time_entry_counts
from mspkpi_tui.store.rollups.flow_hours import refresh_flow_hours
from mspkpi_tui.store.rollups.resource_days import refresh_resource_days
from mspkpi_tui.store.rollups.response_hours import refresh_response_hours
from mspkpi_tui.store.timeslots import day_floor

pending_tickets = models.table(models.RollupPendingTicket)
pending_hours = models.table(models.RollupPendingHour)
pending_days = models.table(models.RollupPendingDay)


def mark_pending(
    conn: Connection,
    tickets: Iterable[int | None] = (),
    hours: Iterable[datetime] = (),
    days: Iterable[datetime] = (),
) -> None:
    """Remember, in the caller's transaction, what to recount: tickets whose time entries
    changed, UTC hours of ticket creations / completions / responses / resolutions, UTC days of
    time entries."""
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for table, column, keys in (
        (pending_tickets, "ticket_id", tickets),
        (pending_hours, "hour", hours),
        (pending_days, "day", days),
    ):
        values = [{column: key} for key in sorted({k for k in keys if k is not None})]
        if values:  # one compiled statement, many parameter sets, on the driver
            DriverStatement(conn, insert_(table).on_conflict_do_nothing(), table, [column], "ignore").executemany(
                conn, values
            )


def flush_pending(conn: Connection) -> None:
    """Recount every pending key from the base tables and clear them (in the caller's transaction).

    Recounting at the end of a pass instead of for every page makes a first sync count each
    ticket, hour and day once, instead of once for every page of time entries that touches it."""
    hours = set(conn.execute(select(pending_hours.c.hour)).scalars())
    days = set(conn.execute(select(pending_days.c.day)).scalars())
    has_tickets = conn.execute(select(pending_tickets.c.ticket_id).limit(1)).first() is not None
    if not (hours or days or has_tickets):
        return
    flipped = refresh_time_entry_counts(conn) if has_tickets else set()
    refresh_completion_hours(conn, hours | flipped)
    refresh_response_hours(conn, hours)
    refresh_flow_hours(conn, hours)
    refresh_resource_days(conn, days)
    refresh_company_days(conn, days | {day_floor(hour) for hour in hours | flipped})
    for table in (pending_tickets, pending_hours, pending_days):
        conn.execute(delete(table))
