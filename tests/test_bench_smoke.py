"""The benchmark tools work: a tiny generated MSP, stored as the store writes it, and one
benchmark run giving a figure for every area. No timing is asserted (speed is measured in
bench/, see bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from bench import kpi_bench
from bench.generate import generate
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.models import ENTITY_TABLES, Ticket, TimeEntry

REPO = Path(__file__).resolve().parent.parent
TINY = 0.002  # 2,000 tickets, 10,000 time entries
NOW = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)


@pytest.fixture
def tiny_db(db_url):
    counts = generate(db_url, scale=TINY, now=NOW)
    return db_url, counts


def test_generator_fills_every_table_with_consistent_rows(tiny_db):
    url, counts = tiny_db
    assert set(ENTITY_TABLES) <= set(counts)
    assert counts["tickets"] == 2000 and counts["time_entries"] == 10_000
    engine = open_database(url)
    tickets, entries = Ticket.__table__, TimeEntry.__table__
    try:
        with engine.connect() as conn:
            for name, expected in counts.items():
                assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == expected, name
            assert conn.execute(select(func.count()).where(tickets.c.is_closed.is_(False))).scalar_one() == 40
            # The rollup the store keeps matches the rows it counts.
            per_ticket = select(entries.c.ticket_id, func.count().label("n")).group_by(entries.c.ticket_id).subquery()
            mismatched = conn.execute(
                select(func.count())
                .select_from(tickets.outerjoin(per_ticket, per_ticket.c.ticket_id == tickets.c.id))
                .where(tickets.c.time_entry_count != func.coalesce(per_ticket.c.n, 0))
            ).scalar_one()
            assert mismatched == 0
            # ... and so do the rollups rebuilt after the bulk load.
            completed = conn.execute(select(func.count()).where(tickets.c.completed_at.is_not(None))).scalar_one()
            assert conn.execute(text("SELECT sum(completed) FROM ticket_completion_hours")).scalar_one() == completed
            # Nothing happens after the data's now; closed tickets are completed, open ones not.
            assert conn.execute(select(func.max(tickets.c.created_at))).scalar_one() <= NOW
            assert conn.execute(select(func.max(entries.c.started_at))).scalar_one() <= NOW
            assert (
                conn.execute(
                    select(func.count()).where(tickets.c.is_closed.is_(True), tickets.c.completed_at.is_(None))
                ).scalar_one()
                == 0
            )
            # Ids keep counting after the generated rows (PostgreSQL sequences were moved on).
            conn.execute(insert(tickets).values(**_ticket_like(conn, "orm-written")))
            conn.commit()
    finally:
        engine.dispose()


def _ticket_like(conn, source_id: str) -> dict:
    tickets = Ticket.__table__
    row = conn.execute(select(tickets).where(tickets.c.id == 1)).mappings().one()
    return {**{k: v for k, v in row.items() if k != "id"}, "source_id": source_id}


def test_generated_values_are_stored_exactly_as_the_store_writes_them(sqlite_url):
    """Raw SQLite text of a generated row equals that of the same values written through the
    store's column types (UTCDateTime text, booleans, dates)."""
    generate(sqlite_url, scale=TINY, now=NOW)
    engine = open_database(sqlite_url)
    try:
        with engine.begin() as conn:
            for table in (Ticket.__table__, TimeEntry.__table__, ENTITY_TABLES["timesheets"].__table__):
                row = conn.execute(select(table).where(table.c.id == 1)).mappings().one()
                copy = {**{k: v for k, v in row.items() if k != "id"}, "source_id": "orm-written"}
                new_id = conn.execute(insert(table).values(**copy)).inserted_primary_key[0]
                columns = ", ".join(c.name for c in table.columns if c.name not in ("id", "source_id"))
                generated, written = (
                    conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} WHERE id = ?", (i,)).one()
                    for i in (1, new_id)
                )
                assert tuple(generated) == tuple(written), table.name
    finally:
        engine.dispose()


