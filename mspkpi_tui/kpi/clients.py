"""Clients: per-company service figures and profitability over a period, the needy flag.

Every figure follows the MSP-wide rule of the module that owns it (called, not copied):
first contact resolution is the store's `first_touch` over tickets completed in the period,
service times and SLA met counts are `timing_sums` of the response rollup, missed due times
`kpi.sla.missed_due`'s rule (all three summed per company and day by the store's
company_days rollup, with the hours and labour cost), compliance `kpi.sla.compliance_pct`, CSAT's follow-up threshold
`kpi.service.CSAT_FOLLOW_UP_BELOW`, revenue, MRR and seats `kpi.money`. Here they are
grouped by the ticket's (survey's, billing item's) company. Rules: docs/kpi.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, case, func, select

from mspkpi_tui.clock import local_midnight_utc
from mspkpi_tui.kpi.common import Result, frozen_record, half_up, maybe, pct, ratio
from mspkpi_tui.kpi.money import (
    DAYS_PER_MONTH,
    ContractTerms,
    MoneyFigures,
    first_contract_start,
    has_billing_items,
    money_figures,
    read_contracts,
    recurring_revenue,
    seats_on,
)
from mspkpi_tui.kpi.rules import at, is_open, period_bounds, tickets
from mspkpi_tui.kpi.service import CSAT_FOLLOW_UP_BELOW
from mspkpi_tui.kpi.sla import compliance_pct
from mspkpi_tui.store import models
from mspkpi_tui.store.rollups.company_days import TICKET_COLUMNS, company_sums

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

companies = models.table(models.Company)
surveys = models.table(models.SurveyResult)
billing = models.table(models.BillingItem)

TICK = timedelta(microseconds=1)  # the store's time precision: [start, end] = [start, end + TICK)
PERIODS = {"30d": "the last 30 days", "quarter": "this quarter", "12m": "the last 12 months"}
PROMOTER_FROM, DETRACTOR_UP_TO = 9, 6  # NPS: 9-10 promote, 0-6 detract


@dataclass(frozen=True)
class Window:
    period: str
    start: datetime
    end: datetime  # now
    first_day: date  # local dates, inclusive
    last_day: date

    @property
    def months(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0 / DAYS_PER_MONTH


def period_window(now: datetime, config: Config, period: str) -> Window:
    """30d = the 30 x 24 h ending now; quarter = from the local start of this calendar quarter;
    12m = from local midnight of the same day a year ago (28 February for 29 February)."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; choose one of: {', '.join(PERIODS)}")
    periods = period_bounds(now, config)
    today = periods.today
    if period == "30d":
        start = periods.window_start
    elif period == "quarter":
        start = local_midnight_utc(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), config.zone)
    else:
        year_ago = today.replace(year=today.year - 1, day=min(today.day, 28 if today.month == 2 else today.day))
        start = local_midnight_utc(year_ago, config.zone)
    return Window(period, start, periods.now, start.astimezone(config.zone).date(), today)


@dataclass(frozen=True)
class ClientRow(Result):
    company_id: int
    company: str
    open: int
    opened: int
    closed: int
    avg_first_response_minutes: float | None
    avg_resolution_hours: float | None
    fcr_pct: float | None
    sla_first_response_pct: float | None
    sla_resolution_pct: float | None
    sla_pct: float | None  # both due times together: met / counted
    csat_avg: float | None
    csat_responses: int
    csat_below_3: int
    nps: float | None
    nps_responses: int
    nps_promoters: int
    nps_detractors: int
    hours: float  # on its tickets and projects
    ticket_hours: float
    hours_per_ticket: float | None  # customer efficiency: ticket hours / tickets closed
    seats: float | None
    reactive_tickets: int
    reactive_per_seat_month: float | None
    recurring_revenue: float | None
    billed_revenue: float | None
    revenue: float | None
    labour_cost: float | None  # hours x the technician's hourly cost, tickets and projects
    ticket_labour_cost: float | None  # the part on tickets (cost per ticket)
    other_cost: float | None  # billing items' our cost
    margin: float | None
    margin_pct: float | None
    lifetime_revenue: float | None
    relationship_months: float | None
    lifetime_revenue_per_month: float | None
    needy: list[str] = field(default_factory=list)  # the rules that flag it, empty if none
    no_data: dict[str, str] = field(default_factory=dict)  # figure -> why it is null


@dataclass(frozen=True)
class ClientFigures(Result):
    period: str
    start: datetime
    end: datetime
    months: float
    companies: list[ClientRow]
    medians: dict[str, float | None]
    totals: dict[str, Any]
    money: MoneyFigures
    nps_question: str


