"""The sync's promises, driven through `mspkpi sync autotask` against the fake Autotask server:
faults and crashes end with the same database as a clean run, a full pass will not wipe
an entity, one sync at a time, and credentials are handled with care.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from fakes.autotask_server import AutotaskFake, populate
from fakes.dbdump import dump
from sqlalchemy import func, select

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture
def fake():
    with AutotaskFake() as server:
        populate(server, tickets=700, time_entries=700)  # two pages of each
        yield server


def sync_cmd(run_cli, url, fake, *args, **env):
    return run_cli("--db", url, "sync", "autotask", *args, env={**fake.env(), **FAST, **env})


def clean_reference(run_cli, tmp_path, fake) -> dict:
    """What an undisturbed sync of the same tenant stores."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    done = sync_cmd(run_cli, url, fake)
    assert done.returncode == 0, done.stderr
    return dump(url)


def count(url: str, model, *where) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    except Exception:
        return -1  # not created yet
    finally:
        engine.dispose()


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_faults_end_identical_to_a_clean_run(run_cli, db_url, tmp_path, fake):
    server = fake.server
    server.fail("/tickets/entityinformation", 503)
    server.fail("/tickets/query", 429, times=2, headers={"Retry-After": "1"}, after=1)
    server.fail("/tickets/query", 429)  # no Retry-After: our own backoff
    server.fail("/timeentries/query", 500, after=1)
    server.fail("/timeentries/query", 502)
    server.fail("/timeentries/query", 503)
    server.slow("/companies/query", 0.3)
    server.slow("/projects/query", 2.5)  # longer than the 1 s timeout below: retried
    fake.move_zone("zone2", after_requests=8)  # before the tickets, whose links name the zone's web URL

    done = sync_cmd(run_cli, db_url, fake, MSPKPI_HTTP_TIMEOUT="1")
    assert done.returncode == 0, done.stderr
    statuses = [e.status for e in server.log]
    assert {429, 500, 502, 503, 401} <= set(statuses)
    assert not server._faults  # every fault was served
    assert dump(db_url) == clean_reference(run_cli, tmp_path, fake)  # the same tenant, now in zone2


def test_killed_mid_run_and_resumed_ends_identical(run_cli, cli_env, db_url, tmp_path, fake):
    reference = clean_reference(run_cli, tmp_path, fake)
    fake.server.slow("/tickets/query", 60, after=1)  # the second page of tickets hangs
    process = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "autotask"],
        env={**cli_env, **fake.env(), **FAST},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: count(db_url, models.Ticket) >= 500)  # the first page is committed
    finally:
        process.kill()
        process.wait()
    assert count(db_url, models.Ticket) < len(fake.data["Tickets"])
    fake.server.clear_faults()

    done = sync_cmd(run_cli, db_url, fake)
    assert done.returncode == 0, done.stderr
    assert dump(db_url) == reference
    engine = make_engine(db_url)
    with engine.connect() as conn:
        statuses = [r.status for r in conn.execute(select(models.SyncRun).order_by(models.SyncRun.id))]
    engine.dispose()
    assert statuses == ["interrupted", "ok"]


def test_full_pass_prunes_deletions_but_refuses_a_mass_delete(run_cli, db_url, fake):
    assert sync_cmd(run_cli, db_url, fake).returncode == 0
    fake.delete_ticket(10)
    fake.delete_ticket(11)
    fake.delete("BillingItems", 8001)  # Autotask deletes no contract with posted billing items
    fake.delete("Contracts", 301)
    done = sync_cmd(run_cli, db_url, fake, "--full")
    assert done.returncode == 0, done.stderr
    assert "deleted" in done.stderr and "2 tickets" in done.stderr
    assert count(db_url, models.Ticket) == len(fake.data["Tickets"])
    assert count(db_url, models.TimeEntry) == len(fake.data["TimeEntries"])
    assert count(db_url, models.Contract) == len(fake.data["Contracts"])

    stored = count(db_url, models.Ticket)
    for ticket_id in list(fake.data["Tickets"])[20:]:  # a truncated answer: 97% gone
        fake.delete("Tickets", ticket_id)
    done = sync_cmd(run_cli, db_url, fake, "--full")
    assert done.returncode == 1
    assert "tickets: the source returned 20 of" in done.stderr and "refusing to delete" in done.stderr
    assert count(db_url, models.Ticket) == stored


