"""Triage actions against the fake Autotask server, through the real `mspkpi` CLI.

Each test syncs the fake tenant, then changes a ticket with `mspkpi ticket` and checks
three places: what the fake PSA received (only the changed fields, the tenant's own
picklist values), what the PSA now holds, and what the store shows afterwards.
Representative tests run on PostgreSQL as well; the rest on SQLite.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import REPO
from fakes.autotask_server import AutotaskFake, populate
from sqlalchemy import select

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture
def fake():
    with AutotaskFake() as server:
        # no notes of their own: these tests count the notes the actions post, and change the
        # publish picklist the stored ones would need
        populate(server, tickets=12, time_entries=10, notes=False)
        yield server


def number_of(fake, ticket_id: int = 1) -> str:
    return fake.data["Tickets"][ticket_id]["ticketNumber"]


@pytest.fixture
def config_file(tmp_path):
    def write(text: str = "") -> str:
        path = tmp_path / "config.toml"
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture
def cli(run_cli, fake, config_file):
    """`mspkpi --db URL --config FILE ...` against the fake; the database is chosen per test."""

    def make(url: str, config: str = ""):
        path = config_file(config)

        def run(*args: str, **kwargs):
            return run_cli("--db", url, "--config", path, *args, env={**fake.env(), **FAST}, **kwargs)

        synced = run("sync", "autotask")
        assert synced.returncode == 0, synced.stderr
        fake.server.clear_log()
        return run

    return make


def stored_ticket(url: str, source_id: int):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t, q, r = models.Ticket.__table__, models.Queue.__table__, models.Resource.__table__
            return (
                conn.execute(
                    select(t.c.status, t.c.priority, t.c.priority_rank, q.c.name.label("queue"), r.c.name.label("who"))
                    .select_from(
                        t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id)
                    )
                    .where(t.c.source == "autotask", t.c.source_id == str(source_id))
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()


def events(url: str, field: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            e = models.TicketEvent.__table__
            return [tuple(r) for r in conn.execute(select(e.c.old_value, e.c.new_value).where(e.c.field == field))]
    finally:
        engine.dispose()


def log_states(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(models.ActionLogEntry.state).order_by(models.ActionLogEntry.id)))
    finally:
        engine.dispose()


def patches(fake) -> list[dict]:
    return [e.request.json() for e in fake.server.requests_to("/v1.0/tickets", "PATCH")]


# --- field changes ----------------------------------------------------------------------


def test_priority_is_patched_alone_and_the_store_shows_it(cli, fake, db_url):
    run = cli(db_url)
    assert stored_ticket(db_url, 1)["priority"] == "Medium"
    done = run("ticket", number_of(fake), "--priority", "critical")
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
    assert patches(fake) == [{"id": 1, "priority": 4}]  # the tenant's value for Critical; nothing else
    assert fake.data["Tickets"][1]["priority"] == 4
    row = stored_ticket(db_url, 1)
    assert (row["priority"], row["priority_rank"]) == ("Critical", 1)
    assert ("Medium", "Critical") in events(db_url, "priority")
    assert log_states(db_url) == ["done"]


def test_status_and_queue_in_one_patch(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    done = run("ticket", number_of(fake), "--status", "Waiting Vendor", "--queue", "Level II Support")
    assert done.returncode == 0, done.stderr
    assert patches(fake) == [{"id": 1, "status": 12, "queueID": 29683354}]
    row = stored_ticket(sqlite_url, 1)
    assert (row["status"], row["queue"]) == ("Waiting Vendor", "Level II Support")


def test_assign_to_me_sends_a_role_and_impersonates_the_lead(cli, fake, sqlite_url):
    run = cli(sqlite_url, 'me = "tech4@example-msp.com"\n[autotask]\nimpersonate = 104\n')
    done = run("ticket", number_of(fake), "--assign", "me")
    assert done.returncode == 0, done.stderr
    sent = fake.server.requests_to("/v1.0/tickets", "PATCH")
    assert [r.request.json() for r in sent] == [
        {"id": 1, "assignedResourceID": 104, "assignedResourceRoleID": 29683400}
    ]
    assert sent[0].request.headers["impersonationresourceid"] == "104"
    assert stored_ticket(sqlite_url, 1)["who"] == "Tech4 Smith"
    assert ("Tech2 Smith", "Tech4 Smith") in events(sqlite_url, "assignee")


def test_take_without_me_in_the_config_says_how_to_set_it(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    refused = run("ticket", number_of(fake), "--assign", "me")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and '"me" is not set' in refused.stderr
    assert log_states(sqlite_url) == []


def test_escalate_applies_the_configured_status(cli, fake, sqlite_url):
    run = cli(sqlite_url, '[escalation]\nstatuses = ["Escalate"]\nqueues = ["Escalations"]\n')
    done = run("ticket", number_of(fake), "--escalate")
    assert done.returncode == 0, done.stderr
    assert patches(fake) == [{"id": 1, "status": 11, "queueID": 8}]


# --- safety -----------------------------------------------------------------------------


def test_a_change_made_in_the_psa_meanwhile_is_a_conflict_and_nothing_is_sent(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.edit("Tickets", 1, priority=1)  # someone raised it to High in the web app
    refused = run("ticket", number_of(fake), "--priority", "Low")
    assert refused.returncode == 1
    assert "changed by the PSA since you looked: priority is now High" in refused.stderr
    assert patches(fake) == []
    assert log_states(sqlite_url) == ["conflict"]
    # The lead decides to apply it anyway: retry re-reads and sends over the new value.
    again = run("actions", "retry", "1")
    assert again.returncode == 0, again.stderr
    assert patches(fake) == [{"id": 1, "priority": 3}]
    assert log_states(sqlite_url) == ["done"]


def test_undo_sends_the_inverse_and_a_note_cannot_be_undone(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    assert run("ticket", number_of(fake), "--priority", "High", "--note", "Raised it.").returncode == 0
    undone = run("actions", "undo", "1")
    assert undone.returncode == 0, undone.stderr
    assert patches(fake) == [{"id": 1, "priority": 1}, {"id": 1, "priority": 2}]
    assert stored_ticket(sqlite_url, 1)["priority"] == "Medium"
    refused = run("actions", "undo", "2")
    assert refused.returncode == 1 and "a note cannot be taken back" in refused.stderr


def test_a_cancelled_action_is_never_sent(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.edit("Tickets", 1, priority=1)
    assert run("ticket", number_of(fake), "--priority", "Low").returncode == 1
    cancelled = run("actions", "cancel", "1")
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    assert run("sync", "autotask").returncode == 0
    assert patches(fake) == [] and log_states(sqlite_url) == ["cancelled"]
    listed = run("actions", "--state", "cancelled")
    assert "priority Medium -> Low" in listed.stdout
    again = run("actions", "cancel", "1")
    assert again.returncode == 1 and "only queued, conflict or failed" in again.stderr


def test_a_change_landing_between_the_re_read_and_the_write_is_kept_and_shown(cli, fake, sqlite_url):
    """No ETag: a colleague's change to another field in that instant survives (only our field
    is sent), and the re-read after the write stores both."""
    run = cli(sqlite_url)
    fake.before_write = lambda ticket_id: fake.edit("Tickets", ticket_id, status=12)
    done = run("ticket", number_of(fake), "--priority", "Critical")
    assert done.returncode == 0, done.stderr
    assert fake.data["Tickets"][1]["status"] == 12 and fake.data["Tickets"][1]["priority"] == 4
    row = stored_ticket(sqlite_url, 1)
    assert (row["status"], row["priority"]) == ("Waiting Vendor", "Critical")


def test_a_value_not_in_the_tenants_picklist_is_refused_before_sending(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    refused = run("ticket", number_of(fake), "--status", "Parked")
    assert refused.returncode == 1
    # checked against the picklist the sync stored: refused before it is even queued
    assert "status 'Parked' is not a status of Autotask (it has: New, Complete," in refused.stderr
    assert patches(fake) == []
    assert log_states(sqlite_url) == []


def test_a_value_the_tenant_removed_since_the_sync_is_refused_by_the_writer(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.picklists["Tickets"]["status"] = [p for p in fake.picklists["Tickets"]["status"] if p["label"] != "Dispatched"]
    refused = run("ticket", number_of(fake), "--status", "Dispatched")
    assert refused.returncode == 1
    assert "status 'Dispatched' is not in this Autotask tenant's status picklist" in refused.stderr
    assert patches(fake) == []
    assert log_states(sqlite_url) == ["failed"]


def test_a_permission_failure_is_shown_in_the_psas_words_and_not_retried(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.forbidden_writes["Tickets"] = "User does not have permission to update this Ticket."
    refused = run("ticket", number_of(fake), "--priority", "High")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "User does not have permission to update this Ticket." in refused.stderr
    assert len(fake.server.requests_to("/v1.0/tickets", "PATCH")) == 1


@pytest.mark.parametrize("status,headers", [(429, {"Retry-After": "1"}), (503, {})])
def test_429_and_5xx_are_retried(cli, fake, sqlite_url, status, headers):
    run = cli(sqlite_url)
    fake.server.fail("/v1.0/tickets", status, times=2, method="PATCH", headers=headers)
    done = run("ticket", number_of(fake), "--priority", "High")
    assert done.returncode == 0, done.stderr
    assert [e.status for e in fake.server.requests_to("/v1.0/tickets", "PATCH")] == [status, status, 200]


def test_readonly_option_and_setting_refuse_every_action(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    refused = run("ticket", number_of(fake), "--priority", "High", "--readonly")
    assert refused.returncode == 1 and "read-only mode" in refused.stderr
    run_ro = cli(sqlite_url, "[tui]\nreadonly = true\n")
    refused = run_ro("ticket", number_of(fake), "--note", "hello")
    assert refused.returncode == 1 and "read-only mode" in refused.stderr
    assert patches(fake) == [] and log_states(sqlite_url) == []


def test_the_import_source_says_it_cannot_be_written(run_cli, sqlite_url):
    imported = run_cli("--db", sqlite_url, "sync", "file", str(REPO / "tests" / "data" / "tui"))
    assert imported.returncode == 0, imported.stderr
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        number = conn.scalar(select(models.Ticket.__table__.c.number).limit(1))
    engine.dispose()
    refused = run_cli("--db", sqlite_url, "ticket", number, "--priority", "High")
    assert refused.returncode == 1
    assert "cannot be written" in refused.stderr and refused.stderr.count("\n") == 1


# --- notes: internal, at most once ------------------------------------------------------


def test_a_note_is_internal_by_the_tenants_own_publish_value(cli, fake, sqlite_url):
    # A tenant whose internal value is not the usual number: it must be read, not assumed.
    fake.picklists["TicketNotes"]["publish"] = [
        {"value": "1", "label": "All Autotask Users", "sortOrder": 1, "isActive": True},
        {"value": "4", "label": "Customer Portal", "sortOrder": 2, "isActive": True},
        {"value": "7", "label": "Internal Project Team", "sortOrder": 3, "isActive": True},
    ]
    run = cli(sqlite_url)
    done = run("ticket", number_of(fake), "--note", "-", input="Called the customer.\nPrinter still on fire.")
    assert done.returncode == 0, done.stderr
    (note,) = fake.data["TicketNotes"].values()
    assert note["publish"] == 7 and note["ticketID"] == 1
    assert note["title"] == "Called the customer." and note["description"].endswith("still on fire.")


def test_no_internal_publish_value_means_no_note(cli, fake, sqlite_url):
    fake.picklists["TicketNotes"]["publish"] = [
        {"value": "1", "label": "All Autotask Users", "sortOrder": 1, "isActive": True},
        {"value": "4", "label": "Customer Portal", "sortOrder": 2, "isActive": True},
    ]
    run = cli(sqlite_url)
    refused = run("ticket", number_of(fake), "--note", "hello")
    assert refused.returncode == 1 and "refusing to post a note the customer might see" in refused.stderr
    assert fake.data["TicketNotes"] == {}


def test_a_note_whose_answer_was_lost_is_not_posted_twice(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    fake.server.drop_after_apply("/notes", method="POST")
    done = run("ticket", number_of(fake), "--note", "Rebooted the print server.")
    assert done.returncode == 0, done.stderr
    assert "found on the ticket" in done.stdout
    assert len(fake.data["TicketNotes"]) == 1
    assert len(fake.server.requests_to("/notes", "POST")) == 1


def test_the_log_survives_a_kill_mid_send_and_sync_finishes_it_once(cli, fake, db_url, cli_env, config_file):
    """Kill `mspkpi ticket` while its note is in flight; `mspkpi sync` then finds the note and does not resend."""
    run = cli(db_url)
    fake.server.slow("/notes", 2.0, method="POST")  # the server applies it after the client is gone
    env = {**cli_env, **fake.env(), **FAST}
    args = [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "--config", config_file(""), "ticket"]
    proc = subprocess.Popen([*args, number_of(fake), "--note", "Ordered a new fuser."], cwd=REPO, env=env)
    try:
        _wait_for(lambda: any(r.method == "POST" and "/notes" in r.path.lower() for r in fake.server.arrived))
    finally:
        proc.kill()
        proc.wait()
    assert log_states(db_url) == ["sending"]  # stored before sending; the kill left it mid-send
    _wait_for(lambda: len(fake.data["TicketNotes"]) == 1)  # the PSA applied it all the same
    synced = run("sync", "autotask")
    assert synced.returncode == 0, synced.stderr
    assert "already on the ticket" in synced.stderr
    assert log_states(db_url) == ["done"]
    assert len(fake.data["TicketNotes"]) == 1
    assert len([r for r in fake.server.arrived if r.method == "POST" and "/notes" in r.path.lower()]) == 1


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_actions_lists_the_log(cli, fake, sqlite_url):
    run = cli(sqlite_url)
    run("ticket", number_of(fake), "--priority", "High")
    listed = run("actions", "--state", "done")
    assert listed.returncode == 0
    assert "priority Medium -> High" in listed.stdout


# --- escalation by the tenant's UDF ([escalation] udf) ------------------------------------

UDF_CONFIG = '[escalation]\nstatuses = []\nudf = "Escalated On"\n'


def test_escalate_sets_the_escalation_udf_by_name_and_undo_clears_it(cli, fake, db_url):
    run = cli(db_url, UDF_CONFIG)
    done = run("ticket", number_of(fake), "--escalate")
    assert done.returncode == 0, done.stderr
    (patch,) = patches(fake)
    assert set(patch) == {"id", "userDefinedFields"} and patch["id"] == 1
    ((udf),) = patch["userDefinedFields"]
    assert udf["name"] == "Escalated On" and udf["value"].endswith("Z")
    assert {"name": "Escalated On", "value": udf["value"]} in fake.data["Tickets"][1]["userDefinedFields"]
    engine = make_engine(db_url)
    t = models.Ticket.__table__
    with engine.connect() as conn:
        level = conn.scalar(select(t.c.escalation_level).where(t.c.source == "autotask", t.c.source_id == "1"))
    engine.dispose()
    assert level == 1
    again = run("ticket", number_of(fake), "--escalate")  # already escalated: nothing is sent
    assert again.returncode == 1 and f"ticket {number_of(fake)} is already escalated (since 20" in again.stderr
    undone = run("actions", "undo", done.stdout.split("(action ")[1].split(")")[0])
    assert undone.returncode == 0, undone.stderr
    assert patches(fake)[-1] == {"id": 1, "userDefinedFields": [{"name": "Escalated On", "value": None}]}


def test_an_escalation_udf_set_in_the_psa_meanwhile_is_a_conflict(cli, fake, sqlite_url):
    run = cli(sqlite_url, UDF_CONFIG)
    fake.edit("Tickets", 1, userDefinedFields=[{"name": "Escalated On", "value": "2026-01-05T09:00:00Z"}])
    refused = run("ticket", number_of(fake), "--escalate")
    assert refused.returncode == 1
    assert "changed by the PSA since you looked: escalation is now 2026-01-05T09:00:00Z" in refused.stderr
    assert patches(fake) == []
