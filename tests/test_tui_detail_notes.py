"""The ticket detail at 80x24: the requester, the description (sanitised, wrapped, bounded) and the
last notes and time entries with their authors, newest first; hostile PSA text stays inert."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_tui_app import screen_text, settle, wait_until
from test_tui_support import fill, make_app, records, tui_engine, tui_template_db  # noqa: F401 (fixtures)

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.store import models
from mspkpi_tui.store.writer import SyncWriter
from mspkpi_tui.tui.screens import DetailScreen

pytestmark = pytest.mark.anyio

HOSTILE_AUTHOR = "Mallory \x1b]52;c;ZXZpbA==\x07\x1b[2J"
DESCRIPTION = (
    "Hi team,\r\n\r\n\r\nOutlook on my phone stopped syncing at 9.\tIt says\x1b[31m password wrong.\n"
    + "\n".join(f"line {n}" for n in range(40))
)


def add_notes(engine) -> int:
    """t2 gets a requester, a description and three notes (one hostile); returns its local id."""
    ticket = next(t for t in records("tickets") if t["id"] == "t2")
    ticket |= {"contact_name": "Helen Baker", "description": DESCRIPTION}
    notes = [
        {
            "id": "n1",
            "ticket_id": "t2",
            "created_at": "2026-03-10T09:30:00Z",
            "author": "Alice Nguyen",
            "kind": "First response",
            "body": "Hi Helen, looking at it now.",
        },
        {
            "id": "n2",
            "ticket_id": "t2",
            "created_at": "2026-03-10T11:00:00Z",
            "author": HOSTILE_AUTHOR,
            "kind": "E-mail\u202e",
            "body": "Still broken\x1b[2J\nsecond line",
            "internal": False,
        },
        {
            "id": "n3",
            "ticket_id": "t2",
            "created_at": "2026-03-10T12:15:00Z",
            "author": "Alice Nguyen",
            "kind": "Internal note",
            "body": "Re-added the account on the phone.",
            "internal": True,
        },
    ]
    with SyncWriter(engine, "demo", "file") as run:
        assert run.store_page("tickets", [ticket], ["t2"]) == 1
        assert run.store_page("ticket_notes", notes, ["n1", "n2", "n3"]) == 3
    return run.ids.get("tickets", "t2")


def test_ticket_detail_reads_description_requester_and_last_notes_newest_first(tui_engine):
    ticket_id = add_notes(tui_engine)
    detail = ticket_lists.ticket_detail(tui_engine, ticket_id)
    assert dict(detail.fields)["Requester"] == "Helen Baker" and detail.contact == "Helen Baker"
    assert detail.description == DESCRIPTION
    assert [(n.author, n.kind, n.internal) for n in detail.notes] == [
        ("Alice Nguyen", "Internal note", True),
        (HOSTILE_AUTHOR, "E-mail\u202e", False),
        ("Alice Nguyen", "First response", False),
    ]
    assert detail.notes_total == 3
    starts = [e.started_at for e in detail.time_entries]
    assert starts == sorted(starts, reverse=True)


async def test_detail_at_80x24_shows_notes_with_authors_and_keeps_hostile_text_inert(tui_engine):
    ticket_id = add_notes(tui_engine)
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(DetailScreen(ticket_id))
        await wait_until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        await settle(pilot)
        first = screen_text(app)
        assert "Requester:          Helen Baker" in first
        # what the ticket is about is on the first screen, before the long list of fields
        assert "Description" in first and "Hi team," in first and first.index("Description") < first.index("Hi team,")
        seen = first
        for _ in range(8):  # page down through the detail, as a lead would
            await pilot.press("pagedown")
            await pilot.pause()
            seen += "\n" + screen_text(app)
    assert all(len(line) <= 80 for line in seen.splitlines())
    lines = [line.rstrip(" ▁▂▃▄▅▆▇█▔▏▕") for line in seen.splitlines()]  # the scrollbar is not text
    seen = "\n".join(lines)
    # the description: its own lines, blank runs squeezed, the tab a space run, the escape a symbol, bounded
    assert "Description" in lines and lines[lines.index("Hi team,") + 1 : lines.index("Hi team,") + 3] == [
        "",
        "Outlook on my phone stopped syncing at 9.    It says␛[31m password wrong.",
    ]
    assert "line 11" in lines and "line 12" not in lines  # 15 lines at most
    assert "… 28 more lines not shown (the PSA link has it all)" in lines
    # the notes: newest first, each with when, who and what, the body indented under it
    assert "Notes: 3 · newest first" in seen
    newest = seen.index("2026-03-10 12:15  Alice Nguyen · Internal note · internal")
    hostile = seen.index("2026-03-10 11:00  Mallory ␛]52;c;ZXZpbA==␇␛[2J · E-mail<U+202E>")
    oldest = seen.index("2026-03-10 09:30  Alice Nguyen · First response")
    assert newest < hostile < oldest
    assert "  Still broken␛[2J\n  second line" in seen and "  Re-added the account on the phone." in seen
    # and the time entries with their technician
    assert "Time entries: 1 (1.5 h) · newest first" in seen and "Alice Nguyen" in seen
    assert "\x1b" not in seen and "\x07" not in seen and "\u202e" not in seen


def test_last_notes_only_and_a_deleted_ticket_takes_its_notes(engine):
    """On both databases: the detail reads the last NOTES_SHOWN notes and says how many there are;
    deleting the ticket (a PSA's deletion log) deletes its notes in the same transaction."""
    fill(engine)
    ticket_id = add_notes(engine)
    many = [
        {"id": f"m{k}", "ticket_id": "t2", "created_at": f"2026-03-09T{k % 24:02}:{k // 24:02}:00Z", "body": f"n{k}"}
        for k in range(30)
    ]
    with SyncWriter(engine, "demo", "file") as run:
        run.store_page("ticket_notes", many, [n["id"] for n in many])
    detail = ticket_lists.ticket_detail(engine, ticket_id)
    assert detail.notes_total == 33 and len(detail.notes) == ticket_lists.NOTES_SHOWN
    assert [n.body for n in detail.notes[:3]] == [
        "Re-added the account on the phone.",
        "Still broken\x1b[2J\nsecond line",
        "Hi Helen, looking at it now.",
    ]
    with SyncWriter(engine, "demo", "file") as run:
        assert run.delete("tickets", ["t2"]) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.table(models.TicketNote))).scalar_one() == 0