def test_a_second_sync_on_the_same_database_is_refused(run_cli, cli_env, db_url, fake):
    """Ordered by the lock, not by the clock: the first sync hangs on its tickets until it is
    killed, so it certainly holds the lock while the second one asks for it."""
    fake.server.slow("/tickets/query", 600)  # never answered while the first sync lives
    first = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "autotask"],
        env={**cli_env, **fake.env(), **FAST, "MSPKPI_HTTP_TIMEOUT": "900"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: count(db_url, models.SyncLock) == 1)
        second = sync_cmd(run_cli, db_url, fake)
        assert second.returncode == 1
        assert "another sync is already running on this database" in second.stderr
        assert first.poll() is None  # still the holder when the second was refused
    finally:
        first.kill()
        first.wait()
    fake.server.clear_faults()
    done = sync_cmd(run_cli, db_url, fake)  # the holder died: its lock is taken over
    assert done.returncode == 0, done.stderr
    assert count(db_url, models.Ticket) == len(fake.data["Tickets"])


# --- settings and credentials (the database does not matter here: SQLite only) ---------------


@pytest.fixture
def small_fake():
    with AutotaskFake() as server:
        populate(server, tickets=5, time_entries=5)
        yield server


def test_missing_settings_are_named(run_cli, sqlite_url):
    done = run_cli("--db", sqlite_url, "sync", "autotask", env={"MSPKPI_AUTOTASK_USERNAME": "someone@example.com"})
    assert done.returncode == 1
    assert "MSPKPI_AUTOTASK_SECRET" in done.stderr and "MSPKPI_AUTOTASK_INTEGRATION_CODE" in done.stderr
    assert "MSPKPI_AUTOTASK_USERNAME" not in done.stderr
    assert "Traceback" not in done.stderr


def test_wrong_credentials_say_the_psa_refused_them(run_cli, sqlite_url, small_fake):
    wrong_secret = sync_cmd(run_cli, sqlite_url, small_fake, MSPKPI_AUTOTASK_SECRET="not-the-secret-42")
    assert wrong_secret.returncode == 1
    assert "the PSA refused the credentials" in wrong_secret.stderr
    assert "not-the-secret-42" not in wrong_secret.stderr + wrong_secret.stdout
    unknown_user = sync_cmd(run_cli, sqlite_url, small_fake, MSPKPI_AUTOTASK_USERNAME="nobody@example.com")
    assert unknown_user.returncode == 1
    assert "the PSA refused the credentials" in unknown_user.stderr and "no such API user" in unknown_user.stderr
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        runs = conn.execute(select(models.SyncRun)).mappings().all()
    engine.dispose()
    assert [r["status"] for r in runs] == ["failed", "failed"]
    assert all(small_fake.secret not in (r["error"] or "") and "not-the-secret-42" not in r["error"] for r in runs)


@pytest.mark.parametrize(
    "setting, url",
    [
        ("MSPKPI_AUTOTASK_BASE_URL", "http://psa.example.com/ATServicesRest/"),
        ("MSPKPI_AUTOTASK_ZONE_URL", "http://10.1.2.3/"),
    ],
)
def test_plain_http_to_another_host_is_refused(run_cli, sqlite_url, small_fake, setting, url):
    done = sync_cmd(run_cli, sqlite_url, small_fake, **{setting: url})
    assert done.returncode == 1
    assert f"{setting} uses plain http" in done.stderr
    assert small_fake.server.log == []  # nothing was sent anywhere


def test_a_config_file_with_secrets_must_be_private(run_cli, sqlite_url, small_fake, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[autotask]\n"
        f'username = "{small_fake.username}"\nsecret = "{small_fake.secret}"\n'
        f'integration_code = "{small_fake.integration_code}"\nzone_url = "{small_fake.zone_url}"\n'
    )
    os.chmod(config, 0o644)
    refused = run_cli("--db", sqlite_url, "--config", str(config), "sync", "autotask", env=FAST)
    assert refused.returncode == 1
    assert "other users can read it" in refused.stderr and "chmod 600" in refused.stderr
    assert small_fake.secret not in refused.stderr
    os.chmod(config, 0o600)
    done = run_cli("--db", sqlite_url, "--config", str(config), "sync", "autotask", env=FAST)
    assert done.returncode == 0, done.stderr
    assert count(sqlite_url, models.Ticket) == 5
