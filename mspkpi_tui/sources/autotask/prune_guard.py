"""Before a full Autotask pass deletes rows it did not list: make sure they are really gone.

A listing can miss a row the PSA still has (the id walk once began above id 0 and so
never listed the MSP's own "zero company"), and deleting it would cut every ticket and
time entry that points at it. So a row is pruned only when a query by its id finds
nothing in the PSA and no stored row of another entity still points at it (rows that
belong to it, such as a ticket's events, go with it and do not count).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from mspkpi_tui.store.models import ENTITY_TABLES, table

# Rows that are part of the row they point at: they never keep it alive.
OWNED_TABLES = {"ticket_events", "ticket_notes", "opportunity_stage_changes"}
CHUNK = 500


def unlisted(engine: Engine, source: str, entity: str, seen: set[str]) -> tuple[int, list[str]]:
    """(how many rows are stored, the source ids of those the pass did not list)."""
    stored_rows = table(ENTITY_TABLES[entity])
    with engine.connect() as conn:
        stored = set(conn.execute(select(stored_rows.c.source_id).where(stored_rows.c.source == source)).scalars())
        return len(stored), sorted(stored - seen)


def still_referenced(engine: Engine, source: str, entity: str, source_ids: list[str]) -> set[str]:
    """Which of these rows a stored row of another entity still points at."""
    stored_rows = table(ENTITY_TABLES[entity])
    children = [
        fk.parent
        for name, model in ENTITY_TABLES.items()
        if name not in OWNED_TABLES
        for fk in table(model).foreign_keys
        if fk.column.table is stored_rows
    ]
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(source_ids), CHUNK):  # bounded: SQL parameter limits
            part = source_ids[start : start + CHUNK]
            local = dict(
                conn.execute(
                    select(stored_rows.c.id, stored_rows.c.source_id).where(
                        stored_rows.c.source == source, stored_rows.c.source_id.in_(part)
                    )
                ).all()
            )
            for column in children if local else []:
                pointed = conn.execute(select(column).distinct().where(column.in_(list(local)))).scalars()
                found.update(local[i] for i in pointed)
    return found


def keep_alive(
    engine: Engine,
    source: str,
    entity: str,
    seen: set[str],
    find_by_id: Callable[[list[int]], list[dict]] | None,
    max_share: float,
) -> tuple[set[str], set[str]]:
    """(ids the PSA still has by id, ids gone from the PSA but still pointed at): neither may be pruned.

    When the listing lacks more than `max_share` of the stored rows, nothing is checked: the
    prune refuses that on its own (a truncated answer), and asking for each id would cost
    thousands of requests."""
    stored, missing = unlisted(engine, source, entity, seen)
    if not missing or len(missing) > max_share * stored:
        return set(), set()
    present: set[str] = set()
    if find_by_id is not None:
        numbers = [int(s) for s in missing if s.isdigit()]
        present = {str(r.get("id")) for r in find_by_id(numbers) if isinstance(r, dict)} if numbers else set()
    pointed_at = still_referenced(engine, source, entity, [s for s in missing if s not in present])
    return present, pointed_at
