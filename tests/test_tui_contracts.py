"""The TUI's own contracts: the pane registry, render paths that never read the database, and
the public Textual API the app builds on (these fail loudly when Textual changes under us)."""

from __future__ import annotations

import threading

import pytest
from test_tui_app import loaded, screen_text, settle, wait_until
from test_tui_support import NOW, OPEN_TICKETS, make_app, tui_engine, tui_template_db  # noqa: F401
from textual.app import App

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.tui.app import MspkpiApp
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.pane import LazyPane, Pane
from mspkpi_tui.tui.pane_tabs import PaneStrip, PaneSwitcher
from mspkpi_tui.tui.panes import PANES
from mspkpi_tui.tui.ticket_table import TicketTable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_every_registered_pane_keeps_the_contract():
    ids = [cls.pane_id for cls in PANES]
    assert len(set(ids)) == len(ids) and ids[0] == "queue"
    for cls in PANES:
        assert issubclass(cls, Pane) and cls.title
        assert cls.show_data is not Pane.show_data and cls.focus_main is not Pane.focus_main, cls
        if cls.pane_id != "queue":  # the queue is read first, with its own request (loader.QueueRequest)
            assert cls.load is not Pane.load, cls
    keys = {b.key: b.action for b in MspkpiApp.BINDINGS if b.id and b.id.startswith("pane-")}
    assert keys == {str(n): f"show_pane('{cls.pane_id}')" for n, cls in enumerate(PANES, start=1)}


async def test_the_app_builds_a_tab_per_registered_pane_and_lazily_mounts_them(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await wait_until(pilot, lambda: len(app.mounted_panes()) == len(PANES))
        assert not app.query(LazyPane)  # every placeholder replaced by its pane
        strip = app.query_one(PaneStrip)
        assert [pane_id for pane_id, _ in strip.tabs] == [cls.pane_id for cls in PANES]
        assert [child.id for child in app.query_one(PaneSwitcher).children] == [f"pane-{cls.pane_id}" for cls in PANES]
        assert all(pane.pane_id in app.latest for pane in app.mounted_panes())


async def test_a_quit_before_the_lazy_panes_mount_is_quiet(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


class _TableApp(App):
    """The queue's table alone, fed by the real KPI query through a recording wrapper."""

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.fetch_threads: list[threading.Thread] = []

    def fetch(self, ids):
        self.fetch_threads.append(threading.current_thread())
        return ticket_lists.rows_by_id(self.engine, ids)

    def compose(self):
        yield TicketTable(fetch=self.fetch, clock=lambda: NOW)


async def test_render_line_never_reads_the_database(tui_engine):
    """Rows not prefetched are drawn blank and read by a worker thread, then painted."""
    app = _TableApp(tui_engine)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(TicketTable)
        ids = ticket_lists.queue_ids(tui_engine, NOW, ticket_lists.TicketQuery())
        assert len(ids) == OPEN_TICKETS
        table.show(ids)  # ids only, no rows: every visible line must be read
        await pilot.pause()
        await wait_until(pilot, lambda: "T20260301.0009" in screen_text(app))
        assert app.fetch_threads and all(t is not threading.main_thread() for t in app.fetch_threads)
        fetched = len(app.fetch_threads)
        table.refresh()
        await pilot.pause(0.2)
        assert len(app.fetch_threads) == fetched  # repainting from memory reads nothing


async def test_the_key_bar_follows_the_focus_and_a_click_presses_its_key(tui_engine):
    """KeyBar relies on the screen's bindings_updated_signal and Screen.active_bindings."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        bar = app.query_one(KeyBar)
        assert "Filter" in bar.plain and "Filter" in screen_text(app).splitlines()[-1]
        await pilot.press("4")
        await settle(pilot)
        assert "Filter" not in bar.plain and "Help" in bar.plain
        # A click on a key presses it: "1 Queue" is not in the bar, "?" (help) is.
        start, _, key = next(span for span in bar._spans if span[2] == "question_mark")
        await pilot.click(KeyBar, offset=(start, 0))
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen", key


def test_help_lists_each_pane_s_own_keys_from_the_registry(tui_engine):
    sections = dict(make_app(tui_engine).help_sections())
    for n, cls in enumerate(PANES, start=1):
        if cls.__dict__.get("BINDINGS"):
            described = " ".join(what for _, what in sections[f"{cls.title} (pane {n})"])
            assert all(b.description in described for b in cls.__dict__["BINDINGS"]), cls
    assert "Filter box" in sections
