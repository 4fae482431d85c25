"""Pilot tests of the triage views in the Queue pane (80x24, the fixed dataset, clock pinned)."""

from __future__ import annotations

import pytest
from test_tui_app import SIZE, loaded, screen_text, settle, table
from test_tui_support import NOW, OPEN_TICKETS, make_app, tui_config, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.config import CustomView, ViewSettings
from mspkpi_tui.kpi import views
from mspkpi_tui.kpi.tickets import TicketQuery, queue_ids

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("key", ["R", "N", "Z", "W", "A"])
async def test_each_view_key_shows_its_view_and_x_shows_all_again(tui_engine, key):
    config = tui_config()
    app = make_app(tui_engine, config)
    chosen = next(v for v in views.built_in(config) if v.key == key)
    expected = queue_ids(tui_engine, NOW, TicketQuery(sort=chosen.sort, view=chosen))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert table(app).ids == expected
        assert f"view: {chosen.name}" in screen_text(app)
        await pilot.press("x")
        await settle(pilot)
        assert len(table(app).ids) == OPEN_TICKETS and "view:" not in screen_text(app)


async def test_at_risk_lists_fewer_than_all_and_new_shows_the_median(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert 0 < len(table(app).ids) < OPEN_TICKETS
        await pilot.press("N")
        await settle(pilot)
        assert "median triage" in screen_text(app)


async def test_aged_key_steps_weeks_and_a_custom_key_shows_its_filter(tui_engine):
    custom = CustomView(name="Hot", key="h", priority="Critical")
    config = tui_config()
    config.views = ViewSettings(custom=[custom])
    app = make_app(tui_engine, config)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert app.pane("queue").ticket_query.view.days == 7
        await pilot.press("A")
        await settle(pilot)
        assert app.pane("queue").ticket_query.view.days == 14
        assert ">1w" in screen_text(app)
        await pilot.press("h")
        await settle(pilot)
        rows = app.query_one("#queue-table")._fetch(table(app).ids)
        assert rows and all(r.priority == "Critical" for r in rows)
        assert "view: Hot" in screen_text(app)


# --- alerts on the dashboard ----------------------------------------------------------------------


async def test_alerts_ring_once_show_a_toast_and_the_log_opens_the_ticket(tui_engine):
    from mspkpi_tui.config import AlertSettings
    from mspkpi_tui.tui.alerts import AlertLogScreen
    from mspkpi_tui.tui.screens import DetailScreen

    app = make_app(tui_engine, tui_config(alerts=AlertSettings(sync="off", new_queue="off", group_over=100)))
    written: list[str] = []
    app.terminal_write = written.append
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: written)
        assert written == ["\x07"]  # one bell for the burst, no OSC (bell is the default delivery)
        assert any(n.title == "Alert" for n in app._notifications)
        await pilot.press("r")  # a re-read: still firing, nothing new
        await wait_for(pilot, lambda: app.reads >= 2)
        await settle(pilot)
        assert written == ["\x07"]
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlertLogScreen)
        assert "Today's alerts" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.ticket_id == app.alert_log()[-1].ticket_id


async def wait_for(pilot, condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_the_assign_picker_lists_technicians_best_placed_first_with_their_load(tui_engine):
    from mspkpi_tui.kpi.dispatch import dispatch_now
    from mspkpi_tui.tui.triage import PickerScreen

    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        team = dispatch_now(tui_engine, NOW, app.config)
        assert picker.values == [t.name for t in team]
        first = team[0]
        assert f"{first.open_assigned} open, {first.at_risk} at risk" in picker.labels[first.name]
        assert "at risk" in screen_text(app)
        await pilot.press("escape")
