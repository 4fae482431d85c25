"""store/driver.py sends what SQLAlchemy would: the same rows come back either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mspkpi_tui.store import rollups
from mspkpi_tui.store.driver import DriverStatement, sqlite_utc_text
from mspkpi_tui.store.ingest import table_of
from mspkpi_tui.store.types import UTCDateTime

MOMENTS = [
    datetime(2026, 11, 2, 10, 0, tzinfo=UTC),  # no microseconds
    datetime(2026, 11, 2, 10, 0, 0, 1500, tzinfo=UTC),
    datetime(2026, 11, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # another zone: next UTC day
    datetime(1971, 1, 1, tzinfo=timezone(timedelta(hours=14))),
]


def test_utc_text_on_sqlite_is_what_sqlalchemy_writes():
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    for moment in MOMENTS:
        assert sqlite_utc_text(moment) == process(moment)
    assert sqlite_utc_text(None) is None


def test_rows_written_on_the_driver_are_found_by_sqlalchemy(engine):
    resources, hours = table_of("resources"), rollups.pending_hours
    with engine.begin() as conn:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        rows = [{"source": "t", "source_id": f"R{i}", "name": f"Tech {i}", "active": i % 2 == 0} for i in range(3)]
        DriverStatement(conn, insert(resources), resources, list(rows[0]), "test").executemany(conn, rows)
        stored = conn.execute(
            select(resources.c.source_id, resources.c.active, resources.c.weekly_hours).order_by(resources.c.source_id)
        ).all()
        assert stored == [("R0", True, 40.0), ("R1", False, 40.0), ("R2", True, 40.0)]  # omitted: the default

        DriverStatement(conn, insert(hours), hours, ["hour"], "test").executemany(conn, [{"hour": m} for m in MOMENTS])
        for moment in MOMENTS:  # compared as stored (text on SQLite): found only if written alike
            assert conn.execute(select(hours.c.hour).where(hours.c.hour == moment)).scalar_one() == moment
