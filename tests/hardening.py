"""Helpers shared by the hardening tests (issue 10): a database's rows, and a second user.

The tests run as root on the CI machine, and root reads and writes every file whatever
its mode: a file mode is only tested by a process without root's override capabilities.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pty
import re
import select
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select as sql_select

from mspkpi_tui.store.engine import make_engine

REPO = Path(__file__).resolve().parent.parent
ONE_LINE_PREFIX = "mspkpi: error: "
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def assert_one_line_error(result, *fragments: str, status: int | None = None) -> str:
    assert result.returncode != 0, result.stdout
    if status is not None:
        assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ONE_LINE_PREFIX), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def count_rows(url: str, model) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sql_select(func.count()).select_from(model.__table__)).scalar_one()
    finally:
        engine.dispose()


def rows(url: str, model, *columns: str) -> list[tuple]:
    engine = make_engine(url)
    table = model.__table__
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sql_select(*(table.c[c] for c in columns)))]
    finally:
        engine.dispose()


def small_folder(folder: Path) -> Path:
    """An import folder of three records: quick to sync, for tests that need some data."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "companies.jsonl").write_text('{"id": "c1", "name": "Acme"}\n{"id": "c2", "name": "Globex"}\n')
    (folder / "queues.jsonl").write_text('{"id": "q1", "name": "Service Desk"}\n')
    return folder


def as_other_user() -> dict:
    """subprocess.run arguments under which file modes apply: for root, the CLI runs without
    the capabilities that override them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return {}

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return {"preexec_fn": drop}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Tui:
    """The real `mspkpi` dashboard on a pseudo-terminal (as tests/test_tui_process.py runs it)."""

    def __init__(self, args: list[str], env: dict[str, str], width: int = 160, **popen):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, width, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mspkpi_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            cwd=REPO,
            env={**env, "TERM": "xterm-256color"},
            **popen,
        )
        os.close(slave)
        self.seen = b""

    def text(self) -> str:
        return ANSI.sub(b"", self.seen).decode("utf-8", "replace")

    def read_until(self, fragment: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while fragment not in self.text() and time.monotonic() < deadline and self.proc.poll() is None:
            self.read_some(0.3)
        return fragment in self.text()

    def read_some(self, seconds: float) -> None:
        if select.select([self.master], [], [], seconds)[0]:
            try:
                self.seen += os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                time.sleep(seconds)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
