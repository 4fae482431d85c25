"""The ticket detail's data through each PSA connector, against the fake servers (real HTTP on
127.0.0.1): the description, the requester and the notes with their authors are stored; notes are
read only for what changed; a malformed note is rejected with its reason and never costs its
ticket; a deleted ticket takes its notes with it. Both databases."""

from __future__ import annotations

import pytest
from fakes.autotask_server import AutotaskFake
from fakes.autotask_server import populate as at_populate
from fakes.connectwise_server import ConnectWiseFake
from fakes.halo import HaloFake
from sqlalchemy import select
from test_sync_autotask import FAST as AT_FAST
from test_sync_connectwise import PAGE as CW_PAGE
from test_sync_connectwise import populate as cw_populate
from test_sync_connectwise import rows as cw_rows
from test_sync_connectwise import sync as cw_sync
from test_sync_halo import BASE as HALO_BASE
from test_sync_halo import PAGE as HALO_PAGE
from test_sync_halo import populate as halo_populate
from test_sync_halo import rows as halo_rows
from test_sync_halo import sync as halo_sync

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

# --- HaloPSA: actions with a note are the notes; details and user_name ---------------------


@pytest.fixture
def halo():
    with HaloFake(max_page_size=HALO_PAGE) as server:
        halo_populate(server)
        yield server


def test_halo_notes_description_and_requester(run_cli, db_url, halo):
    # a note that is not text: rejected with its reason; its ticket and the other notes are stored
    halo.put(
        "Actions",
        {
            "id": 9,
            "ticket_id": 1002,
            "who": "Bob Baker",
            "outcome": "Email",
            "note": {"html": "<b>hi</b>"},
            "datetime": "2026-01-05T09:00:00",
            "timetaken": 0,
        },
        at=HALO_BASE,
    )
    done = halo_sync(run_cli, db_url, halo)
    assert done.returncode == 1, done.stderr
    assert "rejected ticket_notes at GET /api/Actions" in done.stderr and "body must be a string" in done.stderr
    assert "Traceback" not in done.stderr

    tickets = halo_rows(db_url, "tickets")
    assert tickets["1002"]["description"] == "Printer on floor 1 jams.\r\nTried a reboot."
    assert tickets["1001"]["description"] is None  # Halo's empty details: none
    assert tickets["1002"]["contact_name"] == "Quinn Quill" and tickets["1003"]["contact_name"] is None
    notes = halo_rows(db_url, "ticket_notes")
    # the first action of each ticket logs time without a note; the rest are notes, keyed (ticket, action)
    assert "1001:1" not in notes and "1002:9" not in notes
    assert notes["1001:2"]["body"] == "Note 2 on 1001" and notes["1001:2"]["ticket_id"] == "1001"
    assert (notes["1001:2"]["author"], notes["1001:2"]["kind"], notes["1001:2"]["internal"]) == (
        "Cy Cole",
        "Note",
        True,  # hiddenfromuser
    )
    assert notes["1002:3"]["internal"] is False
    assert len(notes) == sum(1 for k in halo.data["actions"] if k[1] != 1 and k != (1002, 9))

    # incremental: a new note on one ticket is read from the actions' cursor, nothing else again
    halo.put(
        "Actions",
        {
            "id": 4,
            "ticket_id": 1005,
            "who": "Ann Archer",
            "outcome": "Email",
            "note": "Customer replied",
            "datetime": "2026-01-07T10:00:00",
            "timetaken": 0,
        },
    )  # changed now: after the cursor
    before = len(halo.server.log)
    again = halo_sync(run_cli, db_url, halo)
    actions = [e for e in halo.server.log[before:] if e.request.path.lower() == "/api/actions"]
    assert actions and all(e.request.param("lastupdatefromdate") for e in actions)
    assert sum(e.items or 0 for e in actions) == 1  # the new action only
    assert halo_rows(db_url, "ticket_notes")["1005:4"]["body"] == "Customer replied"
    assert again.returncode == 0, again.stderr

    # a deleted ticket takes its notes with it
    halo.delete_ticket(1005)
    halo_sync(run_cli, db_url, halo)
    assert not any(k.startswith("1005:") for k in halo_rows(db_url, "ticket_notes"))


