"""The `mspkpi kpi` report: every figure, as a table, JSON, CSV or Markdown.

The JSON keys are a stable public interface, documented in docs/kpi.md.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from mspkpi_tui.charts import colour_wanted, report_charts
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.kpi.common import Refresh
from mspkpi_tui.kpi.contracts import HORIZONS, contract_figures
from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.history import history
from mspkpi_tui.kpi.pipeline import pipeline_figures
from mspkpi_tui.kpi.projects import project_figures
from mspkpi_tui.kpi.queue import queue_figures
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.kpi.sla import sla_figures
from mspkpi_tui.kpi.team import team_figures
from mspkpi_tui.kpi.trends import trend_series

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
}
# Areas that take a `refresh` (kpi.common.Refresh) and share intermediate results through it.
SHARES_WORK = {"sla", "service", "escalations", "trends"}
FORMATS = ("table", "json", "csv", "markdown")
WIDTH = 80


def zone_name(config) -> str:
    zone = config.zone
    return getattr(zone, "key", None) or str(zone)


def rules_in_force(config) -> dict[str, str]:
    """One line per section naming the rule the figures follow (config values included)."""
    esc, ts, pipe, svc = config.escalation, config.timesheet, config.pipeline, config.service
    weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][config.week_start]
    target = f"target {pipe.target:g}" if pipe.target else "no target set, so coverage is null"
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
            f"{' minus time off' if ts.time_off_categories else ''} (this week); billable % = billable / worked; "
            f"timesheet overdue after deadline or period end + {ts.grace_days:g} day(s) unless {'/'.join(ts.done_statuses)}; "
            f"no timesheet records: weeks under {ts.threshold:.0%} of weekly hours (last {ts.lookback_weeks} weeks)"
        ),
        "pipeline": (
            f"days in stage since entering it; check-ins at {'/'.join(str(d) for d in pipe.checkin_days)} days; "
            f"coverage = open amount / target ({target}; rule of thumb {pipe.coverage_multiple:g}x); month in the business zone"
        ),
        "contracts": f"active contracts ending today .. today + {'/'.join(str(h) for h in HORIZONS)} days (cumulative)",
        "projects": "open projects; Red = late on calendar and hours, Amber = one, Green = neither; no estimate = not late on hours",
        "trends": (
            "the last 30 business-zone days, today last (up to now); history: backlog and aged at each day's end "
            "(reopened tickets open again from the reopen), SLA and CSAT per week, faint = the previous 30 days"
        ),
    }


def _check_section(section: str | None) -> list[str]:
    if section is None:
        return list(SECTIONS)
    if section not in SECTIONS:
        raise MspkpiError(f"unknown section {section!r}; choose one of: {', '.join(SECTIONS)}")
    return [section]


def compute_report(engine: Engine, now: datetime, config, sections: list[str] | None = None) -> dict[str, Any]:
    names = list(SECTIONS) if sections is None else [n for s in sections for n in _check_section(s)]
    report: dict[str, Any] = {
        "as_of": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": zone_name(config),
    }
    refresh = Refresh()  # what areas share within this one refresh (never kept across refreshes)
    for name in names:
        area = SECTIONS[name]
        figures = area(engine, now, config, refresh=refresh) if name in SHARES_WORK else area(engine, now, config)
        report[name] = figures.to_dict()
        if name == "trends":  # the long view (kpi.history): 30 days by day, with backlog, aged, SLA per week
            report[name]["history"] = history(engine, now, config).to_dict()
    rules = rules_in_force(config)
    report["rules"] = {name: rules[name] for name in names}
    return report


def render_report(engine: Engine, now: datetime, config, fmt: str, section: str | None) -> str:
    names = _check_section(section)
    if fmt not in FORMATS:
        raise MspkpiError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    report = compute_report(engine, now, config, names)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(report, names)
    if fmt == "markdown":
        return render_markdown(report, names)
    return render_table(report, names)


# --- flattening -----------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys to leaf values: {"a": {"b": 1}, "c": [2]} -> [("a.b", 1), ("c.0", 2)]."""
    if isinstance(value, dict):
        items = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{prefix}.{i}" if prefix else str(i), v) for i, v in enumerate(value)]
    else:
        return [(prefix, value)]
    if not items:
        return [(prefix, None)] if prefix else []
    return [pair for key, v in items for pair in flatten(v, key)]


def render_csv(report: dict[str, Any], names: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["", "as_of", report["as_of"]])
    writer.writerow(["", "timezone", report["timezone"]])
    for name in names:
        for key, value in flatten(report[name]):
            writer.writerow([name, key, "" if value is None else value])
    return out.getvalue()


# --- people's formats -----------------------------------------------------------------


