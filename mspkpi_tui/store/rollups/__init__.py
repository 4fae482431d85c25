"""Rollups the KPI engine reads instead of scanning millions of rows, kept exact at write time.

One module per rollup, each stating the invariant it keeps:

- ``completion_hours``: ``tickets.time_entry_count`` and ``ticket_completion_hours`` (first
  contact resolution);
- ``response_hours``: ``ticket_response_hours`` (service times, SLA compliance);
- ``resource_days``: ``resource_day_hours`` (team hours);
- ``flow_hours``: ``ticket_flow_hours`` (the Trends' opened, closed, backlog and aged series);
- ``company_days``: ``company_days`` (the Clients pane, a company page, the review);
- ``pending``: the keys writes marked, and ``flush_pending`` that recounts them.

The store's writer flushes at the end of each entity's pass before its cursor moves, after
prunes and deletes, when a run ends, and when a run starts (repairing what a killed run
left): after a sync a reader never sees a rollup disagree with its rows; while a pass is
storing pages, the rollups lag it. Writers that bypass ingest (a bulk loader) call
``rebuild`` afterwards.
"""

from __future__ import annotations

from sqlalchemy import Connection

from mspkpi_tui.store.rollups.company_days import rebuild_company_days
from mspkpi_tui.store.rollups.completion_hours import (
    FIRST_TOUCH_MAX_ENTRIES,
    completion_hours,
    fcr_counts,
    first_touch,
    rebuild_ticket_rollups,
)
from mspkpi_tui.store.rollups.flow_hours import FLOW_COLUMNS, flow_hours, rebuild_flow_hours
from mspkpi_tui.store.rollups.pending import flush_pending, mark_pending, pending_days, pending_hours, pending_tickets
from mspkpi_tui.store.rollups.resource_days import (
    billable_hours,
    customer_facing_hours,
    rebuild_resource_days,
    resource_days,
)
from mspkpi_tui.store.rollups.response_hours import (
    RESPONSE_COLUMNS,
    rebuild_response_hours,
    response_hours,
    response_sums,
)
from mspkpi_tui.store.timeslots import DAY, HOUR, day_ceil, day_floor, epoch_seconds, hour_ceil, hour_floor


def rebuild(conn: Connection) -> None:
    """Recompute every rollup from the base tables (after a bulk load that bypassed ingest)."""
    rebuild_ticket_rollups(conn)
    rebuild_response_hours(conn)
    rebuild_resource_days(conn)
    rebuild_flow_hours(conn)
    rebuild_company_days(conn)


__all__ = [
    "DAY",
    "FIRST_TOUCH_MAX_ENTRIES",
    "FLOW_COLUMNS",
    "HOUR",
    "RESPONSE_COLUMNS",
    "billable_hours",
    "completion_hours",
    "customer_facing_hours",
    "day_ceil",
    "day_floor",
    "epoch_seconds",
    "fcr_counts",
    "flow_hours",
    "first_touch",
    "flush_pending",
    "hour_ceil",
    "hour_floor",
    "mark_pending",
    "pending_days",
    "pending_hours",
    "pending_tickets",
    "rebuild",
    "rebuild_flow_hours",
    "rebuild_resource_days",
    "rebuild_response_hours",
    "rebuild_ticket_rollups",
    "resource_days",
    "response_hours",
    "response_sums",
]
