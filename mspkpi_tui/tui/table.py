"""The panes' tables (SLAs, Escalations, Team, Pipeline, Service, Clients, drills, alerts): a
Line-API widget that draws only the lines on screen and keeps each drawn line.

Textual's DataTable re-rendered every visible cell when its pane was shown again and restyled
its nine component classes on every focus change: a pane switch on the 1M-ticket database spent
most of its time there (bench/RESULTS.md). This table keeps each row's drawn line (a Strip) keyed
by the row's key and cells, whether it is the cursor row, and what it was drawn with (base style,
component styles, column widths and width, horizontal scroll): a pane shown again composes its
lines from that cache. It keeps DataTable's look (a bold header on $panel, one cell of padding
each side of a cell, the block cursor, focused or not) and its keys and messages.

Cells are rich Text (untrusted text never becomes markup); columns fit the table's width by
display cells (tui.columns). The table grows with its rows (height auto, at most its pane's
height, then it scrolls itself) and the pane around it scrolls so the cursor row stays in view.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from mspkpi_tui.tui.columns import PADDING, Column, clip, columns_of, fit_widths, natural_widths
from mspkpi_tui.tui.focus import FocusStyledWhereShown
from mspkpi_tui.tui.quiet_scroll import QuietScrollView

Row = tuple[str, tuple[Any, ...]]
Lines = dict["str | None", "Drawn"]  # by row key (None: the header)
LINE_CACHE = 2000  # drawn lines kept per drawing state (more rows than that: the visible ones are drawn again)
STATES = 4  # drawing states kept (focused, blurred, a width before the scrollbar came ...)


class Table(FocusStyledWhereShown, QuietScrollView, can_focus=True):
    """A pane's list, updated by key so the cursor stays put. Its columns fit its width by
    display cells (tui.columns: one rule for every table), the cursor is always on a row on
    screen (the pane scrolls with it), and the same keys move it everywhere."""

    DEFAULT_CSS = """
    Table {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .table--header { background-tint: $foreground 5%; }
        }
        & > .table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"table--header", "table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, id="table-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="table-up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="table-first"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="table-last"),
        Binding("pageup", "page_up", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table-page-down"),
        Binding("s", "sort_next", "Sort by the next column", show=False, id="table-sort"),
        Binding("v", "sort_reverse", "Reverse the sort", show=False, id="table-reverse"),
        # Not in the help's list of table keys (no description): it lists Enter itself.
        Binding("enter", "select_cursor", show=False),
        Binding("left", "scroll_left", show=False),
        Binding("right", "scroll_right", show=False),
    ]

    class RowMessage(Message):
        """A message about one row: the table, the cursor's row index and the row's key."""

        def __init__(self, table: Table, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> Table:
            return self.table

    class RowHighlighted(RowMessage):
        """The cursor moved to another row (or another row came under it)."""

    class RowSelected(RowMessage):
        """Enter (or a click on the cursor row) on a row."""

    def __init__(self, columns: Sequence[Column | str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = columns_of(columns)
        self.widths: dict[str, int] = {}
        self._given: list[Row] = []  # the rows in the order the pane gave them
        self._rows_shown: list[Row] = []  # the rows in the order shown (sorted)
        self._row_positions: dict[str, int] = {}
        self._cursor_at = 0
        self._header_shown = True
        # The sort the lead chose (s: next column, v: reverse), kept over every refresh; None:
        # the order the figure's rule gives. Shown in the header (▲ / ▼ beside the column).
        self.sort_column: int | None = None
        self.sort_reverse = False
        # The natural column widths of the last rows measured, by the rows' identity (a rows
        # list is never changed in place): a pane shown again gets a Resize, and measuring reads
        # every cell (thousands of rows on the SLAs and Team panes).
        self._measured: tuple[Sequence[Row], dict[str, int]] | None = None
        self._in_sorting_pane: bool | None = None  # a pane with its own s / v keys (see check_action)
        # Drawn rows per drawing state (see _lines_for), by row key.
        self._drawn: dict[tuple, Lines] = {}
        self._frame: tuple[Lines, Style, int, int] | None = None
        self.lines_drawn = 0  # rows drawn anew (not from the cache): for tests and benchmarks

    # --- the public surface the panes and tests use -------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows_shown)

    @property
    def cursor_row(self) -> int:
        return self._cursor_at

    @property
    def row_keys(self) -> list[str]:
        """The rows' keys in the order shown."""
        return [key for key, _ in self._rows_shown]

    @property
    def current_key(self) -> str | None:
        if 0 <= self._cursor_at < len(self._rows_shown):
            return self._rows_shown[self._cursor_at][0]
        return None

    @property
    def show_header(self) -> bool:
        return self._header_shown

    @show_header.setter
    def show_header(self, shown: bool) -> None:
        if shown != self._header_shown:
            self._header_shown = shown
            self._set_virtual_size()
            self.refresh()

    def get_row_at(self, row: int) -> list[Text]:
        """The cells of a row as shown (cut to their column's width)."""
        return self._clipped(self._rows_shown[row][1])

    def get_row_index(self, key: str) -> int:
        return self._row_positions[key]

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on row `row` (clamped); the pane scrolls to it when the table has the focus."""
        del animate, scroll  # DataTable's arguments: moves are never animated, the pane always follows
        if not self._rows_shown:
            return
        row = max(0, min(row, len(self._rows_shown) - 1))
        old = self._cursor_at
        if row == old:
            return
        self._cursor_at = row
        self._refresh_row(old)
        self._refresh_row(row)
        self._follow_cursor()
        self.post_message(self.RowHighlighted(self, row, self._rows_shown[row][0]))
        self.call_after_refresh(self.show_cursor_row)

    def show_rows(self, rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> None:
        """(key, cells) per row; cells are Text objects (untrusted text never becomes markup).
        Keys need not be unique (two technicians of the same name): a repeat gets a suffix."""
        assert all(len(cells) == len(self.specs) for _, cells in rows), "a row's cells do not match the columns"
        self._given = unique_keys(rows)
        keyed = self._sorted(self._given)
        before = self._rows_shown
        if self.widths and same_rows(keyed, before):
            return
        current = self.current_key
        widths = self._fit(keyed)
        self._rows_shown = keyed
        self._row_positions = {key: i for i, (key, _) in enumerate(keyed)}
        same_keys = len(before) == len(keyed) and all(a[0] == b[0] for a, b in zip(before, keyed))
        if widths == self.widths and same_keys:
            self._refresh_changed(before, keyed)  # only the cells that changed repaint (a minute tick)
            return
        self.widths = widths
        if current is not None and current in self._row_positions:
            self._cursor_at = self._row_positions[current]
        else:  # the row under the cursor went: the cursor stays at its place
            self._cursor_at = max(0, min(self._cursor_at, len(keyed) - 1))
        self._set_virtual_size()
        self._follow_cursor()
        self.refresh()
        if self.current_key is not None and self.current_key != current:
            self.post_message(self.RowHighlighted(self, self._cursor_at, self.current_key))

    # --- sorting -------------------------------------------------------------------------

    def header_label(self, index: int) -> str:
        label = self.specs[index].label
        if index != self.sort_column:
            return label
        return f"{label} {'▼' if self.sort_reverse else '▲'}"

    def sort_value(self, key: str, cells: tuple[Any, ...], index: int) -> tuple:
        """What a row sorts by in column `index`: a number for a right-aligned figure
        ("1,234.5", "12%"), else the text without case; missing values ("–") last."""
        cell = cells[index]
        plain = (cell.plain if isinstance(cell, Text) else str(cell)).strip()
        if plain in ("", "–", "no data"):
            return (1, 0.0, "")
        if self.specs[index].justify == "right":
            digits = "".join(ch for ch in plain if ch.isdigit() or ch in ".-")
            try:
                return (0, float(digits), "")
            except ValueError:
                pass
        return (0, 0.0, plain.casefold())

    def _sorted(self, rows: list[Row]) -> list[Row]:
        if self.sort_column is None:
            return list(reversed(rows)) if self.sort_reverse else rows
        index = self.sort_column
        valued = [(self.sort_value(key, cells, index), (key, cells)) for key, cells in rows]  # once per row
        present = [(value, row) for value, row in valued if value[0] == 0]
        missing = [row for value, row in valued if value[0] != 0]
        present.sort(key=lambda pair: pair[0], reverse=self.sort_reverse)
        return [row for _, row in present] + missing  # rows without the value stay last either way

    def _resort(self) -> None:
        self.widths = {}  # the header changed: everything repaints
        self.show_rows(self._given)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A pane that sorts its own table (the Clients pane's s/o) keeps its keys: the table's
        # sort steps aside and the key goes on to the pane.
        if action in ("sort_next", "sort_reverse") and self._pane_sorts():
            return False
        return super().check_action(action, parameters)

    def _pane_sorts(self) -> bool:
        # Asked for every key the table could take (the footer checks each binding on a pane
        # switch): looked up once, the table stays in its pane.
        if self._in_sorting_pane is not None:
            return self._in_sorting_pane
        sorts = any(
            b.key in ("s", "v")
            for ancestor in self.ancestors
            for b in Binding.make_bindings(getattr(type(ancestor), "BINDINGS", []))
        )
        if self.is_attached:
            self._in_sorting_pane = sorts
        return sorts

    def action_sort_next(self) -> None:
        n = len(self.specs)
        self.sort_column = (
            0 if self.sort_column is None else (self.sort_column + 1 if self.sort_column + 1 < n else None)
        )
        self._resort()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()

    @property
    def sort_label(self) -> str:
        """The sort in words, for a list's title line."""
        if self.sort_column is None:
            return "sort (s): as listed" + (", reversed (v)" if self.sort_reverse else "")
        label = self.specs[self.sort_column].label
        return f"sort (s): {label}, {'descending' if self.sort_reverse else 'ascending'} (v)"

    # --- keys and mouse --------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor_at + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor_at - 1)

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._rows_shown) - 1)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - self._header_lines())

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor_at + self._page())

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor_at - self._page())

    def action_select_cursor(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.RowSelected(self, self._cursor_at, key))

    def on_click(self, event: events.Click) -> None:
        """As DataTable: a click moves the cursor to the row; a click on the cursor row selects it."""
        index = event.y - self._header_lines() + int(self.scroll_y)
        if event.y < self._header_lines() or not 0 <= index < len(self._rows_shown):
            return
        if index == self._cursor_at:
            self.action_select_cursor()
        else:
            self.move_cursor(row=index)

    # --- size -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._set_virtual_size()

    def on_resize(self) -> None:
        widths = self._fit(self._rows_shown)
        if widths != self.widths:
            self.widths = widths
            self._set_virtual_size()
            self.refresh()
        self._follow_cursor()

    def _fit(self, rows: Sequence[Row]) -> dict[str, int]:
        width = self.size.width or (self.parent.size.width if isinstance(self.parent, Widget) else 0)
        if self._measured is not None and self._measured[0] is rows:
            natural = self._measured[1]
        else:
            natural = natural_widths(self.specs, (cells for _, cells in rows))
            self._measured = (rows, natural)
        if self.sort_column is not None:  # room for the sort's marker ("Count ▲"), not cut off
            label = self.specs[self.sort_column].label
            natural = {**natural, label: max(natural[label], cell_len(self.header_label(self.sort_column)))}
        return fit_widths(self.specs, width or self.app.size.width, natural)

    def _table_width(self) -> int:
        return sum(self.widths.get(c.label, 0) + PADDING for c in self.specs)

    def _header_lines(self) -> int:
        return 1 if self._header_shown else 0

    def _set_virtual_size(self) -> None:
        # A change of height lays the screen out again (the table grows with its rows): only then.
        self.virtual_size = Size(self._table_width(), len(self._rows_shown) + self._header_lines())

    # --- cursor scrolling --------------------------------------------------------------------

    def _follow_cursor(self) -> None:
        """Scroll the table itself (when its rows are more than its pane's height) to the cursor."""
        height = self.scrollable_content_region.height - self._header_lines()
        if height <= 0 or not self._rows_shown:
            return
        top = int(self.scroll_y)
        if self._cursor_at < top:
            self.scroll_to(y=self._cursor_at, animate=False, immediate=True)
        elif self._cursor_at >= top + height:
            self.scroll_to(y=self._cursor_at - height + 1, animate=False, immediate=True)

    def show_cursor_row(self) -> None:
        """Scroll the pane holding the table so the cursor's row (and the header) is on screen:
        the table grows with its rows, so the pane, not the table, is what scrolls."""
        if not self._rows_shown or not self.is_attached or not self.has_focus:
            return  # only the table being moved in scrolls the pane (another's refresh must not)
        row = self._cursor_at + self._header_lines()
        for ancestor in self.ancestors:
            if isinstance(ancestor, ScrollableContainer) and ancestor.allow_vertical_scroll:
                top = self.region.y - ancestor.region.y + int(ancestor.scroll_y) + row - int(self.scroll_y)
                height = 1
                if self._cursor_at == len(self._rows_shown) - 1:
                    # On the last row, what follows the table (figures, charts) comes into view
                    # too, as far as the cursor row stays on screen: keys reach the pane's end.
                    below = ancestor.virtual_size.height - top
                    height = max(1, min(below, ancestor.scrollable_content_region.height - 2))
                ancestor.scroll_to_region(
                    Region(0, top, 1, height), animate=False, immediate=True, spacing=Spacing(1, 0, 1, 0)
                )
                return

    # --- drawing -------------------------------------------------------------------------------

    def _refresh_row(self, index: int) -> None:
        if 0 <= index < len(self._rows_shown):
            self.refresh_line(index + self._header_lines())

    def _refresh_changed(self, before: Sequence[Row], after: Sequence[Row]) -> None:
        """Repaint the cells whose content changed, nothing else (a minute's countdowns)."""
        top, header = int(self.scroll_y), self._header_lines()
        height = self.scrollable_content_region.height
        spans = self._column_spans()
        for index, ((_, old), (_, new)) in enumerate(zip(before, after)):
            y = index + header - top
            if not header <= y < max(height, header + 1):
                continue
            for span, a, b in zip(spans, old, new):
                if not same_cell(a, b):
                    self.refresh(Region(span[0] - int(self.scroll_x), y, span[1], 1))

    def _column_spans(self) -> list[tuple[int, int]]:
        spans, x = [], 0
        for column in self.specs:
            width = self.widths.get(column.label, 0) + PADDING
            spans.append((x, width))
            x += width
        return spans

    def _clipped(self, cells: tuple[Any, ...]) -> list[Text]:
        return [clip(cell, self.widths.get(c.label, 1), c.justify) for c, cell in zip(self.specs, cells)]

    def _lines_for(self, base: Style) -> Lines:
        """The drawn rows for what they are drawn with now: the styles (focus, theme, colours) and
        the columns. A few states are kept (the table focused and not). The table's width and
        horizontal scroll only cut and fill a drawn row out (Drawn.fitted)."""
        state = (
            base,
            tuple(self.widths.get(c.label, 0) for c in self.specs),
            self.get_component_rich_style("table--header"),
            self.get_component_rich_style("table--cursor"),
        )
        lines = self._drawn.get(state)
        if lines is None:
            if len(self._drawn) >= STATES:
                self._drawn.pop(next(iter(self._drawn)))
            lines = self._drawn[state] = {}
        return lines

    def render_lines(self, crop: Region) -> list[Strip]:
        # Per frame: the state and base style looked up once, not per line (the DOM's rich_style
        # walks every ancestor).
        base = self.rich_style
        self._frame = self._lines_for(base), base, self.scrollable_content_region.width, int(self.scroll_x)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        if self._frame is not None:
            lines, base, width, scroll_x = self._frame
        else:  # a line rendered on its own
            base, width, scroll_x = self.rich_style, self.scrollable_content_region.width, int(self.scroll_x)
            lines = self._lines_for(base)
        header = self._header_lines()
        if y < header:
            return self._header_drawn(lines).fitted(width, scroll_x)
        index = y - header + int(self.scroll_y)
        if not 0 <= index < len(self._rows_shown):
            return Strip.blank(width, base)
        key, cells = self._rows_shown[index]
        cursor = index == self._cursor_at
        drawn = lines.get(key)
        if drawn is None or drawn.cursor != cursor or not same_cells(drawn.cells, cells):
            drawn = self._row_drawn(cells, cursor, base)
            if len(lines) >= LINE_CACHE:
                lines.clear()
            lines[key] = drawn
            self.lines_drawn += 1
        return drawn.fitted(width, scroll_x)

    def _header_drawn(self, lines: Lines) -> Drawn:
        labels = tuple(self.header_label(i) for i in range(len(self.specs)))
        drawn = lines.get(None)  # the header's line (rows are keyed by text)
        if drawn is not None and drawn.cells == labels:
            return drawn
        style = self.get_component_rich_style("table--header")
        text = Text(no_wrap=True, end="")
        for index, column in enumerate(self.specs):
            label = Text(labels[index])
            label.truncate(self.widths.get(column.label, 1), overflow="crop", pad=True)  # as DataTable: cut
            text.append(" ")
            text.append_text(label)
            text.append(" ")
        drawn = lines[None] = Drawn(labels, False, self._segments(text, style, None), style)
        return drawn

    def _row_drawn(self, cells: tuple[Any, ...], cursor: bool, base: Style) -> Drawn:
        text = Text(no_wrap=True, end="")
        for column, cell in zip(self.specs, self._clipped(cells)):
            one_line = cell if "\n" not in cell.plain else cell.split("\n")[0]
            pad = " " * (self.widths.get(column.label, 1) - cell_len(one_line.plain))
            right = (one_line.justify or column.justify) == "right"
            # The pad to the column's width takes the cell's own style, as a justified Text does.
            text.append(" ")
            if right:
                text.append(pad, one_line.style)
            text.append_text(one_line)
            if not right:
                text.append(pad, one_line.style)
            text.append(" ")
        if not cursor:
            return Drawn(cells, False, self._segments(text, base, None), base)
        style = base + self.get_component_rich_style("table--cursor")
        # As DataTable: the cursor's colours win over a cell's own (an overdue countdown).
        post = Style.from_color(style.color, style.bgcolor)
        return Drawn(cells, True, self._segments(text, style, post), style)

    def _segments(self, text: Text, style: Style, post: Style | None) -> Strip:
        """The row's segments, every one styled (NO_COLOR's filter needs it)."""
        return Strip(Segment.apply_style(text.render(self.app.console), style, post), text.cell_len)


