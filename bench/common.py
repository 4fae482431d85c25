"""What the benchmarks share: where the data lives, the generated data's clock, the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_DB_PATH = DATA_DIR / "large.db"
DEFAULT_URL = f"sqlite:///{DEFAULT_DB_PATH}"
RESULTS_PATH = BENCH_DIR / "RESULTS.md"

# The generated data's "now" unless told otherwise: a Wednesday afternoon, fixed so that
# the same seed gives the same database byte for byte.
ANCHOR_NOW = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
SOURCE = "bench"


def generated_now(engine: Engine) -> datetime | None:
    """The `now` the data in this database was generated for (its bench sync run's end)."""
    from mspkpi_tui.store.models import SyncRun

    table = SyncRun.__table__
    with engine.connect() as conn:
        return conn.execute(
            select(table.c.finished_at).where(table.c.source == SOURCE).order_by(table.c.id.desc()).limit(1)
        ).scalar()


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }


def replace_section(section: str, start: str, end: str, heading: str, path: Path | None = None) -> None:
    """Put `section` (which begins with `start` and ends with `end`) into RESULTS.md in place
    of the previous one, or append it under `heading` the first time."""
    path = path or RESULTS_PATH
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
