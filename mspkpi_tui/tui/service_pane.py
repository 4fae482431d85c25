"""Pane 6, Service: first contact resolution, CSAT, opened vs closed and kill rate, average
response and resolution times, contracts expiring, projects at risk, hours to deliver."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from mspkpi_tui.kpi import drills
from mspkpi_tui.kpi.drills import Records
from mspkpi_tui.safe_text import clean
from mspkpi_tui.tui import loader
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Bars, Chart, Spark
from mspkpi_tui.tui.columns import Column
from mspkpi_tui.tui.drills import Drill, DrillList
from mspkpi_tui.tui.focus import focus_now
from mspkpi_tui.tui.loader import ServiceData
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure, Table

if TYPE_CHECKING:
    from mspkpi_tui.kpi.money import MoneyFigures
    from mspkpi_tui.tui.app import MspkpiApp

# Who and when stay on screen at 80x24: the end date and the company are kept; the contract's
# name, type, period, number and start give way, in that order (tui.columns).
CONTRACT_COLUMNS = (
    Column("End"),
    Column("Company", least=10, most=24, gives=5),
    Column("Contract", least=8, most=30, gives=1),
    Column("Number", least=6, most=16, gives=4),
    Column("Type", least=4, most=16, gives=2),
    Column("Period", most=12, gives=3),
    Column("Start", least=5, gives=6),
)

CONTRACT_FIELDS = ("Company", "Contract", "Number", "Type", "Period", "Start", "End")  # kpi.contracts.ExpiringContract
RISK_RULES = {"Red": "calendar and hours", "Amber": "calendar or hours"}


def _projects(app: MspkpiApp, colour: str) -> Records:
    return drills.projects_at_risk(app.engine, app.now, app.config, colour)


def money_lines(text: Text, m: MoneyFigures, totals: dict[str, Any]) -> None:
    """MRR (with its split by contract category and the clients in each share), seat price and
    churn (clients and recurring revenue), then new vs closed and cost per ticket: each with its
    window. The figures are kpi.clients' (the Clients pane's, 30 days): only formatted here."""
    text.append(f"Recurring revenue (MRR at {m.as_of:%Y-%m-%d}): ", style="bold")
    if m.mrr is None:
        text.append(f"no data ({m.no_data.get('mrr', '')})\n")
    else:
        seat = "no data" if m.all_in_seat_price is None else f"{m.all_in_seat_price:,.2f}"
        text.append(f"MRR {m.mrr:,.0f} · all-in seat price {seat} (Clients pane, key 8, per client)\n")
        text.append("MRR by contract category: ", style="bold")
        text.append(
            " · ".join(
                f"{clean(s.category)} {s.mrr:,.0f} ({fmt.pct(s.pct)}, {s.clients:,} client{'s' * (s.clients != 1)})"
                for s in m.mrr_by_category
            )
            or "none"
        )
        text.append("\nChurn (30 days): ", style="bold")
        lost = (
            "no data" if m.mrr_lost is None or m.mrr_at_start is None else f"{m.mrr_lost:,.0f} of {m.mrr_at_start:,.0f}"
        )
        text.append(
            f"clients {fmt.pct(m.churn_pct)} ({m.clients_lost:,} of {m.clients_at_start:,}) · "
            f"recurring revenue {fmt.pct(m.revenue_churn_pct)} ({lost})\n"
        )
    text.append("Clients' tickets (30 days): ", style="bold")
    ratio = "no data" if totals["new_vs_closed_ratio"] is None else fmt.number(totals["new_vs_closed_ratio"], 2)
    cost = "no data" if totals["cost_per_ticket"] is None else f"{totals['cost_per_ticket']:,.2f}"
    text.append(
        f"new vs closed {totals['opened']:,} / {totals['closed']:,} (ratio {ratio}, difference "
        f"{totals['new_vs_closed_difference']:+,}) · cost per ticket {cost} (labour on tickets / tickets closed)"
    )


class ServicePane(Pane, VerticalScroll, can_focus=False):
    pane_id = "service"
    title = "Service"
    load = staticmethod(loader.load_service)

    def compose(self) -> ComposeResult:
        yield Figure(id="svc-figures")
        yield DrillList(id="svc-drills")
        yield Chart(id="svc-opened")
        yield Chart(id="svc-closed")
        yield Chart(id="svc-csat")
        yield Figure(id="svc-contracts-title", classes="section")
        yield Table(CONTRACT_COLUMNS, id="svc-contracts")
        # Below the table: at 80x24 the figures above keep the table (focused) in view.
        yield Figure(id="svc-money", classes="section")
        yield Figure(id="svc-projects")
        yield Chart(id="svc-hours-by-category")

    def show_data(self, data: ServiceData) -> None:
        s = data.service
        fcr_label = "year to date" if self.app.config.service.fcr_period == "ytd" else "last 30 days"
        text = Text()
        text.append("First contact resolution ", style="bold")
        text.append(
            f"({fcr_label}): {fmt.pct(s.fcr_ytd.pct)} · {s.fcr_ytd.first_touch:,} of {s.fcr_ytd.total:,} closed with <2 time entries\n"
        )
        text.append("CSAT (30 days): ", style="bold")
        avg = "no responses" if s.csat_30d.avg is None else fmt.number(s.csat_30d.avg, 2)
        text.append(f"{avg} from {s.csat_30d.responses:,} response(s) · below 3: {s.csat_30d.below_3:,} (follow up)\n")
        text.append("Tickets (30 days): ", style="bold")
        text.append(
            f"opened {s.opened_30d:,} · closed {s.closed_30d:,} · kill rate {fmt.pct(s.kill_rate_30d)} · reopened {s.reopened_30d:,}\n"
        )
        text.append("Average times (30 days, wall clock): ", style="bold")
        response = (
            "no data"
            if s.avg_first_response_minutes_30d is None
            else fmt.duration_minutes(s.avg_first_response_minutes_30d)
        )
        resolution = "no data" if s.avg_resolution_hours_30d is None else f"{fmt.hours(s.avg_resolution_hours_30d)} h"
        text.append(f"first response {response} · resolution {resolution}\n")
        text.rstrip()  # in place: the money lines moved below the contracts table
        self.query_one("#svc-figures", Figure).show(text)
        money = Text()
        money_lines(money, data.money, data.client_totals)
        self.query_one("#svc-money", Figure).show(money)
        t = data.trends
        days = tuple(t.days)
        self.query_one("#svc-opened", Chart).plot(Spark("Opened/day", days, tuple(t.opened)))
        self.query_one("#svc-closed", Chart).plot(Spark("Closed/day", days, tuple(t.closed)))
        self.query_one("#svc-csat", Chart).plot(Spark("CSAT avg/day", days, tuple(t.csat)))
        c = data.contracts
        self.query_one("#svc-contracts-title", Figure).show(
            Text(
                f"Contracts expiring: {c.expiring_30d} in 30 days · {c.expiring_60d} in 60 · {c.expiring_90d} in 90",
                style="bold",
            )
        )
        self.query_one("#svc-contracts", Table).show_rows(
            [
                (
                    (e.number, e.contract, e.end.isoformat()),
                    (
                        Text(e.end.isoformat(), style="bold"),
                        fmt.plain(e.company or ""),
                        fmt.plain(e.contract),
                        fmt.plain(e.number or ""),
                        fmt.plain(e.type or ""),
                        fmt.plain(e.period_type or ""),
                        Text(e.start.isoformat() if e.start else "–"),
                    ),
                )
                for e in c.expiring
            ]
        )
        p = data.projects
        expiring = Records(CONTRACT_FIELDS, [tuple(e.__dict__.values()) for e in c.expiring], len(c.expiring))
        self.query_one("#svc-drills", DrillList).show_drills(
            [
                Drill(
                    "csat",
                    "CSAT responses below 3, last 30 days",
                    s.csat_30d.below_3,
                    lambda app: drills.csat_to_follow_up(app.engine, app.now, app.config),
                ),
                Drill("contracts", "Contracts ending in the next 90 days", c.expiring_90d, lambda app: expiring),
                *(
                    Drill(
                        colour,
                        f"{colour} projects (open; late on {RISK_RULES[colour]})",
                        p.at_risk.get(colour, 0),
                        partial(_projects, colour=colour),
                    )
                    for colour in ("Red", "Amber")
                ),
            ]
        )
        projects = Text()
        projects.append("Open projects at risk (now): ", style="bold")
        projects.append(" · ".join(f"{colour} {p.at_risk.get(colour, 0)}" for colour in ("Red", "Amber", "Green")))
        projects.append("\nHours to be delivered (open projects, now): ", style="bold")
        projects.append(f"{fmt.hours(p.hours_to_be_delivered.total)} h")
        self.query_one("#svc-projects", Figure).show(projects)
        self.query_one("#svc-hours-by-category", Chart).plot(
            Bars(
                "Hours to be delivered by category (top 5, rest as Other)",
                tuple(p.hours_to_be_delivered.by_category.items()),
            )
        )

    def focus_main(self) -> None:
        focus_now(self.query_one("#svc-contracts", Table))  # the figures above the table stay in view
