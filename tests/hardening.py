"""Helpers shared by the hardening tests (issue 10): a database's rows, and a second user.

The tests run as root on the CI machine, and root reads and writes every file whatever
its mode: a file mode is only tested by a process without root's override capabilities.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

from sqlalchemy import func, select

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

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
            return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()
    finally:
        engine.dispose()


def rows(url: str, model, *columns: str) -> list[tuple]:
    engine = make_engine(url)
    table = model.__table__
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns)))]
    finally:
        engine.dispose()


def sync_runs(url: str) -> list[tuple]:
    return rows(url, models.SyncRun, "status", "error")


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
