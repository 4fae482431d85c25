"""Rejects: the status line counts what the last sync or import rejected and names
`mspkpi rejects`, which lists each reject with its reason (real CLI, both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

from mspkpi_tui.config import Config
from mspkpi_tui.kpi.status import sync_status
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.tui.status_line import status_text

NOW = "2026-03-10T10:30:00Z"
GOOD = '{"id": "c1", "name": "Good"}'


def test_rejects_are_counted_in_the_status_line_and_listed_with_their_reasons(run_cli, db_url, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "companies.jsonl").write_text(GOOD + '\n{"id": "c2"}\n{"id": "c3", "name": "\\u001b]0;x"}\n[1]\n')
    result = run_cli("--db", db_url, "--now", NOW, "sync", "file", str(folder))
    assert result.returncode == 1, result.stderr
    listed = run_cli("--db", db_url, "rejects")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and all("companies.jsonl:" in line for line in lines), lines
    assert "\x1b" not in listed.stdout
    assert len(run_cli("--db", db_url, "rejects", "--limit", "1").stdout.splitlines()) == 1
    assert (
        run_cli("--db", db_url, "rejects", "--source", "nowhere").stdout.strip() == "no rejected records from nowhere"
    )

    engine = open_database(db_url)
    try:
        now = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
        status = sync_status(engine, now, Config(timezone="UTC"))
        assert status.rejected == 2
        line = status_text(status, now, UTC).plain
        assert "2 record(s) rejected, mspkpi rejects" in line
    finally:
        engine.dispose()
