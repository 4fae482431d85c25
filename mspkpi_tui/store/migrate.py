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
    revisions, parents = set(), set()
    for script in files("mspkpi_tui.migrations").joinpath("versions").iterdir():
        if script.name.endswith(".py") and not script.name.startswith("__"):
            text = script.read_text(encoding="utf-8")
            if found := _REVISION.search(text):
                revisions.add(found.group(1))
            if found := _DOWN_REVISION.search(text):
                parents.add(found.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)
    except Exception as exc:  # one line for the user, whatever the driver raised
        raise DatabaseError(f"cannot migrate database: {_first_line(exc)}") from exc


def ensure_current(engine: Engine) -> None:
    """Upgrade if the database is behind; cheap when it is already current."""
    current = current_revision(engine)
    if current is None or current != quick_head_revision():
        upgrade(engine)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
