"""The real `mspkpi` on a pseudo-terminal: it paints the data, and exits on SIGHUP (SSH dropped)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from test_tui_support import NOW, REPO_ROOT, tui_engine, tui_template_db  # noqa: F401

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def start_dashboard(cli_env, argv: list[str], python_flags: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    """The real `mspkpi` on an 80x24 pseudo-terminal: the process and the terminal's master end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, *python_flags, "-m", "mspkpi_tui", *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        cwd=REPO_ROOT,
        env={**cli_env, "TERM": "xterm-256color"},
    )
    os.close(slave)
    return proc, master


def read_until_data(master: int) -> bytes:
    """Everything the terminal received until the queue's data ("Open 18") was painted."""
    seen = b""
    deadline = time.monotonic() + 60
    while b"Open 18" not in ANSI.sub(b"", seen) and time.monotonic() < deadline:
        if select.select([master], [], [], 0.5)[0]:
            seen += os.read(master, 65536)
    assert b"Open 18" in ANSI.sub(b"", seen)
    return seen


def stop(proc: subprocess.Popen, master: int) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    os.close(master)


def test_app_paints_data_then_exits_cleanly_on_sighup(tui_engine, cli_env):
    proc, master = start_dashboard(cli_env, ["--db", str(tui_engine.url), "--now", NOW.isoformat()])
    try:
        read_until_data(master)
        proc.send_signal(signal.SIGHUP)
        # A clean exit through the app that passes the hang-up on as 128 + SIGHUP; killed by the signal would be -1.
        assert proc.wait(timeout=15) == 129
    finally:
        stop(proc, master)


def test_the_dashboard_starts_without_the_command_tree(tui_engine, cli_env):
    """`mspkpi` with global options only opens the dashboard without importing typer and the
    commands' modules (mspkpi_tui.cli's fast path: ~50 ms of every start), and reads its first
    screen through the Core tables of store/schema.py: no SQLModel, no ORM, no models and no
    Alembic before the queue's data is on screen (~0.15 s of CPU of a start). `-X importtime`
    lists every module the process imports, on the terminal, as it imports it; the listing up to
    the queue's data is what the first screen waited for (the other panes, read after it, load
    the models)."""
    argv = ["--db", str(tui_engine.url), "--now", NOW.isoformat(), "--readonly"]
    proc, master = start_dashboard(cli_env, argv, ("-X", "importtime"))
    try:
        shown = ANSI.sub(b"", read_until_data(master))
        before_data = shown[: shown.index(b"Open 18")]
        imported = set(re.findall(rb"import time:\s+\d+ \|\s+\d+ \|\s+([\w.]+)", before_data))
        assert b"textual.app" in imported and b"mspkpi_tui.cli" in imported  # the listing is there
        assert not {name for name in imported if name.split(b".")[0] in (b"typer", b"click")}
        assert b"mspkpi_tui.cli_commands" not in imported
        assert b"mspkpi_tui.store.schema" in imported
        late = {b"sqlmodel", b"sqlalchemy.orm", b"mspkpi_tui.store.models", b"alembic"}
        assert not {name for name in imported if name in late or name.split(b".")[0] in late}
        os.write(master, b"q")
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:  # drain: the last writes must not block
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        assert proc.wait(timeout=15) == 0
    finally:
        stop(proc, master)
