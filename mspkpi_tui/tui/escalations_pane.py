"""Pane 3, Escalations: escalated in the period, rate, by issue type and priority as bar
charts, the daily trend, and the open escalated tickets."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll

from mspkpi_tui.kpi import tickets
from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Bars, Chart, Spark
from mspkpi_tui.tui.drills import Drill, DrillList
from mspkpi_tui.tui.loader import EscalationData
from mspkpi_tui.tui.widgets import Figure, TicketListPane, TicketListView

if TYPE_CHECKING:
    from mspkpi_tui.kpi.tickets import TicketList
    from mspkpi_tui.tui.app import MspkpiApp


def _escalated(app: MspkpiApp, issue_type: str) -> TicketList:
    return tickets.escalated_of_type(app.engine, app.now, app.config, issue_type)


class EscalationsPane(TicketListPane, VerticalScroll, can_focus=False):
    pane_id = "escalations"
    title = "Escalations"
    load = staticmethod(loader.load_escalations)

    def compose(self) -> ComposeResult:
        yield Figure(id="esc-figures")
        with Horizontal(id="esc-charts"):
            yield Chart(id="esc-by-type", classes="chart")
            yield Chart(id="esc-by-priority", classes="chart")
        yield Chart(id="esc-trend")
        yield Figure(id="esc-list-title", classes="section")
        yield TicketListView(id="esc-list")
        yield Figure(id="esc-drills-title", classes="section")
        yield DrillList(id="esc-drills")

    def show_data(self, data: EscalationData) -> None:
        f = data.figures
        text = Text()
        text.append(f"Escalated in the last {f.period_days} days: ", style="bold")
        text.append(f"{f.total:,} · rate {fmt.pct(f.rate_pct)} of tickets opened · open escalated now: {f.open:,}")
        self.query_one("#esc-figures", Figure).show(text)
        self.query_one("#esc-by-type", Chart).plot(Bars("By issue type", tuple(f.by_issue_type.items()), most=4))
        self.query_one("#esc-by-priority", Chart).plot(
            Bars("By priority when escalated", tuple(f.by_priority.items()), most=4)
        )
        t = data.trends
        self.query_one("#esc-trend", Chart).plot(Spark("Escalations/day", tuple(t.days), tuple(t.escalations)))
        listed = data.open_tickets
        title = Text(f"Open escalated tickets: {listed.total:,}", style="bold", no_wrap=True, overflow="ellipsis")
        if listed.total > len(listed.rows):
            title.append(f", the first {len(listed.rows)} shown", style="")
        self.query_one("#esc-list-title", Figure).show(title)
        self.query_one(TicketListView).show_tickets(listed.rows, self.app.now)
        self.query_one("#esc-drills-title", Figure).show(
            Text(f"Escalated in the last {f.period_days} days, by issue type (Enter: the tickets)", style="bold")
        )
        self.query_one("#esc-drills", DrillList).show_drills(
            [
                Drill(
                    f"type-{issue_type}",
                    fmt.clean(issue_type),
                    n,
                    partial(_escalated, issue_type=issue_type),
                )
                for issue_type, n in f.by_issue_type.items()
            ]
        )
