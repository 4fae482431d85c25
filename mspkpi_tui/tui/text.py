"""Turning figures and untrusted PSA text into what the screen shows.

PSA text (titles, company names, sync errors) is never parsed as markup: it goes into
`rich.text.Text` objects, and control characters (ANSI escapes, BEL, CR/LF, bidi
overrides) are replaced by visible stand-ins (mspkpi_tui.safe_text, the product's one
sanitiser), so a ticket cannot change the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo

from rich.text import Text

from mspkpi_tui.safe_text import clean, fit, truncate

# A cell of a pane's table never grows past this many terminal cells (a 5,000-character title
# must not push the other columns off the screen); longer text ends in an ellipsis.
MAX_CELL = 40


def plain(value: object, style: str = "", max_cells: int = MAX_CELL) -> Text:
    """Untrusted text as a Text object: shown literally, never interpreted, at most `max_cells` wide."""
    return Text(truncate(clean(value), max_cells), style=style, no_wrap=True, overflow="ellipsis")


# --- figures -----------------------------------------------------------------------------


def count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0f}%"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


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


# --- charts ------------------------------------------------------------------------------

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value; a blank for a day without data."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return " " * len(values)
    low, high = min(numbers), max(numbers)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARK[0] if high == 0 else SPARK[3])
        else:
            out.append(SPARK[min(len(SPARK) - 1, int((v - low) / span * (len(SPARK) - 1) + 0.5))])
    return "".join(out)


def trend(label: str, days: Sequence[date], values: Sequence[float | None], unit: str = "") -> Text:
    """A labelled sparkline: what it plots, over which days (first–last), and its range."""
    numbers = [v for v in values if v is not None]
    span = f"{days[0]:%d %b}–{days[-1]:%d %b}" if days else "no days"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{label} {span}: ", style="bold")
    text.append(sparkline(values))
    if not numbers:
        text.append(" no data")
        return text
    fmt = (lambda v: f"{v:.1f}") if any(not float(v).is_integer() for v in numbers) else (lambda v: f"{v:.0f}")
    text.append(f" max {fmt(max(numbers))}")
    text.append(f" min {fmt(min(numbers))}" if unit == "avg" else f" total {fmt(sum(numbers))}")
    return text


def bars(items: Iterable[tuple[str, float]], width: int = 30, label_width: int = 18) -> Text:
    """A horizontal bar chart in text: label, bar scaled to the largest value, the value."""
    rows = list(items)
    text = Text()
    if not rows:
        text.append("none in the period")
        return text
    top = max(v for _, v in rows) or 1
    for i, (label, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(fit(clean(label), label_width) + " ")
        filled = value / top * width
        bar = "█" * int(filled) + ("▌" if filled - int(filled) >= 0.5 else "")
        text.append(bar or ("▏" if value > 0 else ""), style="bold")
        text.append(f" {value:,.0f}")
    return text


def duration_minutes(minutes: float) -> str:
    return duration(timedelta(minutes=minutes))
