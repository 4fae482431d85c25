"""Pane 3, Escalations: escalated in the period, rate, by issue type and priority as bar
charts, the daily trend, and the open escalated tickets."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll

from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.loader import EscalationData
from mspkpi_tui.tui.widgets import Figure, TicketListPane, TicketListView


class EscalationsPane(TicketListPane, VerticalScroll, can_focus=False):
    pane_id = "escalations"
    title = "Escalations"
    load = staticmethod(loader.load_escalations)

    def compose(self) -> ComposeResult:
        yield Figure(id="esc-figures")
        with Horizontal(id="esc-charts"):
            yield Figure(id="esc-by-type", classes="chart")
            yield Figure(id="esc-by-priority", classes="chart")
        yield Figure(id="esc-trend")
        yield Figure(id="esc-list-title", classes="section")
        yield TicketListView(id="esc-list")

    def show_data(self, data: EscalationData) -> None:
        f = data.figures
        text = Text()
        text.append(f"Escalated in the last {f.period_days} days: ", style="bold")
        text.append(f"{f.total:,} · rate {fmt.pct(f.rate_pct)} of tickets opened · open escalated now: {f.open:,}")
        self.query_one("#esc-figures", Figure).show(text)
        self.query_one("#esc-by-type", Figure).show(self._chart("By issue type", f.by_issue_type))
        self.query_one("#esc-by-priority", Figure).show(self._chart("By priority when escalated", f.by_priority))
        t = data.trends
        self.query_one("#esc-trend", Figure).show(fmt.trend("Escalations/day", t.days, t.escalations))
        listed = data.open_tickets
        title = Text(f"Open escalated tickets: {listed.total:,}", style="bold", no_wrap=True, overflow="ellipsis")
        if listed.total > len(listed.rows):
            title.append(f", the first {len(listed.rows)} shown", style="")
        self.query_one("#esc-list-title", Figure).show(title)
        self.query_one(TicketListView).show_tickets(listed.rows, self.app.now)

    @staticmethod
    def _chart(title: str, counts: dict[str, int]) -> Text:
        text = Text(title + "\n", style="bold")
        text.append_text(fmt.bars(counts.items(), width=14, label_width=14))
        return text
