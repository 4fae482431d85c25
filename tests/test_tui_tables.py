"""Pilot tests of the panes' tables: widths by display cells (tui.columns), unique row keys,
the cursor always on a row on screen, the same keys in every list."""

from __future__ import annotations

import pytest
from rich.text import Text
from test_tui_app import loaded, screen_text, wait_until
from test_tui_support import make_app, tui_engine, tui_template_db  # noqa: F401
from textual.app import App

from mspkpi_tui.store import models
from mspkpi_tui.tui.columns import Column, fit_widths, natural_widths
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_columns_give_way_in_their_order_and_the_kept_ones_stay():
    columns = (
        Column("Company", least=6, gives=1),
        Column("Contract", least=8, gives=2),
        Column("End"),
    )
    natural = {"Company": 40, "Contract": 40, "End": 10}
    widths = fit_widths(columns, 60, natural)  # room: 60 - 1 - 6 = 53
    assert widths["End"] == 10 and widths["Company"] == 6 and widths["Contract"] == 37
    assert sum(widths.values()) == 53


def test_natural_widths_count_display_cells_not_characters():
    columns = (Column("Title", most=40),)
    assert natural_widths(columns, [("漢字漢字",)]) == {"Title": 8}
    assert natural_widths(columns, [("W" * 5000,)]) == {"Title": 40}


async def test_technicians_with_the_same_5000_character_name_do_not_stop_the_read(tui_engine):
    """Every resource named the same 5,000 characters: the Team table gets one row per
    technician (their keys are made unique) and nothing pushes its figures off screen."""
    long = "W" * 5000
    with tui_engine.begin() as conn:
        conn.execute(models.table(models.Resource).update().values(name=long))
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("4")
        table = app.query_one("#team-hours", Table)
        await wait_until(pilot, lambda: table.row_count > 0 and table.size.width > 0)
        await pilot.pause()
        technicians = app.latest["team"].figures.resources
        assert len(technicians) >= 2 and table.row_count == len(technicians)
        assert table.virtual_size.width <= table.size.width, (table.virtual_size, table.size)
        assert "At risk" in screen_text(app)  # the Dispatch now table, first on the pane
        table.scroll_visible(animate=False)
        await pilot.pause()
        assert "Cust%" in screen_text(app)  # the last column is on screen


@pytest.mark.parametrize("pane_key, table_id", [("4", "#team-hours"), ("5", "#pipe-stages"), ("6", "#svc-contracts")])
@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_every_pane_table_fits_its_width_whatever_the_psa_wrote(tui_engine, pane_key, table_id, size):
    long = "漢" * 2500
    with tui_engine.begin() as conn:
        for model in (models.Resource, models.Company, models.Contract):
            conn.execute(models.table(model).update().values(name=long))
        conn.execute(models.table(models.Opportunity).update().values(stage=long))
    app = make_app(tui_engine)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press(pane_key)
        table = app.query_one(table_id, Table)
        await wait_until(pilot, lambda: table.row_count > 0 and table.size.width > 0)
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width, (table.virtual_size, table.size)


async def test_the_command_palette_lists_each_action_once(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles.count("Keys") == 1 and len(titles) == len(set(titles))


@pytest.mark.parametrize(
    "pane_key, tables",
    [
        ("2", ["sla-list"]),
        ("4", ["team-dispatch", "team-hours", "team-efficiency", "team-timesheets", "pane-strip", "team-drills"]),
    ],
)
async def test_tab_moves_between_the_tab_strip_and_the_panes_tables(tui_engine, pane_key, tables):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press(pane_key)
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == tables[0])

        def focused() -> str:
            return app.focused.id or type(app.focused).__name__

        seen = []
        cycle = tables if "pane-strip" in tables else [*tables, "pane-strip"]
        for _ in range(len(cycle)):
            await pilot.press("tab")
            await pilot.pause()
            seen.append(focused())
        assert seen == [*cycle[1:], cycle[0]]  # the pane's tables and the tab strip, round
        await pilot.press("shift+tab")
        await pilot.pause()
        assert focused() == cycle[-1]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_cursor_is_always_on_a_row_on_screen(tui_engine, size):
    """The SLA pane's longest list at 80x24 runs below the fold: G, PageDown and j move the
    cursor there and the pane scrolls with it; g brings it back to the top."""
    app = make_app(tui_engine)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("2", "b", "b", "b")
        view = app.query_one("#sla-list")
        await wait_until(pilot, lambda: view.row_count >= 8)

        def cursor_number_on_screen() -> bool:
            number = view.current_ticket().number
            return number in screen_text(app)

        for keys in (("G",), ("g",), ("pagedown",), ("j", "j", "j", "j", "j", "j", "j")):
            await pilot.press(*keys)
            await pilot.pause()
            await pilot.pause()
            assert cursor_number_on_screen(), (keys, screen_text(app))
        await pilot.press("G")
        await pilot.pause()
        await pilot.pause()
        assert view.cursor_row == view.row_count - 1 and cursor_number_on_screen()


