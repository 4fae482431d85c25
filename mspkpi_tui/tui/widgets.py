"""Small widgets that update in place and repaint only when what they show changed."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from mspkpi_tui.kpi.tickets import TicketRow
from mspkpi_tui.tui import text as fmt
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
        self.query_one(TicketListView).focus(scroll_visible=False)  # the figures above the table stay in view

    def tick(self) -> None:
        self.query_one(TicketListView).tick(self.app.now)


class Figure(Static):
    """A Static that ignores updates which would show the same thing (nothing moves)."""

    def __init__(self, content: Text | str = "", **kwargs: Any) -> None:
        super().__init__(content if isinstance(content, Text) else Text(content), **kwargs)
        self._shown: Text | None = content if isinstance(content, Text) else Text(content)

    def show(self, content: Text) -> None:
        if content != self._shown:
            self._shown = content
            self.update(content)

    @property
    def plain(self) -> str:
        return self._shown.plain if self._shown is not None else ""


class Table(DataTable):
    """A DataTable for the panes' short lists, updated by key so the cursor stays put."""

    DEFAULT_CSS = "Table { height: auto; max-height: 100%; }"
    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="table-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="table-up"),
        Binding("g,home", "scroll_top", "First row", show=False, id="table-first"),
        Binding("G,end", "scroll_bottom", "Last row", show=False, id="table-last"),
        Binding("pageup", "page_up", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table-page-down"),
    ]

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, show_cursor=True, **kwargs)
        self._column_labels = list(columns)
        self._shown: Sequence[tuple[Hashable, tuple[Any, ...]]] | None = None

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for label in self._column_labels:
            self.add_column(label, key=label)

    def show_rows(self, rows: Sequence[tuple[Hashable, tuple[Any, ...]]]) -> None:
        """(key, cells) per row; cells are Text objects (untrusted text never becomes markup)."""
        if rows == self._shown:
            return
        old_keys = [k for k, _ in self._shown] if self._shown is not None else None
        new_keys = [k for k, _ in rows]
        if old_keys == new_keys and self._shown is not None:
            for (key, cells), (_, before) in zip(rows, self._shown):
                for label, value, old in zip(self._column_labels, cells, before):
                    if value != old:
                        self.update_cell(str(key), label, value)
        else:
            current = self.current_key
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=str(key))
            if current is not None and current in new_keys_as_str(new_keys):
                self.move_cursor(row=new_keys_as_str(new_keys).index(current), animate=False)
        self._shown = rows

    @property
    def current_key(self) -> str | None:
        if not self.row_count or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value


def new_keys_as_str(keys: list[Hashable]) -> list[str]:
    return [str(k) for k in keys]


TICKET_COLUMNS = ("Number", "Pri", "Next due", "Age", "Company", "Title", "Assignee")
# What a ticket list keeps at any width: the number, priority, due time, age and owner; the
# company and then the title give way (cut with an ellipsis) so the row always fits.
KEPT_WIDTHS = {"Number": 14, "Pri": 8, "Next due": 8, "Age": 4, "Assignee": 13}  # T20240501.0002
COMPANY_WIDTHS = (6, 20)  # the company's least and most
TITLE_LEAST = 8


def ticket_column_widths(width: int) -> dict[str, int]:
    """Each column's width in cells for a list `width` cells wide (each column is padded by one
    cell on either side, and a cell is kept for the scrollbar)."""
    spare = width - 1 - 2 * len(TICKET_COLUMNS) - sum(KEPT_WIDTHS.values())
    company = max(COMPANY_WIDTHS[0], min(COMPANY_WIDTHS[1], spare // 3))
    return {**KEPT_WIDTHS, "Company": company, "Title": max(TITLE_LEAST, spare - company)}


class TicketListView(Table):
    """Shows a kpi.tickets.TicketList (an SLA bucket, the open escalations), cursor kept by ticket.
    Its columns fit its width (ticket_column_widths), however long the PSA's text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(TICKET_COLUMNS, **kwargs)
        self.rows_by_key: dict[str, TicketRow] = {}
        self._last: tuple[Sequence[TicketRow], datetime] | None = None
        self.widths = ticket_column_widths(80)

    def _add_columns(self) -> None:
        self.widths = ticket_column_widths(self.size.width or self.app.size.width)
        for label in TICKET_COLUMNS:
            self.add_column(label, key=label, width=self.widths[label])

    def on_resize(self) -> None:
        if ticket_column_widths(self.size.width) == self.widths:
            return
        self.clear(columns=True)  # columns of the new widths, then the rows again
        self._shown = None
        self._add_columns()
        if self._last is not None:
            self.show_tickets(*self._last)

    def show_tickets(self, rows: Sequence[TicketRow], now: datetime) -> None:
        self._last = (rows, now)
        self.rows_by_key = {str(r.id): r for r in rows}
        w = self.widths
        marks, pending = marks_of(self), pending_of(self)
        cells = []
        for r in rows:
            due, overdue = fmt.countdown(r.countdown(now))
            changes = pending.of(r.number) if pending is not None else {}
            marked = marks is not None and r.id in marks
            priority = changes["priority"] + PENDING if "priority" in changes else r.priority
            assignee = changes["assignee"] + PENDING if "assignee" in changes else r.assignee or "unassigned"
            cells.append(
                (
                    r.id,
                    (
                        fmt.plain((MARK if marked else "") + r.number, max_cells=w["Number"]),
                        fmt.plain(priority, max_cells=w["Pri"]),
                        Text(due, style="bold red" if overdue else "", justify="right"),
                        Text(fmt.age(r.age(now)), justify="right"),
                        fmt.plain(r.company or "", max_cells=w["Company"]),
                        fmt.plain(r.title, max_cells=w["Title"]),
                        fmt.plain(assignee, max_cells=w["Assignee"]),
                    ),
                )
            )
        self.show_rows(cells)

    def tick(self, now: datetime) -> None:
        if self._last is not None:
            self.show_tickets(self._last[0], now)

    def current_ticket(self) -> TicketRow | None:
        key = self.current_key
        return self.rows_by_key.get(key) if key is not None else None
