"""Small widgets that update in place and repaint only when what they show changed; the ticket
lists of the panes (TicketListView, a tui.table.Table)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import Static

from mspkpi_tui.kpi.tickets import TicketRow
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.focus import focus_now
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.table import Table
from mspkpi_tui.tui.triage_keys import MARK, PENDING, TRIAGE_BINDINGS, TriageKeys, marks_of, pending_of

__all__ = ["Figure", "Table", "TicketListPane", "TicketListView"]


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
