"""Issue 10 section 5: the dashboard without a terminal, a terminal that goes away, and stop signals."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import REPO
from hardening import Tui, assert_one_line_error, rows, small_folder
from test_tui_support import NOW, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.store import models

DEMO = REPO / "mspkpi_tui" / "fixtures" / "demo"
NEEDS_TERMINAL = "mspkpi needs a terminal; use `mspkpi kpi` for scripts"


# --- no terminal: exit at once, status 2 ----------------------------------------------------


@pytest.mark.parametrize("stdin_tty, stdout_tty", [(False, False), (False, True), (True, False)])
def test_the_dashboard_without_a_terminal_exits_at_once(run_cli, tui_engine, stdin_tty, stdout_tty):  # noqa: F811
    import pty

    master, slave = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mspkpi_tui", "--db", str(tui_engine.url)],
            stdin=slave if stdin_tty else subprocess.DEVNULL,
            stdout=slave if stdout_tty else subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            text=True,
            timeout=60,  # before the fix it ran until killed
        )
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 2
    assert result.stderr.strip() == f"mspkpi: error: {NEEDS_TERMINAL}"


def test_demo_without_a_terminal_says_so_before_importing(run_cli, cli_env):
    result = run_cli("demo", stdin=subprocess.DEVNULL, timeout=60)
    assert_one_line_error(result, "mspkpi needs a terminal", "mspkpi demo --no-tui", status=2)
    assert not os.path.exists(os.path.join(cli_env["XDG_DATA_HOME"], "mspkpi", "demo.db"))


# --- the terminal goes away: the process ends, always ---------------------------------------


def _burn(stop) -> None:
    while not stop.is_set():
        pass


@pytest.fixture
def cpu_load():
    """Busy processes on every core, as on the jump host where one start in six hung."""
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(os.cpu_count() or 2)]
    for burner in burners:
        burner.start()
    yield
    stop.set()
    for burner in burners:
        burner.join(timeout=5)
        if burner.is_alive():
            burner.kill()


@pytest.mark.slow
@pytest.mark.parametrize("moment", [0.3, 1.0, 2.0, "painted"])
@pytest.mark.parametrize("how", ["sighup", "close"])
def test_a_terminal_that_goes_away_ends_the_dashboard(tui_engine, cli_env, cpu_load, moment, how):  # noqa: F811
    tui = Tui(["--db", str(tui_engine.url), "--now", NOW.isoformat()], cli_env)
    try:
        if moment == "painted":
            assert tui.read_until("Open 18"), tui.text()[-2000:]
        else:
            deadline = time.monotonic() + moment  # a moment of start-up: import, first read, first paint
            while time.monotonic() < deadline:
                tui.read_some(0.05)
        if how == "sighup":
            tui.proc.send_signal(signal.SIGHUP)
        else:  # the SSH session drops: the kernel hangs up the terminal's session
            os.close(tui.master)
            tui.master = os.open(os.devnull, os.O_RDONLY)
        status = tui.proc.wait(timeout=30)  # before the fix: still running, holding the database
        if how == "sighup":  # by the app or its watchdog (129) or, before the handler is installed, by the signal
            assert status in (129, -signal.SIGHUP)
        else:  # a closed terminal early in start-up can also fail the start (not a terminal, a write error)
            assert status != 0
    finally:
        tui.close()


# --- SIGINT and SIGTERM end a sync, the run marked interrupted ------------------------------


def wait_for_stop_handling(pid: int) -> None:
    """Until mspkpi has taken over SIGINT and SIGTERM (before, Python's defaults apply)."""
    wanted = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/status") as status:
            blocked = next(int(line.split()[1], 16) for line in status if line.startswith("SigBlk:"))
        if blocked & wanted == wanted:
            return
        time.sleep(0.05)
    pytest.fail("mspkpi never took over the stop signals")


@pytest.mark.slow
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_ends_a_sync_and_nothing_is_half_written(run_cli, cli_env, db_url, signum, status):
    assert run_cli("--db", db_url, "db", "upgrade").returncode == 0
    sync = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "file", str(DEMO)],
        cwd=REPO,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while rows(db_url, models.Ticket, "id") == [] and time.monotonic() < deadline:  # mid-import: pages stored
        time.sleep(0.1)
    wait_for_stop_handling(sync.pid)
    sync.send_signal(signum)
    _out, err = sync.communicate(timeout=30)
    assert sync.returncode == status, err
    assert "Traceback" not in err
    # The run is interrupted (marked by the process, or, if the watchdog cut the clean path
    # short, by the next sync, which finds its holder gone); the next sync stores everything.
    again = run_cli("--db", db_url, "sync", "file", str(DEMO))
    assert again.returncode == 0, again.stderr
    runs = rows(db_url, models.SyncRun, "status")
    assert [r[0] for r in runs] == ["interrupted", "ok"]
    lines = sum(1 for line in (DEMO / "tickets.jsonl").read_text().splitlines() if line.strip())
    assert len(rows(db_url, models.Ticket, "id")) == lines


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_ends_a_sync_waiting_for_the_lock(run_cli, cli_env, tmp_path, signum):
    """A command blocked in the database (SQLite's busy wait) still ends when told to."""
    url = f"sqlite:///{tmp_path / 'mspkpi.db'}"
    created = run_cli("--db", url, "db", "upgrade")
    assert created.returncode == 0, created.stderr

    holder = sqlite3.connect(tmp_path / "mspkpi.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        sync = subprocess.Popen(
            [sys.executable, "-m", "mspkpi_tui", "--db", url, "sync", "file", str(small_folder(tmp_path / "in"))],
            cwd=REPO,
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_stop_handling(sync.pid)
        time.sleep(1)  # into the sync, which waits on the lock (30 s busy timeout)
        sync.send_signal(signum)
        _out, err = sync.communicate(timeout=20)
        assert sync.returncode == 128 + signum, err
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.slow
def test_a_sync_cut_short_by_the_watchdog_marks_its_run_interrupted_at_once(cli_env, db_url):
    """A stop while the sync waits on the PSA: the main thread cannot unwind in time, the watchdog
    ends the process, and its exit hook marks the run interrupted (no "running" row left behind,
    no next sync needed to find out) and frees the sync lock."""
    from fakes.autotask_server import AutotaskFake, populate

    with AutotaskFake() as fake:
        populate(fake, tickets=6, time_entries=4)
        fake.server.slow("/v1.0/tickets/query", 30)  # the PSA does not answer for 30 s
        sync = subprocess.Popen(
            [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "autotask"],
            cwd=REPO,
            env={**cli_env, **fake.env(), "MSPKPI_HTTP_BACKOFF_SCALE": "0.001"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not any("tickets/query" in r.path.lower() for r in fake.server.arrived) and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_for_stop_handling(sync.pid)
        sync.send_signal(signal.SIGINT)
        _out, err = sync.communicate(timeout=20)
    assert sync.returncode == 130, err
    runs = rows(db_url, models.SyncRun, "status", "error")
    assert [r[0] for r in runs] == ["interrupted"]
    assert "ended before the run could finish" in runs[0][1]
    assert rows(db_url, models.SyncLock, "name") == []


STOP_IN_A_FINALIZER = """
import os, signal, sys, time
from mspkpi_tui import terminal

terminal.on_stop_signals()


class Collected:
    def __del__(self):  # as SQLAlchemy's weakref callbacks: Python cannot raise from here
        os.kill(os.getpid(), signal.SIGTERM)
        started = time.monotonic()
        while time.monotonic() - started < 0.3:
            pass  # the stop arrives while this runs


try:
    Collected()
    time.sleep(0.5)
    print("not stopped")
except terminal.Terminated:
    print("stopped in the command")
    sys.exit(143)
"""


def test_a_stop_that_arrives_in_a_finalizer_is_not_lost_and_prints_no_traceback(cli_env):
    """Seen in CI: SIGTERM during a PostgreSQL sync landed in SQLAlchemy's weakref callback;
    Python printed "Exception ignored ... Traceback" and the sync ran on to the watchdog."""
    done = subprocess.run(
        [sys.executable, "-c", STOP_IN_A_FINALIZER], cwd=REPO, env=cli_env, capture_output=True, text=True, timeout=30
    )
    assert done.stdout.strip() == "stopped in the command", (done.stdout, done.stderr)
    assert done.returncode == 143
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
