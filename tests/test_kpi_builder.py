"""A small builder for the KPI tests' hand-made datasets, and the tests of the write-time
rollup the engine reads (tickets.time_entry_count).

Datasets go in through the real sync path (canonical records -> SyncWriter.store_page), so
the tests see exactly what an import would store.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from mspkpi_tui.config import Config
from mspkpi_tui.store.models import ENTITY_TABLES, Ticket
from mspkpi_tui.store.writer import SyncWriter

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def utc(text: str) -> datetime:
    """'2026-11-23 11:00' -> an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(text: str) -> str:
    return utc(text).isoformat()


def config(timezone_name: str = "UTC", **sections) -> Config:
    cfg = Config(timezone=timezone_name)
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(cfg, section), key, value)
    return cfg


class Data:
    """Records by entity; `store()` writes them through one SyncWriter, refusing any reject."""

    def __init__(self, source: str = "t"):
        self.source = source
        self.records: dict[str, list[dict]] = defaultdict(list)
        self._next = 0

    def add(self, entity: str, **fields) -> str:
        self._next += 1
        fields.setdefault("id", f"{entity[:2]}{self._next}")
        for key, value in list(fields.items()):
            if isinstance(value, datetime):
                fields[key] = value.isoformat()
        self.records[entity].append(fields)
        return fields["id"]

    def ticket(self, id: str, created: str = "2026-11-01 09:00", **fields) -> str:
        fields = {
            "number": f"T{id}",
            "title": f"ticket {id}",
            "status": "New",
            "is_closed": False,
            "priority": "Medium",
            "priority_rank": 3,
            "created_at": iso(created),
        } | {k: (iso(v) if k.endswith(("_at", "_due")) and isinstance(v, str) else v) for k, v in fields.items()}
        return self.add("tickets", id=id, **fields)

    def closed(self, id: str, created: str = "2026-11-01 09:00", **fields) -> str:
        fields.setdefault("status", "Complete")
        return self.ticket(id, created, is_closed=True, **fields)

    def resource(self, id: str, name: str, **fields) -> str:
        return self.add("resources", id=id, name=name, **fields)

    def entry(self, resource: str, started: str, hours: float, **fields) -> str:
        return self.add("time_entries", resource_id=resource, started_at=iso(started), hours=hours, **fields)

    def event(self, ticket: str, at: str, field: str, old, new) -> str:
        return self.add("ticket_events", ticket_id=ticket, at=iso(at), field=field, old_value=old, new_value=new)

    def store(self, engine) -> None:
        with SyncWriter(engine, self.source, "file") as run:
            for entity in ENTITY_TABLES:
                records = self.records.get(entity, [])
                if records:
                    run.store_page(entity, records, [f"{entity}:{i}" for i in range(len(records))])
            rejects = list(run.summary.rejects)
        assert not rejects, rejects


def entry_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Ticket.source_id, Ticket.time_entry_count)).all())


def test_time_entry_count_follows_inserts_moves_and_prunes(engine):
    data = Data()
    data.resource("R1", "Alice")
    data.ticket("A")
    data.ticket("B")
    data.entry("R1", "2026-11-02 10:00", 1.0, ticket_id="A", id="E1")
    data.entry("R1", "2026-11-02 11:00", 1.0, ticket_id="A", id="E2")
    data.entry("R1", "2026-11-02 12:00", 1.0, ticket_id="B", id="E3")
    data.store(engine)
    assert entry_counts(engine) == {"A": 2, "B": 1}

    # E2 is moved from ticket A to ticket B by a later sync; E1 becomes internal time.
    with SyncWriter(engine, "t") as run:
        run.store_page(
            "time_entries",
            [
                {
                    "id": "E2",
                    "resource_id": "R1",
                    "ticket_id": "B",
                    "started_at": iso("2026-11-02 11:00"),
                    "hours": 1.0,
                },
                {"id": "E1", "resource_id": "R1", "started_at": iso("2026-11-02 10:00"), "hours": 1.0},
            ],
            ["p:1", "p:2"],
        )
    assert entry_counts(engine) == {"A": 0, "B": 2}

    # A full pass that no longer returns E3 deletes it and recounts B.
    with SyncWriter(engine, "t", "full") as run:
        run.prune("time_entries", {"E1", "E2"})
    assert entry_counts(engine) == {"A": 0, "B": 1}


def test_a_ticket_reimport_keeps_its_count(engine):
    data = Data()
    data.resource("R1", "Alice")
    data.ticket("A")
    data.entry("R1", "2026-11-02 10:00", 1.0, ticket_id="A")
    data.store(engine)
    again = Data()
    again.ticket("A", title="renamed")
    again.store(engine)
    assert entry_counts(engine) == {"A": 1}


def completion_rollup(engine) -> dict:
    from mspkpi_tui.store.models import TicketCompletionHour

    with engine.connect() as conn:
        rows = conn.execute(
            select(TicketCompletionHour.hour, TicketCompletionHour.completed, TicketCompletionHour.first_touch)
        ).all()
    return {hour: (n, first) for hour, n, first in rows}


def recount(engine) -> dict:
    """The rollup worked out from the tickets themselves."""
    from mspkpi_tui.store.rollups import hour_floor

    expected: dict = {}
    with engine.connect() as conn:
        for done, entries in conn.execute(
            select(Ticket.completed_at, Ticket.time_entry_count).where(Ticket.completed_at.is_not(None))
        ):
            n, first = expected.get(hour_floor(done), (0, 0))
            expected[hour_floor(done)] = (n + 1, first + (entries < 2))
    return expected


