"""Table dumps that compare two databases (SQLite or PostgreSQL) by content, not by local ids.

Local ids differ between runs (PostgreSQL spends sequence values on rolled-back and
upserted rows), so each reference is replaced by the source id of the row it points at.
Sync bookkeeping (runs, cursors, locks, rejects) is left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from mspkpi_tui.store.engine import make_engine
from mspkpi_tui.store.models import ENTITY_TABLES


def dump(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            source_ids = {
                name: dict(conn.execute(select(model.__table__.c.id, model.__table__.c.source_id)).all())
                for name, model in ENTITY_TABLES.items()
            }
            table_entity = {model.__table__.name: name for name, model in ENTITY_TABLES.items()}
            result = {}
            for name, model in ENTITY_TABLES.items():
                table = model.__table__
                refs = {fk.parent.name: table_entity[fk.column.table.name] for fk in table.foreign_keys}
                rows = []
                for row in conn.execute(select(table)).mappings():
                    rows.append(
                        tuple(
                            (
                                column,
                                _plain(
                                    source_ids[refs[column]].get(value)
                                    if column in refs and value is not None
                                    else value
                                ),
                            )
                            for column, value in sorted(row.items())
                            if column != "id"
                        )
                    )
                result[name] = sorted(rows, key=repr)
            return result
    finally:
        engine.dispose()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
