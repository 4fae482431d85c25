"""The ticket fields an action can change, and how a value is compared and shown.

Values are what the store keeps: status, priority and queue as the PSA's labels (queue is
the ConnectWise board), assignee as the resource's source id (None = unassigned).
"""

from __future__ import annotations

FIELDS = ("status", "priority", "queue", "assignee", "escalation")
# "escalation" is the Autotask escalation UDF ([escalation] udf): the time it was set, as text.

TicketValues = dict[str, str | None]


def same(a: str | None, b: str | None) -> bool:
    """Labels compare without case or surrounding blanks (the PSA's web app ignores both)."""
    return (a or "").strip().casefold() == (b or "").strip().casefold()
