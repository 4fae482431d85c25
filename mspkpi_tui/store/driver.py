"""Statements compiled once by SQLAlchemy and executed with many rows straight on the driver.

SQLAlchemy's per-row parameter handling (a dict per row, a bind processor call per value)
cost more CPU than SQLite's own work in a first sync of a million records. Here each value
still goes through its column type's bind processor, so what reaches the database is what
SQLAlchemy would send; the one shortcut is UTCDateTime on SQLite, written directly as the
text SQLAlchemy's SQLite DATETIME produces (tests/test_rollup_pending.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from mspkpi_tui.store.types import UTCDateTime


def sqlite_utc_text(value: datetime | None) -> str | None:
    """UTCDateTime's value on SQLite: naive UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class DriverStatement:
    """`stmt` (an INSERT into `table`, maybe with ON CONFLICT) for rows with these `columns`.
    Omitted columns get their scalar default, as SQLAlchemy would give them. Compiled forms
    are cached per (dialect, table, columns, kind)."""

    _cache: dict[tuple, tuple] = {}

    def __init__(self, conn, stmt, table: Table, columns: list[str], kind: str = "upsert"):
        key = (conn.dialect.name, table.name, tuple(columns), kind)
        if key not in self._cache:
            self._cache[key] = self._compile(conn.dialect, stmt, table, columns)
        self.sql, self.plan, self.positional = self._cache[key]
        self.names = [name for name, _process in self.plan]

    @staticmethod
    def _compile(dialect, stmt, table: Table, columns: list[str]) -> tuple:
        compiled = stmt.compile(dialect=dialect, column_keys=columns)
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        plan: list[tuple[str, Callable | None]] = []
        for name in names:
            column = table.c[name]
            if name not in columns:  # e.g. tickets.time_entry_count: only its default
                if column.default is None or not column.default.is_scalar:
                    raise ValueError(f"{table.name}.{name} needs a value")
                plan.append((name, lambda _absent, value=column.default.arg: value))
            elif dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
                plan.append((name, sqlite_utc_text))
            else:
                plan.append((name, column.type.dialect_impl(dialect).bind_processor(dialect)))
        return compiled.string, plan, compiled.positional

    def executemany(self, conn, rows: list[dict[str, Any]]) -> None:
        plan = self.plan
        params = []
        for row in rows:
            values = [process(row.get(name)) if process else row.get(name) for name, process in plan]
            params.append(tuple(values) if self.positional else dict(zip(self.names, values)))
        conn.exec_driver_sql(self.sql, params)
