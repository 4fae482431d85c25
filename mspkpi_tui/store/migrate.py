"""Bring a database to the newest schema with the Alembic scripts shipped in db/."""

from __future__ import annotations

import re
from importlib.resources import files

from sqlalchemy import Engine, inspect, text

from mspkpi_tui.errors import DatabaseError


def alembic_config(engine: Engine | None = None, connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("mspkpi_tui.migrations")))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no single head"
    return head


_REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*['\"](\w+)['\"]", re.M)


def quick_head_revision() -> str | None:
    """The newest revision, read from the scripts' text: loading Alembic's script
    directory costs ~0.4 s, which every start of the dashboard would pay."""
    revisions, parents = _revisions()
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _revisions() -> tuple[set[str], set[str]]:
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in files("mspkpi_tui.migrations").joinpath("versions").iterdir():
        if script.name.endswith(".py") and not script.name.startswith("__"):
            text = script.read_text(encoding="utf-8")
            if found := _REVISION.search(text):
                revisions.add(found.group(1))
            if found := _DOWN_REVISION.search(text):
                parents.add(found.group(1))
    return revisions, parents


VERSION_TABLE = "alembic_version"  # mspkpi's mark: a database without it (but with tables) is not ours


def mspkpi_tables() -> set[str]:
    from mspkpi_tui.store import models

    return set(models.metadata.tables)


def is_foreign(tables) -> bool:
    """Tables that mspkpi did not make: no version table, and names that are not ours."""
    names = set(tables) - {VERSION_TABLE}
    return bool(names) and VERSION_TABLE not in tables and not names <= mspkpi_tables()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


# Any 64-bit number: the key two mspkpi processes migrating one PostgreSQL database agree on.
MIGRATION_LOCK_KEY = 0x6D73706B7069


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate in one transaction: a process killed half-way leaves the schema as it was.

    SQLite's Python driver runs DDL outside any transaction unless one is begun explicitly;
    PostgreSQL's DDL is transactional, and an advisory lock makes a second process that
    starts at the same moment wait for the first, then find nothing left to do."""
    from alembic import command

    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            _drop_half_created(connection)
            command.upgrade(alembic_config(connection=connection), revision)
            connection.commit()
    except Exception as exc:  # one line for the user, whatever the driver raised
        raise DatabaseError(f"cannot migrate database: {_first_line(exc)}") from exc


def _drop_half_created(connection) -> None:
    """Tables of ours without a recorded revision: a first creation killed by an older mspkpi
    (whose SQLite DDL was not atomic). Nothing was ever synced into them: start again."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if VERSION_TABLE in tables and connection.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar():
        return
    ours = tables & (mspkpi_tables() | {VERSION_TABLE})
    if not ours:
        return
    from mspkpi_tui.store import models

    for table in reversed(models.metadata.sorted_tables):
        if table.name in ours:
            table.drop(connection)
    if VERSION_TABLE in ours:
        connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")


def ensure_current(engine: Engine, *, create: bool = True, where: str = "", read_only: bool = False) -> None:
    """Upgrade if the database is behind; cheap when it is already current.

    Refuses a database that holds other tables (not ours); a reader (`create` False) is
    refused an empty one, and a read-only one cannot be upgraded."""
    from mspkpi_tui.store.engine import no_database_yet, refuse_foreign

    current = current_revision(engine)
    if current is not None and current == quick_head_revision():
        return
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    where = where or engine.url.render_as_string(hide_password=True)
    refuse_foreign(where, tables)
    if current is not None and current not in _revisions()[0]:
        raise DatabaseError(
            f"not an mspkpi database, or one from a newer mspkpi: {where} is at unknown revision {current}"
        )
    if current is None and not create:
        raise DatabaseError(no_database_yet(where))
    if read_only:
        raise DatabaseError(f"{where} is read-only and its schema is older than this mspkpi; upgrade a writable copy")
    upgrade(engine)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
