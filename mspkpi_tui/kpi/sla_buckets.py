"""The SLA buckets, in one table: each bucket's name, label, rule and the due time it is about.

The SLA figures count them (kpi/sla.py), the lists behind the figures select them
(kpi/tickets.py), and the SLA pane and the report show them in this order with these
labels, so a count and its list cannot use different rules or windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement

from mspkpi_tui.kpi.rules import (
    Periods,
    first_response_due_within,
    first_response_overdue,
    resolution_due_today,
    resolution_overdue,
    tickets,
)

DUE_SOON_HOURS = 1.0


@dataclass(frozen=True)
class SlaBucket:
    key: str  # the SlaFigures field that counts it
    label: str
    rule: Callable[[Periods], ColumnElement]  # open tickets in the bucket at periods.now
    due: Column  # the due time the bucket is about (its list is ordered by it)


SLA_BUCKETS: dict[str, SlaBucket] = {
    bucket.key: bucket
    for bucket in (
        SlaBucket(
            "first_response_overdue",
            "First response overdue",
            lambda p: first_response_overdue(p.now),
            tickets.c.first_response_due,
        ),
        SlaBucket(
            "first_response_due_1h",
            f"First response due within {DUE_SOON_HOURS:g} h",
            lambda p: first_response_due_within(p.now, DUE_SOON_HOURS),
            tickets.c.first_response_due,
        ),
        SlaBucket(
            "resolution_overdue",
            "Resolution overdue",
            lambda p: resolution_overdue(p.now),
            tickets.c.resolution_due,
        ),
        SlaBucket(
            "resolution_due_today",
            "Resolution due today",
            lambda p: resolution_due_today(p.now, p.end_of_today),
            tickets.c.resolution_due,
        ),
    )
}


def bucket(key: str) -> SlaBucket:
    try:
        return SLA_BUCKETS[key]
    except KeyError:
        raise ValueError(f"unknown SLA bucket {key!r}") from None