def _grouped(conn: Connection, query) -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in conn.execute(query) if row[0] is not None}


def _count_where(*where, extra=()) -> Any:
    return (
        select(tickets.c.company_id, func.count(), *extra)
        .where(tickets.c.company_id.is_not(None), *where)
        .group_by(tickets.c.company_id)
    )


def _ticket_figures(conn: Connection, w: Window, config: Config) -> dict[str, dict[int, tuple]]:
    """The ticket counts and sums per company, from the company_days rollup (whole UTC days)
    and the base rows (the partial days at either end): the window is [start, end], i.e.
    [start, end + 1 us) at the store's microsecond precision."""
    sums = company_sums(conn, w.start, w.end + TICK)
    # missed_due counts due times in [start, end): take out those due exactly at the end
    for key, done, due in (
        ("response_missed", "first_response_at", "first_response_due"),
        ("resolution_missed", "resolved_at", "resolution_due"),
    ):
        at_end = _count_where(tickets.c[done].is_(None), tickets.c[due] == at(w.end))
        for company, (n,) in _grouped(conn, at_end).items():
            sums[company][key] -= n
    non_reactive = list(config.clients.non_reactive_issue_types)
    planned: dict[int, tuple] = {}
    if non_reactive:  # ix_tickets_issue_created: the few tickets of those types opened in the window
        within = and_(tickets.c.created_at >= at(w.start), tickets.c.created_at <= at(w.end))
        planned = _grouped(conn, _count_where(tickets.c.issue_type.in_(non_reactive), within))
    out: dict[str, dict[int, tuple]] = {name: {} for name in ("opened", "closed", "response", "resolution")}
    out |= {"open": _grouped(conn, _count_where(is_open())), "missed_response": {}, "missed_resolution": {}}
    opened, closed, response, resolution = out["opened"], out["closed"], out["response"], out["resolution"]
    missed_response, missed_resolution, worked = out["missed_response"], out["missed_resolution"], {}
    for company, row in sums.items():  # itemgetter: a tuple(genexpr) each was ~5 ms of 2,000 companies
        opened[company] = (row["opened"], row["opened"] - planned.get(company, (0,))[0])
        closed[company] = _CLOSED(row)
        response[company] = _RESPONSE(row)
        resolution[company] = _RESOLUTION(row)
        missed_response[company] = (row["response_missed"],)
        missed_resolution[company] = (row["resolution_missed"],)
        worked[company] = _WORKED(row)
    if worked:
        out["worked"] = worked
    return out


_CLOSED = itemgetter("closed", "first_touch")
_RESPONSE = itemgetter(*TICKET_COLUMNS[3:7])
_RESOLUTION = itemgetter(*TICKET_COLUMNS[7:11])
# hours, ticket hours, labour cost, hours whose technician has no cost, ticket labour cost
_WORKED = itemgetter("hours", "ticket_hours", "labour_cost", "uncosted_hours", "ticket_labour_cost")


def _survey_figures(conn: Connection, w: Window) -> dict[int, tuple]:
    score = surveys.c.recommend_score
    query = (
        select(
            surveys.c.company_id,
            func.avg(surveys.c.rating),
            func.count(),
            func.coalesce(func.sum(case((surveys.c.rating < CSAT_FOLLOW_UP_BELOW, 1), else_=0)), 0),
            func.count(score),
            func.coalesce(func.sum(case((score >= PROMOTER_FROM, 1), else_=0)), 0),
            func.coalesce(func.sum(case((score <= DETRACTOR_UP_TO, 1), else_=0)), 0),
        )
        .where(surveys.c.completed_at >= at(w.start), surveys.c.completed_at <= at(w.end))
        .group_by(surveys.c.company_id)
    )
    return _grouped(conn, query)


def _billing_figures(conn: Connection, first: date | None, last: date) -> dict[int, tuple]:
    """Per company: non-recurring revenue (recurring charges are the contracts' monthly value,
    counted once) and every item's cost, for items dated first..last."""
    where = [billing.c.item_date <= last] + ([billing.c.item_date >= first] if first else [])
    query = (
        select(
            billing.c.company_id,
            func.coalesce(func.sum(case((billing.c.recurring, 0.0), else_=billing.c.extended_price)), 0.0),
            func.coalesce(func.sum(billing.c.our_cost), 0.0),
        )
        .where(*where)
        .group_by(billing.c.company_id)
    )
    return _grouped(conn, query)


