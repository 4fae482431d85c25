"""The one synchronizer loop, driven by a third, minimal PSA: declarations plus a reader over
in-memory pages (the PSA's side), into a real database through the store's writer. The
Autotask and ConnectWise suites check the same loop through their fake HTTP servers."""

from __future__ import annotations

import threading
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from mspkpi_tui.sources.synchronizer import Deletion, Reference, Synchronizer, SyncPass
from mspkpi_tui.store import models
from mspkpi_tui.store.writer import SyncWriter

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PAGE = 2


class TinyPsa:
    """Lists of records with an `updated` time; pages of PAGE in id order, filtered by cursor."""

    def __init__(self) -> None:
        self.lists: dict[str, list[dict]] = {"clients": [], "teams": [], "deleted": []}
        self.reads: list[tuple[str, str | None]] = []  # (endpoint, cursor) per read

    def pages(self, sync: Synchronizer, endpoint: str, cursor: str | None) -> Generator[list[dict], None, None]:
        self.reads.append((endpoint, cursor))
        rows = [r for r in self.lists[endpoint] if cursor is None or r[sync.cursor_field or "id"] >= cursor]
        for start in range(0, len(rows), sync.page_size):
            yield rows[start : start + sync.page_size]

    def records(self, page: list[dict]) -> list[dict]:
        return page

    def cursor_text(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M")


def steps(psa: TinyPsa, writer: SyncWriter, log: list[str]) -> list:
    def store(entity: str, name_field: str):
        def store_page(page: list[dict]) -> None:
            records = [{"id": r["id"], "name": r[name_field]} for r in page]
            writer.store_page(entity, records, [f"{entity} {r['id']}" for r in page])

        return store_page

    return [
        Reference("lookups", lambda: log.append("lookups read")),
        Synchronizer("queues", "teams", None, PAGE, store("queues", "team")),
        Synchronizer("companies", "clients", "updated", PAGE, store("companies", "client")),
        Synchronizer("deleted_clients", "deleted", "at", PAGE, lambda _page: None, Deletion.LOG, deletes="companies"),
    ]


def sync(engine, psa: TinyPsa, *, full: bool = False, now: datetime = T0, stop_after: int | None = None) -> Any:
    stop = threading.Event()
    log: list[str] = []
    with SyncWriter(engine, "tiny", "full" if full else "incremental", clock=lambda: now) as writer:
        declared = steps(psa, writer, log)
        if stop_after is not None:  # Ctrl-C while the stop_after'th page is being stored
            stored = [0]
            companies = declared[2]

            def store_then_stop(page: list[dict]) -> None:
                companies.store(page)
                stored[0] += 1
                if stored[0] == stop_after:
                    stop.set()

            declared[2] = Synchronizer("companies", "clients", "updated", PAGE, store_then_stop)
        finished = SyncPass(writer, full=full, now_fn=lambda: now, stop=stop).execute(psa, declared)
    assert log == ["lookups read"]
    return finished, writer.summary


def rows(engine, model) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(model.source_id)).scalars())


def cursors(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(models.SyncCursor.entity, models.SyncCursor.cursor)).all())


def status(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(models.SyncRun.status).order_by(models.SyncRun.id)).scalars())


def tenant(clients: int = 5) -> TinyPsa:
    psa = TinyPsa()
    psa.lists["teams"] = [{"id": "Q1", "team": "Desk"}, {"id": "Q2", "team": "Tier 2"}]
    psa.lists["clients"] = [
        {"id": f"C{i}", "client": f"Client {i}", "updated": "2026-11-01 00:00"} for i in range(clients)
    ]
    return psa


