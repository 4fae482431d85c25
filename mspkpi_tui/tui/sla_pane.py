"""Pane 2, SLAs: the four SLA counts with the tickets behind each, 30-day compliance,
and the daily first-response breaches."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from mspkpi_tui.kpi.sla_buckets import SLA_BUCKETS
from mspkpi_tui.safe_text import fit
from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Chart, Spark
from mspkpi_tui.tui.loader import SlaData
from mspkpi_tui.tui.widgets import Figure, TicketListPane, TicketListView


class SlaPane(TicketListPane, VerticalScroll, can_focus=False):
    pane_id = "sla"
    title = "SLAs"
    load = staticmethod(loader.load_sla)

    BINDINGS = [Binding("b", "next_bucket", "Next list", id="sla-next-list")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bucket = next(iter(SLA_BUCKETS))
        self.data: SlaData | None = None
        self._shown_label_width: int | None = None  # the bucket labels' width last shown

    def compose(self) -> ComposeResult:
        yield Figure(id="sla-buckets")
        yield Figure(id="sla-compliance")
        yield Chart(id="sla-trend")
        yield Figure(id="sla-list-title", classes="section")
        yield TicketListView(id="sla-list")

    def show_data(self, data: SlaData) -> None:
        self.data = data
        f = data.figures
        compliance = Text()
        compliance.append("30-day compliance: ", style="bold")
        compliance.append(
            f"first response {fmt.pct(f.compliance_30d.first_response_pct)} · resolution {fmt.pct(f.compliance_30d.resolution_pct)}"
        )
        self.query_one("#sla-compliance", Figure).show(compliance)
        t = data.trends
        self.query_one("#sla-trend", Chart).plot(
            Spark("FR breaches/day", tuple(t.days), tuple(t.first_response_breaches))
        )
        self._show_bucket()

    def _show_bucket(self) -> None:
        if self.data is None:
            return
        counts = self.data.figures.bucket_counts()
        text = Text(no_wrap=True, overflow="ellipsis")
        label_width = self._label_width()
        self._shown_label_width = label_width
        for i, (bucket, rule) in enumerate(SLA_BUCKETS.items()):
            if i:
                text.append("\n")
            chosen = bucket == self.bucket
            text.append("▶ " if chosen else "  ")
            text.append(fit(rule.label, label_width), style="bold" if chosen else "")
            text.append(f"{counts[bucket]:>7,}", style="bold")
        self.query_one("#sla-buckets", Figure).show(text)
        listed = self.data.lists[self.bucket]
        title = Text(
            f"{SLA_BUCKETS[self.bucket].label}: {listed.total:,} ticket(s)",
            style="bold",
            no_wrap=True,
            overflow="ellipsis",
        )
        if listed.total > len(listed.rows):
            title.append(f", the first {len(listed.rows)} shown", style="")
        title.append("  (b: next list, Enter: detail)", style="dim")
        self.query_one("#sla-list-title", Figure).show(title)
        self.query_one(TicketListView).show_tickets(listed.rows, self.app.now)

    def _label_width(self) -> int:
        # The label column narrows with the pane (40 columns and up: the counts stay on the line).
        return max(8, min(32, (self.size.width or self.app.size.width) - 12))

    def on_resize(self) -> None:
        # Only the bucket labels depend on the pane's width (the list fits its own width on its
        # own Resize): showing the pane again sends a Resize, and rebuilding the list's rows
        # for it (up to a few thousand tickets) was for nothing.
        if self._label_width() != self._shown_label_width:
            self._show_bucket()

    def action_next_bucket(self) -> None:
        order = list(SLA_BUCKETS)
        self.bucket = order[(order.index(self.bucket) + 1) % len(order)]
        self._show_bucket()
