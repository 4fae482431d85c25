"""Alembic environment: runs migrations on the connection mspkpi hands it."""

from alembic import context

from mspkpi_tui.store import models

target_metadata = models.metadata  # every table: store/schema.py's and the models'


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from mspkpi_tui.store.engine import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _render_item(type_, obj, autogen_context):
    """Write our own column types and SQLModel's strings so revisions import cleanly."""
    if type_ != "type":
        return False
    name = type(obj).__name__
    if name == "UTCDateTime":
        autogen_context.imports.add("import mspkpi_tui.store.types")
        return "mspkpi_tui.store.types.UTCDateTime()"
    if name == "AutoString":
        return "sa.String()"
    return False


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
