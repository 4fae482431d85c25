"""The quiet screen and the quick keys: a minute passing repaints only the clock cells whose
text changed; the filter as you type (from memory) lists what the SQL filter lists.

The bytes are counted where Textual hands a compositor update to the terminal (App._display:
the same segments a real driver writes); the clock is pinned and moved by hand, then the
minute tick is run as its timer runs it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from test_tui_app import loaded, screen_text, settle, wait_until
from test_tui_support import NOW, make_app, records, tui_config, tui_engine, tui_template_db  # noqa: F401
from textual._compositor import CompositorUpdate

from mspkpi_tui.kpi.tickets import queue_ids
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.writer import SyncWriter
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.panes import PANES
from mspkpi_tui.tui.ticket_table import TicketTable
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Written:
    """What the app would write to the terminal (headless runs draw nothing, so render the update)."""

    def __init__(self, app) -> None:
        self.chunks: list[str] = []
        original = app._display

        def display(screen, renderable) -> None:
            if isinstance(renderable, CompositorUpdate):
                self.chunks.append(renderable.render_segments(app.console))
            original(screen, renderable)

        app._display = display

    def take(self) -> str:
        out, self.chunks = "".join(self.chunks), []
        return out


async def repaint(pilot) -> None:
    for _ in range(3):
        await pilot.pause()


async def quiet(pilot, written: Written) -> None:
    """Wait until the screen stops changing (the panes after the queue mount after the first
    paint, and their layout can repaint the queue once more)."""
    calm = 0
    for _ in range(500):
        await pilot.pause(0.02)
        await pilot.app.workers.wait_for_complete()
        calm = calm + 1 if not written.take() else 0
        if calm >= 25:
            return
    raise AssertionError("the screen never went quiet")


async def test_a_quiet_minute_repaints_only_the_countdowns_that_changed(tui_engine):
    app = make_app(tui_engine, tui_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        written = Written(app)
        await quiet(pilot, written)
        table = app.query_one(TicketTable)
        rows = [table._rows[i] for i in table.ids]

        # The tick with the clock where it was: nothing on screen reads differently.
        app.tick_minute()
        await repaint(pilot)
        assert written.take() == ""

        # Under load Textual may, about one minute in five, lay the whole screen out in the same
        # frame as the tick (not ours to stop); so up to three minutes are tried, and each must
        # show its changed cells, and one of them nothing else.
        for attempt in range(3):
            minute = NOW + timedelta(minutes=attempt)
            before = {r.id: fmt.countdown(r.countdown(minute))[0] for r in rows}
            ages_before = {r.id: fmt.age(r.age(minute)) for r in rows}
            app.pinned_now = minute + timedelta(minutes=1)
            after = {r.id: fmt.countdown(r.countdown(app.now))[0] for r in rows}
            ages_after = {r.id: fmt.age(r.age(app.now)) for r in rows}
            changed = [after[i] for i in before if before[i] != after[i]]
            changed += [ages_after[i] for i in ages_before if ages_before[i] != ages_after[i]]
            assert changed  # the dataset has countdowns under a day: the minute moves some of them

            app.tick_minute()
            await repaint(pilot)
            out = written.take()
            text = ANSI.sub("", out)
            for cell in changed:
                assert cell in text
            rewritten = [row.title for row in rows if fmt.clean(row.title)[:12] in text]
            rewritten += [row.company for row in rows if row.company and fmt.clean(row.company)[:8] in text]
            if not rewritten:  # no title or company (right of the clock cells) was written again
                break
        assert not rewritten, rewritten
        # The status line's "(N min ago)" is the only other change.
        assert f"{13 + attempt} min ago" in text
        assert f"{12 + attempt} min ago" not in text

        # For scale: the same minute as a whole-table repaint writes several times as much.
        table.refresh()
        await repaint(pilot)
        assert len(written.take()) > 3 * len(out)


async def test_the_repainted_cells_show_what_a_full_repaint_shows(tui_engine):
    """A cell-sized repaint leaves the screen as a full repaint would draw it."""
    app = make_app(tui_engine, tui_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.pinned_now = NOW + timedelta(minutes=7)
        app.tick_minute()
        await repaint(pilot)
        ticked = app.screen._compositor.render_strips()
        app.query_one(TicketTable).refresh()
        await repaint(pilot)
        full = app.screen._compositor.render_strips()
        assert ["".join(s.text for s in strip) for strip in ticked] == [
            "".join(s.text for s in strip) for strip in full
        ]


# --- the filter as you type, from memory -------------------------------------------------------


async def test_each_letter_typed_lists_what_the_sql_filter_lists(tui_engine):
    """Letter by letter, backspaces and a second word: the table always equals kpi.tickets.queue_ids."""
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        pane = app.pane("queue")
        await pilot.press("s", "slash")  # sorted by priority: the filter keeps the sort's order
        seen = set()
        for key in [*"Cas", "backspace", "backspace", "backspace", *"E", "space", *"mAIL", "backspace"]:
            await pilot.press(key)
            await settle(pilot)
            query = pane.ticket_query
            assert app.query_one(TicketTable).ids == queue_ids(tui_engine, NOW, query), query.text
            seen.add(len(app.query_one(TicketTable).ids))
        assert len(seen) > 2  # the letters narrowed and widened the list


async def test_the_filter_from_memory_follows_new_data(tui_engine):
    """A ticket written by another process is found by the next letter typed after the refresh."""
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"casti")
        await settle(pilot)
        before = list(app.query_one(TicketTable).ids)
        other = open_database(str(tui_engine.url))
        with SyncWriter(other, "demo", "file", clock=lambda: NOW) as run:
            run.store_page(
                "tickets",
                [dict(records("tickets")[2], id="t998", number="T20260310.0998", title="Castillo printer")],
                ["x:1"],
            )
        other.dispose()
        app.check_for_changes(force=True)
        await wait_until(pilot, lambda: len(app.query_one(TicketTable).ids) == len(before) + 1)
        await pilot.press("l")
        await settle(pilot)
        ids = app.query_one(TicketTable).ids
        assert ids == queue_ids(tui_engine, NOW, app.pane("queue").ticket_query)
        assert [r.number for r in app.query_one(TicketTable)._fetch(ids)] == ["T20260310.0998"]


# --- switching panes keeps their last render ---------------------------------------------------


async def test_a_pane_shown_again_renders_no_table_cell_again(tui_engine):
    """Switching back to a pane reuses its tables' drawn lines (DataTable dropped its rendered
    cells on the style update and the same-size Resize that showing a pane sends); a new theme
    still draws them again."""
    app = make_app(tui_engine)

    def drawn() -> int:
        return sum(t.lines_drawn for t in app.screen.query(Table))

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        for key in "23456" * 2:  # every pane built and shown twice
            await pilot.press(key)
            await repaint(pilot)
        await pilot.press("1")
        await repaint(pilot)
        before = drawn()
        for key in "234561":
            await pilot.press(key)
            await repaint(pilot)
            assert app.active_pane_id == PANES[int(key) - 1].pane_id
            if key == "2":  # the pane did paint (from its tables' caches)
                assert "First response overdue" in screen_text(app)
        assert drawn() == before

        await pilot.press("2")
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await repaint(pilot)
        assert drawn() > before  # new colours: the visible lines are drawn again
