"""The store and the sync runner on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from mspkpi_tui.errors import SyncError
from mspkpi_tui.store.models import Company, RejectedRecord, SyncLock, Ticket
from mspkpi_tui.store.models import SyncRun as SyncRunRow
from mspkpi_tui.store.writer import SyncWriter

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ticket(sid, **extra):
    record = {
        "id": sid,
        "number": f"T{sid}",
        "title": "Printer offline",
        "status": "New",
        "is_closed": False,
        "priority": "High",
        "priority_rank": 2,
        "created_at": "2026-11-23T08:00:00+01:00",
    }
    return record | extra


def count(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_upsert_updates_instead_of_duplicating(engine):
    with SyncWriter(engine, "t") as run:
        run.store_page("companies", [{"id": "C1", "name": "Acme"}], ["x:1"])
        run.store_page("tickets", [ticket("1", company_id="C1"), ticket("2")], ["x:1", "x:2"])
    with SyncWriter(engine, "t") as run:
        run.store_page("tickets", [ticket("1", title="Printer fixed", company_id="C1")], ["x:1"])
    assert count(engine, Ticket) == 2
    with engine.connect() as conn:
        title, created = conn.execute(select(Ticket.title, Ticket.created_at).where(Ticket.source_id == "1")).one()
    assert title == "Printer fixed"
    assert created == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # stored in UTC, read back aware


def test_the_same_source_id_in_two_sources_is_two_rows(engine):
    for source in ("autotask", "connectwise"):
        with SyncWriter(engine, source) as run:
            run.store_page("companies", [{"id": "1", "name": source}], ["x:1"])
    assert count(engine, Company) == 2


def test_bad_records_are_kept_with_their_reason_and_the_rest_stored(engine):
    with SyncWriter(engine, "t") as run:
        stored = run.store_page(
            "tickets",
            [ticket("1"), ticket("2", company_id="nope"), ticket("3", created_at="1900-01-01T00:00:00")],
            ["f:1", "f:2", "f:3"],
        )
    assert stored == 1
    with engine.connect() as conn:
        rows = conn.execute(
            select(RejectedRecord.location, RejectedRecord.reason, RejectedRecord.raw).order_by(RejectedRecord.location)
        ).all()
        run_row = conn.execute(select(SyncRunRow)).one()
    assert [r.location for r in rows] == ["f:2", "f:3"]
    assert "names no record in companies" in rows[0].reason
    assert '"company_id": "nope"' in rows[0].raw
    assert "time zone" in rows[1].reason or "placeholder" in rows[1].reason
    assert run_row.rejected == 2 and run_row.status == "ok" and run_row.counts == {"tickets": 1}


def test_a_second_sync_is_refused_while_one_runs(engine):
    with SyncWriter(engine, "t"):
        with pytest.raises(SyncError, match="another sync is already running"):
            with SyncWriter(engine, "other"):
                pass
    with SyncWriter(engine, "t"):  # released afterwards
        pass


def test_the_lock_of_a_killed_sync_is_taken_over(engine):
    import socket

    with engine.begin() as conn:
        conn.execute(
            SyncLock.__table__.insert().values(name="sync", holder=f"{socket.gethostname()}:999999999", acquired_at=T0)
        )
        conn.execute(
            SyncRunRow.__table__.insert().values(source="t", mode="full", started_at=T0, status="running", counts={})
        )
    with SyncWriter(engine, "t"):
        pass
    with engine.connect() as conn:
        statuses = conn.execute(select(SyncRunRow.status).order_by(SyncRunRow.id)).scalars().all()
    assert statuses == ["interrupted", "ok"]


def test_a_failed_run_is_recorded_with_its_error(engine):
    with pytest.raises(RuntimeError):
        with SyncWriter(engine, "t"):
            raise RuntimeError("zone moved\nsecond line")
    with engine.connect() as conn:
        row = conn.execute(select(SyncRunRow)).one()
        assert conn.execute(select(func.count()).select_from(SyncLock)).scalar_one() == 0
    assert (row.status, row.error) == ("failed", "zone moved")


def test_cursor_round_trip(engine):
    with SyncWriter(engine, "t") as run:
        assert run.get_cursor("tickets") is None
        run.set_cursor("tickets", "2026-11-23T08:55:00Z")
        run.set_cursor("tickets", "2026-11-23T09:55:00Z")
        assert run.get_cursor("tickets") == "2026-11-23T09:55:00Z"


def test_prune_deletes_missing_rows_but_refuses_a_mass_delete(engine):
    companies = [{"id": f"C{i}", "name": f"Co {i}"} for i in range(20)]
    with SyncWriter(engine, "t", "full") as run:
        run.store_page("companies", companies, lambda i: f"p:{i}")
        assert run.prune("companies", {c["id"] for c in companies[:18]}) == 2
        assert run.prune("companies", {"C0"}) == 0  # 17 of 18 would go: refused
        assert "refusing to delete 17" in run.summary.warnings[0]
    assert count(engine, Company) == 18


def test_sqlite_is_opened_for_concurrent_readers(sqlite_url):
    from mspkpi_tui.store.engine import open_database

    engine = open_database(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_timestamps_round_trip_as_aware_utc(engine):
    local = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    with SyncWriter(engine, "t") as run:
        run.store_page(
            "tickets", [ticket("1", created_at=local.isoformat(), first_response_due="2026-03-29T07:00:00.000Z")], ["x"]
        )
    with engine.connect() as conn:
        created, due = conn.execute(select(Ticket.created_at, Ticket.first_response_due)).one()
        # comparisons in SQL use the same normalisation on both databases
        later = conn.execute(
            select(func.count()).select_from(Ticket).where(Ticket.first_response_due > local)
        ).scalar_one()
    assert created == local and created.tzinfo is not None
    assert due == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert later == 1
