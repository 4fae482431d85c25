"""Checking a status, priority or queue against the PSA's own picklist, as the last sync stored it.

Nothing here knows a value of any PSA: Autotask's statuses, priorities and queues are per
tenant, ConnectWise's statuses belong to a board (the picklist's scope is the board's name).
A value that is not in the stored list is refused before anything is queued, with the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from mspkpi_tui.actions.errors import ActionError
from mspkpi_tui.actions.fields import same
from mspkpi_tui.store.models import PicklistValue, Queue, table

SCOPED = {"connectwise": {"status"}}  # fields whose values belong to a board in that PSA
PSA_NAMES = {"autotask": "Autotask", "connectwise": "ConnectWise", "demo": "the demo PSA"}


@dataclass(frozen=True)
class Choice:
    value: str  # the PSA's id
    label: str
    active: bool


def scoped(source: str, field: str) -> bool:
    return field in SCOPED.get(source, set())


def choices(engine: Engine, source: str, field: str, scope: str | None = None) -> list[Choice]:
    """The stored values of a picklist in the PSA's sort order (a board's statuses when `scope`)."""
    p = table(PicklistValue)
    query = select(p.c.value, p.c.label, p.c.active).where(p.c.source == source, p.c.field == field)
    if scope is not None:
        query = query.where(p.c.scope == scope)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(p.c.sort_order, p.c.label)).all()
    seen: dict[str, Choice] = {}
    for row in rows:  # unscoped: a status on several boards is listed once
        seen.setdefault(row.label.casefold(), Choice(row.value, row.label, row.active))
    return list(seen.values())


def labels(engine: Engine, source: str, field: str, scope: str | None = None) -> list[str]:
    """What a picker offers: the active labels."""
    found = [c.label for c in choices(engine, source, field, scope) if c.active]
    if field == "queue" and not found:  # synced before picklists were stored: the queues table
        q = table(Queue)
        with engine.connect() as conn:
            found = list(conn.scalars(select(q.c.name).where(q.c.source == source).order_by(q.c.name)))
    return found


def check(engine: Engine, source: str, field: str, wanted: str, board: str | None = None) -> str:
    """The PSA's spelling of `wanted`, or ActionError naming what the picklist holds."""
    scope = board if scoped(source, field) else None
    known = choices(engine, source, field, scope)
    if field == "queue" and not known:
        known = [Choice(label, label, True) for label in labels(engine, source, "queue")]
    psa = PSA_NAMES.get(source, source)
    where = f"board {board}" if scope is not None else psa
    if not known:
        if scope is not None:
            raise ActionError(f"{psa} lists no statuses for board {board!r} (run mspkpi sync {source})")
        raise ActionError(f"no {field} picklist synced from {psa} yet: run mspkpi sync {source} first")
    found = next((c for c in known if same(c.label, wanted)), None)
    shown = ", ".join(c.label for c in known if c.active)
    if found is None:
        what = f"a status of {where}" if scope is not None else f"a {field} of {where}"
        raise ActionError(f"{field} {wanted.strip()!r} is not {what} (it has: {shown})")
    if not found.active:
        raise ActionError(f"{field} {found.label!r} is inactive in {where} (active: {shown})")
    return found.label
