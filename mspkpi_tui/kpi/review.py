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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, Text, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

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
    noun: str = "quarter"  # "period" for a FROM..TO span


@dataclass(frozen=True)
class Span:
    """The local dates a review covers (inclusive), its label, and the noun its notes use."""

    label: str
    first_day: date
    last_day: date
    noun: str  # "quarter" or "period"


PERIOD_HELP = "last-quarter, this-quarter, YYYY-Qn or FROM..TO (local dates YYYY-MM-DD, inclusive)"
RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


def _quarter_span(year: int, q: int) -> Span:
    first = date(year, 3 * (q - 1) + 1, 1)
    after = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return Span(f"{year}-Q{q}", first, after - timedelta(days=1), "quarter")


def parse_period(text: str | None, now: datetime, config: Config, option: str = "--period") -> Span:
    """last-quarter (the default: the last whole quarter before today), this-quarter (from its
    start to now), "2026-Q4", or "2026-07-15..2026-08-31" (local dates, both included). A span
    reaching past today ends at now; one starting after today is refused."""
    today = period_bounds(now, config).today
    given = (text or "last-quarter").strip()
    if given in ("last-quarter", "this-quarter"):
        year, q = today.year, (today.month - 1) // 3 + 1
        if given == "last-quarter":
            year, q = (year - 1, 4) if q == 1 else (year, q - 1)
        return _quarter_span(year, q)
    quarter = QUARTER.fullmatch(given)
    if quarter:
        return _quarter_span(int(quarter[1]), int(quarter[2]))
    dates = RANGE.fullmatch(given) if option == "--period" else None
    if not dates:
        shown = "look like 2026-Q4" if option == "--quarter" else f"be {PERIOD_HELP}"
        raise MspkpiError(f"{option} must {shown}, not {text!r}")
    try:
        first, last = date.fromisoformat(dates[1]), date.fromisoformat(dates[2])
    except ValueError as error:
        raise MspkpiError(f"{option} {text!r}: {error}") from None
    if last < first:
        raise MspkpiError(f"{option} {text!r} ends before it starts")
    return Span(f"{first:%Y-%m-%d}..{last:%Y-%m-%d}", first, last, "period")


def _clipped(w: Window, span: Span, config: Config) -> Window:
    """A month's window cut to the span's first and last local days (a no-op for quarters)."""
    start = max(w.start, local_midnight_utc(span.first_day, config.zone))
    ends = local_midnight_utc(span.last_day + timedelta(days=1), config.zone) - timedelta(microseconds=1)
    return Window(w.period, start, min(w.end, ends), max(w.first_day, span.first_day), min(w.last_day, span.last_day))


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


@dataclass(frozen=True)
class QuarterRows:
    """The quarter's rows every review reads, per company: read once for `--all` (a few
    grouped queries instead of six per company), or for one company."""

    surveys: dict[int, pd.DataFrame]  # completed_at, rating, recommend, comment
    issue_types: dict[int, dict[str, int]]  # tickets opened, by issue type
    requesters: dict[int, dict[str | None, int]]  # tickets opened, by contact name
    hours: dict[int, dict[tuple[str, str], float]]  # (category, local month) -> hours
    contracts: dict[int, list[Any]]  # its contracts' rows
    weekly: dict[tuple[int, str], dict[pd.Timestamp, int]]  # (company, opened|closed) -> week -> tickets


@dataclass(frozen=True)
class QuarterFrame:
    """What every company's review of one quarter shares: its months, one frame of every
    active company's figures per month and for the quarter, the MSP average (a groupby of
    it), and the quarter's rows per company."""

    label: str
    windows: list[Window]
    whole: Window
    frame: pd.DataFrame  # the quarter's figures of every company
    average: pd.Series
    by_company: dict[int, dict[str, dict[str, Any]]]  # company -> window -> its figures
    rows: QuarterRows
    noun: str = "quarter"  # what the notes call the span: "quarter" or "period"


