"""Opening the database: URL resolution, engine set-up, sessions."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

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


def make_engine(url: str, read_only: bool = False) -> Engine:
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
            return _sqlite_engine(parsed, read_only)
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from None


def _sqlite_engine(url, read_only: bool = False) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        parent = Path(database).expanduser().parent
        if not parent.is_dir():
            raise DatabaseError(f"cannot open database {database}: folder {parent} does not exist")
        if read_only:
            # A copy we cannot write (a shared snapshot): no journal, no -shm, no lock files.
            path = quote(str(Path(database).expanduser()))
            url = url.set(database=f"file:{path}?mode=ro&immutable=1", query={"uri": "true"})
    engine = create_engine(url, connect_args={"timeout": 30})
    if read_only:
        return engine

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
    from mspkpi_tui.redact import redact

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return redact(url)


def is_read_only(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite" and "mode=ro" in (engine.url.database or "")


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite URL names, or None (another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser()


def is_memory(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    database = parsed.database or ""
    return parsed.get_backend_name() == "sqlite" and (not database or database == ":memory:" or "mode=memory" in url)


def open_database(url: str, create: bool = True) -> Engine:
    """An engine on a reachable database whose schema is current (migrated on start).

    `create`: only the commands that write (demo, sync, db upgrade) make a new database;
    a reader given a path that holds none is told so instead of getting an empty one.
    """
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from mspkpi_tui.store.migrate import ensure_current
    from mspkpi_tui.store.preflight import create_private, look_at

    try:
        path = sqlite_path(url)
    except ArgumentError:
        path = None  # make_engine names the bad URL
    read_only = False
    if path is not None:
        if path.parent.is_dir():
            found = look_at(path)
            if found.exists:
                refuse_foreign(describe(url), found.tables)
                read_only = not found.writable
            elif not create:
                raise DatabaseError(no_database_yet(str(path)))
            else:
                create_private(path)
    engine = make_engine(url, read_only=read_only)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open database {describe(url)}: {reason}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {describe(url)}: {_first_line(exc)}") from None
    ensure_current(engine, create=create, where=describe(url), read_only=read_only)
    return engine


def no_database_yet(where: str) -> str:
    return f"no database yet at {where}: try `mspkpi demo`, or `mspkpi sync ...`"


def refuse_foreign(where: str, tables: tuple[str, ...] | list[str]) -> None:
    """Tables, but not ours: never add ours beside them (mspkpi's mark is its alembic_version table)."""
    from mspkpi_tui.store.migrate import is_foreign

    if is_foreign(tables):
        shown = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
        raise DatabaseError(f"not an mspkpi database: {where} holds other tables ({shown}); point --db elsewhere")


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(exc).__name__
