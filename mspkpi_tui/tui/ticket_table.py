"""The queue's table: a Line API widget that renders only the rows on screen.

It holds the ordered ticket ids of the current query (a list of ints, cheap even for
20,000 tickets) and fetches full rows for the visible window only, through the
`fetch` callable it is given (kpi.tickets.rows_by_id). The row cache is bounded.

Rendering never reads the database: `render_line` draws from the row cache, and a line
whose row is not there yet is drawn blank while a worker thread fetches the window around
it; the lines repaint when the rows arrive (refreshes prefetch the window on screen, so
this happens only on a long jump through a big queue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from mspkpi_tui.kpi.tickets import TicketRow
from mspkpi_tui.safe_text import cells, fit
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.focus import FocusStyledWhereShown
from mspkpi_tui.tui.quiet_scroll import QuietScrollView
from mspkpi_tui.tui.triage_keys import MARK, PENDING, marks_of, pending_of

CACHE_LIMIT = 1000  # rows kept; beyond this only the window around the cursor is kept
FETCH_MARGIN = 40  # rows fetched above and below the visible window


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    min_width: int
    max_width: int
    drop_rank: int  # columns with the highest rank are dropped first when the terminal is narrow
    justify: str = "left"


# The rule of every ticket list (issue 11): number, due, priority and the owner stay; the company
# and then the title are cut first; the queue, the status, the age, then the company go when that
# does not fit. At 80 columns the owner keeps 13 cells ("unassigned", "Grace O'Neill").
COLUMNS = [
    Column("number", "Number", 6, 16, 0),
    Column("priority", "Pri", 8, 8, 0),  # "Critical" whole, even at 80 columns
    Column("sla", "SLA due", 8, 8, 0, "right"),
    Column("age", "Age", 4, 4, 4, "right"),
    Column("company", "Company", 8, 22, 3),
    Column("title", "Title", 15, 200, 0),
    Column("status", "Status", 8, 14, 6),
    Column("assignee", "Assignee", 13, 18, 0),
    Column("queue", "Queue", 8, 16, 7),
]
# After the minimum widths, spare columns go to these in turn, each up to its maximum.
GROWTH = ["title:40", "company", "assignee", "status", "queue", "priority", "title"]


def layout(width: int, number_width: int = 14) -> list[tuple[Column, int]]:
    """Which columns fit in `width` cells and how wide each is (one space between)."""
    columns = [c for c in COLUMNS]
    widths = {c.key: c.min_width for c in columns}
    widths["number"] = max(6, min(16, number_width))
    while columns and sum(widths[c.key] for c in columns) + len(columns) - 1 > width:
        droppable = [c for c in columns if c.drop_rank > 0]
        if not droppable:  # narrower than the essentials: shrink the title, then give up cleanly
            break
        columns.remove(max(droppable, key=lambda c: c.drop_rank))
    spare = width - (sum(widths[c.key] for c in columns) + len(columns) - 1)
    present = {c.key: c for c in columns}
    for item in GROWTH:
        key, _, cap = item.partition(":")
        if spare <= 0 or key not in present:
            continue
        limit = int(cap) if cap else present[key].max_width
        grow = max(0, min(spare, limit - widths[key]))
        widths[key] += grow
        spare -= grow
    return [(c, widths[c.key]) for c in columns]


def header_text(columns: list[tuple[Column, int]]) -> Text:
    text = Text(no_wrap=True, overflow="crop")
    for i, (column, width) in enumerate(columns):
        if i:
            text.append(" ")
        text.append(fit(column.header, width, column.justify))
    return text


class TableHeader(Widget):
    """A TicketTable's column header, laid out for the table's width when it is drawn.

    The table has no width yet when its first data is shown (at mount, before the first
    layout). A header set from that layout by a message put the narrowest column set over rows
    drawn at the real width in the first frame, then repainted the screen a frame later (and
    the start-up measure waited for that frame). Drawn from the table, the header and the rows
    agree in every frame."""

    def __init__(self, table: Callable[[], TicketTable], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._table = table

    def render(self) -> Text:
        header = self._table().header()
        header.stylize("bold")
        return header


class TicketTable(FocusStyledWhereShown, QuietScrollView, can_focus=True):
    """Open tickets, one per line; only the visible lines are rendered and read."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("g,home", "cursor_first", "First ticket", show=False, id="cursor-first"),
        Binding("G,end", "cursor_last", "Last ticket", show=False, id="cursor-last"),
        Binding("pageup", "page_up", "Page up", show=False, id="page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page-down"),
        Binding("enter", "open", "Detail", id="open-detail"),
    ]
    COMPONENT_CLASSES = {
        "ticket-table--cursor",
        "ticket-table--overdue",
        "ticket-table--urgent",
        "ticket-table--marked",
    }
    DEFAULT_CSS = """
    TicketTable { scrollbar-size-vertical: 1; scrollbar-size-horizontal: 0; }
    TicketTable > .ticket-table--cursor { background: $block-cursor-blurred-background; text-style: bold; }
    TicketTable:focus > .ticket-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    TicketTable > .ticket-table--overdue { color: $error; text-style: bold; }
    TicketTable > .ticket-table--urgent { text-style: bold; }
    TicketTable > .ticket-table--marked { color: $warning; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    class Opened(Message):
        def __init__(self, ticket_id: int) -> None:
            self.ticket_id = ticket_id
            super().__init__()

    class LayoutChanged(Message):
        def __init__(self, header: Text) -> None:
            self.header = header
            super().__init__()

    def __init__(
        self, fetch: Callable[[Sequence[int]], list[TicketRow]], clock: Callable[[], datetime], **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self._fetch = fetch
        self._clock = clock
        self.ids: list[int] = []
        self._rows: dict[int, TicketRow] = {}
        self._number_width = 14
        self._columns: list[tuple[Column, int]] = []
        self._layout_width = -1
        self._fetching: set[int] = set()  # ids a row worker is reading now
        self._absent: set[int] = set()  # ids read but not found (deleted by a sync): until the next show()
        # What each screen line last painted in the cells that read the clock: (ticket id,
        # {column: text}). A minute tick repaints only the cells whose text changed.
        self._clock_cells: dict[int, tuple[int, dict[str, str]]] = {}
        # Per frame (render_lines): the base style and width, read once instead of per line (the
        # DOM's rich_style walks every ancestor: ~40 % of a line's rendering on the 1M database).
        self._frame: tuple[Style, int] | None = None
        # Each ticket's last rendered line, by ticket id: (row, what else the line shows, strip).
        # A filter keystroke or a sort mostly shows tickets already drawn (typing on narrows the
        # list, a backspace widens it again). Dropped when the styles or the columns change.
        self._strips: dict[int, tuple[TicketRow, tuple, Strip]] = {}
        self._strips_for: tuple = ()

    # --- data -------------------------------------------------------------------------

    def show(self, ids: list[int], rows: Sequence[TicketRow] = (), keep_id: int | None = None) -> None:
        """New data: the ordered ids and (optionally) prefetched rows. The cursor stays on
        `keep_id` when it is still listed, else at the same position (clamped)."""
        position = self.cursor
        if keep_id is not None:
            try:
                position = ids.index(keep_id)
            except ValueError:
                pass
        self.ids = ids
        self._rows = {r.id: r for r in rows}
        self._absent.clear()
        longest = max((cells(fmt.clean(r.number)) for r in rows), default=0)
        if longest:
            self._number_width = longest
        self._set_length(len(ids))
        self.set_reactive(TicketTable.cursor, max(0, min(position, len(ids) - 1)))
        self._relayout(force=True)
        self._follow_cursor()
        self.refresh()

    def _set_length(self, length: int) -> None:
        """The scrollable height is the number of tickets. `virtual_size` is a reactive that lays
        out the whole screen when it changes, and a filter keystroke changes the length: when the
        vertical scrollbar stays as it is (shown, or not needed), the new length is set without a
        layout, the scrollbar told the new length and the scroll offset kept in range."""
        size = Size(self.size.width, length)
        if size == self.virtual_size:
            return
        height = self.container_size.height
        scrollbar = self.show_vertical_scrollbar
        if not self.is_mounted or height <= 0 or scrollbar != (length > height):
            self.virtual_size = size  # the scrollbar appears or goes: the columns' width changes
            return
        self.set_reactive(TicketTable.virtual_size, size)
        if scrollbar:
            self.vertical_scrollbar.window_virtual_size = length
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    @property
    def current_id(self) -> int | None:
        return self.ids[self.cursor] if 0 <= self.cursor < len(self.ids) else None

    def current_row(self) -> TicketRow | None:
        ticket_id = self.current_id
        if ticket_id is None:
            return None
        if ticket_id not in self._rows:
            self._load_around(self.cursor)
        return self._rows.get(ticket_id)

    def window(self, cursor: int, height: int) -> list[int]:
        """The ids worth prefetching for a cursor position (used by loaders off the UI thread)."""
        top = max(0, cursor - height)
        return self.ids[top : cursor + height + FETCH_MARGIN]

    def _missing_around(self, index: int) -> list[int]:
        height = max(self.size.height, 1)
        start = max(0, index - FETCH_MARGIN)
        return [i for i in self.ids[start : index + height + FETCH_MARGIN] if i not in self._rows]

    def _load_around(self, index: int) -> None:
        """Read the window around `index` now (an action on the UI thread, never a render)."""
        wanted = self._missing_around(index)
        if wanted:
            self._keep(self._fetch(wanted))

    def _fetch_around(self, index: int) -> None:
        """Have a worker read the window around `index` (rows already being read are not asked again)."""
        wanted = [i for i in self._missing_around(index) if i not in self._fetching and i not in self._absent]
        if wanted:
            self._fetching.update(wanted)
            self._fetch_worker(wanted)

    @work(thread=True, group="ticket-rows", exit_on_error=False)
    def _fetch_worker(self, wanted: list[int]) -> None:
        rows: list[TicketRow] = []
        try:
            rows = self._fetch(wanted)
        finally:  # even when the read failed: those lines stay blank until the next refresh
            if self.app.is_running:
                self.app.call_from_thread(self._arrived, wanted, rows)

    def _arrived(self, wanted: list[int], rows: list[TicketRow]) -> None:
        self._fetching.difference_update(wanted)
        self._absent.update(set(wanted) - {row.id for row in rows})  # deleted since: not asked again
        self._keep(rows)
        self.refresh()

    def _keep(self, rows: Sequence[TicketRow]) -> None:
        if len(self._rows) + len(rows) > CACHE_LIMIT:  # bounded: keep only what was just read
            self._rows.clear()
        for row in rows:
            self._rows[row.id] = row
            self._number_width = max(self._number_width, cells(fmt.clean(row.number)))

    # --- layout and rendering ----------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.ids))
        self._relayout()
        self._follow_cursor()

    def header(self) -> Text:
        """The column header for the table's width now (laid out first if the width changed)."""
        self._relayout()
        return header_text(self._columns)

    def _relayout(self, force: bool = False) -> None:
        width = self.scrollable_content_region.width
        if width == self._layout_width and not force:
            return
        columns = layout(width, self._number_width)
        self._layout_width = width
        if columns != self._columns:  # the header repaints only then (a filter keystroke keeps them)
            self._columns = columns
            self.post_message(self.LayoutChanged(header_text(columns)))

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame = base, width = self.rich_style, self.scrollable_content_region.width
        self._check_strips(base, width)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        base, width = self._frame or (self.rich_style, self.scrollable_content_region.width)
        if width != self._layout_width:  # e.g. the scrollbar appeared
            self._relayout()
            self._check_strips(base, width)
        elif self._frame is None:  # a line rendered on its own
            self._check_strips(base, width)
        if index >= len(self.ids):
            self._clock_cells.pop(y, None)
            return Strip.blank(width, base)
        row = self._rows.get(self.ids[index])
        if row is None:  # not read yet (a worker fetches it), or deleted by a sync since the ids were read
            self._clock_cells.pop(y, None)
            self._fetch_around(index)
            return Strip.blank(width, base)
        clock = self._clock_texts(row)
        self._clock_cells[y] = (row.id, clock)
        marks, pending = marks_of(self), pending_of(self)
        shows = (
            index == self.cursor,
            marks is not None and row.id in marks,
            tuple(pending.of(row.number).items()) if pending is not None else (),
            tuple(clock.values()),
        )
        cached = self._strips.get(row.id)
        if cached is not None and cached[1] == shows and cached[0] == row:  # rows are read again per keystroke
            return cached[2]
        line = self._row_text(row)
        if index == self.cursor:
            line.stylize(self.get_component_rich_style("ticket-table--cursor"))
        segments = Segment.apply_style(
            line.render(self.app.console), base
        )  # every segment styled (NO_COLOR's filter needs it)
        strip = Strip(list(segments)).crop_extend(0, width, base).simplify()
        if len(self._strips) >= CACHE_LIMIT:
            self._strips.clear()
        self._strips[row.id] = (row, shows, strip)
        return strip

    def _check_strips(self, base: Style, width: int) -> None:
        """Drop the rendered lines when anything they were drawn with changed: the styles (focus,
        theme, colours), the width or the columns."""
        drawn_with = (
            base,
            width,
            self._columns,
            fmt.low_colour(self.app),
            *(self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES)),
        )
        if drawn_with != self._strips_for:
            self._strips.clear()
            self._strips_for = drawn_with

    def _clock_texts(self, row: TicketRow) -> dict[str, str]:
        """The cells of a row that read the clock, as text (minute resolution)."""
        now = self._clock()
        return {"sla": fmt.countdown(row.countdown(now))[0], "age": fmt.age(row.age(now))}

    def _row_text(self, row: TicketRow) -> Text:
        now = self._clock()
        countdown, overdue = fmt.countdown(row.countdown(now))
        values = {
            "number": row.number,
            "priority": row.priority,
            "sla": countdown,
            "age": fmt.age(row.age(now)),
            "company": row.company or "",
            "title": row.title,
            "status": row.status,
            "assignee": row.assignee or "unassigned",
            "queue": row.queue or "",
        }
        marks, pending = marks_of(self), pending_of(self)
        marked = marks is not None and row.id in marks
        if marked:
            values["number"] = MARK + row.number
        if pending is not None:  # sent, not yet confirmed by the PSA: shown at once, with a mark
            for field, value in pending.of(row.number).items():
                values[field] = value + PENDING
        text = Text(no_wrap=True, overflow="crop")
        for i, (column, width) in enumerate(self._columns):
            if i:
                text.append(" ")
            cell = fit(fmt.clean(values[column.key]), width, column.justify)  # by display cells (CJK, emoji)
            style: Style | str = ""
            if column.key == "number" and marked:
                style = self.get_component_rich_style("ticket-table--marked")
            elif column.key == "sla" and overdue:
                style = self.get_component_rich_style("ticket-table--overdue")
                if fmt.low_colour(self.app):  # colour alone cannot carry it (NO_COLOR, 16 colours)
                    style += Style(bold=True, reverse=True)
            elif column.key == "priority" and row.priority_rank <= 1:
                style = self.get_component_rich_style("ticket-table--urgent")
            text.append(cell, style)
        return text

    # --- cursor ------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        self.refresh_line(old - top)
        self.refresh_line(new - top)
        self._follow_cursor()

    def _follow_cursor(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        if self.ids:
            self.cursor = max(0, min(index, len(self.ids) - 1))

    def action_cursor_down(self) -> None:
        self._move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_to(self.cursor - 1)

    def action_cursor_first(self) -> None:
        self._move_to(0)

    def action_cursor_last(self) -> None:
        self._move_to(len(self.ids) - 1)

    def action_page_down(self) -> None:
        self._move_to(self.cursor + max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self._move_to(self.cursor - max(self.scrollable_content_region.height - 1, 1))

    def action_open(self) -> None:
        if self.current_id is not None:
            self.post_message(self.Opened(self.current_id))

    def on_click(self, event: events.Click) -> None:
        self._move_to(self.scroll_offset.y + event.y)
        if event.chain >= 2:
            self.action_open()

    def tick(self) -> None:
        """The minute changed: repaint only the countdown and age cells whose text changed
        (a quiet minute on a full screen otherwise rewrites every line: ~9 KB per minute)."""
        spans = self._column_spans()
        top = self.scroll_offset.y
        for y, (ticket_id, painted) in list(self._clock_cells.items()):
            index = top + y
            row = self._rows.get(self.ids[index]) if index < len(self.ids) else None
            if row is None or row.id != ticket_id:
                continue  # the line shows another ticket now: that change repaints it anyway
            changed = [
                spans[key] for key, text in self._clock_texts(row).items() if text != painted.get(key) and key in spans
            ]
            if changed:  # one region per line (Textual writes each region from the line's start)
                start = min(x for x, _ in changed)
                end = max(x + width for x, width in changed)
                self.refresh(Region(start, y, end - start, 1))

    def _column_spans(self) -> dict[str, tuple[int, int]]:
        """Each shown column's x offset and width on a line (one space between columns)."""
        spans: dict[str, tuple[int, int]] = {}
        x = 0
        for column, width in self._columns:
            spans[column.key] = (x, width)
            x += width + 1
        return spans
