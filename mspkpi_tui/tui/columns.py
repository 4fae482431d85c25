"""How wide each column of a pane's table is: one rule for every table (ticket lists, Team,
Pipeline, Service), by display cells, for the width the table has now.

A column wants its content's width (at most `most` cells). When the columns do not fit, the
ones that may give way are cut, in their stated order (`gives`: 1 first, then 2 ...), down to
their `least`; the columns that never give (`gives=0`: a ticket's number, due time, owner, a
contract's end date) keep their width. A `fill` column takes the width left over, so a list
uses its whole width. Only when even the least widths do not fit does the table scroll sideways.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.text import Text

from mspkpi_tui.safe_text import truncate

SCROLLBAR = 1  # a cell kept for the vertical scrollbar
PADDING = 2  # a table (tui.table) pads each cell by one cell on either side


@dataclass(frozen=True)
class Column:
    label: str
    least: int = 0  # cells kept when the column gives way (0: the label's width)
    most: int = 40  # a cell never grows past this (a 5,000-character name cannot take the row)
    gives: int = 0  # 0: never cut to fit; 1 is cut first, then 2 ...
    fill: bool = False  # takes the width left over
    justify: Literal["left", "right"] = "left"

    @property
    def floor(self) -> int:
        return max(self.least or cell_len(self.label), 1)


def columns_of(specs: Sequence[Column | str]) -> tuple[Column, ...]:
    """Column specs from specs or bare labels (a bare label never gives way)."""
    return tuple(c if isinstance(c, Column) else Column(c) for c in specs)


def natural_widths(columns: Sequence[Column], rows: Iterable[Sequence[Text | str]]) -> dict[str, int]:
    """Each column's content width in cells (label included), capped at the column's `most`."""
    widest = {c.label: cell_len(c.label) for c in columns}
    for cells in rows:
        for column, cell in zip(columns, cells):
            plain = cell.plain if isinstance(cell, Text) else str(cell)
            widest[column.label] = max(widest[column.label], cell_len(plain))
    return {c.label: max(min(widest[c.label], c.most), 1) for c in columns}


def fit_widths(columns: Sequence[Column], width: int, natural: Mapping[str, int]) -> dict[str, int]:
    """Each column's width for a table `width` cells wide (padding and scrollbar included)."""
    room = width - SCROLLBAR - PADDING * len(columns)
    widths = {c.label: natural[c.label] for c in columns}
    over = sum(widths.values()) - room
    for rank in sorted({c.gives for c in columns if c.gives}):
        for column in (c for c in columns if c.gives == rank):
            if over <= 0:
                break
            cut = min(over, widths[column.label] - min(column.floor, widths[column.label]))
            widths[column.label] -= cut
            over -= cut
    spare = -over
    fillers = [c for c in columns if c.fill]
    if spare > 0 and fillers:
        for i, column in enumerate(fillers):  # the spare width shared by the fill columns
            widths[column.label] += spare // len(fillers) + (1 if i < spare % len(fillers) else 0)
    return widths


def clip(cell: Text | str, width: int, justify: Literal["left", "right"] = "left") -> Text:
    """A cell cut to `width` cells (ending in an ellipsis), keeping its style."""
    text = cell if isinstance(cell, Text) else Text(cell)
    plain = text.plain
    if cell_len(plain) <= width:
        if justify == "right" and text.justify != "right":
            text = text.copy()
            text.justify = "right"
        return text
    cut = Text(truncate(plain, width), style=text.style, justify=text.justify or justify, no_wrap=True)
    for span in text.spans:  # keep styled parts that survive the cut
        if span.start < len(cut.plain):
            cut.stylize(span.style, span.start, min(span.end, len(cut.plain)))
    return cut
