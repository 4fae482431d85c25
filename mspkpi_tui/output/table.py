"""The table format: every section as aligned text for people, as wide as the terminal
(or $COLUMNS; 80 when neither is known), text wrapped at word boundaries.

rich lays the tables out by display cells (CJK and emoji count two); every cell is a
rich Text (never markup) of text already made safe by mspkpi_tui.safe_text.
"""

from __future__ import annotations

import io
import shutil
import sys
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mspkpi_tui.charts import colour_wanted, report_charts
from mspkpi_tui.output.blocks import SHORT, TEXT_COLUMNS, blocks, rows_of
from mspkpi_tui.output.values import display, sections, title
from mspkpi_tui.safe_text import clean

WIDTH = 80  # when the terminal's width is not known (a pipe without $COLUMNS)
LEAST, MOST = 40, 200  # a report narrower than this is unreadable; wider, lines get too long to read


def report_width() -> int:
    """The terminal's width, or $COLUMNS (shutil honours it first), within LEAST..MOST."""
    return max(LEAST, min(MOST, shutil.get_terminal_size((WIDTH, 24)).columns))


def render_table(report: dict[str, Any], width: int | None = None) -> str:
    width = width or report_width()
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False, emoji=False)
    console.print(Text(f"mspkpi KPIs as of {clean(report['as_of'])} ({clean(report['timezone'])})"))
    for name in sections(report):
        console.print()
        console.print(Text(clean(name).upper(), style="bold"))
        if name == "trends":
            _trend_table(console, report[name])
            # plotext's own text; coloured only on a terminal without NO_COLOR (mspkpi_tui.charts)
            out.write("\n" + report_charts(report[name], width, color=colour_wanted(sys.stdout)))
        else:
            _section(console, report[name])
        # Wrapped at spaces; only a word longer than the line is folded.
        console.print(Text(f"rule: {clean(report['rules'][name])}", style="dim"), overflow="fold")
    return out.getvalue()


def _section(console: Console, data: dict[str, Any]) -> None:
    scalars, tables = blocks(data)
    if scalars:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in scalars:
            table.add_row(Text(title(key)), Text(display(value)))
        console.print(table)
    for key, value in tables:
        header, rows = rows_of(key, value, narrow=True)
        if not rows:
            console.print(Text(f"{title(key)}: none"))
            continue
        table = Table(
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            title=None if isinstance(value, dict) else Text(title(key)),
            title_justify="left",
        )
        for i, column in enumerate(header):
            wraps = i == 0 or column in TEXT_COLUMNS
            label = title(key) if i == 0 and isinstance(value, dict) else SHORT.get(column, title(column))
            table.add_column(Text(label), justify="left" if wraps else "right", overflow="fold", no_wrap=not wraps)
        for row in rows:
            table.add_row(*[Text(cell) for cell in row])
        console.print(table)


def _trend_table(console: Console, trends: dict[str, Any]) -> None:
    series = [k for k in trends if k not in ("days", "history")]  # the history is drawn as charts
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("day")
    for key in series:
        table.add_column(Text(title(key).replace("first response ", "FR ")), justify="right")
    for i, day in enumerate(trends["days"]):
        table.add_row(Text(clean(day)), *[Text(display(trends[k][i])) for k in series])
    console.print(table)
