"""One company's page (Enter on the Clients pane): its figures for the pane's period, 12
months of plotext trends, its open tickets (Enter opens a ticket's detail), its contracts
with their end dates, and its top issue types. Read by a worker (kpi.company, kpi.tickets).

The open tickets take the Queue's keys: / filter (number, title, assignee), f facets, x clears,
s / v sort the list, and the triage keys (a t S P Q e n u, space marks, M clears marks) go
through the actions layer like everywhere else; c / y copy the ticket's number / link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from mspkpi_tui.charts import Series, summary
from mspkpi_tui.kpi.tickets import TicketQuery, TicketRow
from mspkpi_tui.safe_text import clean
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.charts import Bars, Chart, Lines
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.status_line import StatusLine
from mspkpi_tui.tui.triage_keys import TRIAGE_BINDINGS, TriageKeys, marks_of
from mspkpi_tui.tui.widgets import Figure, Table, TicketListView

if TYPE_CHECKING:
    from mspkpi_tui.kpi.clients import ClientRow
    from mspkpi_tui.kpi.company import CompanyPage
    from mspkpi_tui.kpi.tickets import TicketList
    from mspkpi_tui.tui.app import MspkpiApp

PERIOD_NAMES = {"30d": "last 30 days", "quarter": "this quarter", "12m": "last 12 months"}
CHARTS = ("company-flow", "company-hours", "company-revenue", "company-csat")
OPEN_LIMIT = 200
WIDE = 110  # columns from which the 12-month charts sit two abreast (as the Trends pane's)
CHART_ROWS_WIDE, CHART_ROWS_NARROW = 10, 8


def figures_text(row: ClientRow, period: str) -> Text:
    """The company's row of the Clients pane, as lines a lead reads."""

    def f(value: float | None, digits: int = 1, unit: str = "") -> str:
        return "no data" if value is None else f"{value:,.{digits}f}{unit}"

    text = Text()
    text.append(f"{PERIOD_NAMES[period].capitalize()}: ", style="bold")
    text.append(f"{row.open} open · {row.opened} opened · {row.closed} closed · ")
    text.append(f"first response {f(row.avg_first_response_minutes, 0, ' min')} · ")
    text.append(f"resolution {f(row.avg_resolution_hours, 1, ' h')}\n")
    text.append(f"FCR {fmt.pct(row.fcr_pct)} · SLA {fmt.pct(row.sla_pct)} ")
    text.append(f"(response {fmt.pct(row.sla_first_response_pct)}, resolution {fmt.pct(row.sla_resolution_pct)}) · ")
    text.append(f"CSAT {f(row.csat_avg, 2)} ({row.csat_responses}, {row.csat_below_3} below 3) · ")
    text.append(f"NPS {f(row.nps, 0)} ({row.nps_responses})\n")
    text.append(f"Hours {row.hours:,.1f} · per ticket {f(row.hours_per_ticket, 2)} · seats {f(row.seats, 0)} · ")
    text.append(f"reactive tickets per seat per month {f(row.reactive_per_seat_month, 2)}\n")
    text.append(f"Revenue {f(row.revenue, 0)} (recurring {f(row.recurring_revenue, 0)}, ")
    text.append(f"billed {f(row.billed_revenue, 0)}) · labour {f(row.labour_cost, 0)} · ")
    text.append(f"other cost {f(row.other_cost, 0)} · margin {f(row.margin, 0)} ({fmt.pct(row.margin_pct)})\n")
    text.append(f"Lifetime revenue {f(row.lifetime_revenue, 0)} over {f(row.relationship_months, 1)} months")
    if row.needy:
        text.append("\nNeedy: ", style="bold yellow")
        text.append("; ".join(row.needy))
    for figure, reason in row.no_data.items():
        text.append(f"\n{figure.replace('_', ' ')}: no data ({reason})", style="dim")
    return text


def company_charts(page: CompanyPage) -> dict[str, Lines]:
    t = page.trends
    months = tuple(f"{m:%b %y}" for m in t.months)
    return {
        "company-flow": Lines(
            f"Opened per month: {summary(t.opened)}",
            months,
            (Series("opened", tuple(t.opened)), Series("closed", tuple(t.closed))),
        ),
        "company-hours": Lines(f"Hours per month: {summary(t.hours)}", months, (Series("hours", tuple(t.hours)),)),
        "company-revenue": Lines(
            f"Revenue per month: {summary(t.revenue)}", months, (Series("revenue", tuple(t.revenue)),)
        ),
        "company-csat": Lines(f"CSAT per month: {summary(t.csat)}", months, (Series("CSAT", tuple(t.csat)),)),
    }


