"""Pilot tests of the dashboard on a real SQLite database with the fixed dataset, clock pinned."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import pytest
from sqlalchemy import insert
from test_tui_support import (  # noqa: F401
    NOW,
    OPEN_TICKETS,
    empty_engine,
    fill,
    make_app,
    records,
    tui_config,
    tui_engine,
    tui_template_db,
)
from textual.command import CommandPalette
from textual.widgets import OptionList

from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.models import SyncRun as SyncRunRow
from mspkpi_tui.store.writer import SyncWriter
from mspkpi_tui.tui.screens import DetailScreen, EmptyScreen, FacetScreen, HelpScreen
from mspkpi_tui.tui.ticket_table import TicketTable

pytestmark = pytest.mark.anyio

SIZE = (80, 24)


async def settle(pilot) -> None:
    """Let pending messages, workers and the repaint they cause finish."""
    pane = pilot.app.pane("queue")
    await wait_until(pilot, lambda: pane.shown_query is None or pane.shown_query == pane.ticket_query)
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def loaded(pilot) -> None:
    """Wait for the first full read of the database, then for the repaint."""
    await wait_until(pilot, lambda: pilot.app.reads >= 1)
    await settle(pilot)


def screen_text(app) -> str:
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def table(app) -> TicketTable:
    return app.query_one(TicketTable)


def current_number(app) -> str:
    return table(app).current_row().number[-4:]


async def wait_until(pilot, condition, seconds: float = 60.0) -> None:
    """Wait for the app's own state, not for a fixed time; the bound only stops a hang."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def shows(pilot, phrase: str) -> None:
    """Wait until the screen shows `phrase` (a pane built or repainted over a few frames)."""
    try:
        await wait_until(pilot, lambda: phrase in screen_text(pilot.app))
    except AssertionError:
        raise AssertionError(f"{phrase!r} not on screen:\n{screen_text(pilot.app)}") from None


async def test_queue_pane_shows_open_tickets_in_default_order_with_summary(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "1 Queue" in text and "6 Service" in text  # the tabs show their keys
        assert "Open 18 · unassigned 4 │ Critical 2 · High 4 · Medium 8 · Low 4" in text
        assert "Queues: Service Desk 11 · Level 2 5 · Onboarding 2" in text
        assert "Number" in text and "SLA due" in text and "Title" in text
        assert len(table(app).ids) == OPEN_TICKETS
        first = next(line for line in text.splitlines() if line.startswith("T2026"))  # the first row
        assert first.startswith("T20260301.0009") and "-2d00h!" in first  # overdue: negative and marked
        assert "last sync 2026-03-10 13:48 (12 min ago) from demo" in text  # from sync_runs, not draw time


async def test_cursor_keys_move_through_the_queue(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert current_number(app) == "0009"
        await pilot.press("j", "j")
        assert current_number(app) == "0001"
        await pilot.press("k")
        assert current_number(app) == "0003"
        await pilot.press("G")
        assert table(app).cursor == OPEN_TICKETS - 1 and current_number(app) == "0016"
        await pilot.press("g")
        assert table(app).cursor == 0
        await pilot.press("pagedown")
        height = table(app).scrollable_content_region.height
        assert table(app).cursor == height - 1
        await pilot.press("pageup")
        assert table(app).cursor == 0
        await pilot.press("down", "up", "end", "home")
        assert table(app).cursor == 0


async def test_filter_as_you_type_then_keep_or_clear(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"castle")
        await settle(pilot)
        assert {r.number[-4:] for r in app.query_one(TicketTable)._fetch(table(app).ids)} == {
            "0003",
            "0008",
            "0012",
            "0017",
        }
        assert "4 of 18" in screen_text(app) and "filter: castle" in screen_text(app)
        await pilot.press("enter")  # keep the filter, back to the table
        assert app.focused is table(app)
        await pilot.press("j")
        assert table(app).cursor == 1
        await pilot.press("x")  # clear
        await settle(pilot)
        assert len(table(app).ids) == OPEN_TICKETS
        await pilot.press("slash", "z", "z")
        await settle(pilot)
        assert table(app).ids == []
        await pilot.press("escape")  # Esc in the box clears it
        await settle(pilot)
        assert len(table(app).ids) == OPEN_TICKETS and app.focused is table(app)


async def test_sort_key_cycles_orders(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        await settle(pilot)
        pane = app.pane("queue")
        assert pane.ticket_query.sort == "priority"
        ranks = [r.priority_rank for r in table(app)._fetch(table(app).ids)]
        assert ranks == sorted(ranks) and "sort (s): priority, then next due" in screen_text(app)
        await pilot.press("s")
        await settle(pilot)
        assert pane.ticket_query.sort == "age" and current_number(app) == "0016"  # created 10 days ago


async def test_facets_pick_a_queue(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FacetScreen)
        options = app.screen.query_one(OptionList)
        wanted = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == "queue\0Level 2")
        options.highlighted = wanted
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, FacetScreen)
        assert len(table(app).ids) == 5 and "queue: Level 2" in screen_text(app)


async def test_enter_opens_detail_with_fields_url_entries_events_and_esc_closes(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(100, 50)) as pilot:
        await loaded(pilot)
        await pilot.press("j", "j", "j", "j")  # 0002
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = screen_text(app)
        assert "T20260301.0002  Email not syncing on phones" in text
        assert "https://psa.example/tickets/1002" in text  # the URL is shown: a jump host has no browser
        assert "Time entries: 1 (1.5 h)" in text and "Alice Nguyen" in text
        assert "Events: 2" in text and "In Progress" in text
        assert "Next due in:" in text and "OVERDUE" in text
        await pilot.press("c")
        assert app.clipboard == "T20260301.0002"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen) and current_number(app) == "0002"


