"""Pane 8, Clients: one row per active company with its service and money figures over 30
days, this quarter or 12 months (p), sorted by any column (s, v to reverse: the shared Table's keys); needy companies
flagged with the rule that flags them; Enter opens the company's page; m shows the time and
profitability matrix (hours per seat against margin %, quadrant lines at the MSP's medians).

Like Trends, the figures are read (kpi.clients, in a worker thread) only while the pane is
shown: after each refresh of the app's data, and when the period changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.worker import get_current_worker

from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Chart, Scatter
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure, Table

if TYPE_CHECKING:
    from mspkpi_tui.kpi.clients import ClientFigures, ClientRow

PERIODS = ("30d", "quarter", "12m")
PERIOD_NAMES = {"30d": "last 30 days", "quarter": "this quarter", "12m": "last 12 months"}


def _num(value: str) -> Text:
    return Text(value, justify="right")


def _f(value: float | None, digits: int = 1) -> str:
    return "no data" if value is None else f"{value:,.{digits}f}"


# (heading, sort key, cell): the sort key of a missing figure sorts last either way.
COLUMNS: list[tuple[str, Callable[[ClientRow], Any], Callable[[ClientRow], Text]]] = [
    ("Company", lambda r: r.company.lower(), lambda r: fmt.plain(r.company, max_cells=24)),
    ("Open", lambda r: r.open, lambda r: _num(fmt.count(r.open))),
    ("In", lambda r: r.opened, lambda r: _num(fmt.count(r.opened))),
    ("Out", lambda r: r.closed, lambda r: _num(fmt.count(r.closed))),
    ("FR min", lambda r: r.avg_first_response_minutes, lambda r: _num(_f(r.avg_first_response_minutes, 0))),
    ("Res h", lambda r: r.avg_resolution_hours, lambda r: _num(_f(r.avg_resolution_hours))),
    ("FCR %", lambda r: r.fcr_pct, lambda r: _num(fmt.pct(r.fcr_pct))),
    ("SLA %", lambda r: r.sla_pct, lambda r: _num(fmt.pct(r.sla_pct))),
    (
        "CSAT (n)",
        lambda r: r.csat_avg,
        lambda r: _num("no data" if r.csat_avg is None else f"{r.csat_avg:.1f} ({r.csat_responses})"),
    ),
    ("Hours", lambda r: r.hours, lambda r: _num(fmt.hours(r.hours))),
    ("h/tkt", lambda r: r.hours_per_ticket, lambda r: _num(_f(r.hours_per_ticket, 2))),
    ("Tkt/seat/mo", lambda r: r.reactive_per_seat_month, lambda r: _num(_f(r.reactive_per_seat_month, 2))),
    ("Revenue", lambda r: r.revenue, lambda r: _num(_f(r.revenue, 0))),
    ("Labour", lambda r: r.labour_cost, lambda r: _num(_f(r.labour_cost, 0))),
    ("Margin", lambda r: r.margin, lambda r: _num(_f(r.margin, 0))),
    ("Margin %", lambda r: r.margin_pct, lambda r: _num(fmt.pct(r.margin_pct))),
    ("Needy", lambda r: len(r.needy), lambda r: Text("needy" if r.needy else "", style="bold yellow")),
]
HEADINGS = tuple(c[0] for c in COLUMNS)


def sorted_rows(rows: list[ClientRow], column: int, reverse: bool) -> list[ClientRow]:
    key = COLUMNS[column][1]
    known = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    return sorted(known, key=lambda r: (key(r), r.company.lower()), reverse=reverse) + missing


def matrix(figures: ClientFigures) -> Scatter:
    """Hours per seat (x) against margin % (y), quadrant lines at the MSP's medians: the
    needy-and-unprofitable companies sit bottom right."""
    from mspkpi_tui.kpi.clients import profitability_matrix

    found = profitability_matrix(figures)
    points = tuple((p.hours_per_seat, p.margin_pct) for p in found.points)
    return Scatter(
        f"Hours per seat vs margin %, {PERIOD_NAMES[figures.period]} ({len(points)} companies with seats and revenue)",
        points,
        found.hours_per_seat_median,
        found.margin_pct_median,
        "hours per seat",
        "margin %",
        height=16,
    )


class ClientsPane(Pane, VerticalScroll, can_focus=False):
    pane_id = "clients"
    title = "Clients"

    BINDINGS = [
        Binding("p", "next_period", "30d/quarter/12m", id="clients-period"),
        Binding("m", "toggle_matrix", "Margin matrix", id="clients-matrix"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.period = PERIODS[0]
        self.figures: ClientFigures | None = None  # the figures shown (tests)
        self.reads = 0
        self._stale = True

    @property
    def shown_view(self) -> str | None:
        """The period whose figures are shown (None before the first read), as Trends has it."""
        return self.figures.period if self.figures is not None else None

    def compose(self):
        yield Figure(id="clients-title")
        yield Table(HEADINGS, id="clients-table")
        yield Figure(id="clients-rule")
        yield Figure(id="clients-money", classes="section")
        yield Chart(id="clients-matrix")

    def on_mount(self) -> None:
        self.query_one("#clients-matrix", Chart).display = False
        self._show_title()
        super().on_mount()

    @staticmethod
    def load(engine, now, config, trends):
        """Read by the pane itself while shown (`_read`); a refresh only says the data changed."""
        return trends

    def show_data(self, _trends) -> None:
        self._stale = True
        if self.app.active_pane_id == self.pane_id:
            self._read()

    def focus_main(self) -> None:
        self.query_one("#clients-table", Table).focus(scroll_visible=False)
        if self._stale:
            self._read()

    def _read(self) -> None:
        self._stale = False
        self._show_title(reading=True)
        self._read_worker(self.app.engine, self.app.now, self.app.config, self.period)

    @work(thread=True, exclusive=True, group="clients-read", exit_on_error=False)
    def _read_worker(self, engine, now, config, period: str) -> None:
        from mspkpi_tui.kpi.clients import client_figures

        worker = get_current_worker()
        try:
            result = client_figures(engine, now, config, period)
        except Exception as exc:  # keep what is shown, say why it is not current
            message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            self._call(self._show_title, False, message[0] if message else type(exc).__name__)
            return
        if not worker.is_cancelled:
            self._call(self._show_figures, result)

    def _call(self, callback, *args) -> None:
        if self.app.is_running:
            try:
                self.app.call_from_thread(callback, *args)
            except (RuntimeError, LookupError):
                if self.app.is_running:
                    raise

    def _show_figures(self, figures: ClientFigures) -> None:
        if figures.period != self.period:
            return  # the period changed while it was read: the newer read follows
        self.figures = figures
        self.reads += 1
        self._show_rows()
        self._show_money()
        self.query_one("#clients-matrix", Chart).plot(matrix(figures))
        self._show_title()

    def _show_rows(self) -> None:
        if self.figures is None:
            return
        rows = sorted_rows(self.figures.companies, 0, False)  # by name; s / v sort the table (tui.widgets.Table)
        self.query_one("#clients-table", Table).show_rows(
            [(r.company_id, tuple(cell(r) for _, _, cell in COLUMNS)) for r in rows]
        )
        self._show_rule()

    def _show_money(self) -> None:
        assert self.figures is not None
        m, t = self.figures.money, self.figures.totals
        text = Text()
        text.append("MRR ", style="bold")
        if m.mrr is None:
            text.append(f"no data ({m.no_data.get('mrr', '')})")
        else:
            split = " · ".join(f"{s.category} {s.pct or 0:.0f}% ({s.clients})" for s in m.mrr_by_category[:4])
            text.append(f"{m.mrr:,.0f}  [{split}]")
            text.append("  all-in seat price ", style="bold")
            text.append(_f(m.all_in_seat_price, 2))
            text.append("  churn ", style="bold")
            text.append(f"{fmt.pct(m.churn_pct)} of clients, {fmt.pct(m.revenue_churn_pct)} of MRR")
        text.append("\nNew vs closed ", style="bold")
        text.append(f"{t['opened']:,} / {t['closed']:,} ({t['new_vs_closed_difference']:+,})")
        text.append("  cost per ticket ", style="bold")
        text.append(_f(t["cost_per_ticket"], 2))
        text.append("  NPS ", style="bold")
        reason = t["no_data"].get("nps")
        text.append(
            f"no data ({reason})"
            if reason
            else "no data"
            if t["nps"] is None
            else f"{t['nps']:.0f} ({t['nps_responses']})"
        )
        text.append(f"  needy {t['needy']}", style="bold yellow" if t["needy"] else "")
        self.query_one("#clients-money", Figure).show(text)

    def _show_rule(self) -> None:
        """What the highlighted company's flags and missing figures mean, in one line each."""
        row = self.current_company()
        text = Text(no_wrap=False)
        if row is None:
            text.append("No active company.", style="dim")
        else:
            text.append(fmt.plain(row.company, max_cells=40))
            if row.needy:
                text.append("  needy: ", style="bold yellow")
                text.append("; ".join(row.needy))
            for figure, reason in list(row.no_data.items())[:2]:
                text.append(f"  {figure.replace('_', ' ')}: no data ({reason})", style="dim")
        self.query_one("#clients-rule", Figure).show(text)

    def _show_title(self, reading: bool = False, error: str | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Clients: {PERIOD_NAMES[self.period]}", style="bold")
        if error:
            text.append(f"  READ FAILED: {error}", style="bold red")
        elif reading and (self.figures is None or self.figures.period != self.period):
            text.append("  reading…")
        text.append("  p period · s/v sort · Enter company · m matrix", style="dim")
        self.query_one("#clients-title", Figure).show(text)

    def current_company(self) -> ClientRow | None:
        key = self.query_one("#clients-table", Table).current_key
        if self.figures is None or key is None:
            return None
        return next((r for r in self.figures.companies if str(r.company_id) == key), None)

    @on(Table.RowHighlighted, "#clients-table")
    def _highlighted(self) -> None:
        self._show_rule()

    @on(Table.RowSelected, "#clients-table")
    def _open_company(self, event: Table.RowSelected) -> None:
        event.stop()
        row = self.current_company()
        if row is not None and self.figures is not None:
            from mspkpi_tui.tui.company_screen import CompanyScreen

            self.app.push_screen(CompanyScreen(row, self.figures.period))

    def action_next_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self._read()

    def action_toggle_matrix(self) -> None:
        chart = self.query_one("#clients-matrix", Chart)
        chart.display = not chart.display
        if chart.display:
            self.call_after_refresh(chart.scroll_visible)
