"""The quarterly business review of one company (`mspkpi review`): its service figures by
month beside the MSP's average, SLA compliance, CSAT and the comments below 3, top issue
types, hours by category against its contracts, contracts ending in the next 90 days, and a
weekly chart as text.

The figures are kpi.clients' (each rule in one place: called per month, not re-derived);
pandas groups, pivots and compares them. pandas is imported only here, and nothing on the
dashboard's or `mspkpi kpi`'s import path imports this module (tests/test_review.py checks).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, func, select

from mspkpi_tui.charts import Series, line_chart
from mspkpi_tui.clock import local_midnight_utc
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.kpi.clients import Window, figures_for_window, month_window
from mspkpi_tui.kpi.common import NO_LABEL
from mspkpi_tui.kpi.rules import at, period_bounds, tickets
from mspkpi_tui.kpi.service import CSAT_FOLLOW_UP_BELOW
from mspkpi_tui.store import models

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

companies = models.table(models.Company)
surveys = models.table(models.SurveyResult)
entries = models.table(models.TimeEntry)
projects = models.table(models.Project)
contracts = models.table(models.Contract)

# The figures of the monthly table: (key of kpi.clients.ClientRow, label, decimals).
FIGURES = [
    ("opened", "Tickets opened", 0),
    ("closed", "Tickets closed", 0),
    ("avg_first_response_minutes", "Avg first response (min)", 0),
    ("avg_resolution_hours", "Avg resolution (h)", 1),
    ("fcr_pct", "First contact resolution %", 1),
    ("sla_first_response_pct", "SLA response met %", 1),
    ("sla_resolution_pct", "SLA resolution met %", 1),
    ("csat_avg", "CSAT (1-5)", 2),
    ("csat_responses", "CSAT responses", 0),
    ("hours", "Hours spent", 1),
    ("hours_per_ticket", "Hours per closed ticket", 2),
    ("reactive_per_seat_month", "Reactive tickets per seat per month", 2),
]
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
ENDING_DAYS = 90
TOP = 5


@dataclass(frozen=True)
class ReviewTable:
    key: str  # the CSV's section name
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass(frozen=True)
class Review:
    company: str
    quarter: str
    first_day: date
    last_day: date
    as_of: datetime
    tables: list[ReviewTable] = field(default_factory=list)
    chart: str = ""


def parse_quarter(text: str | None, now: datetime, config: Config) -> tuple[str, date]:
    """ "2026-Q4" -> ("2026-Q4", its first day); None = the last whole quarter before today."""
    if text is None:
        today = period_bounds(now, config).today
        year, q = today.year, (today.month - 1) // 3  # the quarter before this one, 0-based
        if q == 0:
            year, q = year - 1, 4
        text = f"{year}-Q{q}"
    match = QUARTER.fullmatch(text.strip())
    if not match:
        raise MspkpiError(f"--quarter must look like 2026-Q4, not {text!r}")
    year, q = int(match[1]), int(match[2])
    return f"{year}-Q{q}", date(year, 3 * (q - 1) + 1, 1)


def find_company(engine: Engine, name: str) -> tuple[int, str]:
    """The active company named `name` (case-insensitive), else the only one whose name contains it."""
    with engine.connect() as conn:
        listed = conn.execute(select(companies.c.id, companies.c.name).where(companies.c.active)).all()
    exact = [(cid, n) for cid, n in listed if n.lower() == name.strip().lower()]
    partial = [(cid, n) for cid, n in listed if name.strip().lower() in n.lower()]
    found = exact or partial
    if len(found) == 1:
        return found[0]
    if not found:
        raise MspkpiError(f"no active company is called {name!r}")
    shown = ", ".join(sorted(n for _, n in found)[:5])
    raise MspkpiError(f"{name!r} names {len(found)} companies ({shown}); give the full name")


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "no data"
    return f"{float(value):,.{digits}f}"


def review(engine: Engine, now: datetime, config: Config, company: str, quarter: str | None = None) -> Review:
    company_id, name = find_company(engine, company)
    label, first = parse_quarter(quarter, now, config)
    months = [first, *(date(first.year, first.month + k, 1) for k in (1, 2))]
    if local_midnight_utc(first, config.zone) > now:
        raise MspkpiError(f"{label} has not started yet")
    windows = [month_window(m, config, now) for m in months if local_midnight_utc(m, config.zone) <= now]
    last_month = windows[-1]
    whole = Window(label, windows[0].start, last_month.end, windows[0].first_day, last_month.last_day)
    # One frame of every company's figures per month and for the quarter: the MSP average is a groupby.
    frame = pd.DataFrame(
        [
            asdict(row) | {"window": w.period}
            for w in [*windows, whole]
            for row in figures_for_window(engine, w, config).companies
        ]
    )
    tables = [
        _monthly(frame, company_id, [w.period for w in windows], label),
        _sla(frame, company_id, label),
        *_surveys(engine, company_id, whole),
        _issue_types(engine, company_id, whole),
        _requesters(engine, company_id, whole),
        _hours(engine, company_id, whole, config),
        _ending(engine, company_id, now, config),
    ]
    return Review(name, label, whole.first_day, whole.last_day, now, tables, _chart(engine, company_id, whole, config))


def _monthly(frame: pd.DataFrame, company_id: int, months: list[str], quarter: str) -> ReviewTable:
    keys = [k for k, _, _ in FIGURES]
    mine = frame[frame["company_id"] == company_id].set_index("window")[keys]
    # The MSP average: the mean over active companies that have the figure (pandas skips nulls).
    average = frame[frame["window"] == quarter][keys].apply(pd.to_numeric, errors="coerce").mean()
    rows = []
    for key, text, digits in FIGURES:
        cells = [_fmt(mine.at[m, key], digits) for m in [*months, quarter]]
        rows.append([text, *cells, _fmt(average[key], digits)])
    return ReviewTable(
        "service",
        "Service by month",
        ["Figure", *months, quarter, "MSP average per client"],
        rows,
        "Months are calendar months in the business time zone; the MSP average is the mean over active clients.",
    )


def _sla(frame: pd.DataFrame, company_id: int, quarter: str) -> ReviewTable:
    row = frame[(frame["company_id"] == company_id) & (frame["window"] == quarter)].iloc[0]
    return ReviewTable(
        "sla",
        "SLA compliance in the quarter",
        ["Target", "Met %"],
        [
            ["First response", _fmt(row["sla_first_response_pct"], 1)],
            ["Resolution", _fmt(row["sla_resolution_pct"], 1)],
            ["Both", _fmt(row["sla_pct"], 1)],
        ],
        "Met = done at or before the due time; due times that passed without it count as missed.",
    )


def _surveys(engine: Engine, company_id: int, w: Window) -> list[ReviewTable]:
    query = select(surveys.c.completed_at, surveys.c.rating, surveys.c.recommend_score, surveys.c.comment).where(
        surveys.c.company_id == company_id, surveys.c.completed_at >= at(w.start), surveys.c.completed_at <= at(w.end)
    )
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(query).all(), columns=["completed_at", "rating", "recommend", "comment"])
    scored = df["recommend"].dropna()
    nps = (
        "no data"
        if scored.empty
        else f"{100.0 * ((scored >= 9).sum() - (scored <= 6).sum()) / len(scored):.0f} ({len(scored)} answers)"
    )
    summary = ReviewTable(
        "csat",
        "Customer satisfaction",
        ["Figure", "Value"],
        [
            ["CSAT (1-5)", _fmt(df["rating"].mean() if len(df) else None, 2)],
            ["Responses", str(len(df))],
            ["Below 3", str(int((df["rating"] < CSAT_FOLLOW_UP_BELOW).sum()))],
            ["NPS", nps],
        ],
    )
    low = df[df["rating"] < CSAT_FOLLOW_UP_BELOW].sort_values("completed_at")
    comments = ReviewTable(
        "low_ratings",
        "Ratings below 3 and their comments",
        ["Date", "Rating", "Comment"],
        [[f"{r.completed_at:%Y-%m-%d}", _fmt(r.rating, 0), r.comment or "(no comment)"] for r in low.itertuples()],
        "" if len(low) else "none in the quarter",
    )
    return [summary, comments]


def _issue_types(engine: Engine, company_id: int, w: Window) -> ReviewTable:
    query = select(tickets.c.issue_type).where(
        tickets.c.company_id == company_id, tickets.c.created_at >= at(w.start), tickets.c.created_at <= at(w.end)
    )
    with engine.connect() as conn:
        types = pd.Series([t or NO_LABEL for t in conn.execute(query).scalars()], dtype="object")
    counts = types.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable").head(TOP)
    total = len(types)
    return ReviewTable(
        "issue_types",
        f"Top {TOP} issue types (tickets opened)",
        ["Issue type", "Tickets", "Share %"],
        [[str(k), str(int(v)), _fmt(100.0 * v / total, 1)] for k, v in counts.items()],
        "" if total else "no tickets opened in the quarter",
    )


def _requesters(engine: Engine, company_id: int, w: Window) -> ReviewTable:
    """Who raised the tickets opened in the quarter (the ticket's contact), the busiest first."""
    query = select(tickets.c.contact_name).where(
        tickets.c.company_id == company_id, tickets.c.created_at >= at(w.start), tickets.c.created_at <= at(w.end)
    )
    with engine.connect() as conn:
        names = pd.Series(list(conn.execute(query).scalars()), dtype="object")
    total = len(names)
    named = names.dropna()
    named = named[named.str.strip() != ""]
    if named.empty:
        why = (
            "no tickets opened in the quarter" if not total else "no data: the source names no requester on its tickets"
        )
        return ReviewTable("requesters", "Most frequent requesters", [], [], why)
    counts = named.value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").head(TOP)
    unnamed = total - len(named)
    note = f"Share of the {total} tickets opened in the quarter."
    if unnamed:
        note += f" {unnamed} name no requester (monitoring alerts and the like)."
    return ReviewTable(
        "requesters",
        "Most frequent requesters",
        ["Requester", "Tickets", "Share %"],
        [[str(k), str(int(v)), _fmt(100.0 * v / total, 1)] for k, v in counts.items()],
        note,
    )


def _hours(engine: Engine, company_id: int, w: Window, config: Config) -> ReviewTable:
    on_company = entries.c.ticket_id.in_(select(tickets.c.id).where(tickets.c.company_id == company_id)) | (
        entries.c.project_id.in_(select(projects.c.id).where(projects.c.company_id == company_id))
    )
    query = select(entries.c.started_at, entries.c.category, entries.c.hours).where(
        on_company, entries.c.started_at >= at(w.start), entries.c.started_at <= at(w.end)
    )
    seats = select(func.sum(contracts.c.seats), func.sum(contracts.c.monthly_value)).where(
        contracts.c.company_id == company_id,
        (contracts.c.start_date.is_(None)) | (contracts.c.start_date <= w.last_day),
        (contracts.c.end_date.is_(None)) | (contracts.c.end_date >= w.last_day),
    )
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(query).all(), columns=["started_at", "category", "hours"])
        seat_count, monthly = conn.execute(seats).one()
    if df.empty:
        return ReviewTable("hours", "Hours by category", [], [], "no time logged for this client in the quarter")
    df["month"] = pd.to_datetime(df["started_at"], utc=True).dt.tz_convert(config.zone).dt.strftime("%Y-%m")
    df["category"] = df["category"].fillna(NO_LABEL)
    pivot = df.pivot_table(index="category", columns="month", values="hours", aggfunc="sum", fill_value=0.0)
    pivot["Quarter"] = pivot.sum(axis=1)
    pivot = pivot.sort_values("Quarter", ascending=False, kind="stable")
    rows = [[str(cat), *(_fmt(v, 1) for v in values)] for cat, values in zip(pivot.index, pivot.to_numpy())]
    totals = pivot.sum()
    rows.append(["Total", *(_fmt(v, 1) for v in totals.to_numpy())])
    months_in = max((w.end - w.start).total_seconds() / 86400.0 / (365.25 / 12), 1e-9)
    if seat_count:
        per_seat = f"{totals['Quarter'] / months_in / float(seat_count):.2f} hours per seat per month"
        against = f"against {float(seat_count):g} seats and {float(monthly or 0):,.0f} a month under contract"
        note = f"{per_seat}, {against}."
    else:
        note = "no seats under contract: hours per seat is no data."
    return ReviewTable("hours", "Hours by category", ["Category", *pivot.columns.astype(str)], rows, note)


