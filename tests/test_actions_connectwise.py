"""Triage actions against the fake ConnectWise server, through the real `mspkpi` CLI.

The fake validates JSON Patch bodies as ConnectWise does (a status must belong to the
ticket's board, references must exist) and note bodies (text and a flag). The tenant is
the one the ConnectWise sync tests use.
"""

from __future__ import annotations

import pytest
from fakes.connectwise_server import ConnectWiseFake
from sqlalchemy import select
from test_sync_connectwise import populate

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture
def fake():
    with ConnectWiseFake(max_page_size=1000) as server:
        populate(server)
        yield server


@pytest.fixture
def cli(run_cli, fake, tmp_path):
    def make(url: str, config: str = ""):
        path = tmp_path / "config.toml"
        path.write_text(config)

        def run(*args: str, **kwargs):
            return run_cli("--db", url, "--config", str(path), *args, env={**fake.env(), **FAST}, **kwargs)

        synced = run("sync", "connectwise")
        assert synced.returncode == 0, synced.stderr
        fake.server.clear_log()
        return run

    return make


def patches(fake) -> list:
    return [e.request.json() for e in fake.server.requests_to("service/tickets/", "PATCH")]


def stored(url: str, source_id: int):
    engine = make_engine(url)
    try:
        t, q = models.Ticket.__table__, models.Queue.__table__
        with engine.connect() as conn:
            return (
                conn.execute(
                    select(t.c.status, t.c.priority, t.c.is_closed, q.c.name.label("board"))
                    .select_from(t.outerjoin(q, q.c.id == t.c.queue_id))
                    .where(t.c.source == "connectwise", t.c.source_id == str(source_id))
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()


def test_priority_is_one_replace_operation_and_the_store_shows_it(cli, fake, db_url):
    run = cli(db_url)
    done = run("ticket", "1001", "--priority", "Priority 4 - Low")
    assert done.returncode == 0, done.stderr
    assert patches(fake) == [[{"op": "replace", "path": "priority", "value": {"id": 8}}]]
    assert fake.data["service/tickets"][1001]["priority"]["id"] == 8
    assert stored(db_url, 1001)["priority"] == "Priority 4 - Low"


def test_a_board_move_carries_a_status_of_the_target_board(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    # "In Progress" does not exist on Projects Desk: refused before anything is sent.
    refused = run("ticket", "1002", "--queue", "Projects Desk")
    assert refused.returncode == 1
    assert "a board move needs a status of the target board (it has: Completed, New)" in refused.stderr
    assert patches(fake) == []
    # checked against the target board's statuses as synced, not the ticket's current board
    wrong = run("ticket", "1002", "--queue", "Projects Desk", "--status", "Waiting Customer")
    assert "status 'Waiting Customer' is not a status of board Projects Desk" in wrong.stderr
    assert patches(fake) == []
    done = run("ticket", "1002", "--queue", "Projects Desk", "--status", "Completed")
    assert done.returncode == 0, done.stderr
    assert patches(fake) == [
        [
            {"op": "replace", "path": "board", "value": {"id": 2}},
            {"op": "replace", "path": "status", "value": {"id": 22}},
        ]
    ]
    row = stored(sqlite_url, 1002)
    assert (row["board"], row["status"], row["is_closed"]) == ("Projects Desk", "Completed", True)


def test_a_status_not_on_the_board_is_refused_by_the_psa_in_its_own_words(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.data["service/boards/1/statuses"].pop(13)  # removed from the board after our sync
    refused = run("ticket", "1001", "--status", "Waiting Customer")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "is not a status of that ConnectWise board" in refused.stderr


def test_assign_replaces_the_owner(cli, fake, sqlite_url):
    run = cli(sqlite_url, 'me = "cy@msp.example"\n')
    done = run("ticket", "1001", "--assign", "me")
    assert done.returncode == 0, done.stderr
    assert patches(fake) == [[{"op": "replace", "path": "owner", "value": {"id": 3}}]]
    assert fake.data["service/tickets"][1001]["owner"]["identifier"] == "cy"


def test_a_change_made_in_the_psa_meanwhile_is_a_conflict(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.edit("service/tickets", 1001, priority={"id": 9, "name": "Priority 2 - High"})
    refused = run("ticket", "1001", "--priority", "Priority 4 - Low")
    assert refused.returncode == 1
    assert "changed by the PSA since you looked: priority is now Priority 2 - High" in refused.stderr
    assert patches(fake) == []


def test_a_note_is_internal_and_sends_no_email(cli, fake, sqlite_url):
    run = cli(sqlite_url, '[connectwise]\nmember = "ann"\n')
    done = run("ticket", "1001", "--note", "Swapped the toner.")
    assert done.returncode == 0, done.stderr
    (sent,) = [e.request.json() for e in fake.server.requests_to("/notes", "POST")]
    assert sent["internalAnalysisFlag"] is True and sent["processNotifications"] is False
    assert sent["member"] == {"identifier": "ann"}
    assert fake.notifications_sent == 0 and toner_notes(fake) == 1


def test_a_note_whose_answer_was_lost_is_not_posted_twice(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.server.drop_after_apply("/notes", method="POST")
    done = run("ticket", "1001", "--note", "Swapped the toner.")
    assert done.returncode == 0, done.stderr
    assert toner_notes(fake) == 1


def toner_notes(fake) -> int:
    """The notes on ticket 1001 the action posted (it has its description note already)."""
    return sum(n.get("text") == "Swapped the toner." for n in fake.data["service/tickets/1001/notes"].values())


def test_429_with_retry_after_is_retried_and_a_403_is_not(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.server.fail("service/tickets/1001", 429, times=1, method="PATCH", headers={"Retry-After": "1"})
    done = run("ticket", "1001", "--priority", "Priority 4 - Low")
    assert done.returncode == 0, done.stderr
    fake.forbidden_writes = "You do not have permission to update service tickets"
    refused = run("ticket", "1001", "--priority", "Priority 2 - High")
    assert refused.returncode == 1 and "You do not have permission" in refused.stderr
    assert [e.status for e in fake.server.requests_to("service/tickets/1001", "PATCH")] == [429, 200, 403]
