"""The KPI rollups are recounted at the end of a pass from keys each page marks in its own
transaction: a sync killed before the recount leaves the marks, and the next run repairs
them; deletes and prunes leave no rollup row behind. A pass the user stops is recorded as
interrupted, not ok.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.autotask_server import AutotaskFake, populate
from fakes.connectwise_server import ConnectWiseFake
from sqlalchemy import func, select

from mspkpi_tui.clock import utcnow
from mspkpi_tui.config import Config
from mspkpi_tui.store import models, rollups
from mspkpi_tui.store.writer import SyncWriter

REPO = Path(__file__).resolve().parent.parent
PENDING = (rollups.pending_tickets, rollups.pending_hours, rollups.pending_days)


def iso(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def ticket(sid: str, completed: str | None = None, responded: str | None = None) -> dict:
    return {
        "id": sid,
        "number": sid,
        "title": sid,
        "status": "Complete" if completed else "New",
        "is_closed": bool(completed),
        "priority": "P2",
        "created_at": iso("2026-11-02 08:00"),
        "completed_at": iso(completed) if completed else None,
        "resolved_at": iso(completed) if completed else None,
        "first_response_at": iso(responded) if responded else None,
    }


def entry(sid: str, resource: str, started: str, hours: float, ticket_id: str | None = None) -> dict:
    return {
        "id": sid,
        "resource_id": resource,
        "ticket_id": ticket_id,
        "started_at": iso(started),
        "hours": hours,
        "billable": True,
    }


def store(engine, **pages: list[dict]) -> None:
    with SyncWriter(engine, "t") as run:
        for entity, records in pages.items():
            run.store_page(entity, records, [f"{entity}:{i}" for i in range(len(records))])
        assert not run.summary.rejects, run.summary.rejects


def seed(engine) -> None:
    store(
        engine,
        resources=[{"id": "R1", "name": "Alice"}, {"id": "R2", "name": "Bob"}],
        tickets=[ticket("A", "2026-11-02 10:15", "2026-11-02 09:00"), ticket("B", "2026-11-02 11:30"), ticket("C")],
        time_entries=[entry("E1", "R1", "2026-11-02 09:00", 1.0, "A"), entry("E2", "R2", "2026-11-03 09:00", 2.0, "B")],
    )


def rollup_state(conn) -> dict:
    t = models.Ticket.__table__
    return {
        "counts": sorted(conn.execute(select(t.c.source_id, t.c.time_entry_count)).all()),
        "completion": sorted(conn.execute(select(rollups.completion_hours)).all()),
        "response": sorted(conn.execute(select(rollups.response_hours)).all()),
        "days": sorted(conn.execute(select(rollups.resource_days)).all()),
    }


def stored_and_rebuilt(engine) -> tuple[dict, dict]:
    """The rollups as stored, and as recomputed from the base rows (rolled back)."""
    with engine.connect() as conn:
        stored = rollup_state(conn)
        conn.rollback()
        with conn.begin() as tx:
            rollups.rebuild(conn)
            rebuilt = rollup_state(conn)
            tx.rollback()
    return stored, rebuilt


def pending(engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(table)).scalar_one() for table in PENDING)


KILLED_RUN = """
import os, sys
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.writer import SyncWriter
import test_rollup_pending as t

run = SyncWriter(open_database(sys.argv[1]), "t").__enter__()
run.store_page("tickets", [t.ticket("C", "2026-11-02 10:40", "2026-11-02 10:00")], ["p:1"])
run.store_page("time_entries", [t.entry("E2", "R1", "2026-11-02 12:00", 3.0, "A"), t.entry("E3", "R2", "2026-11-04 09:00", 1.0, "C")], ["p:1", "p:2"])
os._exit(0)  # killed: no end of pass, no end of run
"""


def test_a_killed_sync_leaves_its_marks_and_the_next_run_recounts_them(engine, db_url):
    seed(engine)
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored == rebuilt and pending(engine) == 0

    done = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, db_url], cwd=REPO / "tests", capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored != rebuilt  # the pages are stored, their recount is still pending
    assert pending(engine) > 0

    with SyncWriter(engine, "t"):
        pass  # a run starts by recounting what a killed run left
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored == rebuilt and pending(engine) == 0
    assert dict(stored["counts"]) == {"A": 2, "B": 0, "C": 1}
    with engine.connect() as conn:
        statuses = conn.execute(select(models.SyncRun.status).order_by(models.SyncRun.id)).scalars().all()
    assert statuses == ["ok", "interrupted", "ok"]


def test_a_finished_run_leaves_nothing_pending_and_unchanged_inputs_mark_nothing(engine):
    seed(engine)
    with SyncWriter(engine, "t") as run:
        # a status change and a re-sent entry change no rollup input
        run.store_page(
            "tickets", [{**ticket("A", "2026-11-02 10:15", "2026-11-02 09:00"), "status": "Closed"}], ["p:1"]
        )
        run.store_page("time_entries", [entry("E1", "R1", "2026-11-02 09:00", 1.0, "A")], ["p:1"])
        assert pending(engine) == 0
        run.store_page("time_entries", [entry("E1", "R1", "2026-11-02 09:00", 1.5, "A")], ["p:1"])
        assert pending(engine) == 1  # its day only: the ticket keeps its entry
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored == rebuilt and pending(engine) == 0


def test_deletes_and_prunes_leave_no_rollup_row_behind(engine):
    seed(engine)
    with SyncWriter(engine, "t") as run:
        run.delete("tickets", ["A"])  # as Autotask's DeletedTicketLogs reports: its entry E1 goes too
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored == rebuilt
    assert len(stored["days"]) == 1 and len(stored["completion"]) == 1

    with SyncWriter(engine, "t", "full") as run:
        run.prune("resources", {"R1"})  # Bob goes, with his time entry and his day row
    stored, rebuilt = stored_and_rebuilt(engine)
    assert stored == rebuilt and stored["days"] == [] and pending(engine) == 0


def sync_statuses(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(select(models.SyncRun.status).order_by(models.SyncRun.id)).scalars().all()


@pytest.fixture
def sqlite_engine(sqlite_url):
    from mspkpi_tui.store.engine import open_database

    return open_database(sqlite_url)


def test_an_autotask_pass_stopped_by_the_user_is_recorded_as_interrupted(sqlite_engine, monkeypatch):
    from mspkpi_tui.sources.autotask import connector_from_config

    with AutotaskFake() as fake:
        populate(fake, tickets=20, time_entries=20)
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        connector = connector_from_config(Config())
        connector.sync(sqlite_engine, full=False, now_fn=utcnow, stop=threading.Event())
        stop = threading.Event()
        stop.set()  # Ctrl-C in --watch: the pass returns after the page under way
        connector.sync(sqlite_engine, full=False, now_fn=utcnow, stop=stop)
    assert sync_statuses(sqlite_engine) == ["ok", "interrupted"]


def test_a_connectwise_pass_stopped_by_the_user_is_recorded_as_interrupted(sqlite_engine, monkeypatch):
    from test_sync_connectwise import PAGE  # its small MSP
    from test_sync_connectwise import populate as populate_cw

    from mspkpi_tui.sources.connectwise import connector_from_config

    with ConnectWiseFake(max_page_size=PAGE) as fake:
        populate_cw(fake)
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        connector = connector_from_config(Config())
        connector.sync(sqlite_engine, full=False, now_fn=utcnow, stop=threading.Event())
        stop = threading.Event()
        stop.set()
        connector.sync(sqlite_engine, full=False, now_fn=utcnow, stop=stop)
    assert sync_statuses(sqlite_engine) == ["ok", "interrupted"]
