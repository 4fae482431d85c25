"""The JSON Lines import (`mspkpi demo`, `mspkpi sync file`) through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fakes.dbdump import dump
from sqlalchemy import and_, func, select

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine
from mspkpi_tui.store.models import ENTITY_TABLES

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "mspkpi_tui" / "fixtures" / "demo"
MALFORMED = REPO / "fixtures" / "malformed"
NOW = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)  # a Tuesday mid-morning, like the demo's anchor
NOW_ARG = NOW.isoformat().replace("+00:00", "Z")

tickets = models.Ticket.__table__
timesheets = models.Timesheet.__table__
contracts = models.Contract.__table__
opportunities = models.Opportunity.__table__
sync_runs = models.SyncRun.__table__
rejected = models.RejectedRecord.__table__


def line_counts(folder: Path) -> dict[str, int]:
    return {
        entity: sum(1 for line in (folder / f"{entity}.jsonl").read_bytes().splitlines() if line.strip())
        for entity in ENTITY_TABLES
    }


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = [m.__table__ for m in ENTITY_TABLES.values()] + [rejected]
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    finally:
        engine.dispose()


def read(url: str, query, take):
    """Run one query on a short-lived engine; `take` picks the result (e.g. .all)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return take(conn.execute(query))
    finally:
        engine.dispose()


def scalar(url: str, query):
    return read(url, query, lambda result: result.scalar_one())


def rows(url: str, query) -> list:
    return read(url, query, lambda result: result.all())


# --- the demo ---------------------------------------------------------------------------


def test_demo_imports_live_and_a_reimport_changes_nothing(db_url, run_cli):
    expected = line_counts(DEMO)

    first = run_cli("--db", db_url, "--now", NOW_ARG, "demo", "--no-tui")
    assert first.returncode == 0, first.stderr
    assert "rejected" not in first.stderr
    for entity, n in expected.items():
        assert f"{n} {entity}" in first.stdout  # the counts are printed
    counts = table_counts(db_url)
    assert counts == {**expected, "rejected_records": 0}
    assert_demo_is_live(db_url)
    before = dump(db_url)

    again = run_cli("--db", db_url, "--now", NOW_ARG, "sync", "file", "mspkpi_tui/fixtures/demo")
    assert again.returncode == 0, again.stderr
    assert table_counts(db_url) == counts  # upserts, not duplicates
    assert dump(db_url) == before  # the same --now gives the same data

    runs = rows(db_url, select(sync_runs.c.source, sync_runs.c.status, sync_runs.c.rejected).order_by(sync_runs.c.id))
    assert [tuple(r) for r in runs] == [("demo", "ok", 0), ("demo", "ok", 0)]