async def test_a_ticket_list_sorts_by_a_column_reverses_and_keeps_it_over_a_refresh(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        view = app.query_one("#esc-list")
        await wait_until(pilot, lambda: view.row_count >= 2)

        def keys() -> list[str]:
            return view.row_keys

        await pilot.press("s", "s")  # Number, then Pri
        await pilot.pause()
        ascending = [view.rows_by_key[k].priority_rank for k in keys()]
        assert ascending == sorted(ascending) and "Pri ▲" in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        descending = [view.rows_by_key[k].priority_rank for k in keys()]
        assert descending == sorted(ascending, reverse=True) and "Pri ▼" in screen_text(app)
        reads = app.reads
        await pilot.press("r")
        await wait_until(pilot, lambda: app.reads > reads)
        await pilot.pause()
        assert [view.rows_by_key[k].priority_rank for k in keys()] == descending and "Pri ▼" in screen_text(app)


async def test_the_queue_sort_reverses_with_v_and_says_so(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        pane = app.pane("queue")
        first = list(pane.table.ids)
        await pilot.press("v")
        await wait_until(pilot, lambda: pane.shown_query == pane.ticket_query and pane.ticket_query.descending)
        await pilot.pause()
        assert "reversed (v)" in screen_text(app)
        assert list(pane.table.ids) != first and set(pane.table.ids) == set(first)
        reads = app.reads
        await pilot.press("r")
        await wait_until(pilot, lambda: app.reads > reads)
        assert pane.ticket_query.descending and "reversed (v)" in screen_text(app)


async def test_the_list_keys_work_in_the_facet_picker_and_the_help_which_lists_them(tui_engine):
    from textual.widgets import OptionList

    from mspkpi_tui.tui.screens import FacetScreen, HelpScreen

    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FacetScreen) and app.screen.query_one(OptionList).option_count > 5
        )
        options = app.screen.query_one(OptionList)
        start = options.highlighted
        await pilot.press("j", "j")
        assert options.highlighted > start
        await pilot.press("G")
        last = options.highlighted
        assert last == options.option_count - 1
        await pilot.press("k")
        assert options.highlighted < last
        await pilot.press("g")
        assert options.highlighted == 1  # the first option that can be picked (headings cannot)
        assert (
            "company"
            in " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count)).lower()
        )
        await pilot.press("escape", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        body = app.screen.query_one("#help-body")
        await pilot.pause()
        await pilot.press("G")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert body.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        await pilot.press("j")
        await pilot.pause()
        help_text = app.screen.query_one("#help-text").plain
        for section in ("Facet picker", "This help", "Tables in panes"):
            assert section in help_text
        for key in ("j", "k", "g", "G", "PgUp", "PgDn", "s", "v"):
            assert f"\n  {key} " in help_text, key


async def test_at_40x12_the_footer_status_line_and_sla_counts_degrade_cleanly(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(40, 12)) as pilot:
        await loaded(pilot)
        lines = screen_text(app).splitlines()
        footer, status = lines[-1], lines[-2]
        assert "palette" not in footer and "Filter" in footer  # no hint docked over the keys
        assert status.startswith("last sync") and len(status) <= 40
        await pilot.press("2")
        await wait_until(pilot, lambda: "Resolution due today" in screen_text(app))
        await pilot.pause()
        buckets = [line for line in screen_text(app).splitlines() if "overdue" in line or "due " in line]
        counts = app.latest["sla"].figures.bucket_counts()
        assert len(buckets) >= 4 and all(line.rstrip()[-1].isdigit() for line in buckets[:4]), buckets
        assert sorted(int(line.split()[-1]) for line in buckets[:4]) == sorted(counts.values())
    async with make_app(tui_engine).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert "palette" in screen_text(pilot.app).splitlines()[-1]  # wide enough: the hint is back


@pytest.mark.parametrize(
    "env, no_color",
    [
        ({"NO_COLOR": "1", "COLORTERM": "truecolor"}, True),
        ({"TERM": "xterm-16color", "COLORTERM": None}, True),
        ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, False),
    ],
    ids=["NO_COLOR", "16-colours", "truecolor"],
)
async def test_overdue_stands_out_without_colour(tui_engine, monkeypatch, env, no_color):
    """Under NO_COLOR and in 16 colours an overdue countdown is bold, reversed and marked
    "!" in the queue and in every ticket list; with full colour it is bold red with the "!"."""
    from rich.style import Style

    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        queue = app.query_one("#queue-table")
        row = queue.current_row()
        assert row.countdown(app.now).total_seconds() < 0  # the first ticket is overdue
        line = queue._row_text(row)
        styles = [Style.parse(str(span.style)) if isinstance(span.style, str) else span.style for span in line.spans]
        assert any(s.bold and bool(s.reverse) == no_color for s in styles if s is not None)
        await pilot.press("2")
        view = app.query_one("#sla-list")
        await wait_until(pilot, lambda: view.row_count > 0)
        due = view.get_row_at(0)[2]
        assert due.plain.endswith("!") and "bold" in str(due.style)
        assert ("reverse" in str(due.style)) == no_color