# --- Autotask: Tickets.description, contactID -> Contacts, TicketNotes by ticket ------------


@pytest.fixture
def autotask():
    with AutotaskFake() as server:
        at_populate(server)
        yield server


def at_sync(run_cli, url, fake, *args):
    return run_cli("--db", url, "sync", "autotask", *args, env={**fake.env(), **AT_FAST})


def note_queries(fake) -> list[list]:
    """The ticket ids each TicketNotes query asked for."""
    found = []
    for e in fake.server.requests_to("/atservicesrest/v1.0/ticketnotes/query"):
        filters = e.request.json()["filter"]
        found.append(next(f["value"] for f in filters if f.get("field") == "ticketID"))
    return found


def table_rows(url: str, model, *where) -> dict[str, dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {r["source_id"]: dict(r) for r in conn.execute(select(model).where(*where)).mappings()}
    finally:
        engine.dispose()


def test_autotask_notes_description_and_requester(run_cli, db_url, autotask):
    closed = {i for i, t in autotask.data["Tickets"].items() if t["status"] == 5}
    # a note whose type the tenant's picklist does not know: rejected with the reason, its ticket stays
    autotask.put("TicketNotes", {**autotask.data["TicketNotes"][20_002], "id": 29_999, "noteType": 99})

    done = at_sync(run_cli, db_url, autotask)
    assert done.returncode == 1, done.stderr
    assert "rejected ticket_notes at TicketNotes id 29999" in done.stderr
    assert "noteType 99 is not in the TicketNotes noteType picklist" in done.stderr and "Traceback" not in done.stderr

    tickets = table_rows(db_url, models.Ticket)
    assert tickets["1"]["description"] == "Smoke from printer 1.\r\nPlease send someone \x1b]52;c;aGk=\x07"
    assert tickets["3"]["description"] is None  # "" is no description
    assert tickets["1"]["contact_name"] == "Bob Client2" and tickets["10"]["contact_name"] is None
    asked = [i for e in autotask.server.requests_to("/contacts/query") for i in e.request.json()["filter"][0]["value"]]
    assert len(asked) == len(set(asked)) <= 12, "each contact looked up once a pass, with the page naming it"

    notes = table_rows(db_url, models.TicketNote)
    ticket_ids = {v: k for k, v in ((sid, t["id"]) for sid, t in tickets.items())}
    # every ticket here is older than the notes window: a first pass reads the open ones' notes only
    assert {ticket_ids[n["ticket_id"]] for n in notes.values()} == {str(i) for i in autotask.data["Tickets"]} - {
        str(i) for i in closed
    }
    assert "29999" not in notes
    mine = notes["20002"]  # ticket 1's technician note
    assert (mine["author"], mine["kind"], mine["internal"]) == ("Tech2 Smith", "Task Summary", True)
    assert mine["body"] == "Diagnosis\nChecked printer 1; toner \x1b[2J low."
    reply = notes["20003"]  # the customer's, published to all: not internal
    assert (reply["author"], reply["kind"], reply["internal"]) == ("Ann Client2", "Task Notes", False)
    assert note_queries(autotask) == [sorted(int(s) for s in {ticket_ids[n["ticket_id"]] for n in notes.values()})]

    # incremental: a new note on one changed ticket; the notes of that ticket only are asked for
    autotask.server.clear_log()
    autotask.edit("Tickets", 3, status=8)  # reopened: open, and changed now
    autotask.put(
        "TicketNotes",
        {
            "id": 30_000,
            "ticketID": 3,
            "title": "Reopened",
            "description": "Jammed again.",
            "noteType": 2,
            "publish": 2,
            "creatorResourceID": 101,
            "createDateTime": "2026-12-01T10:00:00Z",
            "lastActivityDate": "2026-12-01T10:00:00Z",
        },
    )
    again = at_sync(run_cli, db_url, autotask)
    assert again.returncode == 0, again.stderr
    assert note_queries(autotask) == [[3]]
    notes = table_rows(db_url, models.TicketNote)
    assert notes["30000"]["body"] == "Reopened\nJammed again." and notes["30000"]["author"] == "Tech1 Smith"

    # a deleted ticket takes its notes with it
    autotask.delete_ticket(3)
    assert at_sync(run_cli, db_url, autotask).returncode == 0
    assert not {"30000", "20006", "20007"} & set(table_rows(db_url, models.TicketNote))


# --- ConnectWise: contact, the detail-description note, service/tickets/{id}/notes -----------


@pytest.fixture
def connectwise():
    with ConnectWiseFake(max_page_size=CW_PAGE) as server:
        cw_populate(server)
        yield server


def notes_asked(fake) -> list[int]:
    return sorted(
        int(e.request.path.split("/")[-2]) for e in fake.server.log if e.request.path.lower().endswith("/notes")
    )


def test_connectwise_notes_description_and_requester(run_cli, db_url, connectwise):
    tickets = connectwise.data["service/tickets"]
    open_ids = sorted(i for i, t in tickets.items() if not t["closedFlag"])
    # a note with an unreadable time: rejected with the reason; its ticket and its other note are stored
    connectwise.put(
        "service/tickets/1003/notes",
        {"id": 3, "ticketId": 1003, "text": "Called", "dateCreated": "yesterday", "member": {"id": 1, "name": "Ann"}},
    )
    done = cw_sync(run_cli, db_url, connectwise)
    assert done.returncode == 1, done.stderr
    assert "rejected ticket_notes at GET service/tickets/1003/notes id=3" in done.stderr
    assert "created_at is not an ISO-8601 time: 'yesterday'" in done.stderr and "Traceback" not in done.stderr

    stored = cw_rows(db_url, "tickets")
    assert stored["1003"]["description"] == "Printer 2 jams.\nSince Monday."  # the first detail note
    assert stored["1002"]["contact_name"] == "Quinn Quill" and stored["1001"]["contact_name"] is None
    # closed long ago: its notes are not read, so no description either
    assert not any(stored[str(i)]["description"] for i in tickets if i not in open_ids)
    assert notes_asked(connectwise) == open_ids, "one notes request per open ticket, none for the old closed ones"

    notes = cw_rows(db_url, "ticket_notes")
    first, analysis = notes["1002:1"], notes["1002:2"]
    assert (first["author"], first["kind"], first["internal"]) == ("Pat Price", "Description", False)
    assert (analysis["author"], analysis["kind"], analysis["internal"]) == ("Bob Baker", "Internal analysis", True)
    assert analysis["body"] == "Fuser worn \x1b[2J out." and analysis["ticket_id"] == "1002"
    assert "1003:3" not in notes and "1003:1" in notes

    # incremental: one ticket changed and gained a note; only its notes are asked for
    connectwise.server.clear_log()
    connectwise.edit("service/tickets", 1002, summary="Printer 1 still jams")
    connectwise.put(
        "service/tickets/1002/notes",
        {
            "id": 3,
            "ticketId": 1002,
            "text": "Replaced the fuser.",
            "resolutionFlag": True,
            "member": {"id": 3, "identifier": "cy", "name": "Cy Cole"},
            "dateCreated": "2026-12-01T10:00:00Z",
        },
    )
    again = cw_sync(run_cli, db_url, connectwise)
    assert notes_asked(connectwise) == [1002]
    note = cw_rows(db_url, "ticket_notes")["1002:3"]
    assert (note["kind"], note["author"], note["body"]) == ("Resolution", "Cy Cole", "Replaced the fuser.")
    assert again.returncode == 0, again.stderr

    # a ticket gone from ConnectWise: a full pass prunes it, and its notes go with it
    connectwise.delete("service/tickets", 1002)
    cw_sync(run_cli, db_url, connectwise, "--full")
    assert "1002" not in cw_rows(db_url, "tickets")
    assert not any(k.startswith("1002:") for k in cw_rows(db_url, "ticket_notes"))