def _mean(seconds: float | None, n: int, unit: float) -> float | None:
    return maybe(seconds / n / unit) if n and seconds is not None else None


def client_figures(engine: Engine, now: datetime, config: Config, period: str = "30d") -> ClientFigures:
    return figures_for_window(engine, period_window(now, config, period), config)


def month_window(first_day: date, config: Config, now: datetime) -> Window:
    """One local calendar month (up to now if it is the current one), named "YYYY-MM"."""
    year, month = divmod(first_day.year * 12 + first_day.month, 12)
    next_first = date(year, month + 1, 1)
    end = min(local_midnight_utc(next_first, config.zone) - timedelta(microseconds=1), now)
    last = min(next_first - timedelta(days=1), period_bounds(now, config).today)
    return Window(f"{first_day:%Y-%m}", local_midnight_utc(first_day, config.zone), end, first_day, last)


def figures_for_window(engine: Engine, w: Window, config: Config) -> ClientFigures:
    """Every active company's figures over any window (the pane's periods, the review's months)."""
    zone = config.zone
    with engine.connect() as conn:
        names = conn.execute(
            select(companies.c.id, companies.c.name).where(companies.c.active).order_by(companies.c.name)
        ).all()
        t = _ticket_figures(conn, w, config)
        polls = _survey_figures(conn, w)
        worked = t.pop("worked", {})
        terms = read_contracts(conn)
        billed = _billing_figures(conn, w.first_day, w.last_day)
        billed_ever = _billing_figures(conn, None, w.last_day)
        any_billing = has_billing_items(conn)
    recurring = recurring_revenue(terms, w.start, w.end, zone)
    seats = seats_on(terms, w.last_day)
    firsts = first_contract_start(terms)
    money_known = any_billing or any(c.recurring for c in terms)
    own: dict[int | None, list] = {}  # each company's contracts (a scan per company was 0.6 s for 2,000)
    for c in terms:
        own.setdefault(c.company_id, []).append(c)
    rows = [
        _row(cid, name, w, t, polls, worked, recurring, seats, billed, billed_ever, own, firsts, money_known, zone)
        for cid, name in names
    ]
    medians = {
        "hours_per_ticket": _median(r.hours_per_ticket for r in rows),
        "reactive_per_seat_month": _median(r.reactive_per_seat_month for r in rows),
        "margin_pct": _median(r.margin_pct for r in rows),
        "hours_per_seat": _median(ratio(r.hours, r.seats) for r in rows),
    }
    rows = [_flag(r, medians, config) for r in rows]
    totals = _totals(rows)
    if not totals["nps_responses"]:  # the source gave no recommend answer at all: say why NPS is empty
        question = config.clients.nps_question
        totals["no_data"]["nps"] = (
            f"no answer to {question!r} ([clients] nps_question) in the period; Autotask keeps none"
        )
        for r in rows:
            r.no_data["nps"] = totals["no_data"]["nps"]
    return ClientFigures(
        period=w.period,
        start=w.start,
        end=w.end,
        months=half_up(w.months, 2),
        companies=rows,
        medians=medians,
        totals=totals,
        money=money_figures(terms, w.first_day, w.last_day),
        nps_question=config.clients.nps_question,
    )


