"""The committed demo dataset: reproducible from its generator, small, and shaped like a real MSP.

These read the JSON Lines files only (no database); tests/test_import.py imports them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mspkpi_tui.store.models import ENTITY_TABLES

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "mspkpi_tui" / "fixtures" / "demo"
GENERATOR = REPO / "fixtures" / "generate_demo.py"
MAX_FILE_BYTES = 5 * 1024 * 1024


def load(entity: str) -> list[dict]:
    with (DEMO / f"{entity}.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def anchor() -> datetime:
    return when(json.loads((DEMO / "manifest.json").read_text())["anchor"])


def test_generator_reproduces_the_committed_files(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, str(GENERATOR), str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    committed = sorted(p.name for p in DEMO.iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    for name in committed:
        assert (out / name).read_bytes() == (DEMO / name).read_bytes(), (
            f"{name} differs: re-run {GENERATOR.name} and commit"
        )


def test_every_entity_has_a_small_file():
    assert {p.stem for p in DEMO.glob("*.jsonl")} == set(ENTITY_TABLES)
    for path in DEMO.iterdir():
        assert path.stat().st_size < MAX_FILE_BYTES, path.name


def test_manifest_anchor_is_a_tuesday_morning(anchor):
    manifest = json.loads((DEMO / "manifest.json").read_text())
    assert manifest["source"] == "demo"
    assert (anchor.weekday(), anchor.hour, anchor.minute) == (1, 10, 30)


def test_nothing_has_happened_after_the_anchor(anchor):
    """Due dates lie ahead; everything that happened lies before the anchor."""
    happened = {
        "tickets": [
            "created_at",
            "first_response_at",
            "resolved_at",
            "completed_at",
            "escalated_at",
            "last_activity_at",
        ],
        "ticket_events": ["at"],
        "ticket_notes": ["created_at"],
        "timesheets": ["submitted_at"],
        "opportunities": ["stage_entered_at", "created_at"],
        "opportunity_stage_changes": ["entered_at"],
        "survey_results": ["completed_at"],
    }
    for entity, fields in happened.items():
        for record in load(entity):
            for name in fields:
                if record.get(name):
                    assert when(record[name]) <= anchor, (entity, record["id"], name)
    for entry in load("time_entries"):
        assert when(entry["started_at"]) + timedelta(hours=entry["hours"]) <= anchor, entry["id"]


def test_ticket_timestamps_are_in_order():
    for t in load("tickets"):
        created = when(t["created_at"])
        for name in (
            "first_response_at",
            "resolved_at",
            "completed_at",
            "escalated_at",
            "first_response_due",
            "resolution_due",
        ):
            if t.get(name):
                assert when(t[name]) >= created, (t["id"], name)
        assert t["is_closed"] == (t["status"] == "Complete")
        assert bool(t.get("completed_at")) == t["is_closed"]


def test_it_looks_like_a_real_service_desk(anchor):
    """Volumes and rates the issue asks for: checked here so a tweak to the generator cannot drift."""
    tickets = load("tickets")
    entries = load("time_entries")
    assert 7000 <= len(tickets) <= 9000
    assert 20000 <= len(entries) <= 30000
    assert (len(load("companies")), len(load("resources")), len(load("queues"))) == (40, 25, 4)
    assert 70 <= len(load("opportunities")) <= 90 and len(load("contracts")) == 50 and 55 <= len(load("projects")) <= 65

    # Business-hours arrivals: Monday busiest, weekends quiet, mid-morning peak, some night alerts.
    weekday = Counter(when(t["created_at"]).weekday() for t in tickets)
    assert weekday[0] > weekday[2] > weekday[4] > 3 * weekday[5]
    hour = Counter(when(t["created_at"]).hour for t in tickets)
    assert hour[10] > 2 * hour[17] and hour[10] > hour[12] and 0 < hour[3] < hour[10] / 10

    # First contact resolution (fewer than two time entries on a completed ticket) about 60-70%.
    per_ticket = Counter(e["ticket_id"] for e in entries if e.get("ticket_id"))
    closed = [t for t in tickets if t["is_closed"]]
    assert 0.6 <= sum(per_ticket[t["id"]] < 2 for t in closed) / len(closed) <= 0.7

    # Resolution SLA met by 85-95% of the tickets resolved in the last 30 days.
    recent = [t for t in closed if when(t["resolved_at"]) >= anchor - timedelta(days=30)]
    met = sum(when(t["resolved_at"]) <= when(t["resolution_due"]) for t in recent) / len(recent)
    assert 0.85 <= met <= 0.95

    ratings = [s["rating"] for s in load("survey_results")]
    assert 4.3 <= statistics.mean(ratings) <= 4.8 and sum(r < 3 for r in ratings) >= 10

    # Some tickets were reopened and some escalated.
    events = load("ticket_events")
    assert sum(e["field"] == "status" and e.get("old_value") == "Complete" for e in events) >= 50
    assert sum(e["field"] == "status" and e["new_value"] == "Escalate" for e in events) >= 100
    assert {e["field"] for e in events} == {"status", "queue", "priority", "assignee"}


def test_psa_text_with_markup_characters_is_in_the_demo():
    names = [c["name"] for c in load("companies")]
    assert "Smith & Sons [UK] Ltd" in names
    assert any("[" in t["title"] for t in load("tickets"))


def test_tickets_have_requesters_descriptions_notes_and_links():
    """The detail has something to show on the demo: who asked, what they wrote, the notes with
    their authors, and a link to a demo host for `o` and `y`."""
    tickets = load("tickets")
    people = [t for t in tickets if t["issue_type"] != "Monitoring"]
    assert all(t.get("contact_name") for t in people)
    assert not any(t.get("contact_name") for t in tickets if t["issue_type"] == "Monitoring")  # raised by the RMM
    open_people = [t for t in people if not t["is_closed"]]
    assert open_people and all(t.get("description") for t in open_people)
    assert all(t["url"] == f"https://psa.demo.example/tickets/{t['number']}" for t in tickets)
    notes = load("ticket_notes")
    technicians = {r["name"] for r in load("resources")}
    assert len(notes) >= 500 and {n["author"] for n in notes} <= technicians
    by_ticket = Counter(n["ticket_id"] for n in notes)
    assert sum(by_ticket[t["id"]] > 1 for t in open_people) >= 10
    # a few busy requesters per company: the review's "Most frequent requesters" is not flat
    top = Counter(t["contact_name"] for t in people).most_common(1)[0][1]
    assert top >= 3 * statistics.median(Counter(t["contact_name"] for t in people).values())
