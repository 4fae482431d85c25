"""A report section split into what people read: scalar figures and small tables."""

from __future__ import annotations

from typing import Any

from mspkpi_tui.output.values import display, title

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
# Lists too wide for 80 columns: the table format shows these columns (JSON and CSV keep all).
NARROW = {
    "companies": ["company", "open", "closed", "hours_per_ticket", "sla_pct", "csat_avg", "margin_pct", "needy"],
}
SHORT |= {"hours_per_ticket": "h/tkt", "sla_pct": "SLA %", "csat_avg": "CSAT", "margin_pct": "margin %"}
TEXT_COLUMNS = {"needy", "name", "resource", "stage", "company", "contract", "number", "type", "status", "period_type"}


def blocks(data: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """Split a section into scalar figures (flattened) and tables (label dicts, lists of rows)."""
    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, Any]] = []

    def walk(value: dict[str, Any], prefix: str) -> None:
        for key, item in value.items():
            name = f"{prefix}{key}"
            if isinstance(item, list):
                tables.append((name, item))
            elif (
                isinstance(item, dict)
                and all(not isinstance(v, (dict, list)) for v in item.values())
                and is_label_map(key)
            ):
                tables.append((name, item))
            elif isinstance(item, dict):
                walk(item, f"{name}.")
            else:
                scalars.append((name, item))

    walk(data, "")
    return scalars, tables


def is_label_map(key: str) -> bool:
    return key.startswith("by_") or key in ("at_risk", "past_checkins")


def rows_of(name: str, value: Any, narrow: bool = False) -> tuple[list[str], list[list[str]]]:
    """A table block as header (raw keys) + rows of display text (`narrow`: the NARROW columns)."""
    if narrow and name in NARROW and value and isinstance(value[0], dict):
        keys = NARROW[name]
        return keys, [
            [display("; ".join(item[k]) if isinstance(item[k], list) else item[k]) for k in keys] for item in value
        ]
    if isinstance(value, dict):
        return [title(name), "n"], [[display(k), display(v)] for k, v in value.items()]
    if value and isinstance(value[0], dict):
        header = [k for k in value[0] if not isinstance(value[0][k], dict)]
        extra = [k for k in value[0] if isinstance(value[0][k], dict)]
        rows = []
        for item in value:
            cells = [display(item[k]) for k in header]
            cells += [", ".join(f"{display(a)}d:{display(b)}" for a, b in item[k].items()) for k in extra]
            rows.append(cells)
        return header + extra, rows
    return [name], [[display(v)] for v in value]