def test_completion_hours_follow_completions_reopens_entries_and_prunes(engine):
    from mspkpi_tui.store.rollups import fcr_counts

    data = Data()
    data.resource("R1", "Alice")
    data.closed("A", completed_at="2026-11-02 10:15")
    data.closed("B", completed_at="2026-11-02 10:45")
    data.closed("C", completed_at="2026-11-02 11:30")
    data.closed("D", completed_at="2026-11-02 11:59")
    data.entry("R1", "2026-11-02 10:00", 1.0, ticket_id="A", id="E1")
    data.entry("R1", "2026-11-02 10:00", 1.0, ticket_id="A", id="E2")
    data.store(engine)
    h10, h11 = utc("2026-11-02 10:00"), utc("2026-11-02 11:00")
    assert completion_rollup(engine) == {h10: (2, 1), h11: (2, 2)} == recount(engine)

    later = Data()
    later.ticket("B", status="In Progress")  # reopened: no longer completed
    later.closed("C", completed_at="2026-11-02 10:05")  # completion time corrected into 10:00
    later.add("time_entries", id="E2", resource_id="R1", ticket_id="C", started_at=iso("2026-11-02 10:00"), hours=1.0)
    later.store(engine)
    assert completion_rollup(engine) == {h10: (2, 2), h11: (1, 1)} == recount(engine)

    with SyncWriter(engine, "t", "full") as run:
        run.prune("tickets", {"A", "B", "C"})  # D is gone from the source
    assert completion_rollup(engine) == {h10: (2, 2)} == recount(engine)

    with engine.connect() as conn:
        # whole hours from the rollup plus exact partial hours at both ends
        assert fcr_counts(conn, utc("2026-11-02 10:00"), utc("2026-11-02 12:00")) == (2, 2)
        assert fcr_counts(conn, utc("2026-11-02 10:10"), utc("2026-11-02 10:20")) == (1, 1)  # A only
        assert fcr_counts(conn, utc("2026-11-02 10:06"), utc("2026-11-02 11:00")) == (1, 1)
        assert fcr_counts(conn, utc("2026-11-01 23:30"), utc("2026-11-02 10:05")) == (1, 1)  # C at the very end


def test_rebuild_recomputes_every_rollup(engine):
    from mspkpi_tui.store import rollups

    data = Data()
    data.resource("R1", "Alice")
    data.closed("A", completed_at="2026-11-02 10:15")
    data.entry("R1", "2026-11-02 10:00", 1.0, ticket_id="A")
    data.store(engine)
    with engine.begin() as conn:  # as a bulk loader would leave it
        conn.execute(Ticket.__table__.update().values(time_entry_count=0))
        conn.execute(rollups.completion_hours.delete())
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert entry_counts(engine) == {"A": 1}
    assert completion_rollup(engine) == {utc("2026-11-02 10:00"): (1, 1)}


def resource_day_rollup(engine) -> dict:
    from mspkpi_tui.store.models import Resource, ResourceDayHours

    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Resource.source_id,
                ResourceDayHours.day,
                ResourceDayHours.hours,
                ResourceDayHours.billable_hours,
                ResourceDayHours.customer_facing_hours,
                ResourceDayHours.entries,
            ).join(Resource, Resource.id == ResourceDayHours.resource_id)
        ).all()
    return {(r, day.date().isoformat()): (h, b, f, n) for r, day, h, b, f, n in rows}


def test_resource_day_hours_follow_entry_writes_moves_and_prunes(engine):
    data = Data()
    data.resource("R1", "Alice")
    data.resource("R2", "Bob")
    data.ticket("T")
    data.entry("R1", "2026-11-02 23:30", 2.0, billable=True, ticket_id="T", id="E1")
    data.entry("R1", "2026-11-02 08:00", 1.0, id="E2")
    data.entry("R2", "2026-11-03 00:00", 4.0, billable=True, id="E3")
    data.store(engine)
    assert resource_day_rollup(engine) == {
        ("R1", "2026-11-02"): (3.0, 2.0, 2.0, 2),
        ("R2", "2026-11-03"): (4.0, 4.0, 0.0, 1),
    }

    later = Data()  # E1 moves to the next day and to Bob; E2 becomes billable
    later.add(
        "time_entries",
        id="E1",
        resource_id="R2",
        ticket_id="T",
        started_at=iso("2026-11-03 00:30"),
        hours=2.0,
        billable=True,
    )
    later.add("time_entries", id="E2", resource_id="R1", started_at=iso("2026-11-02 08:00"), hours=1.5, billable=True)
    later.store(engine)
    assert resource_day_rollup(engine) == {
        ("R1", "2026-11-02"): (1.5, 1.5, 0.0, 1),
        ("R2", "2026-11-03"): (6.0, 6.0, 2.0, 2),
    }

    with SyncWriter(engine, "t", "full") as run:
        run.prune("time_entries", {"E1", "E2"})
    assert resource_day_rollup(engine) == {
        ("R1", "2026-11-02"): (1.5, 1.5, 0.0, 1),
        ("R2", "2026-11-03"): (2.0, 2.0, 2.0, 1),
    }

    from mspkpi_tui.store import rollups

    before = resource_day_rollup(engine)
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert resource_day_rollup(engine) == before