def test_generator_is_deterministic(tmp_path):
    dumps = []
    for name in ("a.db", "b.db"):
        url = f"sqlite:///{tmp_path / name}"
        generate(url, scale=0.001, now=NOW)
        engine = open_database(url)
        with engine.connect() as conn:
            dumps.append(
                conn.exec_driver_sql("SELECT * FROM tickets ORDER BY id").all()
                + conn.exec_driver_sql("SELECT * FROM time_entries ORDER BY id").all()
            )
        engine.dispose()
    assert dumps[0] == dumps[1]


def test_generator_refuses_a_database_with_data(sqlite_url):
    generate(sqlite_url, scale=0.001, now=NOW)
    from mspkpi_tui.errors import MspkpiError

    with pytest.raises(MspkpiError, match="--replace"):
        generate(sqlite_url, scale=0.001, now=NOW)
    generate(sqlite_url, scale=0.001, now=NOW, replace=True)


def test_benchmark_gives_a_figure_for_every_area(tiny_db):
    url, _ = tiny_db
    timings = kpi_bench.run_benchmark(url, runs=1)
    by_name = {t.name: t for t in timings}
    assert set(by_name) == {kpi_bench.BASELINE, kpi_bench.FULL_REFRESH, *kpi_bench.AREAS}
    assert by_name[kpi_bench.BASELINE].result == 2000
    report = by_name[kpi_bench.FULL_REFRESH].result
    for area in kpi_bench.AREAS:
        assert report[area], area  # the full refresh has every section, not empty
        result = by_name[area].result
        shown = {k: v for k, v in report[area].items() if k != "history"}  # the report adds the long view to trends
        assert result is not None and result.to_dict() == shown, area
    assert all(len(t.runs_ms) == 1 and t.median >= 0 for t in timings)
    assert by_name["queue"].result.open == 40
    assert len(by_name["trends"].result.opened) == 31  # the local days of the 30d window
    table = kpi_bench.markdown_table(timings)
    assert all(f"| {name} |" in table for name in by_name)


def test_benchmark_command_writes_results(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    generate(url, scale=0.001, now=NOW)
    results = tmp_path / "RESULTS.md"
    results.write_text(
        f"# Results\n\nnotes\n\n{kpi_bench.MARK_START}\nprevious figures\n{kpi_bench.MARK_END}\n\nmore notes\n"
    )
    monkeypatch.setattr(kpi_bench, "RESULTS_PATH", results)
    assert kpi_bench.main(["--db", url, "--runs", "1", "--write"]) == 0
    written = results.read_text()
    assert "previous figures" not in written and "notes" in written and "more notes" in written
    assert "| full refresh |" in written and "Command: `python -m bench.kpi_bench --db" in written
    assert "1,000 tickets (20 open)" in written


def test_generate_command_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.generate",
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--scale",
            "0.001",
            "--now",
            "2026-03-10T09:15:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert "generated" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "bench.generate", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--scale", "0.001"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "--replace" in bad.stderr


def test_make_bench_runs_the_benchmarks_results_md_quotes():
    """`make bench` calls bench.run, which dispatches to every benchmark module RESULTS.md quotes."""
    import re

    from bench import run

    dry = subprocess.run(["make", "-n", "bench"], cwd=REPO, capture_output=True, text=True)
    assert "-m bench.run" in dry.stdout, dry.stdout + dry.stderr
    quoted = set(re.findall(r"python -m bench\.(\w+)", (REPO / "bench" / "RESULTS.md").read_text()))
    assert {f"{name}_bench" for name in run.BENCHMARKS} | {"generate"} >= quoted - {"run"}
    bad = subprocess.run([sys.executable, "-m", "bench.run", "nonsense"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown benchmark nonsense" in bad.stderr


def test_alerts_bench_times_every_view_and_the_alert_rules(tiny_db):
    from bench import alerts_bench
    from mspkpi_tui.config import Config

    url, _ = tiny_db
    engine = open_database(url)
    try:
        rows = alerts_bench.measure(engine, NOW, Config(timezone="UTC"), runs=1)
    finally:
        engine.dispose()
    names = [name for name, *_ in rows]
    assert [n.split(":")[0] for n in names if n.startswith("view ")][:5] == [f"view {k}" for k in "RNZWA"]
    assert "every alert rule, one evaluation" in names
    assert all(wall and cpu for _, wall, cpu, _ in rows)
