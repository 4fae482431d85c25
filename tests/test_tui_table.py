"""The panes' table (tui/table.py), on its own in a small app: it draws only the lines on
screen, draws nothing again when shown again, the cursor and the pane scroll together, its
messages, its sort, and cells shown literally."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.text import Text
from test_tui_app import screen_text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio

ROWS = 300


@pytest.fixture
def anyio_backend():
    return "asyncio"


def rows(n: int = ROWS, title: str = "printer") -> list[tuple[str, tuple[Text, ...]]]:
    return [
        (f"T{i:03d}", (Text(f"T{i:03d}"), Text(f"{title} {i}"), Text(f"{(i * 37) % 101}", justify="right")))
        for i in range(n)
    ]


class OneTable(App):
    """A pane as the dashboard has them: figures above a table, in a scrolling container."""

    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[tuple[str, int]] = []
        self.selected: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="pane"):
            yield Static("Figures above the table\n" * 3, id="figures")
            yield Table(
                [Column("Number"), Column("Title", most=30, fill=True), Column("Count", justify="right")], id="list"
            )
            yield Static("Below the table", id="below")

    def on_mount(self) -> None:
        self.query_one(Table).focus()

    def on_table_row_highlighted(self, event: Table.RowHighlighted) -> None:
        self.highlighted.append((event.row_key, event.cursor_row))

    def on_table_row_selected(self, event: Table.RowSelected) -> None:
        self.selected.append((event.row_key, event.cursor_row))


async def test_only_the_lines_on_screen_are_drawn_and_a_table_shown_again_draws_none():
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(Table)
        table.show_rows(rows())
        await pilot.pause()
        await pilot.pause()
        assert table.row_count == ROWS
        table.lines_drawn = 0
        table.show_rows(rows(title="scanner"))  # every row's text new
        await pilot.pause()
        await pilot.pause()
        assert "scanner 1" in screen_text(app)
        assert 0 < table.lines_drawn <= 24  # 300 rows, one screen of them drawn
        drawn = table.lines_drawn
        pane = app.query_one("#pane")
        pane.display = False  # another pane shown
        await pilot.pause()
        pane.display = True
        app.screen.set_focus(table, scroll_visible=False)  # as a pane key does (focus_now)
        table.refresh()
        await pilot.pause()
        await pilot.pause()
        assert "T000" in screen_text(app) and table.lines_drawn == drawn  # shown from the drawn lines
        # The same rows given again (a refresh that changed nothing): nothing drawn again.
        table.show_rows(rows(title="scanner"))
        await pilot.pause()
        assert table.lines_drawn == drawn
        # One cell changed: its row alone is drawn again.
        changed = rows(title="scanner")
        changed[2] = ("T002", (Text("T002"), Text("scanner on fire"), Text("1", justify="right")))
        table.show_rows(changed)
        await pilot.pause()
        await pilot.pause()
        assert "scanner on fire" in screen_text(app) and table.lines_drawn == drawn + 1


async def test_the_cursor_keys_move_the_cursor_and_the_pane_follows_it():
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(Table)
        table.show_rows(rows(40))
        await pilot.pause()
        assert table.cursor_row == 0 and table.current_key == "T000"
        for keys, row in ((("j", "j", "down"), 3), (("k",), 2), (("G",), 39), (("g",), 0), (("pagedown",), None)):
            await pilot.press(*keys)
            await pilot.pause()
            await pilot.pause()
            if row is not None:
                assert table.cursor_row == row, keys
            assert table.current_key in screen_text(app), (keys, table.current_key)
        await pilot.press("end")
        await pilot.pause()
        await pilot.pause()
        assert table.current_key == "T039" and "Below the table" in screen_text(app)  # the pane's end comes too
        await pilot.press("home")
        await pilot.pause()
        await pilot.pause()
        assert table.current_key == "T000" and "T000" in screen_text(app)


async def test_moving_and_enter_send_the_tables_messages_with_the_row_key():
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(Table)
        table.show_rows(rows(10))
        await pilot.pause()
        app.highlighted.clear()
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert app.highlighted == [("T001", 1), ("T002", 2)]
        assert app.selected == [("T002", 2)]
        # New rows that keep the cursor's row: the cursor stays on it (by key, not position).
        table.show_rows([rows(10)[5], *rows(10)])
        await pilot.pause()
        assert table.current_key == "T002" and table.cursor_row == 3
        assert table.get_row_index("T002") == 3 and table.get_row_at(3)[1].plain == "printer 2"


async def test_s_sorts_by_the_next_column_and_v_reverses_shown_in_the_header():
    app = OneTable()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(Table)
        given = rows(12)
        table.show_rows(given)
        await pilot.pause()
        await pilot.press("s", "s", "s")  # Number, Title, then Count
        await pilot.pause()
        counts = [int(table.get_row_at(i)[2].plain) for i in range(table.row_count)]
        assert counts == sorted(counts) and "Count ▲" in screen_text(app)  # as numbers, not text
        await pilot.press("v")
        await pilot.pause()
        assert [int(table.get_row_at(i)[2].plain) for i in range(table.row_count)] == sorted(counts, reverse=True)
        assert "Count ▼" in screen_text(app) and table.sort_label == "sort (s): Count, descending (v)"
        table.show_rows(given)  # a refresh keeps the lead's sort
        await pilot.pause()
        assert table.row_keys[0] == max(given, key=lambda r: int(r[1][2].plain))[0]
        await pilot.press("s")  # past the last column: the order the pane gave
        await pilot.pause()
        assert table.sort_column is None and table.row_keys == [k for k, _ in reversed(given)]


async def test_cells_are_shown_literally_and_cut_by_display_cells():
    app = OneTable()
    async with app.run_test(size=(60, 24)) as pilot:
        table = app.query_one(Table)
        table.show_rows(
            [
                ("a", (Text("[bold]x[/bold]"), Text("漢字" * 40), Text("1", justify="right"))),
                ("b", (Text("T2"), Text("plain"), Text("22", justify="right"))),
            ]
        )
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]x[/bold]" in text
        lines = [line for line in text.splitlines() if "[bold]" in line or " T2 " in line]
        right_edges = [cell_len(line[: line.rindex(end) + len(end)]) for line, end in zip(lines, ("1", "22"))]
        assert len(lines) == 2 and right_edges[0] == right_edges[1]  # the numbers' right edges line up
        assert "…" in lines[0]
