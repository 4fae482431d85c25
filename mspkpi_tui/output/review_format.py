"""How `mspkpi review` writes a review (kpi.review.Review): Markdown for people (tables, the
chart as text in a code block), one self-contained HTML file (tables as <table>, the chart
as text in <pre>) or CSV (section, row, column, value).
PSA text goes through the same cell functions as the report's formats (safe_text inside);
in HTML every string is cleaned and then escaped."""

from __future__ import annotations

import csv
import html
import io
from typing import TYPE_CHECKING

from mspkpi_tui.output.csv_format import csv_cell
from mspkpi_tui.output.markdown import md_cell, md_table
from mspkpi_tui.safe_text import clean

if TYPE_CHECKING:
    from mspkpi_tui.kpi.review import Review

FORMATS = ("markdown", "html", "csv")
SUFFIXES = {"markdown": "md", "html": "html", "csv": "csv"}


NAME_CHARS = 60  # of the company's part of a file name
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def review_file_name(company: str, quarter: str, suffix: str, taken: set[str]) -> str:
    """A file name safe on any file system: the company's ASCII letters and digits, runs of
    anything else as one "-", lower case, at most NAME_CHARS; "-2", "-3"... when another
    review in this run took it (`taken` remembers, case-insensitively, as some file systems
    compare)."""
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in company).split()
    base = "-".join(words).lower()[:NAME_CHARS].strip("-") or "company"
    if base in RESERVED:
        base += "-company"
    name, n = base, 1
    span = quarter.replace("..", "-to-")  # a FROM..TO period: no ".." in a file name
    while f"{name}-{span}.{suffix}".lower() in taken:
        n += 1
        name = f"{base}-{n}"
    found = f"{name}-{span}.{suffix}"
    taken.add(found.lower())
    return found


def render_review(review: Review, fmt: str) -> str:
    if fmt == "csv":
        return review_csv(review)
    return review_html(review) if fmt == "html" else review_markdown(review)


def _title(r: Review) -> str:
    return "Quarterly service review" if r.noun == "quarter" else "Service review"


def _chart_lines(r: Review) -> list[str]:
    """The chart as plain lines: drawn without colour, and cleaned in case a label held PSA text."""
    return [clean(line).rstrip() for line in r.chart.splitlines()]


def review_markdown(r: Review) -> str:
    lines = [
        f"# {_title(r)}: {md_cell(r.company)}",
        "",
        f"{md_cell(r.quarter)}: {r.first_day:%d %B %Y} to {r.last_day:%d %B %Y}. "
        f"Figures as of {r.as_of:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    for table in r.tables:
        lines += [f"## {md_cell(table.title)}", ""]
        if table.rows:
            lines += md_table(table.header, table.rows)
        if table.note:
            lines += [f"_{md_cell(table.note)}_", ""]
    if r.chart:
        drawn = [line.replace("```", "'''") for line in _chart_lines(r)]
        lines += ["## Tickets per week", "", "```", *drawn, "```", ""]
    return "\n".join(lines)


def _h(value: object) -> str:
    """Any text as inert HTML: the sanitiser first (controls made visible), then escaped."""
    return html.escape(clean(value), quote=True)


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #bbb;padding:.2em .6em}td{text-align:right}td:first-child{text-align:left}"
    "th{background:#eee}.note{font-style:italic;color:#555}pre{font-size:.85em;line-height:1.1}"
)


def review_html(r: Review) -> str:
    """One self-contained page (no script, no outside file): a <table> per table, the chart in <pre>."""
    title = f"{_title(r)}: {r.company}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{_h(title)}</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        f"<h1>{_h(title)}</h1>",
        f"<p>{_h(r.quarter)}: {r.first_day:%d %B %Y} to {r.last_day:%d %B %Y}. "
        f"Figures as of {r.as_of:%Y-%m-%d %H:%M} UTC.</p>",
    ]
    for table in r.tables:
        parts.append(f'<section id="{_h(table.key)}"><h2>{_h(table.title)}</h2>')
        if table.rows:
            parts.append("<table>")
            parts.append("<tr>" + "".join(f"<th>{_h(cell)}</th>" for cell in table.header) + "</tr>")
            for row in table.rows:
                parts.append("<tr>" + "".join(f"<td>{_h(cell)}</td>" for cell in row) + "</tr>")
            parts.append("</table>")
        if table.note:
            parts.append(f'<p class="note">{_h(table.note)}</p>')
        parts.append("</section>")
    if r.chart:
        drawn = "\n".join(_h(line) for line in _chart_lines(r))
        parts.append(f'<section id="chart"><h2>Tickets per week</h2><pre>{drawn}</pre></section>')
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def review_csv(r: Review) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["company", "quarter", "section", "row", "column", "value"])
    for table in r.tables:
        for row in table.rows:
            for column, value in zip(table.header[1:], row[1:]):
                writer.writerow(
                    [csv_cell(r.company), r.quarter, table.key, csv_cell(row[0]), csv_cell(column), csv_cell(value)]
                )
    return out.getvalue()
