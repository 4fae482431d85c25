"""Triage keys in the dashboard (pilot) against the fake Autotask server: the key opens a
picker, the choice is sent by a worker through mspkpi_tui.actions, the PSA gets the PATCH."""

from __future__ import annotations

import pytest
from fakes.autotask_server import AutotaskFake, populate

from mspkpi_tui.config import config_from_dict
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.tui.app import MspkpiApp
from mspkpi_tui.tui.ticket_table import TicketTable

pytestmark = pytest.mark.anyio
FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture
def synced(run_cli, sqlite_url, monkeypatch):
    with AutotaskFake() as fake:
        populate(fake, tickets=12, time_entries=10)
        done = run_cli("--db", sqlite_url, "sync", "autotask", env={**fake.env(), **FAST})
        assert done.returncode == 0, done.stderr
        for name, value in {**fake.env(), **FAST}.items():
            monkeypatch.setenv(name, value)  # the app's writer reads the same settings
        fake.server.clear_log()
        yield fake, open_database(sqlite_url)


async def wait_until(pilot, condition, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_priority_key_picks_a_value_a_worker_sends_it_and_u_undoes_it(synced):
    fake, engine = synced
    app = MspkpiApp(engine, config_from_dict({}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.query_one(TicketTable).current_row() is not None)
        row = app.query_one(TicketTable).current_row()
        target, value = ("Low", 3) if row.priority != "Low" else ("High", 1)
        await pilot.press("P")
        await pilot.pause()
        await pilot.press(*target, "enter")
        await wait_until(pilot, lambda: fake.server.requests_to("/v1.0/tickets", "PATCH") != [])
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: getattr(app, "_triage_last_action", None) is not None)
        await pilot.press("u")  # undo: the inverse, through the same checks
        await wait_until(pilot, lambda: len(fake.server.requests_to("/v1.0/tickets", "PATCH")) == 2)
        await app.workers.wait_for_complete()
    ticket_id = next(i for i, t in fake.data["Tickets"].items() if t["ticketNumber"] == row.number)
    before = {"Critical": 4, "High": 1, "Medium": 2, "Low": 3}[row.priority]
    assert [e.request.json() for e in fake.server.requests_to("/v1.0/tickets", "PATCH")] == [
        {"id": ticket_id, "priority": value},
        {"id": ticket_id, "priority": before},
    ]


async def test_readonly_setting_refuses_the_key(synced):
    fake, engine = synced
    app = MspkpiApp(engine, config_from_dict({"tui": {"readonly": True}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.query_one(TicketTable).current_row() is not None)
        await pilot.press("t")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert any("read-only mode" in str(n.message) for n in app._notifications)
    assert fake.server.requests_to("/v1.0/tickets", "PATCH") == []
