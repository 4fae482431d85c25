"""Migrations bring any database to the newest schema without losing rows."""

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from mspkpi_tui.store import migrate
from mspkpi_tui.store.engine import make_engine, open_database

FIRST_REVISION = "0001"


def test_empty_database_is_brought_to_head(db_url):
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"tickets", "time_entries", "sync_runs", "rejected_records"} <= set(inspect(engine).get_table_names())


def test_models_and_migrations_agree(db_url):
    """A model change without a migration would break installed databases."""
    engine = open_database(db_url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_data_from_the_first_revision_survives_upgrade(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, FIRST_REVISION)
    created = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO companies (source, source_id, name, active) VALUES ('t', 'C1', 'Acme', :a)"), {"a": True}
        )
        conn.execute(text("INSERT INTO queues (source, source_id, name) VALUES ('t', 'Q1', 'Service Desk')"))
        company_id = conn.execute(text("SELECT id FROM companies")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO tickets (source, source_id, number, title, company_id, status, is_closed, priority,"
                " priority_rank, escalation_level, created_at) VALUES ('t', 'T1', 'T20260301.0001', 'Printer',"
                " :company, 'New', :closed, 'High', 2, 0, :created)"
            ),
            {
                "company": company_id,
                "closed": False,
                "created": created if engine.dialect.name != "sqlite" else "2026-03-01 09:30:00.000000",
            },
        )
    migrate.upgrade(engine)
    engine = open_database(db_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT t.number, t.title, c.name FROM tickets t JOIN companies c ON c.id = t.company_id")
        ).one()
        assert tuple(row) == ("T20260301.0001", "Printer", "Acme")
        assert conn.execute(text("SELECT count(*) FROM queues")).scalar_one() == 1
    from sqlmodel import Session, select

    from mspkpi_tui.store.models import Ticket

    with Session(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.created_at == created  # read back aware UTC on both databases


def test_the_quick_head_check_agrees_with_alembic():
    assert migrate.quick_head_revision() == migrate.head_revision()