def quarter_frame(
    engine: Engine,
    now: datetime,
    config: Config,
    quarter: str | None = None,
    company_id: int | None = None,
    option: str = "--period",
) -> QuarterFrame:
    """The shared frame, with the span's rows of every company (or of `company_id` only);
    `quarter` is any form parse_period reads (`option` names the flag it came from)."""
    span = parse_period(quarter, now, config, option)
    label, first = span.label, span.first_day
    if local_midnight_utc(first, config.zone) > now:
        raise MspkpiError(f"{label} has not started yet")
    months = [
        date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)
        for k in range((span.last_day.year - first.year) * 12 + span.last_day.month - first.month + 1)
    ]
    windows = [
        _clipped(month_window(m, config, now), span, config)
        for m in months
        if local_midnight_utc(max(m, first), config.zone) <= now
    ]
    last_month = windows[-1]
    whole = Window(label, windows[0].start, last_month.end, windows[0].first_day, last_month.last_day)
    # vars(), not asdict(): the rows are only read, and asdict's deep copies cost seconds for 2,000 companies
    records = [
        vars(row) | {"window": w.period}
        for w in [*windows, whole]
        for row in figures_for_window(engine, w, config).companies
    ]
    frame = pd.DataFrame([r for r in records if r["window"] == label])
    keys = [k for k, _, _ in FIGURES]
    # The MSP average: the mean over active companies that have the figure (pandas skips nulls).
    average = frame[keys].apply(pd.to_numeric, errors="coerce").mean()
    by_company: dict[int, dict[str, dict[str, Any]]] = {}
    for record in records:
        by_company.setdefault(record["company_id"], {})[record["window"]] = record
    rows = _quarter_rows(engine, whole, config, company_id)
    return QuarterFrame(label, windows, whole, frame, average, by_company, rows, span.noun)


def review(
    engine: Engine, now: datetime, config: Config, company: str, quarter: str | None = None, option: str = "--period"
) -> Review:
    company_id, name = find_company(engine, company)
    return company_review(
        engine, now, config, company_id, name, quarter_frame(engine, now, config, quarter, company_id, option)
    )


def active_companies(engine: Engine) -> list[tuple[int, str]]:
    """Every active company, by name (`mspkpi review --all`)."""
    with engine.connect() as conn:
        query = select(companies.c.id, companies.c.name).where(companies.c.active).order_by(companies.c.name)
        return [(cid, name) for cid, name in conn.execute(query)]


def company_review(
    engine: Engine, now: datetime, config: Config, company_id: int, name: str, shared: QuarterFrame
) -> Review:
    """One company's review from the quarter's shared frame and rows (computed once for `--all`)."""
    label, whole, rows, noun = shared.label, shared.whole, shared.rows, shared.noun
    mine = shared.by_company[company_id]
    tables = [
        _monthly(mine, shared.average, [w.period for w in shared.windows], label),
        _sla(mine, label, noun),
        *_surveys(rows.surveys.get(company_id), noun),
        _issue_types(rows.issue_types.get(company_id, {}), noun),
        _requesters(rows.requesters.get(company_id, {}), noun),
        _hours(rows.hours.get(company_id, {}), rows.contracts.get(company_id, []), whole, noun),
        _ending(rows.contracts.get(company_id, []), now, config),
    ]
    chart = _chart(rows, company_id, whole)
    return Review(name, label, whole.first_day, whole.last_day, now, tables, chart, noun)


def _monthly(mine: dict[str, dict[str, Any]], average: pd.Series, months: list[str], quarter: str) -> ReviewTable:
    rows = []
    for key, text, digits in FIGURES:
        cells = [_fmt(mine[m][key], digits) for m in [*months, quarter]]
        rows.append([text, *cells, _fmt(average[key], digits)])
    return ReviewTable(
        "service",
        "Service by month",
        ["Figure", *months, quarter, "MSP average per client"],
        rows,
        "Months are calendar months in the business time zone; the MSP average is the mean over active clients.",
    )


def _sla(mine: dict[str, dict[str, Any]], quarter: str, noun: str) -> ReviewTable:
    row = mine[quarter]
    return ReviewTable(
        "sla",
        f"SLA compliance in the {noun}",
        ["Target", "Met %"],
        [
            ["First response", _fmt(row["sla_first_response_pct"], 1)],
            ["Resolution", _fmt(row["sla_resolution_pct"], 1)],
            ["Both", _fmt(row["sla_pct"], 1)],
        ],
        "Met = done at or before the due time; due times that passed without it count as missed.",
    )