class MeasuredText(Text):
    """A cell that counts how often its text is read (measuring a column reads every cell)."""

    reads = 0

    @property
    def plain(self) -> str:
        MeasuredText.reads += 1
        return Text.plain.fget(self)  # type: ignore[attr-defined]

    @plain.setter
    def plain(self, new_text: str) -> None:
        Text.plain.fset(self, new_text)  # type: ignore[attr-defined]


class OneTable(App):
    def compose(self):
        yield Table([Column("Number"), Column("Title", most=20)], id="list")


async def test_a_resize_that_keeps_the_rows_does_not_measure_them_again():
    """Showing a pane again sends its tables a Resize; the rows' natural widths are remembered
    (measuring reads every cell: thousands on the SLAs and Team panes, on every pane switch)."""
    app = OneTable()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(Table)
        table.show_rows([(f"T{i}", (MeasuredText(f"T{i}"), MeasuredText("printer"))) for i in range(200)])
        await pilot.pause()
        widths = dict(table.widths)
        MeasuredText.reads = 0
        await pilot.resize_terminal(90, 20)  # wider than the columns: their widths stay
        await pilot.pause()
        assert table.size.width == 90 and table.widths == widths
        assert MeasuredText.reads == 0
        table.show_rows([("T1", (MeasuredText("T1"), MeasuredText("a much longer title")))])
        await pilot.pause()
        assert table.widths["Title"] == len("a much longer title")  # new rows are measured


async def test_rows_given_before_a_table_is_mounted_are_kept(tui_engine):
    """A pane's data can arrive while its tables are still mounting (the panes after the queue
    are mounted after the first paint): the rows stay, the table is not emptied by its mount."""
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = Table((Column("Name"), Column("Count", justify="right")))
        table.show_rows([("a", (Text("first"), Text("1"))), ("b", (Text("second"), Text("2")))])
        await app.screen.mount(table)
        await pilot.pause()
        assert table.row_count == 2
        assert [table.get_row_at(n)[0].plain for n in range(2)] == ["first", "second"]


async def test_data_delivered_while_a_pane_is_mounting_is_shown_once_it_is_mounted(tui_engine):
    """The panes after the queue are mounted after the first paint, while the first read goes on:
    a delivery that finds a pane in the DOM but not yet mounted waits for it (before, showing it
    raised NoMatches in the read, and the screen never got its first read)."""
    from mspkpi_tui.tui.pipeline_pane import PipelinePane

    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await app.pane("pipeline").remove()
        mounting = app.query_one("#panes").mount(PipelinePane(id="pane-pipeline"))
        app._deliver("pipeline", app.latest["pipeline"])  # the read's delivery, mid-mount
        await mounting
        await pilot.press("5")
        table = app.query_one("#pipe-stages", Table)
        await wait_until(pilot, lambda: table.row_count > 0)
        assert table.row_count == len(app.latest["pipeline"].stages)