def _row(cid, name, w, t, polls, worked, recurring, seats, billed, billed_ever, own, firsts, money_known, zone):
    no_data: dict[str, str] = {}
    opened, reactive = t["opened"].get(cid, (0, 0))
    closed, first = t["closed"].get(cid, (0, 0))
    resp = t["response"].get(cid, (0, 0.0, 0, 0))
    res = t["resolution"].get(cid, (0, 0.0, 0, 0))
    missed_resp = t["missed_response"].get(cid, (0,))[0]
    missed_res = t["missed_resolution"].get(cid, (0,))[0]
    avg, n_csat, low, n_nps, promoters, detractors = polls.get(cid, (None, 0, 0, 0, 0, 0))
    hours, ticket_hours, labour, uncosted, ticket_labour = worked.get(cid, (0.0,) * 5)
    seat_count = seats.get(cid)
    if seat_count is None:
        no_data["reactive_per_seat_month"] = "no active recurring contract with a seat count (contracts.seats)"
    per_seat = ratio(int(reactive or 0), (seat_count or 0) * w.months) if seat_count else None
    revenue = billed_revenue = recurring_in = other_cost = None
    if money_known:
        recurring_in = half_up(recurring.get(cid, 0.0), 2)
        billed_in, cost_in = billed.get(cid, (0.0, 0.0))
        billed_revenue, other_cost = half_up(float(billed_in), 2), half_up(float(cost_in), 2)
        revenue = half_up(recurring_in + billed_revenue, 2)
    else:
        for key in ("revenue", "margin", "margin_pct", "lifetime_revenue"):
            no_data[key] = "the source has no contract values or billing items"
    labour_cost = half_up(labour, 2) if not uncosted else None
    if uncosted:
        no_data["labour_cost"] = no_data["margin"] = (
            f"{uncosted:.2f} h by technicians without an hourly cost (resources.hourly_cost)"
        )
    margin = None if revenue is None or labour_cost is None else half_up(revenue - labour_cost - (other_cost or 0.0), 2)
    margin_pct = pct(margin, revenue) if margin is not None else None
    if margin is not None and not revenue:
        no_data["margin_pct"] = "no revenue in the period"
    lifetime = per_month = months = None
    if money_known and cid in firsts:
        since = firsts[cid]
        begin = local_midnight_utc(since, zone)
        months = half_up(max((w.end - begin).total_seconds(), 0.0) / 86400.0 / DAYS_PER_MONTH, 2)
        lifetime_recurring = _earned(own.get(cid, ()), begin, w.end, zone)
        lifetime = half_up(lifetime_recurring + float(billed_ever.get(cid, (0.0,))[0]), 2)
        per_month = ratio(lifetime, months)
    elif money_known:
        no_data["lifetime_revenue"] = "no contract with a start date"
    return frozen_record(
        ClientRow,
        dict(
            company_id=cid,
            company=name,
            open=t["open"].get(cid, (0,))[0],
            opened=opened,
            closed=closed,
            avg_first_response_minutes=_mean(resp[1], resp[0], 60.0),
            avg_resolution_hours=_mean(res[1], res[0], 3600.0),
            fcr_pct=pct(first, closed),
            sla_first_response_pct=compliance_pct(resp[3], resp[2], missed_resp),
            sla_resolution_pct=compliance_pct(res[3], res[2], missed_res),
            sla_pct=compliance_pct(resp[3] + res[3], resp[2] + res[2], missed_resp + missed_res),
            csat_avg=maybe(avg),
            csat_responses=n_csat,
            csat_below_3=int(low),
            nps=nps(promoters, detractors, n_nps),
            nps_responses=n_nps,
            nps_promoters=int(promoters),
            nps_detractors=int(detractors),
            hours=half_up(hours, 2),
            ticket_hours=half_up(ticket_hours, 2),
            hours_per_ticket=ratio(ticket_hours, closed),
            seats=seat_count,
            reactive_tickets=int(reactive or 0),
            reactive_per_seat_month=per_seat,
            recurring_revenue=recurring_in,
            billed_revenue=billed_revenue,
            revenue=revenue,
            labour_cost=labour_cost,
            ticket_labour_cost=half_up(ticket_labour, 2) if labour_cost is not None else None,
            other_cost=other_cost,
            margin=margin,
            margin_pct=margin_pct,
            lifetime_revenue=lifetime,
            relationship_months=months,
            lifetime_revenue_per_month=per_month,
            needy=[],
            no_data=no_data,
        ),
    )


def _earned(own: Iterable[ContractTerms], start: datetime, end: datetime, zone) -> float:
    """kpi.money.recurring_revenue of one company's contracts, as its one sum: the same terms
    added in the same order from 0.0, without a dict per company (2,000 a read)."""
    earned = 0.0
    for c in own:
        if c.recurring:
            seconds = c.active_seconds(start, end, zone)
            if seconds:
                earned += float(c.monthly_value or 0.0) * seconds / 86400.0 / DAYS_PER_MONTH
    return earned


def nps(promoters: int, detractors: int, responses: int) -> float | None:
    """% promoters - % detractors (-100 to 100); None without recommend answers."""
    return half_up(100.0 * (promoters - detractors) / responses, 2) if responses else None


def _median(values) -> float | None:
    known = [v for v in values if v is not None]
    return half_up(statistics.median(known), 2) if known else None