SURVEY_COLUMNS = ["completed_at", "rating", "recommend", "comment"]


class as_text(FunctionElement):
    """A stored time as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (pandas parses a column of
    them at once; a datetime per row costs seconds for a quarter's 400,000 time entries)."""

    type = Text()
    inherit_cache = True


@compiles(as_text, "sqlite")
def _as_text_sqlite(element, compiler, **kw):
    return "CAST(%s AS TEXT)" % compiler.process(element.clauses, **kw)  # stored as that text


@compiles(as_text, "postgresql")
def _as_text_pg(element, compiler, **kw):
    return "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')" % compiler.process(element.clauses, **kw)


def _times(texts: pd.Series) -> pd.Series:
    return pd.to_datetime(texts, utc=True, format="ISO8601")


def _quarter_rows(engine: Engine, w: Window, config: Config, company_id: int | None) -> QuarterRows:
    def within(column):
        return [column >= at(w.start), column <= at(w.end)]

    def of(column):
        return [column == company_id] if company_id is not None else [column.is_not(None)]

    with engine.connect() as conn:
        polled = conn.execute(
            select(
                surveys.c.company_id,
                surveys.c.completed_at,
                surveys.c.rating,
                surveys.c.recommend_score,
                surveys.c.comment,
            )
            .where(*of(surveys.c.company_id), *within(surveys.c.completed_at))
            .order_by(surveys.c.completed_at, surveys.c.id)
        ).all()
        asked = conn.execute(
            select(tickets.c.company_id, tickets.c.contact_name, func.count())
            .where(*of(tickets.c.company_id), *within(tickets.c.created_at))
            .group_by(tickets.c.company_id, tickets.c.contact_name)
        ).all()
        typed = conn.execute(
            select(tickets.c.company_id, tickets.c.issue_type, func.count())
            .where(*of(tickets.c.company_id), *within(tickets.c.created_at))
            .group_by(tickets.c.company_id, tickets.c.issue_type)
        ).all()
        # An entry counts for the company of its ticket and for the company of its project (once each).
        logged = [
            row
            for owner, key in ((tickets, entries.c.ticket_id), (projects, entries.c.project_id))
            for row in conn.execute(
                select(
                    owner.c.company_id, entries.c.id, as_text(entries.c.started_at), entries.c.category, entries.c.hours
                )
                .select_from(entries.join(owner, owner.c.id == key))
                .where(*of(owner.c.company_id), *within(entries.c.started_at))
            )
        ]
        contracted = conn.execute(
            select(
                contracts.c.company_id,
                contracts.c.name,
                contracts.c.category,
                contracts.c.monthly_value,
                contracts.c.seats,
                contracts.c.start_date,
                contracts.c.end_date,
                contracts.c.status,
            ).where(*of(contracts.c.company_id))
        ).all()
        times = {
            kind: conn.execute(
                select(tickets.c.company_id, as_text(tickets.c[column])).where(
                    *of(tickets.c.company_id), *within(tickets.c[column])
                )
            ).all()
            for kind, column in (("opened", "created_at"), ("closed", "completed_at"))
        }
    grouped_surveys: dict[int, list] = {}
    for cid, *values in polled:
        grouped_surveys.setdefault(cid, []).append(values)
    issue_types: dict[int, dict[str, int]] = {}
    for cid, label, n in typed:
        counts = issue_types.setdefault(cid, {})
        counts[label or NO_LABEL] = counts.get(label or NO_LABEL, 0) + n
    requesters: dict[int, dict[str | None, int]] = {}
    for cid, contact, n in asked:
        requesters.setdefault(cid, {})[contact] = n
    own: dict[int, list[Any]] = {}
    for row in contracted:
        own.setdefault(row.company_id, []).append(row)
    return QuarterRows(
        surveys={cid: pd.DataFrame(values, columns=SURVEY_COLUMNS) for cid, values in grouped_surveys.items()},
        issue_types=issue_types,
        requesters=requesters,
        hours=_hours_by_month(logged, config),
        contracts=own,
        weekly={key: counts for kind, found in times.items() for key, counts in _weekly(kind, found, config).items()},
    )


