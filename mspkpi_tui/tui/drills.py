"""Drill-downs: Enter on a figure that counts records opens the list behind the number.

A pane lists its drillable figures in a DrillList (one row per figure: what it counts, its
window, the count). Enter opens a DrillScreen that reads the list in a worker, with the
same kpi rule as the count (kpi/drills.py, kpi/tickets.py), so the two always match. A list
of tickets is a TicketListView: Enter there opens the ticket's detail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from mspkpi_tui.kpi.drills import Records
from mspkpi_tui.kpi.tickets import TicketList
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.status_line import StatusLine
from mspkpi_tui.tui.widgets import Figure, Table, TicketListView

if TYPE_CHECKING:
    from mspkpi_tui.tui.app import MspkpiApp

Fetch = Callable[["MspkpiApp"], Records | TicketList]  # runs in a worker thread: reads, never touches widgets


@dataclass(frozen=True)
class Drill:
    key: str
    label: str  # what the figure counts, with its window ("CSAT responses below 3, last 30 days")
    count: int
    fetch: Fetch | None = None  # None: nothing to list (the count is 0)


class DrillList(Table):
    """A pane's drillable figures, one per row: Enter lists the records behind the count."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__((Column("Figure", least=12, most=70, gives=1), Column("Count", justify="right")), **kwargs)
        self.show_header = False
        self.drills: dict[str, Drill] = {}

    def show_drills(self, drills: Sequence[Drill]) -> None:
        self.drills = {d.key: d for d in drills}
        self.show_rows(
            [
                (d.key, (Text(f"{d.label}  (Enter: list)" if d.count else d.label), Text(f"{d.count:,}", style="bold")))
                for d in drills
            ]
        )

    def on_table_row_selected(self, event: Table.RowSelected) -> None:
        event.stop()
        drill = self.drills.get(event.row_key)
        if drill is not None and drill.fetch is not None:
            self.app.push_screen(DrillScreen(drill))


def cell(value: Any, zone) -> Text:
    """A plain kpi value as a cell: numbers right-aligned, dates short, PSA text sanitised."""
    if value is None:
        return Text("–")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    if isinstance(value, float):
        return Text(fmt.hours(value), justify="right")
    if isinstance(value, datetime):
        return Text(fmt.stamp(value, zone))
    if isinstance(value, date):
        return Text(value.isoformat())
    return fmt.plain(value)


class DrillScreen(Screen):
    """The list behind one figure; Esc goes back to the pane."""

    if TYPE_CHECKING:
        app: MspkpiApp

    BINDINGS = [Binding("escape", "dismiss", "Close", id="close-drill")]
    DEFAULT_CSS = "DrillScreen > #drill-title { height: 1; background: $boost; } DrillScreen Table { max-height: 1fr; }"

    def __init__(self, drill: Drill) -> None:
        super().__init__()
        self.drill = drill
        self.listed: Records | TicketList | None = None

    def compose(self) -> ComposeResult:
        yield Figure(Text(f"{self.drill.label}: {self.drill.count:,}", style="bold"), id="drill-title")
        yield Figure(Text("reading…", style="dim"), id="drill-note")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.show_status_on(self)
        self.load()

    @work(thread=True, exclusive=True, group="drill", exit_on_error=False)
    def load(self) -> None:
        assert self.drill.fetch is not None
        listed = self.drill.fetch(self.app)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.call_later, self._show, listed)

    async def _show(self, listed: Records | TicketList) -> None:
        self.listed = listed
        shown = len(listed.rows)
        note = f"{listed.total:,} record(s)" + (f", the first {shown:,} shown" if listed.total > shown else "")
        if isinstance(listed, TicketList):
            view = TicketListView(id="drill-list")
            await self.mount(view, before="#status")
            view.show_tickets(listed.rows, self.app.now)
            note += "  (Enter: ticket detail, Esc: back)"
        else:
            table = Table(
                [Column(name, least=6, most=40, gives=1 if i else 2) for i, name in enumerate(listed.columns)],
                id="drill-list",
            )
            await self.mount(table, before="#status")
            zone = self.app.config.zone
            table.show_rows([(i, tuple(cell(v, zone) for v in row)) for i, row in enumerate(listed.rows)])
            note += "  (Esc: back)"
        self.query_one("#drill-note", Figure).show(Text(note, style="dim"))
        self.query_one("#drill-list").focus()
