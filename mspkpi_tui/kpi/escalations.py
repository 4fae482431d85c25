"""Escalations: how many tickets were escalated in the period, why, at what priority, and open now.

When a ticket was escalated (its first escalation, counted once):
the earliest of its ``escalated_at`` (set by the source, e.g. from the escalation UDF) and
its escalation events (ticket_events into an escalation status or queue, or the escalation
field set; config [escalation]). An open ticket already escalated when first imported (in
an escalation status or queue, with neither) counts from its last activity time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, exists, false, func, or_, select, union, union_all

from mspkpi_tui.kpi.common import Refresh, Result, label, pct
from mspkpi_tui.kpi.rules import (
    at,
    escalation_event,
    in_escalation_state,
    is_escalated,
    is_open,
    ticket_events,
    tickets,
    window_days,
)
from mspkpi_tui.kpi.throughput import opened_in
from mspkpi_tui.store.escalation import escalation_event_rules

if TYPE_CHECKING:
    from mspkpi_tui.config import Config


@dataclass(frozen=True)
class EscalationFigures(Result):
    period_days: int
    total: int
    rate_pct: float | None  # escalated / opened in the same period
    open: int  # open tickets escalated now
    by_issue_type: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)  # the priority when escalated, where known


def escalation_events(config: Config, start: datetime | None = None, end: datetime | None = None, since=None):
    """(ticket_id, at) of escalation events, optionally in [start, end]: one select per rule,
    each a range of ix_ticket_events_new_value (field, new_value, at, ticket_id)."""
    e = ticket_events.c
    rules = escalation_event_rules(ticket_events, config.escalation.statuses, config.escalation.queues)
    window = (
        ([e.at >= at(start)] if start else [])
        + ([e.at <= at(end)] if end else [])
        + ([e.at >= since] if since is not None else [])
    )
    return union_all(*[select(e.ticket_id.label("ticket_id"), e.at.label("t")).where(*rule, *window) for rule in rules])


def escalated_now(config: Config):
    """An open ticket escalated by any route: current state, the source's marker, or an
    escalation event. The one rule behind the open-escalations count and its list. Only events since the oldest open ticket was created can belong to an
    open ticket, so only those are read (a short range of ix_ticket_events_new_value)."""
    open_tickets = tickets.alias("open_tickets")
    oldest_open = (
        select(func.min(open_tickets.c.created_at)).where(open_tickets.c.is_closed == false()).scalar_subquery()
    )
    recent_events = escalation_events(config, since=oldest_open).subquery()
    return and_(is_open(), or_(is_escalated(config), tickets.c.id.in_(select(recent_events.c.ticket_id))))


def first_escalations(config: Config, start: datetime, end: datetime):
    """A subquery (ticket_id, escalated_at) of tickets first escalated in [start, end].

    Candidates come from three index ranges (events, escalated_at, open tickets); only
    they are then looked up by id for their earliest marker, so the cost follows the
    number of escalations in the period, not the size of the tables."""
    fallback_time = func.coalesce(tickets.c.last_activity_at, tickets.c.created_at)
    no_event = ~exists().where(ticket_events.c.ticket_id == tickets.c.id, escalation_event(config))
    fallback = and_(is_open(), in_escalation_state(config), tickets.c.escalated_at.is_(None), no_event)
    in_window = escalation_events(config, start, end).subquery()
    candidates = union(
        select(in_window.c.ticket_id),
        select(tickets.c.id).where(tickets.c.escalated_at >= at(start), tickets.c.escalated_at <= at(end)),
        select(tickets.c.id).where(fallback, fallback_time >= at(start), fallback_time <= at(end)),
    ).cte("candidates")
    first_event = (
        select(func.min(ticket_events.c.at))
        .where(ticket_events.c.ticket_id == tickets.c.id, escalation_event(config))
        .scalar_subquery()
    )
    # Each candidate's markers (any of them may be NULL), read in one pass over the candidates'
    # rows; min() over them skips NULLs. The CTE is referenced three times, so both databases
    # compute it once (a join per marker read each ticket row three times).
    markers = (
        select(
            tickets.c.id.label("ticket_id"),
            first_event.label("event"),
            tickets.c.escalated_at.label("marked"),
            case((fallback, fallback_time), else_=None).label("fallback"),
        )
        .select_from(candidates.join(tickets, tickets.c.id == candidates.c.ticket_id))
        .cte("markers")
    )
    each = union_all(
        *[select(markers.c.ticket_id, markers.c[name].label("t")) for name in ("event", "marked", "fallback")]
    ).subquery()
    first = select(each.c.ticket_id, func.min(each.c.t).label("escalated_at")).group_by(each.c.ticket_id).subquery()
    return (
        select(first.c.ticket_id, first.c.escalated_at)
        .where(first.c.escalated_at >= at(start), first.c.escalated_at <= at(end))
        .subquery()
    )


def priority_when_escalated(escalated_at):
    """The ticket's priority at `escalated_at`: the last priority change before it, else the
    old value of the first change after it, else the current priority."""
    changes = ticket_events.c
    before = (
        select(changes.new_value)
        .where(changes.ticket_id == tickets.c.id, changes.field == "priority", changes.at <= escalated_at)
        .order_by(changes.at.desc())
        .limit(1)
        .scalar_subquery()
    )
    after = (
        select(changes.old_value)
        .where(changes.ticket_id == tickets.c.id, changes.field == "priority", changes.at > escalated_at)
        .order_by(changes.at)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(before, after, tickets.c.priority)


def first_escalation_rows(conn, config: Config, start: datetime, end: datetime):
    """(escalated_at, issue_type, priority when escalated, priority now, rank now) of the
    tickets first escalated in [start, end]."""
    first = first_escalations(config, start, end)
    query = select(
        first.c.escalated_at,
        tickets.c.issue_type,
        priority_when_escalated(first.c.escalated_at),
        tickets.c.priority,
        tickets.c.priority_rank,
    ).select_from(first.join(tickets, tickets.c.id == first.c.ticket_id))
    return conn.execute(query).all()


def shared_window_start(now: datetime, config: Config) -> datetime:
    """The earliest first escalation any area of a refresh asks for: this area's period or
    the trends' window (whichever is earlier)."""
    _days, bounds = window_days(now, config)
    return min(now - timedelta(days=int(config.escalation.period_days)), bounds[0][0])


