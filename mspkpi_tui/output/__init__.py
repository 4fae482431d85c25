"""How the CLI writes a report: table (people), JSON (scripts), CSV (spreadsheets), Markdown.

The KPI engine (mspkpi_tui.kpi) returns plain data; everything about presenting it lives here,
beside cli.py. Every format passes PSA text through mspkpi_tui.safe_text, and each adds what
its readers need (see docs/security.md): CSV neutralises formulas, Markdown escapes what a
renderer would read, JSON is always valid and never carries a character a terminal acts on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.output.csv_format import render_csv
from mspkpi_tui.output.json_format import render_json
from mspkpi_tui.output.markdown import render_markdown
from mspkpi_tui.output.table import render_table

RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "table": render_table,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}
FORMATS = tuple(RENDERERS)


def render(report: dict[str, Any], fmt: str) -> str:
    """A report from kpi.report.compute_report, in one of FORMATS."""
    if fmt not in RENDERERS:
        raise MspkpiError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return RENDERERS[fmt](report)
