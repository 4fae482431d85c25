"""Migrations bring any database to the newest schema without losing rows."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from mspkpi_tui.store import migrate, models
from mspkpi_tui.store.engine import make_engine, open_database

FIRST_REVISION = "0001"


def test_empty_database_is_brought_to_head(empty_db_url):
    engine = make_engine(empty_db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"tickets", "time_entries", "sync_runs", "rejected_records"} <= set(inspect(engine).get_table_names())


def test_models_and_migrations_agree(empty_db_url):
    """A model change without a migration would break installed databases."""
    engine = open_database(empty_db_url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), models.metadata)
    assert differences == []


def test_data_from_the_first_revision_survives_upgrade(empty_db_url):
    engine = make_engine(empty_db_url)
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
    engine = open_database(empty_db_url)
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


# --- an old database with data, upgraded through the frozen rollup migrations (0004, 0005, 0007) ---


def _utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


# Rows as the first revision's schema has them (no rollup columns yet).
OLD_RESOURCES = [{"id": 1, "name": "Ann", "weekly_hours": 40.0}, {"id": 2, "name": "Bob", "weekly_hours": 40.0}]
OLD_TICKETS = [
    # completed 09:xx, no time entry: first touch; responded in time, resolved late
    dict(id=1, created_at="2026-03-02 08:10:00", first_response_at="2026-03-02 08:40:00",
         first_response_due="2026-03-02 09:10:00", resolved_at="2026-03-02 09:59:59.500000",
         resolution_due="2026-03-02 09:30:00", completed_at="2026-03-02 09:59:59.500000"),
    # completed 09:xx with 2 entries: not first touch; responded late, no resolution due
    dict(id=2, created_at="2026-03-02 07:00:00", first_response_at="2026-03-02 09:05:00",
         first_response_due="2026-03-02 08:00:00", resolved_at="2026-03-02 09:20:00",
         resolution_due=None, completed_at="2026-03-02 09:20:00"),
    # completed the next day with 1 entry: first touch; no due times
    dict(id=3, created_at="2026-03-02 23:30:00", first_response_at="2026-03-03 00:15:00",
         first_response_due=None, resolved_at="2026-03-03 10:00:00", resolution_due=None,
         completed_at="2026-03-03 10:00:00"),
    # open, never responded
    dict(id=4, created_at="2026-03-03 11:00:00", first_response_at=None, first_response_due="2026-03-03 12:00:00",
         resolved_at=None, resolution_due=None, completed_at=None),
]  # fmt: skip
OLD_ENTRIES = [
    dict(id=1, resource_id=1, ticket_id=2, started_at="2026-03-02 09:00:00", hours=0.5, billable=True),
    dict(id=2, resource_id=1, ticket_id=2, started_at="2026-03-02 23:45:00", hours=0.25, billable=False),
    dict(id=3, resource_id=2, ticket_id=3, started_at="2026-03-03 00:05:00", hours=1.5, billable=True),
    dict(id=4, resource_id=2, ticket_id=None, started_at="2026-03-03 13:00:00", hours=2.0, billable=False),
]


def _insert(conn, table: str, row: dict) -> None:
    """One row through text SQL: the first revision's columns, times bound as the stored type."""
    from sqlalchemy import bindparam

    from mspkpi_tui.store.types import UTCDateTime

    times = {k: _utc(v) for k, v in row.items() if k.endswith(("_at", "_due")) and v is not None}
    statement = text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})")
    statement = statement.bindparams(*[bindparam(k, type_=UTCDateTime) for k in times])
    conn.execute(statement, {**row, **times})


