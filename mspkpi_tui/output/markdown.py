"""The Markdown format: one GitHub-flavoured table per block.

A cell is text made safe (mspkpi_tui.safe_text: no controls, bidi shown as <U+...>), then
every character a Markdown renderer would read as syntax inside a table cell is escaped:
backslash, pipe, backtick, emphasis (* _ ~), link brackets ([ ]) by a backslash; < > & as
HTML entities (no tag can form), and & where it would start an entity. Newlines are already visible symbols after `clean`.
"""

from __future__ import annotations

import re
from typing import Any

from mspkpi_tui.output.blocks import blocks, rows_of
from mspkpi_tui.output.values import display, sections, title
from mspkpi_tui.safe_text import clean

_ESCAPES = {
    "\\": "\\\\",
    "|": "\\|",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "~": "\\~",
    "[": "\\[",
    "]": "\\]",
    "<": "&lt;",
    ">": "&gt;",
}
_TABLE = str.maketrans(_ESCAPES)
# An ampersand that would start a character reference (&lt; &#60; &#x3c;): written &amp;, so the
# text shows as typed. "T&M" is left alone (no renderer reads it as anything but text).
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_cell(text: str) -> str:
    """Text as it is safe to put in a Markdown table cell (or a line of prose)."""
    return _ENTITY.sub("&amp;", clean(text)).translate(_TABLE)


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# mspkpi KPIs as of {md_cell(report['as_of'])} ({md_cell(report['timezone'])})", ""]
    for name in sections(report):
        lines += [f"## {md_cell(name)}", ""]
        data = report[name]
        if name == "trends":
            series = [k for k in data if k not in ("days", "history")]  # the history is drawn as charts
            lines += md_table(
                ["day"] + [title(k) for k in series],
                [[clean(d)] + [display(data[k][i]) for k in series] for i, d in enumerate(data["days"])],
            )
        else:
            scalars, tables = blocks(data)
            if scalars:
                lines += md_table(["figure", "value"], [[title(k), display(v)] for k, v in scalars])
            for key, value in tables:
                header, rows = rows_of(key, value)
                lines += [f"**{md_cell(title(key))}**", ""] + (
                    md_table([title(h) for h in header], rows) if rows else ["none", ""]
                )
        lines += [f"_Rule: {md_cell(report['rules'][name])}_", ""]
    return "\n".join(lines)


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]
