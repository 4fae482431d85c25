"""The `mspkpi kpi` report: every figure of the chosen sections, as plain data.

The keys are a stable public interface, documented in docs/kpi.md. Presenting the report
(table, JSON, CSV, Markdown) is the CLI's job: mspkpi_tui.output.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.kpi.clients import client_figures
from mspkpi_tui.kpi.common import Refresh
from mspkpi_tui.kpi.contracts import HORIZONS, contract_figures
from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.history import BUCKETS, RANGES, history
from mspkpi_tui.kpi.pipeline import pipeline_figures
from mspkpi_tui.kpi.projects import project_figures
from mspkpi_tui.kpi.queue import queue_figures
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.kpi.sla import sla_figures
from mspkpi_tui.kpi.team import team_figures
from mspkpi_tui.kpi.trends import trend_series

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

SECTIONS: dict[str, Callable] = {
    "queue": queue_figures,
    "sla": sla_figures,
    "service": service_figures,
    "escalations": escalation_figures,
    "team": team_figures,
    "pipeline": pipeline_figures,
    "contracts": contract_figures,
    "projects": project_figures,
    "trends": trend_series,
    "clients": client_figures,
}
# What `mspkpi kpi` prints without --section: every area but the per-company list, which is
# long (a row per client) and costly on a large tenant (bench/RESULTS.md): asked for by name.
DEFAULT_SECTIONS = [name for name in SECTIONS if name != "clients"]
# Areas that take a `refresh` (kpi.common.Refresh) and share intermediate results through it.
SHARES_WORK = {"sla", "service", "escalations", "trends"}


def zone_name(config: Config) -> str:
    zone = config.zone
    return getattr(zone, "key", None) or str(zone)


def rules_in_force(config: Config, history_days: int = 30, history_by: str = "day") -> dict[str, str]:
    """One line per section naming the rule the figures follow (config values included)."""
    esc, ts, pipe, svc, cl = config.escalation, config.timesheet, config.pipeline, config.service, config.clients
    weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][config.week_start]
    target = f"target {pipe.target:g}" if pipe.target else "no target set, so coverage is null"
    # An empty list in the config drops its clause rather than leaving "unless ;" or "at  days".
    done = f" unless {'/'.join(ts.done_statuses)}" if ts.done_statuses else ""
    days = "/".join(str(d) for d in pipe.checkin_days)
    checkins = f"check-ins at {days} days" if days else "no check-ins set"
    return {
        "queue": "open = status not closed as the source marks it",
        "sla": "30d = the 30 x 24 h ending now; met = done at or before due; tickets without a due time are not counted",
        "service": (
            f"wall-clock times; kill rate = closed / opened %; FCR over {svc.fcr_period}: first touch = fewer than 2 time "
            f"entries; reopened = status from one of {', '.join(svc.closed_statuses)} to another"
        ),
        "escalations": (
            f"last {esc.period_days} days; statuses {', '.join(esc.statuses) or '-'}; queues {', '.join(esc.queues) or '-'}; "
            "first escalation counted once; rate = escalated / opened"
        ),
        "team": (
            f"weeks start {weekday} 00:00 local; utilization = billable / weekly hours"
            f"{' minus time off' if ts.time_off_categories else ''} (the whole week); utilization wtd = billable / "
            "the weekly hours gone by (Mon-Fri 09-17 local); billable % = billable / worked; "
            f"timesheet overdue after deadline or period end + {ts.grace_days:g} day(s){done}; "
            f"no timesheet records: weeks under {ts.threshold:.0%} of weekly hours (last {ts.lookback_weeks} weeks)"
        ),
        "pipeline": (
            f"days in stage since entering it; {checkins}; "
            f"coverage = open amount / target ({target}; rule of thumb {pipe.coverage_multiple:g}x); month in the business zone"
        ),
        "contracts": f"active contracts ending today .. today + {'/'.join(str(h) for h in HORIZONS)} days (cumulative)",
        "projects": (
            "open projects; Red = late on calendar and hours, Amber = one, Green = neither; no estimate = not late on "
            "hours; hours to deliver: the five largest categories, the rest as Other"
        ),
        "trends": (
            f"the last 30 business-zone days, today last (up to now); history: the last {history_days} days by "
            f"{history_by}, backlog and aged at each {history_by}'s end (reopened tickets open again from the "
            f"reopen), SLA and CSAT per week, faint = the previous {history_days} days"
        ),
        "clients": (
            "per active company over the last 30 days (TUI: this quarter, 12 months); FCR, SLA, CSAT by the service "
            "rules; hours per ticket = ticket hours / closed; revenue = recurring contract value prorated by day + "
            "non-recurring billing items; margin = revenue - labour (hours x hourly cost) - billing items' cost; "
            f"needy: margin below {cl.margin_threshold_pct:g}% or hours per ticket / tickets per seat above "
            f"{cl.needy_multiple:g} x the median; NPS from {cl.nps_question!r}; null = no data (reason in no_data)"
        ),
    }


def check_section(section: str | None) -> list[str]:
    if section is None:
        return list(DEFAULT_SECTIONS)
    if section not in SECTIONS:
        raise MspkpiError(f"unknown section {section!r}; choose one of: {', '.join(SECTIONS)}")
    return [section]


def check_history(days: int, by: str) -> None:
    """The trends section's long view: one of the Trends pane's windows, by day or week."""
    if days not in RANGES:
        raise MspkpiError(f"--days must be one of {', '.join(map(str, RANGES))}, not {days}")
    if by not in BUCKETS:
        raise MspkpiError(f"--by must be one of {', '.join(BUCKETS)}, not {by!r}")


def compute_report(
    engine: Engine,
    now: datetime,
    config: Config,
    sections: list[str] | None = None,
    history_days: int = 30,
    history_by: str = "day",
) -> dict[str, Any]:
    """The report; `history_days` and `history_by` choose the trends section's history window."""
    check_history(history_days, history_by)
    names = list(DEFAULT_SECTIONS) if sections is None else [n for s in sections for n in check_section(s)]
    report: dict[str, Any] = {
        "as_of": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": zone_name(config),
    }
    refresh = Refresh()  # what areas share within this one refresh (never kept across refreshes)
    for name in names:
        area = SECTIONS[name]
        figures = area(engine, now, config, refresh=refresh) if name in SHARES_WORK else area(engine, now, config)
        report[name] = figures.to_dict()
        if name == "trends":  # the long view (kpi.history): backlog, aged, SLA per week over the asked window
            report[name]["history"] = history(engine, now, config, history_days, history_by, refresh).to_dict()
    rules = rules_in_force(config, history_days, history_by)
    report["rules"] = {name: rules[name] for name in names}
    return report