def _hours_by_month(logged: list, config: Config) -> dict[int, dict[tuple[str, str], float]]:
    """Per company: hours by (category, local month), every entry once per company."""
    if not logged:
        return {}
    df = pd.DataFrame(list(map(tuple, logged)), columns=["company_id", "id", "started_at", "category", "hours"])
    df = df.drop_duplicates(["company_id", "id"])
    local = _times(df["started_at"]).dt.tz_convert(config.zone)
    df["month"] = local.dt.year.astype(str) + "-" + local.dt.month.astype(str).str.zfill(2)
    df["category"] = df["category"].fillna(NO_LABEL)
    summed = df.groupby(["company_id", "category", "month"], sort=False)["hours"].sum()
    out: dict[int, dict[tuple[str, str], float]] = {}
    for (cid, category, month), hours in summed.items():
        out.setdefault(int(cid), {})[(str(category), str(month))] = float(hours)
    return out


def _weekly(kind: str, found: Sequence[Any], config: Config) -> dict[tuple[int, str], dict[pd.Timestamp, int]]:
    """Per company: tickets per local week (weeks start on Monday), by the given time."""
    if not found:
        return {}
    df = pd.DataFrame(list(map(tuple, found)), columns=["company_id", "at"])
    local = _times(df["at"]).dt.tz_convert(config.zone).dt.tz_localize(None).dt.normalize()
    df["week"] = local - pd.to_timedelta(local.dt.day_of_week, unit="D")
    out: dict[tuple[int, str], dict[pd.Timestamp, int]] = {}
    for (cid, week), n in df.groupby(["company_id", "week"], sort=False).size().items():
        out.setdefault((int(cid), kind), {})[week] = int(n)
    return out


def _fmt_surveys_nps(scored: pd.Series) -> str:
    if scored.empty:
        return "no data"
    return f"{100.0 * ((scored >= 9).sum() - (scored <= 6).sum()) / len(scored):.0f} ({len(scored)} answers)"


def _surveys(df: pd.DataFrame | None, noun: str) -> list[ReviewTable]:
    if df is None:
        df = pd.DataFrame([], columns=SURVEY_COLUMNS)
    summary = ReviewTable(
        "csat",
        "Customer satisfaction",
        ["Figure", "Value"],
        [
            ["CSAT (1-5)", _fmt(df["rating"].mean() if len(df) else None, 2)],
            ["Responses", str(len(df))],
            ["Below 3", str(int((df["rating"] < CSAT_FOLLOW_UP_BELOW).sum()))],
            ["NPS", _fmt_surveys_nps(df["recommend"].dropna())],
        ],
    )
    low = df[df["rating"] < CSAT_FOLLOW_UP_BELOW].sort_values("completed_at", kind="stable")
    comments = ReviewTable(
        "low_ratings",
        "Ratings below 3 and their comments",
        ["Date", "Rating", "Comment"],
        [[f"{r.completed_at:%Y-%m-%d}", _fmt(r.rating, 0), r.comment or "(no comment)"] for r in low.itertuples()],
        "" if len(low) else f"none in the {noun}",
    )
    return [summary, comments]