async def test_copy_number_and_url(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        assert app.clipboard == "T20260301.0009"
        await pilot.press("y")
        assert app.clipboard == "https://psa.example/tickets/1009"


async def test_number_keys_switch_panes_and_each_shows_figures(tui_engine):
    app = make_app(tui_engine)
    expected = {
        "2": ("sla", ["First response overdue", "30-day compliance", "FR breaches/day"]),
        "3": (
            "escalations",
            ["Escalated in the last 30 days: 3", "By issue type", "Open escalated tickets: 3", "Escalations/day"],
        ),
        "4": ("team", ["Alice Nguyen", "Overdue timesheets: 2", "Hours logged/day"]),
        "5": ("pipeline", ["Qualify", "Open pipeline: 66,000", "Won this month: 2"]),
        "6": (
            "service",
            [
                "First contact resolution",
                "CSAT (30 days): 3.50",
                "Contracts expiring: 1 in 30 days",
                "Open projects at risk (now): Red 1",
            ],
        ),
        "1": ("queue", ["Open 18"]),
    }
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        for key, (pane_id, phrases) in expected.items():
            await pilot.press(key)
            assert app.active_pane_id == pane_id
            for phrase in phrases:
                await shows(pilot, phrase)


async def test_sla_pane_lists_the_tickets_behind_each_count(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await shows(pilot, "First response overdue: 2 ticket(s)")
        await pilot.press("b", "b")
        await shows(pilot, "Resolution overdue: 3 ticket(s)")
        await pilot.press("j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.detail.row.number.endswith("0003")
        await pilot.press("escape", "3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


async def test_manual_refresh_while_filtered_keeps_filter_cursor_and_sort(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("s", "slash", *"castle", "enter")  # sorted by priority, filtered
        await settle(pilot)
        await pilot.press("j")
        before = (table(app).current_id, app.pane("queue").ticket_query, app.reads, table(app).cursor)
        # Another process adds a Critical Castle ticket: it sorts above the cursor's ticket.
        other = open_database(str(tui_engine.url))
        with SyncWriter(other, "demo", "file", clock=lambda: NOW) as run:
            run.store_page(
                "tickets",
                [dict(records("tickets")[2], id="t998", number="T20260310.0998", priority="Critical", priority_rank=1)],
                ["x:1"],
            )
        other.dispose()
        await pilot.press("r")
        await settle(pilot)
        assert app.reads == before[2] + 1
        assert len(table(app).ids) == 5
        assert (table(app).current_id, app.pane("queue").ticket_query) == before[:2]
        assert table(app).cursor == before[3] + 1  # same ticket, one row lower
        assert "filter: castle" in screen_text(app) and "5 of 19" in screen_text(app)


async def test_write_from_another_process_is_picked_up_by_polling(tui_engine):
    app = make_app(tui_engine, tui_config(refresh_seconds=0.1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.reads >= 1)
        await pilot.press("j", "j", "j")
        kept = table(app).current_id
        reads = app.reads
        await pilot.pause(0.5)
        assert app.reads == reads  # nothing changed: nothing re-read
        new_ticket = dict(
            records("tickets")[0],
            id="t999",
            number="T20260310.0999",
            title="Brand new outage",
            first_response_due=(NOW - timedelta(days=5)).isoformat(),
        )
        other = open_database(str(tui_engine.url))
        with SyncWriter(other, "demo", "file", clock=lambda: NOW - timedelta(minutes=1)) as run:
            run.store_page("tickets", [new_ticket], ["x:1"])
        other.dispose()
        await wait_until(pilot, lambda: app.reads > reads and len(table(app).ids) == OPEN_TICKETS + 1)
        await settle(pilot)
        assert table(app).current_id == kept  # the cursor stays on the same ticket
        text = screen_text(app)
        assert "T20260310.0999" in text and "Open 19" in text
        assert "last sync 2026-03-10 13:59 (1 min ago)" in text


async def test_failed_sync_shows_a_badge_with_reason_and_keeps_the_data(tui_engine):
    with tui_engine.begin() as conn:
        conn.execute(
            insert(SyncRunRow.__table__).values(
                source="autotask",
                mode="incremental",
                started_at=NOW - timedelta(minutes=3),
                finished_at=NOW - timedelta(minutes=2),
                status="failed",
                counts={},
                error="HTTP 401 [bold]from[/bold] the API",
            )
        )
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        status = app.query_one("#status").plain
        assert "SYNC FAILED" in status and "HTTP 401 [bold]from[/bold] the API" in status
        assert "last sync 2026-03-10 13:48" in status
        assert len(table(app).ids) == OPEN_TICKETS  # the last good data stays visible


async def test_stale_data_is_badged(tui_engine):
    app = make_app(tui_engine, now=NOW + timedelta(hours=5))
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        status = app.query_one("#status").plain
        assert "STALE" in status and "no successful sync for 5 h" in status


async def test_empty_database_says_how_to_fill_it_then_switches_when_data_arrives(empty_engine):
    app = make_app(empty_engine, tui_config(refresh_seconds=0.1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EmptyScreen))
        for phrase in ["No tickets in the database yet", "mspkpi demo", "mspkpi sync file FOLDER"]:
            await shows(pilot, phrase)
        other = open_database(str(empty_engine.url))
        fill(other)
        other.dispose()
        await wait_until(pilot, lambda: not isinstance(app.screen, EmptyScreen) and len(table(app).ids) == OPEN_TICKETS)


async def test_hostile_psa_text_is_shown_literally(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "[link=https://evil.example]Click me[/link] ␛[2J" in text
        assert "[bold red]Evil[/bold" in text

        def inert(app) -> None:
            segments = [s for strip in app.screen._compositor.render_strips() for s in strip]
            assert not any("\x1b" in s.text or "\x07" in s.text or "\r" in s.text for s in segments)
            assert not any(s.style and s.style.link for s in segments)  # no hyperlink smuggled in

        inert(app)
        await pilot.press("j", "j", "j", "j", "j", "j", "enter")  # 0004, the hostile ticket
        await settle(pilot)
        assert app.screen.detail.row.number.endswith("0004")
        text = screen_text(app)
        assert "[link=https://evil.example]Click me[/link] ␛[2J␛[31mred␇ [bold red]boom␍␊next" in text
        assert "[bold red]Evil[/bold red] Corp ␛]52;c;cGF3bmVk␇" in text
        inert(app)


async def test_help_screen_is_generated_from_bindings_and_keymap_applies(tui_engine):
    config = tui_config()
    config.tui.keymap = {"sort": "o"}
    app = make_app(tui_engine, config)
    async with app.run_test(size=(100, 50)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").plain
        for phrase in [
            "/",
            "Filter  [filter]",
            "o                     Sort  [sort]",
            "Copy #",
            "Copy URL",
            "Refresh",
            "ctrl+p",
            "Esc",
            "Next list",
        ]:
            assert phrase in text, phrase
        await pilot.press("escape")
        await pilot.press("o")
        await settle(pilot)
        assert app.pane("queue").ticket_query.sort == "priority"


async def test_command_palette_and_quit(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Pane 3")
        await wait_until(
            pilot, lambda: app.screen.query("CommandList") and app.screen.query_one("CommandList").option_count > 0
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_pane_id == "escalations"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.parametrize("size", [(40, 12), (60, 16)])
async def test_small_terminals_degrade_without_crashing(tui_engine, size):
    app = make_app(tui_engine)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        for key in ["2", "b", "3", "4", "5", "6", "1", "j", "enter", "escape", "question_mark", "escape"]:
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running and len(table(app).ids) == OPEN_TICKETS


async def test_no_color_and_ansi_theme(tui_engine, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tui_engine, tui_config(theme="ansi"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert app.no_color and app.theme == "ansi-dark"
        assert "-2d00h!" in screen_text(app)  # overdue is marked by text, not only colour


async def test_nothing_repaints_when_nothing_changed(tui_engine):
    app = make_app(tui_engine, tui_config(refresh_seconds=0.05))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        summary = app.query_one("#queue-summary")
        painted = []
        original = summary.update
        summary.update = lambda *a, **k: (painted.append(a), original(*a, **k))
        reads = app.reads
        await asyncio.sleep(0.5)  # about ten change checks
        await pilot.pause()
        assert app.reads == reads and painted == []


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.parametrize("pane_key, list_id", [("2", "#sla-list"), ("3", "#esc-list")])
@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_ticket_lists_fit_their_width_whatever_the_psa_wrote(tui_engine, pane_key, list_id, size):
    """5,000-character titles and company names: the number, due time and owner stay on
    screen, the company and title give way, and nothing scrolls sideways."""
    from mspkpi_tui.store import models

    long = "W" * 5000
    with tui_engine.begin() as conn:
        conn.execute(models.table(models.Ticket).update().values(title=long))
        conn.execute(models.table(models.Company).update().values(name=long))
    app = make_app(tui_engine)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press(pane_key)
        view = app.query_one(list_id)
        await wait_until(pilot, lambda: view.row_count > 0 and view.size.width > 0)
        await pilot.pause()
        assert view.virtual_size.width <= view.size.width, (view.virtual_size, view.size)
        row = view.get_row_at(0)
        number, owner = row[0].plain, row[-1].plain
        assert not number.endswith("…") and not owner.endswith("…")
        assert number in screen_text(app)


async def test_the_app_process_freezes_its_start_up_objects_once_after_the_first_read(tui_engine):
    """run_app's app moves what start-up built out of the collector's reach after its first
    read (so a full collection does not pause the screen scanning it); an app inside a test
    process does not, and neither freezes again on later reads."""
    assert gc.get_freeze_count() == 0
    try:
        app = make_app(tui_engine)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            assert gc.get_freeze_count() == 0  # the default: tests share a process
        app = make_app(tui_engine)
        app.freeze_after_first_read = True  # as run_app sets it
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the modules, widgets and data of a running dashboard
            await pilot.press("r")
            await wait_until(pilot, lambda: app.reads >= 2)
            assert gc.get_freeze_count() <= frozen  # frozen objects freed since leave it; none added
    finally:
        gc.unfreeze()
