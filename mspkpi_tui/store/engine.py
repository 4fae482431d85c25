"""Opening the database: URL resolution, engine set-up, sessions."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mspkpi_tui.errors import DatabaseError

DB_URL_ENV = "MSPKPI_DB_URL"


def default_db_path(name: str = "mspkpi.db") -> Path:
    from platformdirs import user_data_path

    return user_data_path("mspkpi", appauthor=False, ensure_exists=True) / name


def resolve_db_url(cli_url: str | None = None, config_url: str | None = None) -> str:
    """--db wins over MSPKPI_DB_URL, which wins over the config file, then the default file."""
    url = cli_url or os.environ.get(DB_URL_ENV) or config_url
    if url:
        return url
    return f"sqlite:///{default_db_path()}"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r} (try sqlite:///path/to/file.db or postgresql://user@host/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from None


def _sqlite_engine(url) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        parent = Path(database).expanduser().parent
        if not parent.is_dir():
            raise DatabaseError(f"cannot open database {database}: folder {parent} does not exist")
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # WAL lets the TUI read while a sync writes; the busy timeout makes a writer
        # wait for another instead of failing with "database is locked".
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def describe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_database(url: str) -> Engine:
    """An engine on a reachable database whose schema is current (migrated on start)."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from mspkpi_tui.store.migrate import ensure_current

    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open database {describe(url)}: {reason}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {describe(url)}: {exc}") from None
    ensure_current(engine)
    return engine