def _issue_types(counts: dict[str, int], noun: str) -> ReviewTable:
    """The most opened first, ties by name."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    total = sum(counts.values())
    return ReviewTable(
        "issue_types",
        f"Top {TOP} issue types (tickets opened)",
        ["Issue type", "Tickets", "Share %"],
        [[str(k), str(int(v)), _fmt(100.0 * v / total, 1)] for k, v in top],
        "" if total else f"no tickets opened in the {noun}",
    )


def _requesters(counts: dict[str | None, int], noun: str) -> ReviewTable:
    """Who raised the tickets opened in the quarter (the ticket's contact), the busiest first."""
    total = sum(counts.values())
    named = {k: n for k, n in counts.items() if k is not None and k.strip() != ""}
    if not named:
        why = (
            f"no tickets opened in the {noun}" if not total else "no data: the source names no requester on its tickets"
        )
        return ReviewTable("requesters", "Most frequent requesters", [], [], why)
    top = sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    unnamed = total - sum(named.values())
    note = f"Share of the {total} tickets opened in the {noun}."
    if unnamed:
        note += f" {unnamed} name no requester (monitoring alerts and the like)."
    return ReviewTable(
        "requesters",
        "Most frequent requesters",
        ["Requester", "Tickets", "Share %"],
        [[str(k), str(int(v)), _fmt(100.0 * v / total, 1)] for k, v in top],
        note,
    )


def _hours(cells: dict[tuple[str, str], float], own: list[Any], w: Window, noun: str) -> ReviewTable:
    """Hours by category (rows, most first) and local month (columns) with the quarter's total."""
    if not cells:
        return ReviewTable("hours", "Hours by category", [], [], f"no time logged for this client in the {noun}")
    months = sorted({m for _, m in cells})
    table = {cat: [cells.get((cat, m), 0.0) for m in months] for cat in sorted({c for c, _ in cells})}
    ordered = sorted(((cat, [*v, sum(v)]) for cat, v in table.items()), key=lambda kv: -kv[1][-1])  # stable
    rows = [[cat, *(_fmt(v, 1) for v in values)] for cat, values in ordered]
    totals = [sum(values[i] for _, values in ordered) for i in range(len(months) + 1)]
    rows.append(["Total", *(_fmt(v, 1) for v in totals)])
    active = [
        c
        for c in own
        if (c.start_date is None or c.start_date <= w.last_day) and (c.end_date is None or c.end_date >= w.last_day)
    ]
    seat_values = [c.seats for c in active if c.seats is not None]
    monthly_values = [c.monthly_value for c in active if c.monthly_value is not None]
    seat_count = sum(seat_values) if seat_values else None
    monthly = sum(monthly_values) if monthly_values else None
    months_in = max((w.end - w.start).total_seconds() / 86400.0 / (365.25 / 12), 1e-9)
    if seat_count:
        per_seat = f"{totals[-1] / months_in / float(seat_count):.2f} hours per seat per month"
        against = f"against {float(seat_count):g} seats and {float(monthly or 0):,.0f} a month under contract"
        note = f"{per_seat}, {against}."
    else:
        note = "no seats under contract: hours per seat is no data."
    return ReviewTable("hours", "Hours by category", ["Category", *months, noun.capitalize()], rows, note)


def _ending(own: list[Any], now: datetime, config: Config) -> ReviewTable:
    today = period_bounds(now, config).today
    last = today + timedelta(days=ENDING_DAYS)
    found = sorted(
        (
            c
            for c in own
            if (c.status or "").lower() == "active" and c.end_date is not None and today <= c.end_date <= last
        ),
        key=lambda c: (c.end_date, c.name),
    )
    return ReviewTable(
        "contracts_ending",
        f"Contracts ending in the next {ENDING_DAYS} days (from {today:%Y-%m-%d})",
        ["Contract", "Category", "Monthly value", "Ends"],
        [[c.name, c.category or NO_LABEL, _fmt(c.monthly_value, 0), f"{c.end_date:%Y-%m-%d}"] for c in found],
        "" if found else "none",
    )


def _chart(rows: QuarterRows, company_id: int, w: Window) -> str:
    """Tickets opened and closed per week in the quarter, as plotext text (no colour)."""
    weeks = pd.date_range(
        pd.Timestamp(w.first_day) - pd.Timedelta(days=w.first_day.weekday()), pd.Timestamp(w.last_day), freq="7D"
    )

    def per_week(kind: str) -> tuple[float, ...]:
        counts = rows.weekly.get((company_id, kind), {})
        return tuple(float(counts.get(week, 0)) for week in weeks)

    labels = tuple(f"{d:%d %b}" for d in weeks)
    return line_chart(
        "Tickets opened and closed per week",
        labels,
        (Series("opened", per_week("opened")), Series("closed", per_week("closed"))),
        78,
        14,
        color=False,
    )