def _ending(engine: Engine, company_id: int, now: datetime, config: Config) -> ReviewTable:
    today = period_bounds(now, config).today
    query = (
        select(contracts.c.name, contracts.c.category, contracts.c.monthly_value, contracts.c.end_date)
        .where(
            contracts.c.company_id == company_id,
            func.lower(contracts.c.status) == "active",
            contracts.c.end_date >= today,
            contracts.c.end_date <= today + timedelta(days=ENDING_DAYS),
        )
        .order_by(contracts.c.end_date, contracts.c.name)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    return ReviewTable(
        "contracts_ending",
        f"Contracts ending in the next {ENDING_DAYS} days (from {today:%Y-%m-%d})",
        ["Contract", "Category", "Monthly value", "Ends"],
        [[n, c or NO_LABEL, _fmt(v, 0), f"{e:%Y-%m-%d}"] for n, c, v, e in found],
        "" if found else "none",
    )


def _chart(engine: Engine, company_id: int, w: Window, config: Config) -> str:
    """Tickets opened and closed per week in the quarter, as plotext text (no colour)."""
    mine = tickets.c.company_id == company_id
    with engine.connect() as conn:
        opened = pd.Series(
            conn.execute(
                select(tickets.c.created_at).where(
                    mine, tickets.c.created_at >= at(w.start), tickets.c.created_at <= at(w.end)
                )
            ).scalars()
        )
        closed = pd.Series(
            conn.execute(
                select(tickets.c.completed_at).where(
                    mine, tickets.c.completed_at >= at(w.start), tickets.c.completed_at <= at(w.end)
                )
            ).scalars()
        )
    weeks = pd.date_range(
        pd.Timestamp(w.first_day) - pd.Timedelta(days=w.first_day.weekday()), pd.Timestamp(w.last_day), freq="7D"
    )

    def per_week(times: pd.Series) -> list[float | None]:
        if times.empty:
            return [0.0] * len(weeks)
        local = pd.to_datetime(times, utc=True).dt.tz_convert(config.zone).dt.tz_localize(None)
        counts = local.dt.normalize().map(lambda d: d - pd.Timedelta(days=d.weekday())).value_counts()
        return [float(counts.get(week, 0)) for week in weeks]

    labels = tuple(f"{d:%d %b}" for d in weeks)
    return line_chart(
        "Tickets opened and closed per week",
        labels,
        (Series("opened", tuple(per_week(opened))), Series("closed", tuple(per_week(closed)))),
        78,
        14,
        color=False,
    )
