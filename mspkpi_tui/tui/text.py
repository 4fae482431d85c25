"""Turning figures and untrusted PSA text into what the screen shows.

PSA text (titles, company names, sync errors) is never parsed as markup: it goes into
`rich.text.Text` objects, and control characters (ANSI escapes, BEL, CR/LF, bidi
overrides) are replaced by visible stand-ins (mspkpi_tui.safe_text, the product's one
sanitiser), so a ticket cannot change the screen.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text

from mspkpi_tui.kpi.common import half_up  # the one rounding: half up, as the report's
from mspkpi_tui.safe_text import clean, truncate

# A cell of a pane's table never grows past this many terminal cells (a 5,000-character title
# must not push the other columns off the screen); longer text ends in an ellipsis.
MAX_CELL = 40
# The one word for a ticket or a record nobody owns, in every list, facet and detail.
NOBODY = "unassigned"
# Overdue stands out without colour too: bold and a "!" beside the figure everywhere, and
# reversed where colour cannot carry it (NO_COLOR, 16 colours, where red is also the cursor's).
OVERDUE = "bold red"
OVERDUE_LOW_COLOUR = "bold reverse"


def low_colour(app: Any) -> bool:
    """No colour (NO_COLOR) or 16 colours at most: overdue is marked by more than colour."""
    return bool(app.no_color) or app.console.color_system in (None, "standard")


def overdue_style(low_colour: bool) -> str:
    return OVERDUE_LOW_COLOUR if low_colour else OVERDUE


def plain(value: object, style: str = "", max_cells: int = MAX_CELL) -> Text:
    """Untrusted text as a Text object: shown literally, never interpreted, at most `max_cells` wide."""
    return Text(truncate(clean(value), max_cells), style=style, no_wrap=True, overflow="ellipsis")


# --- figures -----------------------------------------------------------------------------


def count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def pct(value: float | None) -> str:
    return "no data" if value is None else f"{half_up(value):.0f}%"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{half_up(value, 1):,.1f}"


def money(value: float | None) -> str:
    return "–" if value is None else f"{half_up(value):,.0f}"


def duration(delta: timedelta) -> str:
    """Minute resolution, compact: 45m, 3h05m, 2d04h."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes // (24 * 60)}d{(minutes // 60) % 24:02d}h"


def countdown(delta: timedelta | None) -> tuple[str, bool]:
    """The SLA countdown and whether it is overdue: '-1h05m!' is marked with '!', not by colour alone."""
    if delta is None:
        return "none", False
    if delta.total_seconds() < 0:
        return f"-{duration(delta)}!", True
    return duration(delta), False


def age(delta: timedelta) -> str:
    minutes = int(max(delta.total_seconds(), 0) // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def stamp(moment: datetime | None, zone: tzinfo) -> str:
    return "–" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def number(value: float | None, digits: int = 0) -> str:
    """A figure at `digits` decimals, rounded half up like every other."""
    return "–" if value is None else f"{half_up(value, digits):,.{digits}f}"


def duration_minutes(minutes: float) -> str:
    return duration(timedelta(minutes=minutes))


def paragraphs(value: object, max_lines: int, max_chars: int, style: str = "") -> Text:
    """Untrusted multi-line text (a description, a note) to read in a wrapped block: each line
    sanitised on its own (safe_text.clean shows a line break as a symbol, so the breaks are
    kept here, and only here), blank runs squeezed, tabs as spaces, and at most `max_lines`
    lines and `max_chars` characters, with a last line saying how much was left out."""
    source = "" if value is None else str(value)
    lines: list[str] = []
    for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.replace("\t", "    ").rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    shown: list[str] = []
    used, cut = 0, False
    for line in lines[:max_lines]:
        if used + len(line) > max_chars:
            shown.append(line[: max(max_chars - used, 0)] + "…")
            cut = True
            break
        shown.append(line)
        used += len(line)
    text = Text("\n".join(clean(line) for line in shown), style=style)
    left = len(lines) - len(shown)
    if left > 0 or cut:
        more = f"{left} more line{'s' if left != 1 else ''}" if left > 0 else "the rest"
        text.append(f"\n… {more} not shown (the PSA link has it all)", style="dim")
    return text
