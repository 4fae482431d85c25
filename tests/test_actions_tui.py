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


def row_text(table: TicketTable, index: int) -> str:
    table.cursor  # noqa: B018  (the table renders from memory; line y is row y at the top)
    return "".join(segment.text for segment in table.render_line(index - table.scroll_offset.y))


async def test_space_marks_rows_and_one_action_applies_to_each_marked_ticket_on_its_own(synced):
    fake, engine = synced
    app = MspkpiApp(engine, config_from_dict({}))
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(TicketTable)
        await wait_until(pilot, lambda: table.current_row() is not None)
        await pilot.press("space", "space", "space")  # marks three rows, moving down
        numbers = app.marks.numbers()
        assert len(numbers) == 3 and table.cursor == 3
        assert row_text(table, 0).startswith("*") and not row_text(table, 3).startswith("*")
        assert "3 marked (M clears)" in app.query_one("#queue-query").plain
        await pilot.press("up", "space")  # unmarks the third (and moves on to the fourth)
        assert app.marks.numbers() == numbers[:2]
        await pilot.press("space")
        numbers = app.marks.numbers()
        assert len(numbers) == 3
        ids = {t["ticketNumber"]: i for i, t in fake.data["Tickets"].items()}
        # a colleague changes the second ticket in the PSA after our sync: that one must conflict
        second = fake.data["Tickets"][ids[numbers[1]]]
        fake.edit("Tickets", ids[numbers[1]], priority=4 if second["priority"] != 4 else 3)
        held = {n: fake.data["Tickets"][ids[n]]["priority"] for n in numbers}
        target = "Low" if all(p != 3 for p in held.values()) else "Medium"
        await pilot.press("P")
        await pilot.pause()
        await pilot.press(*target, "enter")
        await wait_until(pilot, lambda: len(app.pending) == 0 and fake.server.requests_to("/v1.0/tickets", "PATCH"))
        await app.workers.wait_for_complete()
        await pilot.pause()
        toasts = [str(n.message) for n in app._notifications]
    summary = next(t for t in toasts if "of 3 done" in t)
    assert summary.startswith(f"Priority {target}: 2 of 3 done ({numbers[0]}, {numbers[2]})")
    assert f"{numbers[1]}: conflict: changed by the PSA since you looked: priority is now" in summary
    patched = sorted(e.request.json()["id"] for e in fake.server.requests_to("/v1.0/tickets", "PATCH"))
    assert patched == sorted([ids[numbers[0]], ids[numbers[2]]])


async def test_the_pending_change_shows_in_the_row_until_the_psa_confirms(synced):
    fake, engine = synced
    release = __import__("threading").Event()
    fake.before_write = lambda _id: release.wait(30)  # the PSA holds the PATCH
    app = MspkpiApp(engine, config_from_dict({}))
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.query_one(TicketTable)
            await wait_until(pilot, lambda: table.current_row() is not None)
            row = table.current_row()
            target = "Low" if row.priority != "Low" else "High"
            await pilot.press("P")
            await pilot.pause()
            await pilot.press(*target, "enter")
            await pilot.pause()
            assert app.pending.of(row.number) == {"priority": target}
            assert f"{target}…" in row_text(table, table.cursor)
            release.set()
            await wait_until(pilot, lambda: len(app.pending) == 0)
            await app.workers.wait_for_complete()
            await wait_until(pilot, lambda: table.current_row() is not None and f"{target}…" not in row_text(table, 0))
    finally:
        release.set()


async def test_M_clears_the_marks_and_marks_are_shared_by_the_sla_list(synced):
    fake, engine = synced
    app = MspkpiApp(engine, config_from_dict({}))
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(TicketTable)
        await wait_until(pilot, lambda: table.current_row() is not None)
        await pilot.press("space", "space")
        assert len(app.marks) == 2
        await pilot.press("M")
        assert len(app.marks) == 0 and not row_text(table, 0).startswith("*")
        assert "marked" not in app.query_one("#queue-query").plain
