"""Issue 10 section 3: the database file is the user's, never damaged or confused (both databases)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO
from hardening import Tui, as_other_user, assert_one_line_error, mode_of, rows, small_folder
from sqlalchemy import create_engine, inspect, text

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

DEMO = REPO / "mspkpi_tui" / "fixtures" / "demo"
NOW = "2026-03-10T10:30:00Z"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


# --- another application's database --------------------------------------------------------


@pytest.mark.parametrize("command", [["db", "upgrade"], ["kpi"], ["sync", "file", str(DEMO)]])
def test_another_applications_sqlite_file_is_refused_untouched(run_cli, tmp_path, command):
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    before = digest(path)
    result = run_cli("--db", f"sqlite:///{path}", *command)
    assert_one_line_error(result, "not an mspkpi database", "notes")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal, no -shm either


def test_another_applications_postgresql_schema_is_refused_untouched(run_cli, empty_db_url):
    if not empty_db_url.startswith("postgresql"):
        pytest.skip("the SQLite case is above")
    execute(empty_db_url, "CREATE TABLE invoices (id integer PRIMARY KEY)")
    assert_one_line_error(run_cli("--db", empty_db_url, "db", "upgrade"), "not an mspkpi database", "invoices")
    assert table_names(empty_db_url) == {"invoices"}


def test_a_database_at_an_unknown_revision_is_refused(run_cli, empty_db_url):
    assert run_cli("--db", empty_db_url, "db", "upgrade").returncode == 0
    execute(empty_db_url, "UPDATE alembic_version SET version_num = 'f00dfeed'")
    assert_one_line_error(run_cli("--db", empty_db_url, "kpi"), "unknown revision f00dfeed")


# --- only demo, sync and db upgrade create a database ---------------------------------------


def test_a_reader_refuses_a_missing_sqlite_file(run_cli, tmp_path):
    path = tmp_path / "mspkpi.bd"  # the typo of the issue
    result = run_cli("--db", f"sqlite:///{path}", "kpi")
    assert_one_line_error(result, f"no database yet at {path}", "mspkpi demo", "mspkpi sync")
    assert not path.exists()


def test_the_first_start_names_the_default_path(run_cli, cli_env):
    result = run_cli("kpi")
    expected = os.path.join(cli_env["XDG_DATA_HOME"], "mspkpi", "mspkpi.db")
    assert_one_line_error(result, f"no database yet at {expected}")
    assert not os.path.exists(expected)


def test_a_reader_refuses_an_empty_postgresql_schema(run_cli, empty_db_url):
    if not empty_db_url.startswith("postgresql"):
        pytest.skip("the SQLite case is above")
    assert_one_line_error(run_cli("--db", empty_db_url, "kpi"), "no database yet at postgresql")
    assert table_names(empty_db_url) == set()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["sync", "file"]])
def test_writers_create_the_database(run_cli, empty_db_url, command, tmp_path):
    if command[0] == "sync":
        command = [*command, str(small_folder(tmp_path / "in"))]
    result = run_cli("--db", empty_db_url, "--now", NOW, *command)
    assert result.returncode == 0, result.stderr
    assert run_cli("--db", empty_db_url, "--now", NOW, "kpi").returncode == 0


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_an_in_memory_database_is_refused(run_cli, url):
    assert_one_line_error(run_cli("--db", url, "db", "upgrade"), "in-memory")


# --- file modes -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["db", "upgrade"], ["sync", "file"]])
def test_a_new_database_file_is_private(run_cli, tmp_path, command):
    if command[0] == "sync":
        command = [*command, str(small_folder(tmp_path / "in"))]
    path = tmp_path / "new.db"
    result = run_cli("--db", f"sqlite:///{path}", "--now", NOW, *command, env={"UMASK": "022"})
    assert result.returncode == 0, result.stderr
    for file in [path, *tmp_path.glob("new.db-*")]:
        assert mode_of(file) == 0o600, file


@pytest.mark.slow
def test_demo_database_is_private(run_cli, cli_env):
    result = run_cli("demo", "--no-tui")
    assert result.returncode == 0, result.stderr
    assert mode_of(Path(cli_env["XDG_DATA_HOME"]) / "mspkpi" / "demo.db") == 0o600


# --- a read-only copy ------------------------------------------------------------------------


@pytest.fixture
def read_only_copy(run_cli, tmp_path) -> Path:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    path = folder / "mspkpi.db"
    assert (
        run_cli(
            "--db", f"sqlite:///{path}", "--now", NOW, "sync", "file", str(small_folder(tmp_path / "in"))
        ).returncode
        == 0
    )
    for file in folder.iterdir():
        file.chmod(0o444)
    folder.chmod(0o555)
    yield path
    folder.chmod(0o755)


def test_kpi_reads_a_read_only_database_in_a_read_only_folder(run_cli, read_only_copy):
    before = sorted(p.name for p in read_only_copy.parent.iterdir())
    result = run_cli("--db", f"sqlite:///{read_only_copy}", "--now", NOW, "kpi", "--format", "json", **as_other_user())
    assert result.returncode == 0, result.stderr
    assert '"queue"' in result.stdout
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == before


def test_a_sync_into_a_read_only_database_is_one_error(run_cli, read_only_copy, tmp_path):
    folder = small_folder(tmp_path / "in")
    result = run_cli("--db", f"sqlite:///{read_only_copy}", "sync", "file", str(folder), **as_other_user())
    assert_one_line_error(result, "read")


@pytest.mark.slow
def test_the_dashboard_reads_a_read_only_database_and_says_so(read_only_copy, cli_env):
    tui = Tui(["--db", f"sqlite:///{read_only_copy}", "--now", NOW], cli_env, **as_other_user())
    try:
        assert tui.read_until("read-only database"), tui.text()[-2000:]
    finally:
        tui.close()


# --- schema creation survives kill -9 -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.4, 0.7, 0.9, 1.1, 1.4])
def test_schema_creation_killed_at_any_point_is_finished_by_the_next_start(run_cli, cli_env, empty_db_url, after):
    proc = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", empty_db_url, "db", "upgrade"],
        cwd=REPO,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after)  # a moment of start-up: before, during or after the migrations
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = run_cli("--db", empty_db_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    result = run_cli(
        "--db", empty_db_url, "--now", NOW, "sync", "file", str(small_folder(Path(cli_env["HOME"]) / "in"))
    )
    assert result.returncode == 0, result.stderr


def test_a_half_created_schema_left_by_an_older_mspkpi_is_finished(run_cli, sqlite_url, tmp_path):
    """Before this fix SQLite's DDL ran outside a transaction: kill -9 left some tables and no revision."""
    conn = sqlite3.connect(tmp_path / "mspkpi.db")
    conn.execute("CREATE TABLE companies (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.commit()
    conn.close()
    result = run_cli("--db", sqlite_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "tickets" in table_names(sqlite_url)


@pytest.mark.slow
def test_two_first_starts_at_once_both_succeed(run_cli, cli_env, empty_db_url):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mspkpi_tui", "--db", empty_db_url, "db", "upgrade"],
            cwd=REPO,
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


# --- a sync killed with kill -9 is not "running" forever ------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    "holder, minutes_ago",
    [(f"{socket.gethostname()}:{_dead_pid()}", 1), ("another-host:4242", 60)],
    ids=["holder-died-here", "no-heartbeat-from-another-host"],
)
def test_a_dead_sync_is_taken_over_and_marked_interrupted(run_cli, empty_db_url, holder, minutes_ago, tmp_path):
    assert run_cli("--db", empty_db_url, "db", "upgrade").returncode == 0
    beat = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(tzinfo=None).isoformat(" ")
    execute(
        empty_db_url,
        f"INSERT INTO sync_runs (source, mode, started_at, status, counts, rejected, requests) "
        f"VALUES ('demo', 'file', '{beat}', 'running', '{{}}', 0, 0)",
        f"INSERT INTO sync_locks (name, holder, acquired_at) VALUES ('sync', '{holder}', '{beat}')",
    )
    result = run_cli("--db", empty_db_url, "--now", NOW, "sync", "file", str(small_folder(tmp_path / "in")))
    assert result.returncode == 0, result.stderr
    statuses = rows(empty_db_url, models.SyncRun, "status", "error")
    assert statuses[0][0] == "interrupted" and holder in statuses[0][1]
    assert statuses[1][0] == "ok"


def test_a_live_sync_elsewhere_keeps_its_lock(run_cli, empty_db_url, tmp_path):
    assert run_cli("--db", empty_db_url, "db", "upgrade").returncode == 0
    beat = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    execute(
        empty_db_url, f"INSERT INTO sync_locks (name, holder, acquired_at) VALUES ('sync', 'another-host:1', '{beat}')"
    )
    result = run_cli("--db", empty_db_url, "sync", "file", str(small_folder(tmp_path / "in")))
    assert_one_line_error(result, "another sync is already running")


@pytest.mark.slow
def test_the_dashboard_shows_a_killed_sync_as_interrupted(run_cli, cli_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'mspkpi.db'}"
    assert run_cli("--db", url, "db", "upgrade").returncode == 0
    sync = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", url, "--now", NOW, "sync", "file", str(DEMO)],
        cwd=REPO,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while ("running",) not in rows(url, models.SyncRun, "status") and time.monotonic() < deadline:
        time.sleep(0.05)
    sync.send_signal(signal.SIGKILL)
    sync.wait()
    assert ("running",) in rows(url, models.SyncRun, "status")  # nobody marked it: the process died
    tui = Tui(["--db", url, "--now", NOW], cli_env, width=220)
    try:
        assert tui.read_until("sync interrupted"), tui.text()[-2000:]
        assert "sync running since" not in tui.text()
    finally:
        tui.close()
