"""The TUI tests' database and app factory (no tests here; other test_tui_* modules import it).

The database is real SQLite, filled through the store's writer (`SyncWriter.store_page`) with the
small fixed dataset in tests/data/tui/, with the sync run's clock pinned so the status line
reads the same in every run.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mspkpi_tui.config import AlertSettings, Config, TuiSettings
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.writer import SyncWriter

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / "tests" / "data" / "tui"
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SYNCED_AT = NOW - timedelta(minutes=12)
OPEN_TICKETS = 18
HOSTILE_COMPANY_PREFIX = "[bold red]Evil[/bold red] Corp \x1b]52"


def records(entity: str) -> list[dict]:
    path = DATA / f"{entity}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fill(engine, clock=lambda: SYNCED_AT) -> None:
    with SyncWriter(engine, "demo", "file", clock=clock) as run:
        for entity in ENTITY_TABLES:
            if (DATA / f"{entity}.jsonl").exists():
                batch = records(entity)
                run.store_page(entity, batch, [f"{entity}.jsonl:{i + 1}" for i in range(len(batch))])
        assert not run.summary.rejects, run.summary.rejects


def tui_config(refresh_seconds: float = 0, alerts: AlertSettings | None = None, **tui) -> Config:
    """The TUI tests' config: alerts off unless a test turns them on (no bell or toast to disturb others)."""
    return Config(
        timezone="UTC",
        tui=TuiSettings(refresh_seconds=refresh_seconds, **tui),
        alerts=alerts or AlertSettings(enabled=False),
    )


@pytest.fixture(scope="session")
def tui_template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tui") / "template.db"
    engine = open_database(f"sqlite:///{path}")
    fill(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def tui_engine(tui_template_db, tmp_path):
    """A fresh copy of the filled database for one test."""
    path = tmp_path / "tui.db"
    shutil.copy(tui_template_db, path)
    engine = open_database(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


def make_app(engine, config: Config | None = None, now: datetime = NOW):
    from mspkpi_tui.tui.app import MspkpiApp

    return MspkpiApp(engine, config or tui_config(), now=now)