class Drawn:
    """A drawn row: what it was drawn from, its columns' strip, and that strip cut to the view
    and filled out to the table's width in the row's style (kept for the last view)."""

    __slots__ = ("cells", "cursor", "row", "fill", "view", "line")

    def __init__(self, cells: tuple[Any, ...], cursor: bool, row: Strip, fill: Style) -> None:
        self.cells = cells
        self.cursor = cursor
        self.row = row
        self.fill = fill
        self.view: tuple[int, int] = (-1, -1)
        self.line = row

    def fitted(self, width: int, scroll_x: int) -> Strip:
        if self.view != (width, scroll_x):
            row = self.row.crop(scroll_x, scroll_x + width) if scroll_x else self.row
            self.line = row.extend_cell_length(width, self.fill).crop(0, width).simplify()
            self.view = (width, scroll_x)
        return self.line


def same_cell(a: Any, b: Any) -> bool:
    """Two cells show the same: text, styles and alignment (Text's == compares text and spans only)."""
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return a == b and a.style == b.style and a.justify == b.justify
    return bool(a == b)


def same_cells(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return a is b or (len(a) == len(b) and all(same_cell(x, y) for x, y in zip(a, b)))


def same_rows(a: Sequence[Row], b: Sequence[Row]) -> bool:
    return len(a) == len(b) and all(x[0] == y[0] and same_cells(x[1], y[1]) for x, y in zip(a, b))


def unique_keys(rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> list[Row]:
    """Rows keyed by unique strings: the second row of key K is K#2, and so on."""
    seen: dict[str, int] = {}
    keyed = []
    for key, cells in rows:
        text = str(key)
        seen[text] = seen.get(text, 0) + 1
        keyed.append((text if seen[text] == 1 else f"{text}#{seen[text]}", tuple(cells)))
    return keyed