def safe(value: Any) -> str:
    """Text from the PSA shown literally: control characters (ANSI escapes ...) as \\x.. escapes."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.2f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = str(value)
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch for ch in text)


def _title(key: str) -> str:
    return key.replace("_", " ").replace(".", " ")


# Short column headings so the wide lists fit 80 columns (table format only).
SHORT = {
    "hours_this_week": "this wk",
    "billable_this_week": "billable",
    "non_billable_this_week": "non-bill",
    "hours_last_week": "last wk",
    "utilization_pct": "util %",
    "billable_pct": "bill %",
    "customer_facing_pct": "cust %",
    "period_start": "from",
    "period_end": "to",
    "billable_hours": "billable",
    "non_billable_hours": "non-bill",
    "hours_worked": "worked",
    "avg_days_in_stage": "avg days",
    "max_days_in_stage": "max days",
    "past_checkins": "check-ins",
    "period_type": "period",
}
TEXT_COLUMNS = {"name", "resource", "stage", "company", "contract", "number", "type", "status", "period_type"}


def _blocks(data: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """Split a section into scalar figures (flattened) and tables (label dicts, lists of rows)."""
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, Any]] = []

    def walk(value: dict[str, Any], prefix: str) -> None:
        for key, item in value.items():
            name = f"{prefix}{key}"
            if isinstance(item, list) and (not item or isinstance(item[0], dict)):
                tables.append((name, item))
            elif isinstance(item, list):
                tables.append((name, item))
            elif (
                isinstance(item, dict)
                and all(not isinstance(v, (dict, list)) for v in item.values())
                and _is_label_map(key)
            ):
                tables.append((name, item))
            elif isinstance(item, dict):
                walk(item, f"{name}.")
            else:
                scalars.append((name, item))

    walk(data, "")
    return scalars, tables


def _is_label_map(key: str) -> bool:
    return key.startswith("by_") or key in ("at_risk", "past_checkins")


def _rows_of(name: str, value: Any) -> tuple[list[str], list[list[str]]]:
    """A table block as header + rows of text."""
    if isinstance(value, dict):
        return [_title(name), "n"], [[safe(k), safe(v)] for k, v in value.items()]
    if value and isinstance(value[0], dict):
        header = [k for k in value[0] if not isinstance(value[0][k], dict)]
        extra = [k for k in value[0] if isinstance(value[0][k], dict)]
        rows = []
        for item in value:
            cells = [safe(item[k]) for k in header]
            cells += [", ".join(f"{safe(a)}d:{safe(b)}" for a, b in item[k].items()) for k in extra]
            rows.append(cells)
        return header + extra, rows
    return [name], [[safe(v)] for v in value]


def render_table(report: dict[str, Any], names: list[str]) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = io.StringIO()
    console = Console(file=out, width=WIDTH, color_system=None, force_terminal=False, highlight=False, emoji=False)
    console.print(Text(f"mspkpi KPIs as of {report['as_of']} ({report['timezone']})"))
    for name in names:
        console.print()
        console.print(Text(name.upper(), style="bold"))
        if name == "trends":
            _trend_table(console, report[name])
            out.write("\n" + report_charts(report[name], WIDTH, color=colour_wanted(sys.stdout)))
        else:
            scalars, tables = _blocks(report[name])
            if scalars:
                table = Table(show_header=False, box=None, pad_edge=False)
                table.add_column("figure")
                table.add_column("value", justify="right")
                for key, value in scalars:
                    table.add_row(Text(_title(key)), Text(safe(value)))
                console.print(table)
            for key, value in tables:
                header, rows = _rows_of(key, value)
                if not rows:
                    console.print(Text(f"{_title(key)}: none"))
                    continue
                table = Table(
                    box=box.SIMPLE_HEAD,
                    pad_edge=False,
                    title=None if isinstance(value, dict) else Text(_title(key)),
                    title_justify="left",
                )
                for i, column in enumerate(header):
                    wraps = i == 0 or column in TEXT_COLUMNS
                    label = _title(key) if i == 0 and isinstance(value, dict) else SHORT.get(column, _title(column))
                    table.add_column(
                        Text(label), justify="left" if wraps else "right", overflow="fold", no_wrap=not wraps
                    )
                for row in rows:
                    table.add_row(*[Text(cell) for cell in row])
                console.print(table)
        console.print(Text(f"rule: {report['rules'][name]}", style="dim"), overflow="fold")
    return out.getvalue()


def _trend_table(console, trends: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    series = [k for k in trends if k not in ("days", "history")]  # the history is drawn as charts
    from rich import box

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("day")
    for key in series:
        table.add_column(Text(_title(key).replace("first response ", "FR ")), justify="right")
    for i, day in enumerate(trends["days"]):
        table.add_row(Text(day), *[Text(safe(trends[k][i])) for k in series])
    console.print(table)


def render_markdown(report: dict[str, Any], names: list[str]) -> str:
    lines = [f"# mspkpi KPIs as of {report['as_of']} ({report['timezone']})", ""]
    for name in names:
        lines += [f"## {name}", ""]
        data = report[name]
        if name == "trends":
            series = [k for k in data if k not in ("days", "history")]
            lines += _md_table(
                ["day"] + [_title(k) for k in series],
                [[d] + [safe(data[k][i]) for k in series] for i, d in enumerate(data["days"])],
            )
        else:
            scalars, tables = _blocks(data)
            if scalars:
                lines += _md_table(["figure", "value"], [[_title(k), safe(v)] for k, v in scalars])
            for key, value in tables:
                header, rows = _rows_of(key, value)
                lines += [f"**{_title(key)}**", ""] + (
                    _md_table([_title(h) for h in header], rows) if rows else ["none", ""]
                )
        lines += [f"_Rule: {_md_cell(report['rules'][name])}_", ""]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]