def _flag(row: ClientRow, medians: dict[str, float | None], config: Config) -> ClientRow:
    rules = config.clients
    needy = []
    if row.margin_pct is not None and row.margin_pct < rules.margin_threshold_pct:
        needy.append(f"margin {row.margin_pct:.1f}% below {rules.margin_threshold_pct:g}%")
    if row.revenue == 0 and row.labour_cost:
        needy.append(f"no revenue against {row.labour_cost:g} labour cost")
    for key, what in (("hours_per_ticket", "hours per ticket"), ("reactive_per_seat_month", "tickets per seat")):
        value, median = getattr(row, key), medians[key]
        if value is not None and median and value > rules.needy_multiple * median:
            needy.append(f"{what} {value:g}, over {rules.needy_multiple:g} x the median {median:g}")
    # Into the row's own list (_row made it empty, and nothing else holds the row yet), not a
    # copy of its 38 fields: ~1,200 of 1,941 rows are needy in a 30-day read (4.5 -> ~1.5 ms).
    row.needy.extend(needy)
    return row


TicketTotalsRow = tuple[float, float, float | None, float | None]  # opened, closed, labour cost, ticket labour cost


def _ticket_totals(rows: list[TicketTotalsRow]) -> dict[str, Any]:
    """New vs closed, labour cost and cost per ticket over the listed companies' (opened,
    closed, labour cost, ticket labour cost), in the list's order (the sums are floats)."""
    opened = sum(r[0] for r in rows)
    closed = sum(r[1] for r in rows)
    costed = [r for r in rows if r[2] is not None]
    labour = half_up(sum(r[2] or 0.0 for r in costed), 2) if len(costed) == len(rows) else None
    ticket_labour = half_up(sum(r[3] or 0.0 for r in costed), 2) if labour is not None else None
    return {
        "opened": opened,
        "closed": closed,
        "new_vs_closed_difference": opened - closed,
        "new_vs_closed_ratio": ratio(opened, closed),
        "labour_cost": labour,
        "cost_per_ticket": ratio(ticket_labour, closed),
    }


def service_totals(engine: Engine, now: datetime, config: Config, period: str = "30d") -> tuple[MoneyFigures, dict]:
    """What the Service pane shows of the Clients figures: client_figures(...).money and the
    ticket keys of its totals (_ticket_totals), equal to them, read without what only the
    Clients pane shows (service times, missed due times, surveys, billing, lifetime revenue:
    over half of a read of every company's figures)."""
    w = period_window(now, config, period)
    with engine.connect() as conn:
        names = conn.execute(
            select(companies.c.id, companies.c.name).where(companies.c.active).order_by(companies.c.name)
        ).all()
        sums = company_sums(conn, w.start, w.end + TICK)
        terms = read_contracts(conn)
    rows: list[TicketTotalsRow] = []
    for cid, _ in names:  # each company's row as _row makes it
        row = sums.get(cid)
        if row is None:
            rows.append((0, 0, 0.0, 0.0))
            continue
        costed = not row["uncosted_hours"]
        labour = half_up(row["labour_cost"], 2) if costed else None
        rows.append((row["opened"], row["closed"], labour, half_up(row["ticket_labour_cost"], 2) if costed else None))
    return money_figures(terms, w.first_day, w.last_day), _ticket_totals(rows)


def _totals(rows: list[ClientRow]) -> dict[str, Any]:
    """MSP-wide over the listed companies: new vs closed, labour cost and cost per ticket, NPS."""
    nps_n = sum(r.nps_responses for r in rows)
    return {
        **_ticket_totals([(r.opened, r.closed, r.labour_cost, r.ticket_labour_cost) for r in rows]),
        "nps": nps(sum(r.nps_promoters for r in rows), sum(r.nps_detractors for r in rows), nps_n),
        "nps_responses": nps_n,
        "needy": sum(1 for r in rows if r.needy),
        "no_data": {},  # figure -> why it is null
    }


@dataclass(frozen=True)
class MatrixPoint(Result):
    company_id: int
    company: str
    hours_per_seat: float
    margin_pct: float


@dataclass(frozen=True)
class ProfitabilityMatrix(Result):
    """The time and profitability matrix: one point per company with seats and a margin %,
    and its quadrant lines at the MSP's medians (over every listed company that has the figure)."""

    points: list[MatrixPoint]
    hours_per_seat_median: float | None
    margin_pct_median: float | None


def profitability_matrix(figures: ClientFigures) -> ProfitabilityMatrix:
    """Hours per seat (x) against margin % (y): the needy-and-unprofitable sit bottom right."""
    points = [
        MatrixPoint(r.company_id, r.company, per_seat, r.margin_pct)
        for r in figures.companies
        if r.margin_pct is not None and (per_seat := ratio(r.hours, r.seats)) is not None
    ]
    return ProfitabilityMatrix(points, figures.medians.get("hours_per_seat"), figures.medians.get("margin_pct"))
