"""Pane 4, Team: hours per technician this week and last, utilization, billable and
customer-facing shares, overdue timesheets, and the daily hours logged."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mspkpi_tui.kpi.drills import Records
from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Chart, Spark
from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.drills import Drill, DrillList
from mspkpi_tui.tui.focus import focus_now
from mspkpi_tui.tui.loader import TeamData
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure, Table

# The technician's name gives way; the figures stay (tui.columns).
RESOURCE_COLUMNS = (
    Column("Technician", least=10, most=30, gives=1),
    *(
        Column(label, justify="right")
        for label in ("Wk h", "Bill h", "NB h", "Last wk", "Util wtd", "Util wk", "Bill%", "Cust%")
    ),
)
DISPATCH_COLUMNS = (
    Column("Technician", least=10, most=30, gives=1),
    *(Column(label, justify="right") for label in ("Open", "At risk", "Today h", "Day h")),
    Column("On ticket", least=6, most=14, gives=2),
    Column("Off"),
)
EFFICIENCY_COLUMNS = (
    Column("Technician", least=10, most=30, gives=1),
    *(Column(label, justify="right") for label in ("Ticket h", "Closed", "h/ticket", "FCR %", "Training h")),
)
TIMESHEET_COLUMNS = (
    Column("Technician", least=10, most=30, gives=1),
    Column("Period"),
    *(Column(label, justify="right") for label in ("Billable h", "Non-bill h", "Worked h")),
    Column("Status", least=6, most=20, gives=2),
)

TIMESHEET_FIELDS = ("Technician", "From", "To", "Billable h", "Non-bill h", "Worked h", "Status")
OVERDUE_LABEL = "Overdue timesheets (period ended, not approved)"


def _num(value: str) -> Text:
    return Text(value, justify="right")


class TeamPane(Pane, VerticalScroll, can_focus=False):
    pane_id = "team"
    title = "Team"
    load = staticmethod(loader.load_team)

    def compose(self) -> ComposeResult:
        yield DrillList(id="team-drills")  # the overdue timesheets count, on the first screen at 80x24
        yield Figure(id="team-dispatch-title")
        yield Table(DISPATCH_COLUMNS, id="team-dispatch")
        yield Figure(id="team-title", classes="section")
        yield Table(RESOURCE_COLUMNS, id="team-hours")
        yield Figure(id="team-share")
        yield Figure(id="team-efficiency-title", classes="section")
        yield Table(EFFICIENCY_COLUMNS, id="team-efficiency")
        yield Figure(id="team-timesheets-title", classes="section")
        yield Table(TIMESHEET_COLUMNS, id="team-timesheets")
        yield Chart(id="team-trend")

    def show_data(self, data: TeamData) -> None:
        self._show_dispatch(data)
        f = data.figures
        title = Text(f"Hours this week (from {f.week_start:%a %d %b}) and last week", style="bold")
        title.append(
            "  Util wtd = billable / availability so far (Mon-Fri 09-17); Util wk = billable / the whole week's;"
            " NB = non-billable; Bill = billable / worked; Cust = customer-facing / worked",
            style="dim",
        )
        self.query_one("#team-title", Figure).show(title)
        self.query_one("#team-hours", Table).show_rows(
            [
                (
                    r.name,
                    (
                        fmt.plain(r.name),
                        _num(fmt.hours(r.hours_this_week)),
                        _num(fmt.hours(r.billable_this_week)),
                        _num(fmt.hours(r.non_billable_this_week)),
                        _num(fmt.hours(r.hours_last_week)),
                        _num(fmt.pct(r.utilization_wtd_pct)),
                        _num(fmt.pct(r.utilization_pct)),
                        _num(fmt.pct(r.billable_pct)),
                        _num(fmt.pct(r.customer_facing_pct)),
                    ),
                )
                for r in f.resources
            ]
        )
        worked = sum(r.hours_this_week for r in f.resources)
        facing = sum(r.hours_this_week * (r.customer_facing_pct or 0) / 100 for r in f.resources)
        share = Text()
        share.append("This week, whole team: ", style="bold")
        if worked:
            share.append(
                f"customer-facing {fmt.pct(100 * facing / worked)} · internal/admin {fmt.pct(100 - 100 * facing / worked)}"
                f" of {fmt.hours(worked)} h worked"
            )
        else:
            share.append("no hours logged yet")
        self.query_one("#team-share", Figure).show(share)
        eff_title = Text("Technician efficiency, last 30 days", style="bold")
        eff_title.append("  h/ticket = ticket hours / tickets closed; FCR = closed with < 2 time entries", style="dim")
        self.query_one("#team-efficiency-title", Figure).show(eff_title)
        self.query_one("#team-efficiency", Table).show_rows(
            [
                (
                    e.name,
                    (
                        fmt.plain(e.name),
                        _num(fmt.hours(e.ticket_hours)),
                        _num(fmt.count(e.tickets_closed)),
                        _num(fmt.hours(e.hours_per_ticket) if e.hours_per_ticket is not None else "no data"),
                        _num(fmt.pct(e.fcr_pct)),
                        _num(fmt.hours(e.training_hours)),
                    ),
                )
                for e in data.efficiency
            ]
        )
        overdue = f.overdue_timesheets
        rows = [
            (t.resource, t.period_start, t.period_end, t.billable_hours, t.non_billable_hours, t.hours_worked, t.status)
            for t in overdue
        ]
        listed = Records(TIMESHEET_FIELDS, rows, len(rows))
        self.query_one("#team-drills", DrillList).show_drills(
            [Drill("timesheets", OVERDUE_LABEL, len(overdue), (lambda app: listed) if overdue else None)]
        )
        self.query_one("#team-timesheets-title", Figure).show(
            Text(f"Overdue timesheets: {len(f.overdue_timesheets)}", style="bold")
        )
        self.query_one("#team-timesheets", Table).show_rows(
            [
                (
                    (t.resource, t.period_start.isoformat()),
                    (
                        fmt.plain(t.resource),
                        Text(f"{t.period_start:%d %b}–{t.period_end:%d %b}"),
                        _num(fmt.hours(t.billable_hours)),
                        _num(fmt.hours(t.non_billable_hours)),
                        _num(fmt.hours(t.hours_worked)),
                        fmt.plain(t.status),
                    ),
                )
                for t in f.overdue_timesheets
            ]
        )
        t = data.trends
        self.query_one("#team-trend", Chart).plot(Spark("Hours logged/day", tuple(t.days), tuple(t.hours)))

    def _show_dispatch(self, data: TeamData) -> None:
        title = Text("Dispatch now", style="bold")
        title.append("  best placed for an urgent ticket first (as in the assign picker)", style="dim")
        self.query_one("#team-dispatch-title", Figure).show(title)
        self.query_one("#team-dispatch", Table).show_rows(
            [
                (
                    t.resource_id,
                    (
                        fmt.plain(t.name),
                        _num(str(t.open_assigned)),
                        Text(str(t.at_risk), justify="right", style="bold red" if t.at_risk else ""),
                        _num(fmt.hours(t.hours_today)),
                        _num(fmt.hours(t.day_hours)),
                        fmt.plain(t.current_ticket or ""),
                        Text("off" if t.time_off_today else ""),
                    ),
                )
                for t in data.dispatch
            ]
        )

    def focus_main(self) -> None:
        focus_now(self.query_one("#team-dispatch", Table))  # the first screen stays in view