def _rollups(conn) -> dict:
    def rows(sql: str) -> list[tuple]:
        return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in conn.execute(text(sql))]

    return {
        "counts": rows("SELECT id, time_entry_count FROM tickets ORDER BY id"),
        "completion": rows("SELECT hour, completed, first_touch FROM ticket_completion_hours ORDER BY hour"),
        "response": rows("SELECT * FROM ticket_response_hours ORDER BY hour"),
        "days": rows("SELECT * FROM resource_day_hours ORDER BY resource_id, day"),
        "flow": rows("SELECT * FROM ticket_flow_hours ORDER BY hour"),
        # 0016: seconds from julianday() differences agree with the live code's to well under 0.01 s
        "company_days": [
            tuple(round(v, 2) if isinstance(v, float) else v for v in r)
            for r in conn.execute(text("SELECT * FROM company_days ORDER BY company_id, day"))
        ],
        "company_months": [
            tuple(round(v, 2) if isinstance(v, float) else v for v in r)
            for r in conn.execute(text("SELECT * FROM company_months ORDER BY company_id, month"))
        ],
    }


def test_an_old_database_with_data_upgrades_to_exact_rollups(empty_db_url):
    """0004, 0005 and 0007 fill their rollups from the rows already stored, with SQL frozen in
    the migration: the result must be what the live rollup code computes, and what a hand count says."""
    from mspkpi_tui.store import rollups

    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, FIRST_REVISION)
    with engine.begin() as conn:
        _insert(conn, "companies", {"id": 1, "source": "t", "source_id": "K1", "name": "Acme", "active": True})
        for resource in OLD_RESOURCES:
            _insert(conn, "resources", {**resource, "source": "t", "source_id": f"R{resource['id']}", "active": True})
        for ticket in OLD_TICKETS:
            _insert(
                conn,
                "tickets",
                {
                    **ticket,
                    "source": "t",
                    "source_id": f"T{ticket['id']}",
                    "company_id": 1 if ticket["id"] != 4 else None,  # 4: no company, in no company_days row
                    "number": f"T{ticket['id']}",
                    "title": "x",
                    "status": "Complete" if ticket["completed_at"] else "New",
                    "is_closed": ticket["completed_at"] is not None,
                    "priority": "High",
                    "priority_rank": 1,
                    "escalation_level": 0,
                },
            )
        for entry in OLD_ENTRIES:
            _insert(conn, "time_entries", {**entry, "source": "t", "source_id": f"E{entry['id']}"})
    migrate.upgrade(engine)
    engine.dispose()
    engine = open_database(empty_db_url)
    with engine.connect() as conn:
        upgraded = _rollups(conn)
    with engine.begin() as conn:
        rollups.rebuild(conn)
        rebuilt = _rollups(conn)

    assert upgraded == rebuilt
    with engine.connect() as conn:  # read back through the model types: aware UTC hours
        completion = conn.execute(rollups.completion_hours.select().order_by(rollups.completion_hours.c.hour)).all()
        response = {r.hour: r for r in conn.execute(rollups.response_hours.select())}
        days = conn.execute(rollups.resource_days.select().order_by("resource_id", "day")).all()
    engine.dispose()
    assert upgraded["counts"] == [(1, 0), (2, 2), (3, 1), (4, 0)]
    # company 1 on 2 March: tickets 1-3 opened, 1 and 2 closed (1 first touch), entries 1 and 2 (0.75 h)
    assert [(r[0], *r[2:5]) for r in upgraded["company_days"]] == [(1, 3, 2, 1), (1, 0, 1, 1)]
    assert len(upgraded["company_months"]) == 1 and upgraded["company_months"][0][2:5] == (3, 3, 2)
    assert [tuple(r) for r in completion] == [
        (_utc("2026-03-02 09:00"), 2, 1),
        (_utc("2026-03-03 10:00"), 1, 1),
    ]
    nine = response[_utc("2026-03-02 09:00")]
    assert (nine.responded, nine.responded_with_due, nine.responded_in_time) == (1, 1, 0)  # ticket 2, late
    assert (nine.resolved, nine.resolved_with_due, nine.resolved_in_time) == (2, 1, 0)  # ticket 1 late, 2 no due
    # SQLite's julianday() keeps ~1 ms: seconds agree to well under one
    assert nine.response_seconds == pytest.approx(7500.0, abs=0.01)  # ticket 2: 07:00 -> 09:05
    assert nine.resolution_seconds == pytest.approx(6599.5 + 8400.0, abs=0.01)
    eight = response[_utc("2026-03-02 08:00")]
    assert (eight.responded, eight.responded_in_time, eight.resolved) == (1, 1, 0)  # ticket 1, in time
    assert eight.response_seconds == pytest.approx(1800.0, abs=0.01)
    assert [(r.resource_id, r.day, r.hours, r.billable_hours, r.customer_facing_hours, r.entries) for r in days] == [
        (1, _utc("2026-03-02 00:00"), 0.75, 0.5, 0.75, 2),
        (2, _utc("2026-03-03 00:00"), 3.5, 1.5, 1.5, 2),
    ]


