"""Pane 5, Pipeline: open deals by stage (count, amount, days in stage, check-ins passed),
open amount and coverage, won and lost this month with the reasons."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mspkpi_tui.kpi import drills
from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Bars, Chart
from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.drills import Drill, DrillList
from mspkpi_tui.tui.focus import focus_now
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure, Table

if TYPE_CHECKING:
    from mspkpi_tui.kpi.drills import Records
    from mspkpi_tui.kpi.pipeline import ClosedDeals, PipelineFigures
    from mspkpi_tui.tui.app import MspkpiApp


# The stage's name gives way; the figures stay (tui.columns).
PIPELINE_COLUMNS = (
    Column("Stage", least=10, most=30, gives=1),
    *(Column(label, justify="right") for label in ("Deals", "Amount", "Avg days", "Max days")),
    Column("Past check-ins", least=8, gives=2),
)


def _deals(app: MspkpiApp, days: int) -> Records:
    return drills.deals_past_checkin(app.engine, app.now, days)


def _num(value: str) -> Text:
    return Text(value, justify="right")


class PipelinePane(Pane, VerticalScroll, can_focus=False):
    pane_id = "pipeline"
    title = "Pipeline"
    load = staticmethod(loader.load_pipeline)

    def compose(self) -> ComposeResult:
        yield Figure(id="pipe-title")
        yield Table(PIPELINE_COLUMNS, id="pipe-stages")
        yield DrillList(id="pipe-drills")
        yield Figure(id="pipe-totals")
        yield Chart(id="pipe-by-stage")
        yield Figure(id="pipe-closed")

    def show_data(self, f: PipelineFigures) -> None:
        checkin_days = sorted({d for s in f.stages for d in s.past_checkins}) or list(
            self.app.config.pipeline.checkin_days
        )
        title = Text("Open opportunities by stage", style="bold")
        title.append(
            f"  past check-ins: deals in the stage over {'/'.join(str(d) for d in checkin_days)} days", style="dim"
        )
        self.query_one("#pipe-title", Figure).show(title)
        self.query_one("#pipe-stages", Table).show_rows(
            [
                (
                    s.stage,
                    (
                        fmt.plain(s.stage),
                        _num(f"{s.count:,}"),
                        _num(fmt.money(s.amount)),
                        _num(fmt.number(s.avg_days_in_stage)),
                        _num(fmt.number(s.max_days_in_stage)),
                        Text(" ".join(f"{d}d:{s.past_checkins.get(d, 0)}" for d in checkin_days)),
                    ),
                )
                for s in f.stages
            ]
        )
        self.query_one("#pipe-drills", DrillList).show_drills(
            [
                Drill(
                    f"checkin-{d}",
                    f"Open deals past the {d}-day check-in (days in their stage)",
                    sum(s.past_checkins.get(d, 0) for s in f.stages),
                    partial(_deals, days=d),
                )
                for d in checkin_days
            ]
        )
        totals = Text()
        totals.append("Open pipeline: ", style="bold")
        totals.append(fmt.money(f.open_amount))
        totals.append(" · coverage: ", style="bold")
        target = self.app.config.pipeline.target
        if f.coverage is None:
            totals.append("no target set ([pipeline] target in the config)")
        else:
            totals.append(
                f"{fmt.number(f.coverage, 1)}x of {fmt.money(target)} (aim: {self.app.config.pipeline.coverage_multiple:g}x)"
            )
        self.query_one("#pipe-totals", Figure).show(totals)
        self.query_one("#pipe-by-stage", Chart).plot(
            Bars("Open pipeline amount by stage", tuple((s.stage, s.amount or 0.0) for s in f.stages), most=8)
        )
        closed = Text()
        self._deals(closed, "Won this month", f.won_month)
        closed.append("\n")
        self._deals(closed, "Lost this month", f.lost_month)
        self.query_one("#pipe-closed", Figure).show(closed)

    @staticmethod
    def _deals(text: Text, label: str, deals: ClosedDeals) -> None:
        text.append(f"{label}: ", style="bold")
        text.append(f"{deals.count:,} deal(s), {fmt.money(deals.amount)}")
        if deals.by_reason:
            text.append(" · reasons: ")
            text.append(", ".join(f"{fmt.clean(reason)} {n}" for reason, n in deals.by_reason.items()))

    def focus_main(self) -> None:
        focus_now(self.query_one("#pipe-stages", Table))  # the figures above the table stay in view
