"""Charts drawn with plotext (5.x API), as text: the TUI and `mspkpi kpi --format table` share them.

No Textual here: a chart is a function of its data and its size returning plotext's own text
(ANSI colours included unless `color=False`). plotext keeps one global figure; every build
clears it first (`plt.clf()`), so its memory stays flat however long the app runs, and a lock
keeps two threads from drawing on it at once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class _Plotext:
    """plotext, imported on the first chart drawn: its import (~60-80 ms, ~250 ms under load:
    it parses dates at import) is no part of the dashboard's first screen, which has no chart."""

    def __getattr__(self, name: str) -> Any:
        import plotext

        return getattr(plotext, name)


plt = _Plotext()
_FIGURE = threading.Lock()
FAINT = "gray"  # the previous period: drawn behind, in grey
COLOURS = ("cyan", "magenta", "yellow", "green", "red", "blue")


@dataclass(frozen=True)
class Series:
    """One line: its name (the legend), its values (None = no data that day) and whether it
    is the faint comparison series (the previous period)."""

    name: str
    values: tuple[float | None, ...]
    faint: bool = False
    right: bool = False  # plotted against the right-hand axis (a rate beside a count)


def numbers(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def figure(value: float | None) -> str:
    """A value as the summaries show it: whole numbers without decimals."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def summary(values: Sequence[float | None]) -> str:
    """'last 12 · min 3 · max 20' (what a reader asks of a trend first)."""
    got = numbers(values)
    if not got:
        return "no data"
    last = next((v for v in reversed(values) if v is not None), None)
    return f"last {figure(last)} · min {figure(min(got))} · max {figure(max(got))}"


def fit(text: str, width: int) -> str:
    """A title cut to the chart's width and centred. It is written above plotext's output,
    not with plt.title: plotext leaves out a title wider than its canvas (the chart less
    its axes), which a chart's figures in the title often are."""
    text = text if len(text) <= width else text[: max(width - 1, 0)] + "…"
    return text.center(width).rstrip()


def _finish(color: bool) -> str:
    text = plt.build()
    return text if color else plt.uncolorize(text)


def _start(width: int, height: int) -> None:
    plt.clf()
    # plotext crops a figure to the terminal it finds at import (shutil.get_terminal_size): a
    # chart's size is the widget's, whatever terminal (or none, under tests) the process has.
    plt.limitsize(False, False)
    plt.theme("clear")  # the terminal's own colours; series colours are set per series
    plt.plotsize(max(width, 1), max(height, 1))


def spark(values: Sequence[float | None], width: int, height: int = 1, color: bool = True) -> str:
    """A frameless braille line, no axes: a sparkline where space is tight (height 1-3)."""
    points = decimate([(i, _plottable(v)) for i, v in enumerate(values) if _is_number(v)], width)
    if width < 1 or not points:
        return " " * max(width, 0)
    with _FIGURE:
        _start(width, height)
        plt.frame(False)
        plt.xaxes(False, False)
        plt.yaxes(False, False)
        plt.xticks([])
        plt.yticks([])
        plt.xlim(0, max(len(values) - 1, 1))
        low, high = min(v for _, v in points), max(v for _, v in points)
        plt.ylim(low, high if high > low else low + 1)  # a flat line sits at the bottom, not mid-air
        plt.plot([x for x, _ in points], [y for _, y in points], marker="braille", color="cyan")
        return _finish(color).rstrip("\n")


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int,
    height: int,
    color: bool = True,
    ylabel: str = "",
) -> str:
    """A framed line chart over `labels` (the x positions, e.g. days), a few of them as ticks."""
    with _FIGURE:
        _start(width, height - 1)
        n = len(labels)
        if n:
            plt.xlim(0, max(n - 1, 1))
            ticks = sorted({0, n - 1, *range(0, n, max(1, math.ceil(n / max(1, width // 12))))})
            ticks = [t for t in ticks if t == n - 1 or n - 1 - t >= max(1, n // 8)]  # no two labels run together
            _xticks(ticks, [labels[t] for t in ticks])
        drawn = False
        for k, s in enumerate(sorted(series, key=lambda s: not s.faint)):  # faint ones first, behind
            points = decimate([(i, _plottable(v)) for i, v in enumerate(s.values) if _is_number(v)], width)
            if not points:
                continue
            colour = FAINT if s.faint else COLOURS[k % len(COLOURS)]
            plt.plot(
                [x for x, _ in points],
                [y for _, y in points],
                marker="braille",
                color=colour,
                label=s.name,
                yside="right" if s.right else "left",
            )
            drawn = True
        if not drawn:
            plt.xlim(-1, 1)
            plt.ylim(-1, 1)
            plt.yticks([])
            plt.text("no data in this period", x=0, y=0, alignment="center")
        if ylabel:
            plt.ylabel(ylabel)
        return fit(title, width) + "\n" + _finish(color).rstrip("\n")


def _empty(title: str, message: str, width: int, color: bool) -> str:
    """A chart with nothing to plot: the message in an empty frame (inside the figure's lock)."""
    plt.text(message, x=0, y=0, alignment="center")
    plt.xlim(-1, 1)
    plt.ylim(-1, 1)
    plt.xticks([])
    plt.yticks([])
    return fit(title, width) + "\n" + _finish(color).rstrip("\n")


def bar_chart(title: str, items: Sequence[tuple[str, float]], width: int, height: int, color: bool = True) -> str:
    """Horizontal bars, largest first as given; each label carries its value."""
    with _FIGURE:
        _start(width, height - 1)
        if not items:
            return _empty(title, "none in the period", width, color)
        # One row per bar (title and frame take 3 rows): the rest are summed as "Other".
        rows = max(1, height - 3)
        if len(items) > rows:
            items = [*items[: rows - 1], ("Other", sum(v for _, v in items[rows - 1 :]))]
        plt.plotsize(max(width, 1), len(items) + 2)
        room = max(6, min(18, width // 3))  # the longest label that still leaves the bars room
        names = [_cut(f"{label} {figure(value)}", room) for label, value in items]
        # plotext puts the first bar at the bottom: reversed, the largest (first) reads first.
        plt.bar(
            names[::-1],
            [_plottable(v) if _is_number(v) else 0.0 for _, v in items][::-1],
            orientation="horizontal",
            width=0.1,
            color="cyan",
        )
        plt.xticks([])
        return fit(title, width) + "\n" + _finish(color).rstrip("\n")


def decimate(points: list[tuple[int, float]], width: int) -> list[tuple[int, float]]:
    """At most about two points per column: each run of points one column holds keeps its
    lowest and highest (in order), and the last point stays. A braille column has two dots
    across, so the line drawn is the same; plotext's build time grows with the points (365
    points cost ~10x 30 here), not with what it can show."""
    most = max(2 * width, 2)
    if len(points) <= most:
        return points
    first, last = points[0][0], points[-1][0]
    per = (last - first + 1) / width  # x positions per column
    kept: list[tuple[int, float]] = []
    run: list[tuple[int, float]] = []
    column = 0
    for point in points:
        c = int((point[0] - first) / per)
        if c != column and run:
            kept += _extremes(run)
            run = []
        column = c
        run.append(point)
    kept += _extremes(run)
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return kept


def _extremes(run: list[tuple[int, float]]) -> list[tuple[int, float]]:
    low, high = min(run, key=lambda p: p[1]), max(run, key=lambda p: p[1])
    return sorted({low, high})


def _xticks(ticks: Sequence[int], labels: Sequence[str]) -> None:
    """Explicit x ticks, written left to right. plotext's xticks drops duplicates with
    list(set(zip(ticks, labels))), so the order it writes the labels in follows the string
    hash (PYTHONHASHSEED): where two labels would touch, which one it keeps or shifts by a cell
    changed from run to run. The ticks are put back in order on the figure's monitor."""
    plt.xticks(list(ticks), list(labels))
    monitor = plt.active().monitor
    got = sorted(zip(monitor.xticks[0] or [], monitor.xlabels[0] or []))
    monitor.xticks[0], monitor.xlabels[0] = [t for t, _ in got], [label for _, label in got]


def scatter_chart(
    title: str,
    points: Sequence[tuple[float, float]],
    x_line: float | None,
    y_line: float | None,
    width: int,
    height: int,
    xlabel: str = "",
    ylabel: str = "",
    color: bool = True,
) -> str:
    """Points with a vertical and a horizontal line (the quadrants: e.g. at the medians)."""
    with _FIGURE:
        _start(width, height - 1)
        if not points:
            return _empty(title, "no data in this period", width, color)
        plt.scatter([x for x, _ in points], [y for _, y in points], marker="dot", color="cyan")
        if x_line is not None:
            plt.vline(x_line, color=FAINT)
        if y_line is not None:
            plt.hline(y_line, color=FAINT)
        if xlabel:
            plt.xlabel(xlabel)
        if ylabel:
            plt.ylabel(ylabel)
        return fit(title, width) + "\n" + _finish(color).rstrip("\n")


def _cut(text: str, room: int) -> str:
    """A label shortened to `room` characters, keeping its value (the last word) readable."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) <= room:
        return text
    name, _, value = text.rpartition(" ")
    keep = max(1, room - len(value) - 2)
    return f"{name[:keep]}… {value}"


# --- the report's charts (`mspkpi kpi --section trends --format table`) ------------------------


def colour_wanted(stream) -> bool:
    """Colour only on a terminal and never when NO_COLOR is set (https://no-color.org)."""
    import os

    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def _plottable(value: float | None) -> float:
    """plotext's tick arithmetic overflows on extreme magnitudes (a value like 2e-308); a chart
    needs no more than six decimals."""
    return round(float(value or 0.0), 6)


def _day_labels(days: Sequence[str]) -> list[str]:
    from datetime import date

    return [f"{date.fromisoformat(d):%d %b}" for d in days]


def _titled(what: str, days: Sequence[str], values: Sequence[float | None]) -> str:
    labels = _day_labels(days)
    period = f"{labels[0]}–{labels[-1]}" if labels else "no days"
    return f"{what} {period} · {summary(values)}"


# The report's charts: (title, the series its title summarises (last, min, max), the series it
# draws as (key, legend, faint, on the right-hand axis)).
DAILY_CHARTS = (
    ("Opened per day", "opened", (("opened", "opened", False, False), ("closed", "closed", False, False))),
    (
        "First-response breaches per day",
        "first_response_breaches",
        (("first_response_breaches", "breaches", False, False),),
    ),
    ("Escalations per day", "escalations", (("escalations", "escalations", False, False),)),
    ("Hours logged per day", "hours", (("hours", "hours", False, False),)),
    ("CSAT average per day", "csat", (("csat", "CSAT", False, False),)),
)
# The long view's charts: "{per}" is its period (day or week); the others are drawn per week.
HISTORY_CHARTS = (
    (
        "Open backlog at {per} end",
        "backlog",
        (("previous_backlog", "previous", True, False), ("backlog", "open", False, False)),
    ),
    (
        "Open > 3 weeks at {per} end",
        "aged_over_21d",
        (
            ("aged_over_7d", "> 1 wk", False, False),
            ("aged_over_14d", "> 2 wk", False, False),
            ("aged_over_21d", "> 3 wk", False, False),
        ),
    ),
    (
        "First response met % per week",
        "first_response_pct",
        (
            ("previous_first_response_pct", "prev. response", True, False),
            ("first_response_pct", "response", False, False),
            ("resolution_pct", "resolution", False, False),
        ),
    ),
    (
        "Billable hours per {per}",
        "billable_hours",
        (("billable_hours", "billable", False, False), ("non_billable_hours", "non-billable", False, False)),
    ),
    ("CSAT per week", "csat", (("csat", "CSAT", False, False), ("csat_responses", "responses", False, True))),
)


def _charts(
    declared, data: dict, days: Sequence[str], weeks: Sequence[str], per: str, size: tuple[int, int], color: bool
) -> list[str]:
    charts = []
    for what, summarised, lines in declared:
        x = days if "{per}" in what or "week" not in what else weeks
        series = [Series(legend, tuple(data[key]), faint=faint, right=right) for key, legend, faint, right in lines]
        title = _titled(what.format(per=per), x, data[summarised])
        charts.append(line_chart(title, _day_labels(x), series, *size, color))
    return charts


def report_charts(trends: dict, width: int = 80, height: int = 12, color: bool = False) -> str:
    """The trends section of the report (its JSON form) as plotext charts, one under another."""
    days = trends.get("days", [])
    charts = _charts(DAILY_CHARTS, trends, days, days, "day", (width, height), color)
    h = trends.get("history")
    if h:
        charts += _charts(HISTORY_CHARTS, h, h["periods"], h["weeks"], h["by"], (width, height), color)
    return "\n\n".join(charts) + "\n"
