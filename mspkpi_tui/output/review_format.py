"""How `mspkpi review` writes a quarterly review (kpi.review.Review): Markdown for people
(tables, the chart as text in a code block) or CSV (section, row, column, value).
PSA text goes through the same cell functions as the report's formats (safe_text inside)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from mspkpi_tui.output.csv_format import csv_cell
from mspkpi_tui.output.markdown import md_cell, md_table
from mspkpi_tui.safe_text import clean

if TYPE_CHECKING:
    from mspkpi_tui.kpi.review import Review

FORMATS = ("markdown", "csv")


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
    while f"{name}-{quarter}.{suffix}".lower() in taken:
        n += 1
        name = f"{base}-{n}"
    found = f"{name}-{quarter}.{suffix}"
    taken.add(found.lower())
    return found


def render_review(review: Review, fmt: str) -> str:
    return review_csv(review) if fmt == "csv" else review_markdown(review)


def review_markdown(r: Review) -> str:
    lines = [
        f"# Quarterly service review: {md_cell(r.company)}",
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
        drawn = [clean(line).rstrip().replace("```", "'''") for line in r.chart.splitlines()]
        lines += ["## Tickets per week", "", "```", *drawn, "```", ""]
    return "\n".join(lines)


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
