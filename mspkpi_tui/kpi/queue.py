"""Queue: the open tickets now, by priority, status and queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from mspkpi_tui.kpi.common import Result, label
from mspkpi_tui.kpi.rules import is_open, queues, tickets

if TYPE_CHECKING:
    from mspkpi_tui.config import Config


@dataclass(frozen=True)
class QueueFigures(Result):
    open: int
    unassigned: int
    by_priority: dict[str, int] = field(default_factory=dict)  # most urgent first
    by_status: dict[str, int] = field(default_factory=dict)  # largest first
    by_queue: dict[str, int] = field(default_factory=dict)  # largest first


def queue_figures(engine: Engine, now: datetime, config: Config) -> QueueFigures:
    """One grouped query over the open tickets, shaped in Python. It groups by a prefix of
    ix_tickets_open_cover's columns, in their order, so SQLite reads the index in group
    order (no sort, no join per row); the few queue names are looked up separately."""
    query = (
        select(
            tickets.c.priority_rank,
            tickets.c.priority,
            tickets.c.status,
            tickets.c.queue_id,
            func.count(),
            func.count(tickets.c.assigned_resource_id),
        )
        .where(is_open())
        .group_by(tickets.c.priority_rank, tickets.c.priority, tickets.c.status, tickets.c.queue_id)
    )
    with engine.connect() as conn:
        groups = conn.execute(query).all()
        names: dict[int, str] = {
            i: n for i, n in conn.execute(select(queues.c.id, queues.c.name))
        }  # a few dozen queues at most
    rows = [
        (priority, rank, status, names.get(queue_id), n, n - assigned)
        for rank, priority, status, queue_id, n, assigned in groups
    ]
    total = n_unassigned = 0
    priorities: dict[str, list[int]] = {}  # label -> [best rank, n]
    statuses: dict[str, int] = {}
    by_queue: dict[str, int] = {}
    for priority, rank, status, queue, n, unassigned in rows:
        total += n
        n_unassigned += unassigned
        entry = priorities.setdefault(label(priority), [rank, 0])
        entry[0], entry[1] = min(entry[0], rank), entry[1] + n
        statuses[label(status)] = statuses.get(label(status), 0) + n
        by_queue[label(queue)] = by_queue.get(label(queue), 0) + n
    return QueueFigures(
        open=total,
        unassigned=n_unassigned,
        by_priority={k: v[1] for k, v in sorted(priorities.items(), key=lambda kv: (kv[1][0], kv[0]))},
        by_status=_largest_first(statuses),
        by_queue=_largest_first(by_queue),
    )


def _largest_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
