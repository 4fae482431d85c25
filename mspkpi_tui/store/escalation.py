"""The escalation rule, written once as SQL: which ticket events escalate a ticket.

An event escalates when the ticket moves into an escalation status or queue (config
``[escalation]``), or when the source's escalation field (an Autotask UDF, a level) is set
to a value. That field's "0" or empty text is a de-escalation, and NULL is no value: none of
them escalates. Every count, list and rollup of escalations builds on these clauses, so
they cannot disagree about a hostile value.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Table, and_, or_

CLEARED = ("", "0")  # the escalation field set to one of these is a de-escalation


def escalation_value_set(value: ColumnElement) -> ColumnElement:
    """The escalation field holds a value that escalates (not NULL, "", "0")."""
    return and_(value.is_not(None), value.not_in(CLEARED))


def escalation_event_rules(
    events: Table, statuses: Collection[str], queues: Collection[str]
) -> list[tuple[ColumnElement, ...]]:
    """One conjunction per route an event escalates by (each a range of ix_ticket_events_new_value)."""
    e = events.c
    rules: list[tuple[ColumnElement, ...]] = [(e.field == "escalation", escalation_value_set(e.new_value))]
    if statuses:
        rules.append((e.field == "status", e.new_value.in_(list(statuses))))
    if queues:
        rules.append((e.field == "queue", e.new_value.in_(list(queues))))
    return rules


def escalation_event(events: Table, statuses: Collection[str], queues: Collection[str]) -> ColumnElement:
    """A ticket event that escalates, by any route."""
    return or_(*[and_(*rule) for rule in escalation_event_rules(events, statuses, queues)])
