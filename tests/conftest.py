"""Shared fixtures: a database on SQLite and on PostgreSQL (migrated, or empty), and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from migrated_template import SqliteTemplate
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("MSPKPI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_answers() -> str | None:
    """None when the test server answers, else why not."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no PostgreSQL here
        return str(exc).splitlines()[0]


PG_PROBLEM = _postgres_answers()


@pytest.fixture(autouse=True)
def _state_home(tmp_path, monkeypatch) -> None:
    """The dashboard keeps its alert state under XDG_STATE_HOME: each test gets its own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def pytest_report_header(config):
    where = (
        "PostgreSQL at " + PG_ADMIN_URL.split("@")[-1]
        if PG_PROBLEM is None
        else f"PostgreSQL NOT available ({PG_PROBLEM})"
    )
    return [f"mspkpi data-layer tests run on: SQLite and {where}"]


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def _postgresql_schema() -> Iterator[str]:
    """A PostgreSQL schema of its own, empty: the URL sets it as the search path."""
    if PG_PROBLEM is not None:
        pytest.skip(f"PostgreSQL not available: {PG_PROBLEM}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """A URL to an EMPTY database: a SQLite file not made yet, or a PostgreSQL schema of its own.

    For the tests of what happens before our schema exists (migrations, creation killed
    half-way, foreign tables, a reader refused an empty database); the others take `db_url`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mspkpi.db'}"
        return
    with _postgresql_schema() as url:
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, _sqlite_template) -> Iterator[str]:
    """A URL to a database of our own that holds no rows; on SQLite its schema is already current.

    SQLite: a copy of a template that `open_database` migrated once per session and xdist
    worker (migrating each test's file through every revision cost ~0.3 s, ~250 times).
    PostgreSQL: an empty schema, migrated by its first open, as before: a cloned template
    database was fast to make (CREATE DATABASE ... TEMPLATE, ~0.1 s) but DROP DATABASE forces
    a checkpoint on PostgreSQL 15, measured at 0.05-4.5 s each on the shared test server."""
    if request.param == "sqlite":
        path = tmp_path / "mspkpi.db"
        _sqlite_template.copy_to(path)
        yield f"sqlite:///{path}"
        return
    with _postgresql_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mspkpi.db'}"


@pytest.fixture
def engine(db_url):
    from mspkpi_tui.store.engine import open_database

    engine = open_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """An environment whose config and data dirs are private to the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / ".local" / "share")
    return env


@pytest.fixture
def run_cli(cli_env):
    """Run the real `mspkpi` in a subprocess; returns the CompletedProcess."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 300, **kwargs
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mspkpi_tui", *args],
            cwd=REPO,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )

    return run