def first_escalations_since(conn, config: Config, start: datetime, now: datetime, refresh: Refresh | None = None):
    """first_escalation_rows for [start, now]. Within one report refresh the rows are read
    once, for the widest window the areas need, and each area keeps its own part."""
    if refresh is None:
        return first_escalation_rows(conn, config, start, now)
    wide = shared_window_start(now, config)
    if start < wide:  # not a window the refresh shares
        return first_escalation_rows(conn, config, start, now)
    rows = refresh.once(("first_escalations", wide, now), lambda: first_escalation_rows(conn, config, wide, now))
    return [row for row in rows if row[0] >= start]


def escalation_figures(
    engine: Engine, now: datetime, config: Config, refresh: Refresh | None = None
) -> EscalationFigures:
    days = int(config.escalation.period_days)
    start = now - timedelta(days=days)
    open_query = select(func.count()).select_from(tickets).where(escalated_now(config))
    with engine.connect() as conn:
        rows = first_escalations_since(conn, config, start, now, refresh)
        opened = opened_in(conn, start, now, refresh)  # read once with the service figures' 30 days
        open_now = conn.execute(open_query).scalar_one()
    by_type: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for _escalated_at, issue_type, priority_then, priority_now, rank_now in rows:
        by_type[label(issue_type)] = by_type.get(label(issue_type), 0) + 1
        key = label(priority_then)
        by_priority[key] = by_priority.get(key, 0) + 1
        if priority_then == priority_now:
            ranks[key] = min(ranks.get(key, rank_now), rank_now)
    return EscalationFigures(
        period_days=days,
        total=len(rows),
        rate_pct=pct(len(rows), opened),
        open=open_now,
        by_issue_type=dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_priority=dict(sorted(by_priority.items(), key=lambda kv: (ranks.get(kv[0], 99), kv[0]))),
    )
