"""The CSV format: one row per figure (section, dotted key, value), for spreadsheets.

Numbers stay numbers (a negative figure is written -3, not as text). Every text cell is made
safe (mspkpi_tui.safe_text: no raw control characters, so no CR/LF or TAB inside a cell), and a
text cell that a spreadsheet would read as a formula (it begins with = + - @, TAB or CR) gets a
leading apostrophe, as OWASP recommends against CSV injection: `=HYPERLINK(...)` is written
`'=HYPERLINK(...)` and shows as text.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from mspkpi_tui.output.values import flatten, sections
from mspkpi_tui.safe_text import clean

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as written to a CSV cell: numbers as numbers, none (and NaN, infinity) as empty, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    raw = str(value)
    text = clean(raw)
    return "'" + text if raw.startswith(FORMULA_START) or text.startswith(FORMULA_START) else text


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["", "as_of", csv_cell(report["as_of"])])
    writer.writerow(["", "timezone", csv_cell(report["timezone"])])
    for name in sections(report):
        for key, value in flatten(report[name]):
            writer.writerow([csv_cell(name), csv_cell(key), csv_cell(value)])
    return out.getvalue()