@pytest.mark.parametrize(
    ("revision", "first"),
    [("0018", "day"), ("0019", "company_id")],
    ids=["0018 day first", "0019 company first"],
)
def test_the_company_rollups_are_rekeyed_and_their_rows_copied(empty_db_url, revision, first):
    """company_days and company_months: 0018 keys them (day, company_id), 0019 (company_id, day)
    (month likewise), WITHOUT ROWID on SQLite; both copy the rows as they are (a row no
    recount would give survives: copied, not recomputed), and keep an index for the other
    way in (one company's days after 0018, a range of days after 0019)."""
    from sqlalchemy import bindparam

    from mspkpi_tui.store.models import CompanyDay, CompanyMonth
    from mspkpi_tui.store.models import table as model_table
    from mspkpi_tui.store.types import UTCDateTime

    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0017")
    columns = ["company_id", "slot", "opened", "hours"]
    rows = [
        (7, _utc("2026-03-02 00:00"), 3, 1.25),
        (2, _utc("2026-03-02 00:00"), 1, 0.5),
        (7, _utc("2026-03-01 00:00"), 5, 0.0),
    ]
    with engine.begin() as conn:
        for table, key in (("company_days", "day"), ("company_months", "month")):
            names = ", ".join(c if c != "slot" else key for c in columns)
            statement = text(
                f"INSERT INTO {table} ({names}, {_ZEROED}) VALUES (:company_id, :slot, :opened, :hours, {_ZEROES})"
            )
            for row in rows:
                conn.execute(statement.bindparams(bindparam("slot", type_=UTCDateTime)), dict(zip(columns, row)))
    migrate.upgrade(engine, revision)
    engine.dispose()
    engine = make_engine(empty_db_url)
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table, key in (("company_days", "day"), ("company_months", "month")):
            other = "company_id" if first == "day" else key
            expected = [key, "company_id"] if first == "day" else ["company_id", key]
            assert inspector.get_pk_constraint(table)["constrained_columns"] == expected
            assert [i["column_names"][0] for i in inspector.get_indexes(table)] == [other]
            if engine.dialect.name == "sqlite":
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
                assert sql.rstrip().endswith("WITHOUT ROWID")
            stored = model_table(CompanyDay if table == "company_days" else CompanyMonth)
            copied = conn.execute(
                stored.select().with_only_columns(stored.c.company_id, stored.c[key], stored.c.opened, stored.c.hours)
            ).all()
            assert sorted(map(tuple, copied)) == sorted(rows)
    engine.dispose()


_COUNTED = (
    "closed first_touch responded response_seconds responded_with_due responded_in_time resolved resolution_seconds "
    "resolved_with_due resolved_in_time response_missed resolution_missed billable_hours ticket_hours labour_cost "
    "ticket_labour_cost uncosted_hours"
).split()
_ZEROED, _ZEROES = ", ".join(_COUNTED), ", ".join("0" for _ in _COUNTED)
