"""The PSA's picklists are stored by the sync (table picklist_values) and the triage actions
are checked against them: Autotask's per-tenant lists, ConnectWise's statuses per board.
Through the real CLI against the fake servers, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fakes.autotask_server import AutotaskFake
from fakes.autotask_server import populate as populate_autotask
from fakes.connectwise_server import ConnectWiseFake
from sqlalchemy import select
from test_sync_connectwise import populate as populate_connectwise

from mspkpi_tui.actions.choices import choices_for
from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


def stored(url: str, source: str) -> dict[tuple[str, str], list[tuple[str, str, bool]]]:
    """(field, scope) -> [(value, label, active)] in sort order."""
    engine = make_engine(url)
    p = models.PicklistValue.__table__
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(p.c.field, p.c.scope, p.c.value, p.c.label, p.c.active)
                .where(p.c.source == source)
                .order_by(p.c.field, p.c.scope, p.c.sort_order, p.c.value)
            ).all()
    finally:
        engine.dispose()
    found: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    for row in rows:
        found.setdefault((row.field, row.scope), []).append((row.value, row.label, row.active))
    return found


def test_autotask_sync_stores_the_tenants_ticket_and_note_picklists(run_cli, db_url):
    with AutotaskFake() as fake:
        populate_autotask(fake, tickets=6, time_entries=4)
        fake.picklists["Tickets"]["priority"].append(
            {"value": "6", "label": "Someday", "sortOrder": 9, "isActive": False, "isSystem": False, "parentValue": ""}
        )
        assert run_cli("--db", db_url, "sync", "autotask", env={**fake.env(), **FAST}).returncode == 0
        lists = stored(db_url, "autotask")
        assert lists[("priority", "")] == [
            ("4", "Critical", True),
            ("1", "High", True),
            ("2", "Medium", True),
            ("3", "Low", True),
            ("6", "Someday", False),
        ]
        assert [label for _, label, _ in lists[("queue", "")]][:2] == ["Client Portal", "Level I Support"]
        assert ("2", "Internal Only", True) in lists[("note_publish", "")]
        assert len(lists[("status", "")]) == 10 and len(lists[("note_type", "")]) == 3
        # the tenant drops a status: the next sync forgets it, and the action is refused before queueing
        fake.picklists["Tickets"]["status"] = [p for p in fake.picklists["Tickets"]["status"] if p["value"] != "10"]
        assert run_cli("--db", db_url, "sync", "autotask", env={**fake.env(), **FAST}).returncode == 0
        assert "Dispatched" not in [label for _, label, _ in stored(db_url, "autotask")[("status", "")]]
        number = fake.data["Tickets"][1]["ticketNumber"]
        fake.server.clear_log()
        refused = run_cli("--db", db_url, "ticket", number, "--status", "dispatched", env={**fake.env(), **FAST})
        assert refused.returncode == 1
        assert "status 'dispatched' is not a status of Autotask" in refused.stderr
        inactive = run_cli("--db", db_url, "ticket", number, "--priority", "someday", env={**fake.env(), **FAST})
        assert "priority 'Someday' is inactive in Autotask" in inactive.stderr
        assert fake.server.requests_to("/v1.0/tickets", "PATCH") == []


def test_connectwise_sync_stores_each_boards_statuses_and_the_picker_offers_the_tickets_board(run_cli, db_url):
    with ConnectWiseFake(max_page_size=1000) as fake:
        populate_connectwise(fake)
        assert run_cli("--db", db_url, "sync", "connectwise", env={**fake.env(), **FAST}).returncode == 0
        lists = stored(db_url, "connectwise")
        boards = [label for _, label, _ in lists[("queue", "")]]
        assert "Projects Desk" in boards
        assert lists[("status", "Projects Desk")] == [("21", "New", True), ("22", "Completed", True)]
        assert [label for _, label, _ in lists[("status", "Service Desk")]][:2] == ["New", "In Progress"]
        assert lists[("priority", "")]
        engine = make_engine(db_url)
        try:
            on_board = choices_for(engine, "1002", "status")
            on_target = choices_for(engine, "1002", "status", board="Projects Desk")
        finally:
            engine.dispose()
        assert "In Progress" in on_board and "In Progress" not in on_target
        assert sorted(on_target) == ["Completed", "New"]
        fake.server.clear_log()
        # 1002 is on Service Desk, which has no "Completed": refused before anything is queued or sent
        refused = run_cli("--db", db_url, "ticket", "1002", "--status", "Completed", env={**fake.env(), **FAST})
        assert refused.returncode == 1
        assert (
            "status 'Completed' is not a status of board Service Desk (it has: >Closed, Escalate, In Progress, New, Waiting Customer)"
            in refused.stderr
        )
        assert fake.server.requests_to("service/tickets/", "PATCH") == []


@pytest.mark.parametrize("field", ["status", "priority"])
def test_an_action_before_any_picklist_was_synced_asks_for_a_sync(run_cli, sqlite_url, field):
    """The JSON Lines import stores no picklist; writing needs a PSA source, which says so first."""
    done = run_cli("--db", sqlite_url, "sync", "file", "tests/data/tui")
    assert done.returncode == 0, done.stderr
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            number = conn.scalar(select(models.Ticket.__table__.c.number).limit(1))
    finally:
        engine.dispose()
    refused = run_cli("--db", sqlite_url, "ticket", number, f"--{field}", "High")
    assert refused.returncode == 1
    assert "one-way import that cannot be written" in refused.stderr
