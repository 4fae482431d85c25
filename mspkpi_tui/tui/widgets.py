"""Small widgets that update in place and repaint only when what they show changed."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.coordinate import Coordinate
from textual.geometry import Region, Spacing
from textual.widget import Widget
from textual.widgets import DataTable, Static

from mspkpi_tui.kpi.tickets import TicketRow
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.columns import Column, clip, columns_of, fit_widths, natural_widths
from mspkpi_tui.tui.focus import displayed, focus_now
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.triage_keys import MARK, PENDING, TRIAGE_BINDINGS, TriageKeys, marks_of, pending_of


class TicketListPane(TriageKeys, Pane):
    """A pane of figures above a list of tickets (SLAs, Escalations): the list is what
    the keys act on, the triage keys included (space marks for a bulk action)."""

    BINDINGS: ClassVar[list[BindingType]] = [*TRIAGE_BINDINGS]

    def repaint_marks(self) -> None:
        self.query_one(TicketListView).tick(self.app.now)

    def move_down(self) -> None:
        self.query_one(TicketListView).action_cursor_down()

    def current_ticket(self) -> TicketRow | None:
        return self.query_one(TicketListView).current_ticket()

    def focus_main(self) -> None:
        focus_now(self.query_one(TicketListView))  # the figures above the table stay in view

    def tick(self) -> None:
        self.query_one(TicketListView).tick(self.app.now)


class Figure(Static):
    """A Static that ignores updates which would show the same thing (nothing moves)."""

    def __init__(self, content: Text | str = "", **kwargs: Any) -> None:
        super().__init__(content if isinstance(content, Text) else Text(content), **kwargs)
        self._shown: Text | None = content if isinstance(content, Text) else Text(content)

    def show(self, content: Text) -> None:
        if content != self._shown:
            # A one-line figure that stays one line (no wrapping) keeps its size: a repaint,
            # not a layout of the whole screen (the query line changes with every keystroke).
            shown = self._shown
            same_shape = (
                shown is not None
                and bool(content.no_wrap)
                and bool(shown.no_wrap)
                and content.plain.count("\n") == shown.plain.count("\n")
            )
            self._shown = content
            self.update(content, layout=not same_shape)

    @property
    def plain(self) -> str:
        return self._shown.plain if self._shown is not None else ""


class Table(DataTable):
    """A DataTable for the panes' lists, updated by key so the cursor stays put. Its columns
    fit its width by display cells (tui.columns: one rule for every table), the cursor is
    always on a row on screen (the pane scrolls with it), and the same keys move it everywhere."""

    DEFAULT_CSS = "Table { height: auto; max-height: 100%; }"
    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="table-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="table-up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="table-first"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="table-last"),
        Binding("pageup", "page_up", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table-page-down"),
        Binding("s", "sort_next", "Sort by the next column", show=False, id="table-sort"),
        Binding("v", "sort_reverse", "Reverse the sort", show=False, id="table-reverse"),
    ]

    def __init__(self, columns: Sequence[Column | str], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, show_cursor=True, **kwargs)
        self.specs = columns_of(columns)
        self._column_labels = [c.label for c in self.specs]
        self._shown: Sequence[tuple[str, tuple[Any, ...]]] | None = None
        self._given: list[tuple[str, tuple[Any, ...]]] = []  # the rows in the order the pane gave them
        self.widths: dict[str, int] = {}
        # The sort the lead chose (s: next column, v: reverse), kept over every refresh; None:
        # the order the figure's rule gives. Shown in the header (▲ / ▼ beside the column).
        self.sort_column: int | None = None
        self.sort_reverse = False
        # The component styles last rendered with, per pseudo-class state (focus, hover ...).
        self._rendered_styles: dict[Any, tuple[Any, ...]] = {}
        # The natural column widths of the last rows measured, by the rows' identity (a rows
        # list is never changed in place): a pane shown again gets a Resize, which measured
        # every cell of its tables again (thousands of rows on the SLAs and Team panes).
        self._measured: tuple[Sequence[tuple[str, tuple[Any, ...]]], dict[str, int]] | None = None
        self._styled_focus = False  # the focus state the table's styles were last applied for
        self._in_sorting_pane: bool | None = None  # a pane with its own s / v keys (see check_action)

    def on_mount(self) -> None:
        if self._shown is None:  # rows given before the table was mounted are kept
            self._rebuild(())

    def watch_has_focus(self, has_focus: bool) -> None:
        """Restyle for the focus only where it shows (Textual restyles on every change).

        A pane switch blurs the table of the pane it hides and focuses the table of the pane it
        shows, and each change applied the stylesheet to the table and each of its component
        classes (~10 % of a switch on the 1M database). A table blurred as its pane is hidden
        keeps its focused styles: nobody sees them, and the table that gets the focus back when
        its pane is shown again already has them. Shown without the focus (rare: its pane shown
        while the focus stays elsewhere), it is restyled then (on_show)."""
        if has_focus == self._styled_focus or (not has_focus and not displayed(self)):
            return
        self._styled_focus = has_focus
        super().watch_has_focus(has_focus)

    def on_show(self) -> None:
        if self._styled_focus != self.has_focus:
            self._styled_focus = self.has_focus
            self.update_node_styles()

    def notify_style_update(self) -> None:
        """Keep the rendered rows when the styles did not change (its pane shown again).

        DataTable drops every rendered cell on any style update, and showing a pane (display,
        focus moving in) sends one, so switching back to a pane re-rendered every visible cell
        (most of a pane switch's ~50 ms). Its render caches are keyed by the pseudo-class state
        (focus, hover) and the base style already, so they only go stale when the component
        styles of a state change (a new theme): then they are dropped as before."""
        state = self.get_pseudo_class_state()
        try:
            styles = (
                self.rich_style,
                *(self.get_component_rich_style(name, partial=True) for name in sorted(self.COMPONENT_CLASSES)),
            )
        except KeyError:  # before the first styling: no component styles yet
            super().notify_style_update()
            return
        if self._rendered_styles.get(state) == styles:
            self._get_styles_to_render_cell.cache_clear()  # not keyed by the state: cheap to rebuild
            Widget.notify_style_update(self)
            self.refresh()
            return
        if self._rendered_styles.get(state) is not None:
            self._rendered_styles.clear()
        self._rendered_styles[state] = styles
        super().notify_style_update()

    def _fit(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> dict[str, int]:
        width = self.size.width or (self.parent.size.width if isinstance(self.parent, Widget) else 0)
        if self._measured is not None and self._measured[0] is rows:
            natural = self._measured[1]
        else:
            natural = natural_widths(self.specs, (cells for _, cells in rows))
            self._measured = (rows, natural)
        return fit_widths(self.specs, width or self.app.size.width, natural)

    def _cells(self, cells: tuple[Any, ...]) -> list[Text]:
        return [clip(cell, self.widths[c.label], c.justify) for c, cell in zip(self.specs, cells)]

    def _rebuild(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """New columns (widths changed) or new rows: the table again, the cursor kept on its row."""
        current = self.current_key
        self.clear(columns=True)
        self.widths = self._fit(rows)
        for i, c in enumerate(self.specs):
            self.add_column(self._header_label(i), key=c.label, width=self.widths[c.label])
        for key, cells in rows:
            self.add_row(*self._cells(cells), key=key)
        keys = [k for k, _ in rows]
        if current is not None and current in keys:
            self.move_cursor(row=keys.index(current), animate=False)
        self._shown = rows

    def on_resize(self, event: events.Resize) -> None:
        rows = self._shown or ()
        if self._fit(rows) != self.widths:
            self._rebuild(rows)
            return
        # DataTable (handling the Resize after this class) re-renders every cell after any
        # Resize. With the same column widths its rendered rows are still right (a rendered
        # row depends on the column widths, a rendered line is cached by the table's width):
        # a pane shown again gets a Resize, sometimes at a width it had before its scrollbar
        # came back (118 <-> 120 columns), and kept none of its rendered rows.
        event.prevent_default()

    def show_rows(self, rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> None:
        """(key, cells) per row; cells are Text objects (untrusted text never becomes markup).
        Keys need not be unique (two technicians of the same name): a repeat gets a suffix."""
        assert all(len(cells) == len(self.specs) for _, cells in rows), "a row's cells do not match the columns"
        self._given = unique_keys(rows)
        keyed = self._sorted(self._given)
        if keyed == self._shown:
            return
        if (
            self._shown is None
            or self._fit(keyed) != self.widths
            or [k for k, _ in self._shown] != [k for k, _ in keyed]
        ):
            self._rebuild(keyed)
            return
        for (key, cells), (_, before) in zip(keyed, self._shown):
            for label, value, old, shown in zip(self._column_labels, cells, before, self._cells(cells)):
                if value != old:
                    self.update_cell(key, label, shown)
        self._shown = keyed

    # --- sorting -------------------------------------------------------------------------

    def _header_label(self, index: int) -> str:
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

    def _sorted(self, rows: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
        if self.sort_column is None:
            return list(reversed(rows)) if self.sort_reverse else rows
        index = self.sort_column
        present = [r for r in rows if self.sort_value(r[0], r[1], index)[0] == 0]
        missing = [r for r in rows if self.sort_value(r[0], r[1], index)[0] != 0]
        present.sort(key=lambda r: self.sort_value(r[0], r[1], index), reverse=self.sort_reverse)
        return present + missing  # rows without the value stay last either way

    def _resort(self) -> None:
        self.widths = {}  # the header label changed: columns again
        self._shown = None
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

    @property
    def current_key(self) -> str | None:
        if not self.row_count or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        self.call_after_refresh(self.show_cursor_row)

    def show_cursor_row(self) -> None:
        """Scroll the pane holding the table so the cursor's row (and the header) is on screen:
        the table grows with its rows, so the pane, not the table, is what scrolls."""
        if not self.row_count or not self.is_attached or not self.has_focus:
            return  # only the table being moved in scrolls the pane (another's refresh must not)
        row = self.cursor_row + (1 if self.show_header else 0)
        for ancestor in self.ancestors:
            if isinstance(ancestor, ScrollableContainer) and ancestor.allow_vertical_scroll:
                top = self.region.y - ancestor.region.y + int(ancestor.scroll_y) + row - int(self.scroll_y)
                height = 1
                if self.cursor_row == self.row_count - 1:
                    # On the last row, what follows the table (figures, charts) comes into view
                    # too, as far as the cursor row stays on screen: keys reach the pane's end.
                    below = ancestor.virtual_size.height - top
                    height = max(1, min(below, ancestor.scrollable_content_region.height - 2))
                ancestor.scroll_to_region(
                    Region(0, top, 1, height), animate=False, immediate=True, spacing=Spacing(1, 0, 1, 0)
                )
                return


def unique_keys(rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """Rows keyed by unique strings: the second row of key K is K#2, and so on."""
    seen: dict[str, int] = {}
    keyed = []
    for key, cells in rows:
        text = str(key)
        seen[text] = seen.get(text, 0) + 1
        keyed.append((text if seen[text] == 1 else f"{text}#{seen[text]}", tuple(cells)))
    return keyed


TICKET_COLUMNS = (
    Column("Number", most=14),
    Column("Pri", most=8),
    Column("Next due", most=8, justify="right"),
    Column("Age", most=4, justify="right"),
    Column("Company", least=6, most=22, gives=1),  # as the Queue's: "Castle & Co Solicitors" whole when there is room
    Column("Title", least=8, most=400, gives=2, fill=True),
    Column("Assignee", most=18),
)
# What a ticket list keeps at any width: the number, priority, due time, age and owner; the
# company and then the title give way (cut with an ellipsis) so the row always fits.


class TicketListView(Table):
    """Shows a kpi.tickets.TicketList (an SLA bucket, the open escalations), cursor kept by ticket.
    Its columns fit its width (TICKET_COLUMNS through tui.columns), however long the PSA's text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(TICKET_COLUMNS, **kwargs)
        self.rows_by_key: dict[str, TicketRow] = {}
        self._last: tuple[Sequence[TicketRow], datetime] | None = None

    def show_tickets(self, rows: Sequence[TicketRow], now: datetime) -> None:
        self._last = (rows, now)
        self.rows_by_key = {str(r.id): r for r in rows}
        marks, pending = marks_of(self), pending_of(self)
        cells = []
        for r in rows:
            due, overdue = fmt.countdown(r.countdown(now))
            changes = pending.of(r.number) if pending is not None else {}
            marked = marks is not None and r.id in marks
            priority = changes["priority"] + PENDING if "priority" in changes else r.priority
            assignee = changes["assignee"] + PENDING if "assignee" in changes else r.assignee or fmt.NOBODY
            cells.append(
                (
                    r.id,
                    (
                        fmt.plain((MARK if marked else "") + r.number),
                        fmt.plain(priority),
                        Text(
                            due, style=fmt.overdue_style(fmt.low_colour(self.app)) if overdue else "", justify="right"
                        ),
                        Text(fmt.age(r.age(now)), justify="right"),
                        fmt.plain(r.company or ""),
                        fmt.plain(r.title, max_cells=400),
                        fmt.plain(assignee),
                    ),
                )
            )
        self.show_rows(cells)

    def sort_value(self, key: str, cells: tuple[Any, ...], index: int) -> tuple:
        """Tickets sort by what the column means (due time, priority rank, age), not its text."""
        row = self.rows_by_key.get(key.partition("#")[0])
        if row is None or self._last is None:
            return super().sort_value(key, cells, index)
        value: Any = (
            row.number,
            row.priority_rank,
            row.next_due,
            row.age(self._last[1]).total_seconds(),
            (row.company or "").casefold() or None,
            row.title.casefold(),
            (row.assignee or "").casefold() or None,
        )[index]
        return (1, value) if value is None else (0, value)

    def tick(self, now: datetime) -> None:
        if self._last is not None:
            self.show_tickets(self._last[0], now)

    def current_ticket(self) -> TicketRow | None:
        key = self.current_key
        return self.rows_by_key.get(key) if key is not None else None