def test_resume_reads_from_the_cursor_and_whole_lists_every_time(engine):
    psa = tenant()
    assert sync(engine, psa)[0] is True
    assert rows(engine, models.Company) == [f"C{i}" for i in range(5)]
    assert cursors(engine) == {"companies": "2026-11-23 08:55", "deleted_clients": "2026-11-23 08:55"}
    psa.reads.clear()
    psa.lists["clients"].append({"id": "C9", "client": "New", "updated": "2026-11-23 08:58"})
    assert sync(engine, psa, now=T0 + timedelta(hours=1))[0] is True
    assert psa.reads == [("teams", None), ("clients", "2026-11-23 08:55"), ("deleted", "2026-11-23 08:55")]
    assert "C9" in rows(engine, models.Company)
    assert cursors(engine)["companies"] == "2026-11-23 09:55"


def test_a_stop_ends_the_pass_after_the_page_and_keeps_the_cursor(engine):
    finished, summary = sync(engine, tenant(), stop_after=1)
    assert finished is False
    assert rows(engine, models.Company) == ["C0", "C1"]  # whole pages only
    assert "companies" not in cursors(engine)
    assert summary.warnings == ["stopped before companies finished; the next pass picks up from there"]
    assert status(engine) == ["interrupted"]
    assert sync(engine, tenant())[0] is True  # the next pass picks up from there
    assert rows(engine, models.Company) == [f"C{i}" for i in range(5)]


def test_a_full_pass_prunes_children_first_and_refuses_a_mass_delete(engine):
    psa = tenant(clients=10)
    sync(engine, psa)
    del psa.lists["clients"][0]
    psa.lists["teams"].pop()
    finished, summary = sync(engine, psa, full=True)
    assert finished is True and summary.pruned == {"companies": 1, "queues": 1}  # reverse step order
    assert "C0" not in rows(engine, models.Company) and rows(engine, models.Queue) == ["Q1"]
    psa.lists["clients"] = psa.lists["clients"][:0]  # an empty answer: 100% would go
    finished, summary = sync(engine, psa, full=True)
    assert len(rows(engine, models.Company)) == 9
    assert summary.warnings and "refusing to delete 9" in summary.warnings[0]


def test_a_deletion_log_is_read_from_its_cursor_only(engine):
    psa = tenant()
    psa.lists["deleted"] = [{"id": "C1", "at": "2026-11-01 00:00"}]
    sync(engine, psa)  # a first pass has nothing to delete: the log is not read
    assert ("deleted", None) not in psa.reads and "C1" in rows(engine, models.Company)
    psa.lists["deleted"] = [{"id": "C1", "at": "2026-11-23 09:30"}]
    sync(engine, psa, now=T0 + timedelta(hours=1))
    assert "C1" not in rows(engine, models.Company)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.Company)).scalar_one() == 4


def test_a_key_function_names_rows_whose_id_is_not_unique_alone(engine):
    """HaloPSA numbers actions per ticket: rows keyed (ticket, action) must all land, and a full
    pass must prune by the same key, not by the bare id shared between tickets."""
    psa = tenant()
    psa.lists["actions"] = [{"id": n, "ticket": t, "updated": "2026-11-01 00:00"} for t in ("A", "B") for n in (1, 2)]

    def key(record: dict) -> str:
        return f"{record['ticket']}:{record['id']}"

    def run(full: bool) -> Any:
        with SyncWriter(engine, "tiny", "full" if full else "incremental", clock=lambda: T0) as writer:

            def store(page: list[dict]) -> None:
                records = [{"id": key(r), "name": f"action {key(r)}"} for r in page]
                writer.store_page("queues", records, [key(r) for r in page])

            declared = [Synchronizer("queues", "actions", "updated", PAGE, store, key=key)]
            SyncPass(writer, full=full, now_fn=lambda: T0, stop=threading.Event()).execute(psa, declared)
        return writer.summary

    run(full=False)
    assert rows(engine, models.Queue) == ["A:1", "A:2", "B:1", "B:2"]
    psa.lists["actions"] = [a for a in psa.lists["actions"] if (a["ticket"], a["id"]) != ("B", 1)]
    summary = run(full=True)
    assert summary.pruned == {"queues": 1} and rows(engine, models.Queue) == ["A:1", "A:2", "B:2"]