def assert_demo_is_live(url: str) -> None:
    """What the issue promises the demo shows, whatever day it is imported on."""
    open_ = tickets.c.is_closed.is_(False)
    unanswered = and_(open_, tickets.c.first_response_at.is_(None))

    def count(table, *where) -> int:
        return scalar(url, select(func.count()).select_from(table).where(*where))

    # The anchor lands on now: the newest ticket arrived minutes ago, none in the future.
    newest = scalar(url, select(func.max(tickets.c.created_at)))
    assert NOW - timedelta(hours=1) < newest <= NOW

    assert 150 <= count(tickets, open_) <= 250
    assert count(tickets, unanswered, tickets.c.first_response_due < NOW) >= 3  # first response overdue
    assert (
        count(
            tickets,
            unanswered,
            tickets.c.first_response_due >= NOW,
            tickets.c.first_response_due < NOW + timedelta(hours=1),
        )
        >= 3
    )
    assert count(tickets, open_, tickets.c.resolution_due < NOW) >= 3  # resolution overdue
    end_of_today = datetime.combine(NOW.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert count(tickets, open_, tickets.c.resolution_due >= NOW, tickets.c.resolution_due < end_of_today) >= 3
    month_start = NOW.replace(day=1, hour=0, minute=0)
    assert count(tickets, open_, tickets.c.status == "Escalate", tickets.c.escalated_at >= month_start) >= 3
    assert count(tickets, open_, tickets.c.assigned_resource_id.is_(None)) >= 3

    # Last week's timesheets: a few still not submitted (or rejected) after their deadline.
    last_monday = NOW.date() - timedelta(days=NOW.weekday() + 7)
    assert (
        count(
            timesheets,
            timesheets.c.period_start == last_monday,
            timesheets.c.status.in_(["Open", "Rejected"]),
            timesheets.c.deadline < NOW,
        )
        >= 2
    )

    today = NOW.date()
    assert (
        count(
            contracts,
            contracts.c.status == "Active",
            contracts.c.end_date >= today,
            contracts.c.end_date <= today + timedelta(days=30),
        )
        >= 2
    )

    assert (
        count(
            opportunities, opportunities.c.status == "open", opportunities.c.stage_entered_at < NOW - timedelta(days=45)
        )
        >= 1
    )
    assert (
        count(
            opportunities, opportunities.c.status.in_(["won", "lost"]), opportunities.c.closed_on >= month_start.date()
        )
        >= 2
    )


@pytest.mark.parametrize(
    "now",
    [
        "2026-03-10T10:30:00Z",  # Tuesday, the anchor's weekday
        "2026-03-12T16:00:00Z",  # Thursday
        "2026-03-14T12:00:00Z",  # Saturday
        "2026-03-15T20:00:00Z",  # Sunday evening
    ],
)
def test_shifted_dates_keep_last_week_last_week(run_cli, sqlite_url, tmp_path, now):
    """A weekly period that ended before the anchor's week ends before now's week, whatever the weekday."""
    folder = tmp_path / "week"
    folder.mkdir()
    (folder / "manifest.json").write_text((DEMO / "manifest.json").read_text())
    anchor = datetime.fromisoformat(json.loads((DEMO / "manifest.json").read_text())["anchor"].replace("Z", "+00:00"))
    anchor_monday = anchor.date() - timedelta(days=anchor.weekday())
    (folder / "resources.jsonl").write_text('{"id": 1, "name": "Jo"}\n')
    sheet = {
        "id": 1,
        "resource_id": 1,
        "period_start": (anchor_monday - timedelta(days=7)).isoformat(),
        "period_end": (anchor_monday - timedelta(days=1)).isoformat(),
        "status": "Open",
    }
    (folder / "timesheets.jsonl").write_text(json.dumps(sheet) + "\n")

    result = run_cli("--db", sqlite_url, "--now", now, "sync", "file", str(folder))
    assert result.returncode == 0, result.stderr
    now_day = date.fromisoformat(now[:10])
    now_monday = now_day - timedelta(days=now_day.weekday())
    assert scalar(sqlite_url, select(timesheets.c.period_start)) == now_monday - timedelta(days=7)


# --- malformed rows -------------------------------------------------------------------------

# Every bad line in fixtures/malformed and the reason it must be kept with.
BAD_LINES = {
    ("companies", 3): "bad JSON",
    ("companies", 4): "missing required field 'name'",
    ("companies", 5): "must be a JSON object",
    ("companies", 6): "active must be true or false",
    ("resources", 2): "weekly_hours must be a number",
    ("queues", 3): "missing required field 'id'",
    ("projects", 2): "percent_complete must be a number",
    ("tickets", 3): "created_at has no time zone",
    ("tickets", 4): "resolved_at is a placeholder date",
    ("tickets", 5): "company_id 'c99' names no record in companies",
    ("tickets", 6): "company_id 'c4' names no record in companies",  # c4 itself was rejected
    ("tickets", 7): "priority_rank must be a whole number",
    ("tickets", 8): "created_at is not an ISO-8601 time",
    ("tickets", 9): "description must be a string",
    ("ticket_notes", 2): "ticket_id 't99' names no record in tickets",
    ("ticket_notes", 3): "missing required field 'body'",
    ("ticket_notes", 4): "internal must be true or false",
    ("ticket_notes", 5): "created_at has no time zone",
    ("ticket_notes", 6): "ticket_id 't3' names no record in tickets",  # t3 itself was rejected
    ("ticket_events", 2): "field must be one of",
    ("ticket_events", 3): "ticket_id 't3' names no record in tickets",
    ("timesheets", 2): "period_start is a placeholder date",
    ("time_entries", 2): "not UTF-8 text",
    ("time_entries", 3): "missing required field 'id'",
    ("time_entries", 4): "hours must be a number",
    ("opportunities", 2): "status must be one of",
    ("opportunity_stage_changes", 2): "opportunity_id 'o2' names no record in opportunities",
    ("contracts", 2): "end_date is not a date",
    ("survey_results", 2): "missing required field 'rating'",
    ("survey_results", 3): "id must be a string or whole number",
    ("survey_results", 4): "recommend_score must be 0 to 10",
    ("billing_items", 2): "missing required field 'extended_price'",
    ("billing_items", 3): "company_id 'c99' names no record in companies",
    ("billing_items", 4): "recurring must be true or false",
}


def test_malformed_rows_are_kept_with_their_reason(db_url, run_cli):
    result = run_cli("--db", db_url, "sync", "file", "fixtures/malformed")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr

    # Every good row is stored ...
    good = {
        entity: n - sum(1 for (e, _line) in BAD_LINES if e == entity) for entity, n in line_counts(MALFORMED).items()
    }
    assert table_counts(db_url) == {**good, "rejected_records": len(BAD_LINES)}

    # ... every bad one is kept, with where it came from, why, and its text ...
    kept = rows(
        db_url,
        select(rejected.c.entity, rejected.c.location, rejected.c.reason, rejected.c.raw, rejected.c.sync_run_id),
    )
    found = {}
    for entity, location, reason, raw, _run in kept:
        path, _, line = location.rpartition(":")
        assert path == f"fixtures/malformed/{entity}.jsonl"
        found[entity, int(line)] = reason
        text = (MALFORMED / f"{entity}.jsonl").read_bytes().splitlines()[int(line) - 1].decode("utf-8", "replace")
        assert raw.rstrip("\n") == text
    assert set(found) == set(BAD_LINES)
    for key, fragment in BAD_LINES.items():
        assert fragment in found[key], (key, found[key])

    # ... counted in the sync run ...
    run = rows(db_url, select(sync_runs))[0]
    assert (run.source, run.mode, run.status, run.rejected) == ("file", "file", "ok", len(BAD_LINES))
    assert run.counts == {entity: n for entity, n in good.items()}
    assert {r[4] for r in kept} == {run.id}

    # ... and printed, one line each.
    for (entity, line), reason in found.items():
        assert f"rejected {entity} at fixtures/malformed/{entity}.jsonl:{line}: {reason}" in result.stderr
    assert f"{len(BAD_LINES)} record(s) rejected" in result.stderr


def test_good_rows_are_stored_as_written(db_url, run_cli):
    """PSA text is kept literally (markup, escapes); offsets become UTC; references resolve."""
    assert run_cli("--db", db_url, "sync", "file", "fixtures/malformed").returncode == 1
    companies = models.Company.__table__
    names = {r.source_id: r.name for r in rows(db_url, select(companies.c.source_id, companies.c.name))}
    assert names == {"c1": "Acme Dental", "c2": "[bold]Smith & Sons[/bold] [UK] Ltd"}

    t1 = rows(db_url, select(tickets).where(tickets.c.source_id == "t1"))[0]
    assert t1.title == "Printer shows [Error 0x50] \x1b[31mred\x1b[0m"
    assert t1.first_response_due == datetime(2025, 11, 18, 10, 0, tzinfo=UTC)
    t2 = rows(db_url, select(tickets).where(tickets.c.source_id == "t2"))[0]
    assert t2.created_at == datetime(2025, 11, 17, 15, 0, tzinfo=UTC)  # +01:00 stored as UTC
    assert t2.company_id == scalar(db_url, select(companies.c.id).where(companies.c.source_id == "c2"))
    assert (t2.priority_rank, t2.escalation_level, t2.queue_id) == (4, 0, None)  # defaults, and an optional reference
    assert (t2.description, t2.contact_name) == (None, None)  # both optional

    # a ticket's description and requester, and its notes, kept literally (the screen sanitises)
    t10 = rows(db_url, select(tickets).where(tickets.c.source_id == "t10"))[0]
    assert t10.description == "Hi,\n\nThe printer on the \x1b[2Jsecond floor is jammed.\n\nAnn"
    assert t10.contact_name == "Ann \u202eLee"
    notes = models.TicketNote.__table__
    stored = {r.source_id: r for r in rows(db_url, select(notes))}
    assert set(stored) == {"n1", "n7"}
    assert stored["n1"].ticket_id == t10.id and stored["n1"].internal is True
    assert stored["n1"].author == "Alice \x1b]52;c;ZWNobyBoaQ==\x07Nguyen"
    assert stored["n1"].body == "Checked the queue.\nCleared it \u202eevil"
    n7 = stored["n7"]
    assert (n7.ticket_id, n7.kind, n7.internal) == (t1.id, "Resolution", False)  # internal defaults to false
    assert n7.created_at == datetime(2025, 11, 18, 9, 5, tzinfo=UTC)


def test_long_descriptions_and_notes_are_stored_cut_with_a_marker(sqlite_url, run_cli, tmp_path):
    """A pasted e-mail thread is bounded: its first TEXT_LIMITS characters and a marker with the length."""
    from mspkpi_tui.store.records import TEXT_LIMITS

    limit = TEXT_LIMITS["ticket_notes", "body"]
    folder = tmp_path / "long"
    folder.mkdir()
    ticket = {"id": 1, "number": "T1", "title": "Long", "status": "New", "is_closed": False, "priority": "Low"}
    ticket |= {"created_at": "2025-11-18T09:00:00Z", "description": "d" * 10_000}
    note = {"id": 1, "ticket_id": 1, "created_at": "2025-11-18T09:30:00Z", "body": "é" * (limit + 1)}
    short = {"id": 2, "ticket_id": 1, "created_at": "2025-11-18T09:31:00Z", "body": "x" * limit}
    (folder / "tickets.jsonl").write_text(json.dumps(ticket) + "\n")
    (folder / "ticket_notes.jsonl").write_text(json.dumps(note) + "\n" + json.dumps(short) + "\n")
    assert run_cli("--db", sqlite_url, "sync", "file", str(folder)).returncode == 0
    description = scalar(sqlite_url, select(tickets.c.description))
    assert (
        description
        == "d" * TEXT_LIMITS["tickets", "description"] + "\n[cut here: the source's text is 10,000 characters]"
    )
    notes = models.TicketNote.__table__
    bodies = dict(rows(sqlite_url, select(notes.c.source_id, notes.c.body)))
    assert bodies["1"] == "é" * limit + f"\n[cut here: the source's text is {limit + 1:,} characters]"
    assert bodies["2"] == "x" * limit  # at the limit: kept whole, no marker


# --- the documentation ------------------------------------------------------------------------


def test_import_format_doc_covers_every_field_and_its_examples_are_valid():
    from mspkpi_tui.store.records import SPECS, validate

    doc = (REPO / "docs" / "import-format.md").read_text(encoding="utf-8")
    sections = {part.split(".jsonl", 1)[0].strip(): part for part in doc.split("\n### ")[1:]}
    assert set(sections) == set(SPECS)
    for entity, specs in SPECS.items():
        for spec in specs:
            assert f"`{spec.name}`" in sections[entity], f"docs/import-format.md: {entity}.{spec.name} is not described"

    examples = doc.split("## Example lines", 1)[1].split("```", 2)[1]
    entity, seen = None, set()
    for line in examples.strip().splitlines():
        if line.startswith("# "):
            entity = line[2:].removesuffix(".jsonl")
            continue
        validate(entity, json.loads(line), lambda _entity, _id: 1)  # raises RecordError if the example is wrong
        seen.add(entity)
    assert seen == set(SPECS)
