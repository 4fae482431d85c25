"""Triage actions against the fake HaloPSA server, through the actions layer and the real `mspkpi ticket`.

Halo has no PATCH: an update is POST /api/Tickets with [{"id", changed fields}], a note is
POST /api/Actions, hidden from the user and without e-mail. The tenant is the one the Halo
sync tests use (tickets 1001-1030).
"""

from __future__ import annotations

import pytest
from fakes.halo import HaloFake
from sqlalchemy import select
from test_sync_halo import populate

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture(params=[True, False], ids=["answer-list", "answer-object"])
def fake(request):
    with HaloFake(answer_as_list=request.param) as server:
        populate(server)
        yield server


@pytest.fixture
def cli(run_cli, fake, tmp_path):
    def make(url: str, config: str = ""):
        path = tmp_path / "config.toml"
        path.write_text(config)

        def run(*args: str, **kwargs):
            return run_cli("--db", url, "--config", str(path), *args, env={**fake.env(), **FAST}, **kwargs)

        synced = run("sync", "halo")
        assert synced.returncode == 0, synced.stderr
        fake.server.clear_log()
        return run

    return make


def updates(fake) -> list:
    return [e.request.json() for e in fake.server.requests_to("/api/tickets", "POST")]


def notes(fake) -> list:
    return [e.request.json() for e in fake.server.requests_to("/api/actions", "POST")]


def stored(url: str, source_id: int):
    engine = make_engine(url)
    try:
        t, q = models.Ticket.__table__, models.Queue.__table__
        with engine.connect() as conn:
            return (
                conn.execute(
                    select(t.c.status, t.c.priority, t.c.is_closed, t.c.assigned_resource_id, q.c.name.label("team"))
                    .select_from(t.outerjoin(q, q.c.id == t.c.queue_id))
                    .where(t.c.source == "halo", t.c.source_id == str(source_id))
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()


def test_priority_is_posted_alone_with_the_id_and_the_store_shows_it(cli, fake, db_url):
    run = cli(db_url)
    done = run("ticket", "1002", "--priority", "P4 Low")
    assert done.returncode == 0, done.stderr
    assert updates(fake) == [[{"id": 1002, "priority_id": 4}]]
    assert fake.data["tickets"][1002]["priorityid"] == 4
    assert stored(db_url, 1002)["priority"] == "P4 Low"


def test_status_team_and_agent_in_one_post_and_closed_by_the_status_flag(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    done = run("ticket", "1002", "--status", "Closed", "--queue", "Escalations", "--assign", "Cy Cole")
    assert done.returncode == 0, done.stderr
    assert updates(fake) == [[{"id": 1002, "status_id": 9, "team": "Escalations", "agent_id": 3}]]
    row = stored(sqlite_url, 1002)
    assert (row["status"], row["team"], row["is_closed"]) == ("Closed", "Escalations", True)
    assert fake.emails_sent == 0


def test_a_change_made_in_halo_meanwhile_is_a_conflict_and_nothing_is_sent(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.edit("Tickets", 1002, priorityid=1)  # someone raised it in Halo's web app
    refused = run("ticket", "1002", "--priority", "P4 Low")
    assert refused.returncode == 1
    assert "changed by the PSA since you looked: priority is now P1 Critical" in refused.stderr
    assert updates(fake) == []


def test_a_status_halo_does_not_have_is_refused_before_sending(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    refused = run("ticket", "1002", "--status", "Parked")
    assert refused.returncode == 1 and "Halo has no status 'Parked'" in refused.stderr
    assert refused.stderr.count("\n") == 1 and updates(fake) == []


def test_halos_refusal_is_shown_in_its_own_words_in_one_line(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.server.fail(
        "/api/tickets",
        403,
        method="POST",
        body={"ClassName": "HaloPermissionException", "Message": "You cannot edit tickets\nof this client"},
    )
    refused = run("ticket", "1002", "--priority", "P4 Low")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "HaloPermissionException: You cannot edit tickets of this client" in refused.stderr
    assert len(fake.server.requests_to("/api/tickets", "POST")) == 1, "a refusal is not retried"


def test_a_note_is_hidden_from_the_user_and_sends_no_email(cli, fake, sqlite_url):
    run = cli(sqlite_url, '[halo]\nnote_outcome = "Internal note"\n')
    done = run("ticket", "1002", "--note", "Called the customer.")
    assert done.returncode == 0, done.stderr
    assert notes(fake) == [
        [
            {
                "ticket_id": 1002,
                "outcome": "Internal note",
                "note": "Called the customer.",
                "hiddenfromuser": True,
                "sendemail": False,
            }
        ]
    ]
    assert fake.emails_sent == 0 and fake.visible_notes == 0
    assert fake.data["actions"][(1002, 4)]["note"] == "Called the customer.", "the next action id of that ticket"


def test_a_note_whose_answer_was_lost_is_not_posted_twice(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.server.drop_after_apply("/api/actions", method="POST")
    done = run("ticket", "1002", "--note", "Rebooted the print server.")
    assert done.returncode == 0, done.stderr
    assert "found on the ticket" in done.stdout
    assert len(notes(fake)) == 1
    assert [a.get("note") for k, a in fake.data["actions"].items() if k[0] == 1002].count(
        "Rebooted the print server."
    ) == 1


def test_readonly_option_and_setting_refuse_every_action(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    refused = run("ticket", "1002", "--priority", "P4 Low", "--readonly")
    assert refused.returncode == 1 and "read-only mode" in refused.stderr
    run_ro = cli(sqlite_url, "[tui]\nreadonly = true\n")
    fake.server.clear_log()
    refused = run_ro("ticket", "1002", "--note", "hello")
    assert refused.returncode == 1 and "read-only mode" in refused.stderr
    assert not fake.server.log


def test_the_actions_layer_sends_through_the_halo_writer(cli, fake, sqlite_url, monkeypatch):
    """The same door the TUI uses: submit, then send, with no CLI in between."""
    from mspkpi_tui import actions
    from mspkpi_tui.config import config_from_dict

    cli(sqlite_url)
    engine = make_engine(sqlite_url)
    config = config_from_dict({})
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    try:
        (entry,) = actions.submit(
            engine, config, actions.TicketRequest("1003", status="In Progress"), readonly=False, actor="lead"
        )
        outcome = actions.send(engine, config, int(entry.id or 0))
    finally:
        engine.dispose()
    assert outcome.state == "done", outcome.message
    assert updates(fake) == [[{"id": 1003, "status_id": 2}]]