class CompanyScreen(TriageKeys, Screen):
    if TYPE_CHECKING:
        app: MspkpiApp

    BINDINGS = [
        Binding("escape", "close", "Close", id="close-company"),
        Binding("slash", "filter", "Filter", id="company-filter"),
        Binding("f", "facets", "Facets", id="company-facets"),
        Binding("x", "clear", "All its open tickets", show=False, id="company-clear-filter"),
        *TRIAGE_BINDINGS,
    ]
    # The grid's rows are given, not auto: with `height: auto` alone the grid gave each row
    # two lines (a title and clipped axis labels, no line drawn).
    DEFAULT_CSS = """
    #company-charts { grid-size: 2; grid-rows: 10; grid-gutter: 0 1; height: auto; }
    #company-charts Chart { height: 10; }
    """

    def __init__(self, row: ClientRow, period: str) -> None:
        super().__init__()
        self.row, self.period = row, period
        self.page: CompanyPage | None = None  # shown (tests)
        self.ticket_query = TicketQuery()  # the open tickets' filter and facets (the Queue's)
        self.open_total = 0

    def compose(self) -> ComposeResult:
        yield Figure(Text(f"{clean(self.row.company)}", style="bold"), id="company-title")
        with VerticalScroll(id="company-body"):
            yield Figure(figures_text(self.row, self.period), id="company-figures")
            with Grid(id="company-charts"):
                for chart_id in CHARTS:
                    yield Chart(id=chart_id)
            yield Figure(id="company-open-title", classes="section")
            yield Input(
                placeholder="filter: number, title, assignee (Enter keeps, Esc clears)",
                id="company-filter-box",
                compact=True,
            )
            yield TicketListView(id="company-open")
            yield Figure(Text("Contracts", style="bold"), classes="section")
            yield Table(("Contract", "Category", "Monthly", "Seats", "Start", "End", "Status"), id="company-contracts")
            yield Chart(id="company-issues")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._chart_layout(self.app.size.width)  # before the first layout: each chart built once
        self.app.show_status_on(self)
        box = self.query_one("#company-filter-box", Input)
        box.cursor_blink = False
        box.display = False
        self.open_list.focus()
        self.reload()

    def on_resize(self, event: Resize) -> None:
        self._chart_layout(event.size.width)

    def _chart_layout(self, width: int) -> None:
        """Two charts abreast, 10 rows each, from WIDE columns; below, stacked at 8 rows (the
        page scrolls), so each chart keeps room for its 12 months' line and labels."""
        columns, rows = (2, CHART_ROWS_WIDE) if width >= WIDE else (1, CHART_ROWS_NARROW)
        grid = self.query_one("#company-charts", Grid)
        if grid.styles.grid_size_columns != columns:
            grid.styles.grid_size_columns = columns
            grid.styles.grid_rows = str(rows)
            for chart in grid.query(Chart):
                chart.styles.height = rows

    @property
    def open_list(self) -> TicketListView:
        return self.query_one("#company-open", TicketListView)

    def reload(self) -> None:
        self._read(self.app.engine, self.app.now, self.app.config, self.row.company_id, self.ticket_query)

    @work(thread=True, exclusive=True, group="company", exit_on_error=False)
    def _read(self, engine, now, config, company_id: int, query: TicketQuery) -> None:
        from mspkpi_tui.kpi import tickets as ticket_lists
        from mspkpi_tui.kpi.company import company_page

        worker = get_current_worker()
        page = company_page(engine, now, config, company_id)
        open_tickets = ticket_lists.company_open(engine, now, company_id, OPEN_LIMIT, query)
        if not worker.is_cancelled and self.app.is_running:
            try:
                self.app.call_from_thread(self._show, page, open_tickets, query)
            except (RuntimeError, LookupError):
                if self.app.is_running:
                    raise

    @work(thread=True, exclusive=True, group="company-open", exit_on_error=False)
    def _requery(self, query: TicketQuery) -> None:
        """Only the open tickets again (the filter changed); a newer query cancels this one."""
        from mspkpi_tui.kpi import tickets as ticket_lists

        app = self.app
        found = ticket_lists.company_open(app.engine, app.now, self.row.company_id, OPEN_LIMIT, query)
        if not get_current_worker().is_cancelled and app.is_running:
            app.call_from_thread(self._show_open, found, query)

    def _show(self, page: CompanyPage, open_tickets: TicketList, query: TicketQuery) -> None:
        first = self.page is None
        self.page = page
        for chart_id, spec in company_charts(page).items():
            self.query_one(f"#{chart_id}", Chart).plot(spec)
        self._show_open(open_tickets, query)
        self.query_one("#company-contracts", Table).show_rows(
            [
                (
                    i,
                    (
                        fmt.plain(c.name, max_cells=30),
                        fmt.plain(c.category or "–", max_cells=20),
                        Text(fmt.money(c.monthly_value), justify="right"),
                        Text("–" if c.seats is None else f"{c.seats:g}", justify="right"),
                        Text(c.start.isoformat() if c.start else "–"),
                        Text(c.end.isoformat() if c.end else "open-ended"),
                        fmt.plain(c.status),
                    ),
                )
                for i, c in enumerate(page.contracts)
            ]
        )
        self.query_one("#company-issues", Chart).plot(
            Bars("Top issue types, last 12 months", tuple((clean(k), float(v)) for k, v in page.top_issue_types))
        )
        if first:  # the list's cursor scrolled the page down to it: open at the top, figures then charts
            body = self.query_one("#company-body", VerticalScroll)
            self.call_after_refresh(body.scroll_home, animate=False)

    def _show_open(self, open_tickets: TicketList, query: TicketQuery) -> None:
        if query != self.ticket_query:
            return  # a newer filter is being read
        self.open_total = open_tickets.total
        self.open_list.show_tickets(open_tickets.rows, self.app.now)
        self._show_open_title(len(open_tickets.rows))

    def _show_open_title(self, shown: int | None = None) -> None:
        shown = len(self.open_list.rows_by_key) if shown is None else shown
        q = self.ticket_query
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Open tickets: {self.open_total}", style="bold")
        if self.open_total > shown:
            text.append(f" (first {shown})", style="bold")
        if q.text.strip():
            text.append(" · filter: ")
            text.append(fmt.clean(q.text), style="bold")
        for name, value in q.facets:
            text.append(f" · {name}: ")
            text.append(fmt.clean(value), style="bold")
        if q.is_filtered:
            text.append(" · x clears")
        marks = marks_of(self)
        if marks is not None and len(marks):
            text.append(f" · {len(marks)} marked (M clears)", style="bold")
        text.append("  / filter · f facets · a t S P Q e n u triage · space marks", style="dim")
        self.query_one("#company-open-title", Figure).show(text)

    def set_query(self, query: TicketQuery) -> None:
        if query != self.ticket_query:
            self.ticket_query = query
            self._show_open_title()
            self._requery(query)

    # --- the Queue's keys on the open tickets ---------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#company-filter-box", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#company-filter-box")
    def _typed(self, event: Input.Changed) -> None:
        self.set_query(TicketQuery(event.value, self.ticket_query.facets))

    @on(Input.Submitted, "#company-filter-box")
    def _submitted(self) -> None:
        box = self.query_one("#company-filter-box", Input)
        box.display = bool(box.value.strip())
        self.open_list.focus()

    def action_clear(self) -> None:
        box = self.query_one("#company-filter-box", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self.set_query(TicketQuery())

    def action_facets(self) -> None:
        from mspkpi_tui.tui.screens import FacetScreen

        self.app.push_screen(FacetScreen(self.ticket_query), self._facet_chosen)

    def _facet_chosen(self, choice: tuple[str, str | None] | None) -> None:
        if choice is not None:
            self.set_query(self.ticket_query.with_facet(*choice))

    def current_ticket(self) -> TicketRow | None:
        return self.open_list.current_ticket()

    def repaint_marks(self) -> None:
        self.open_list.tick(self.app.now)
        self._show_open_title()

    def move_down(self) -> None:
        self.open_list.action_cursor_down()

    def action_close(self) -> None:
        """Esc: in the filter box it clears the filter; otherwise the page closes."""
        box = self.query_one("#company-filter-box", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.open_list.focus()
            return
        self.app.pop_screen()
