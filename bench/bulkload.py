"""Writing generated tables into a migrated store, fast.

The schema always comes from `open_database` (the Alembic migrations), so the benchmark
measures the real tables and indexes. Rows go in through the raw driver: `executemany`
on SQLite inside one transaction per table, `COPY` on PostgreSQL. Secondary indexes are
dropped while a table fills and rebuilt from their own definitions afterwards (one sort
instead of millions of random B-tree inserts); constraint indexes stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.columns import Table
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.models import ENTITY_TABLES

CHUNK = 100_000
FILLED = [*ENTITY_TABLES, "sync_runs"]


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def prepare(url: str, replace: bool) -> Engine:
    """A migrated, empty store at `url`: replaced if asked, refused if it already holds data."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = open_database(url)
    with engine.begin() as conn:
        if replace and path is None:
            names = ", ".join(FILLED)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name in FILLED:
            if conn.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first():
                raise MspkpiError(f"{name} in {url} already holds rows; pass --replace to start it afresh")
    return engine


def load(engine: Engine, tables: list[Table], log: Callable[[str], None] = print) -> None:
    if engine.dialect.name == "sqlite":
        _load_sqlite(engine, tables, log)
    else:
        _load_postgresql(engine, tables, log)


def _load_sqlite(engine: Engine, tables: list[Table], log) -> None:
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        db.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        # A fresh file being filled: no journal needed while loading; WAL again at the end.
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")  # 256 MiB
        db.execute("PRAGMA temp_store=MEMORY")
        for table in tables:
            started = time.perf_counter()
            indexes = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table.name,),
            ).fetchall()
            names = ", ".join(c.name for c in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            db.execute("BEGIN")
            for name, _ in indexes:
                db.execute(f'DROP INDEX "{name}"')
            insert = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
            for start in range(0, table.rows, CHUNK):
                db.executemany(insert, table.chunk_rows(start, min(start + CHUNK, table.rows), "sqlite"))
            for _, sql in indexes:
                db.execute(sql)
            db.execute("COMMIT")
            log(f"  {table.name:<26} {table.rows:>10,} rows  {time.perf_counter() - started:6.1f} s")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        raw.close()


def _load_postgresql(engine: Engine, tables: list[Table], log) -> None:
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        for table in tables:
            started = time.perf_counter()
            with db.cursor() as cur:
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s"
                    " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    (table.name,),
                )
                indexes = cur.fetchall()
                for name, _ in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                names = ", ".join(c.name for c in table.columns)
                with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for start in range(0, table.rows, CHUNK):
                        for row in table.chunk_rows(start, min(start + CHUNK, table.rows), "postgresql"):
                            copy.write_row(row)
                for _, sql in indexes:
                    cur.execute(sql)
                # Explicit ids were written: move the id sequence past them.
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), GREATEST(max(id), 1)) FROM {table.name}"
                )
                cur.execute(f"ANALYZE {table.name}")  # what autovacuum would do a minute later
            db.commit()
            log(f"  {table.name:<26} {table.rows:>10,} rows  {time.perf_counter() - started:6.1f} s")
    finally:
        raw.close()
