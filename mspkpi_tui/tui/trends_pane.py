"""Pane 7, Trends: the long view ("is the backlog growing? are we slower than last month?").

Larger plotext charts over 30, 90 or 365 days, by day or by week (keys p and w): the open
backlog at each period's end and opened vs closed (each beside the previous window, faint),
tickets open more than 1, 2 and 3 weeks, weekly SLA compliance, escalations and their rate,
billable and non-billable hours, weekly CSAT with its responses, and today's open tickets by age.

The long view is read (kpi.history, in a worker thread) only while the pane is shown: after
each refresh of the app's data, and when the range changes. Charts rebuild only when their
data or size changed (tui.charts), so a refresh that found nothing new redraws nothing.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.events import Resize
from textual.worker import get_current_worker

from mspkpi_tui.charts import Series, summary
from mspkpi_tui.tui.charts import Bars, Chart, Lines, span
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure

RANGES = (30, 90, 365)
WIDE = 110  # columns from which the charts sit two abreast


def _labels(days: list[date]) -> tuple[str, ...]:
    return tuple(f"{d:%d %b}" for d in days)


def _title(what: str, days: list[date], values) -> str:
    return f"{what} {span(days)}: {summary(values)}"


def trend_charts(h) -> dict[str, Lines | Bars]:
    """The pane's charts for one History (kpi.history), by widget id."""
    per = h.by
    x, weeks = _labels(h.periods), _labels(h.weeks)
    line = lambda *s: tuple(s)  # noqa: E731
    by_age: tuple[tuple[str, float], ...] = ()
    if h.backlog:
        a7, a14, a21 = h.aged_over_7d[-1], h.aged_over_14d[-1], h.aged_over_21d[-1]
        by_age = (
            ("< 1 week", h.backlog[-1] - a7),
            ("1-2 weeks", a7 - a14),
            ("2-3 weeks", a14 - a21),
            ("3+ weeks", a21),
        )
    return {
        "trends-backlog": Lines(
            _title(f"Backlog at {per} end", h.periods, h.backlog),
            x,
            line(Series("previous", tuple(h.previous_backlog), faint=True), Series("open", tuple(h.backlog))),
        ),
        "trends-flow": Lines(
            _title(f"Opened per {per}", h.periods, h.opened),
            x,
            line(
                Series("prev. opened", tuple(h.previous_opened), faint=True),
                Series("opened", tuple(h.opened)),
                Series("closed", tuple(h.closed)),
            ),
        ),
        "trends-aged": Lines(
            _title(f"Open >3 wk at {per} end", h.periods, h.aged_over_21d),
            x,
            line(
                Series("> 1 wk", tuple(h.aged_over_7d)),
                Series("> 2 wk", tuple(h.aged_over_14d)),
                Series("> 3 wk", tuple(h.aged_over_21d)),
            ),
        ),
        "trends-by-age": Bars(f"Open now by age ({h.backlog[-1] if h.backlog else 0})", by_age, most=4),
        "trends-sla": Lines(
            _title("Response SLA met %/wk", h.weeks, h.first_response_pct),
            weeks,
            line(
                Series("prev. response", tuple(h.previous_first_response_pct), faint=True),
                Series("response", tuple(h.first_response_pct)),
                Series("resolution", tuple(h.resolution_pct)),
            ),
        ),
        "trends-escalations": Lines(
            _title(f"Escalations per {per}", h.periods, h.escalations),
            x,
            line(Series("escalated", tuple(h.escalations)), Series("rate %", tuple(h.escalation_rate_pct), right=True)),
        ),
        "trends-hours": Lines(
            _title(f"Billable h per {per}", h.periods, h.billable_hours),
            x,
            line(Series("billable", tuple(h.billable_hours)), Series("non-billable", tuple(h.non_billable_hours))),
        ),
        "trends-csat": Lines(
            _title("CSAT per week", h.weeks, h.csat),
            weeks,
            line(Series("CSAT", tuple(h.csat)), Series("responses", tuple(h.csat_responses), right=True)),
        ),
    }


class TrendsPane(Pane, VerticalScroll, can_focus=True):
    pane_id = "trends"
    title = "Trends"

    BINDINGS = [
        Binding("p", "next_range", "30/90/365 days", id="trends-range"),
        Binding("w", "toggle_by", "Day/week", id="trends-by"),
    ]
    CHARTS = (
        "trends-backlog",
        "trends-flow",
        "trends-aged",
        "trends-sla",
        "trends-escalations",
        "trends-hours",
        "trends-csat",
        "trends-by-age",
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.days, self.by = RANGES[0], "day"
        self.history = None  # the History shown, for tests
        self.shown_view: tuple[int, str] | None = None
        self.reads = 0  # long views read and shown (tests, the bench)
        self._stale = True  # the app's data changed since the long view was read

    def compose(self):
        yield Figure(id="trends-title")
        with Grid(id="trends-grid"):
            for chart_id in self.CHARTS:
                yield Chart(id=chart_id, classes="trend")

    def on_mount(self) -> None:
        self._show_title()
        super().on_mount()

    def on_resize(self, event: Resize) -> None:
        columns = 2 if event.size.width >= WIDE else 1
        grid = self.query_one("#trends-grid", Grid)
        if grid.styles.grid_size_columns != columns:
            grid.styles.grid_size_columns = columns

    @staticmethod
    def load(engine, now, config, trends):
        """The long view is read by the pane itself, only while shown (`_read`): a refresh hands
        it the 30-day series, which tells it the data changed."""
        return trends

    def show_data(self, _trends) -> None:
        """The app read its data again: read the long view again if it is on screen."""
        self._stale = True
        if self.app.active_pane_id == "trends":
            self._read()

    def focus_main(self) -> None:
        self.focus(scroll_visible=False)
        if self._stale:
            self._read()

    def _read(self) -> None:
        self._stale = False
        self._show_title(reading=True)
        self._read_worker(self.app.engine, self.app.now, self.app.config, self.days, self.by)

    @work(thread=True, exclusive=True, group="trends-history", exit_on_error=False)
    def _read_worker(self, engine, now, config, days: int, by: str) -> None:
        from mspkpi_tui.kpi.history import history

        worker = get_current_worker()
        try:
            result = history(engine, now, config, days, by)
        except Exception as exc:  # keep the charts shown, say why they are not current
            message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            self.app._call(self._read_failed, message[0] if message else type(exc).__name__)
            return
        if not worker.is_cancelled:
            self.app._call(self._show_history, (days, by), result)

    def _show_history(self, view: tuple[int, str], h) -> None:
        if view != (self.days, self.by):
            return  # the range changed while it was read: the newer read follows
        self.history, self.shown_view = h, view
        self.reads += 1
        for chart_id, spec in trend_charts(h).items():
            self.query_one(f"#{chart_id}", Chart).plot(spec)
        self._show_title()

    def _read_failed(self, message: str) -> None:
        self._show_title(error=message)

    def _show_title(self, reading: bool = False, error: str | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Trends: last {self.days} days by {self.by}", style="bold")
        if error:
            text.append(f"  READ FAILED: {error}", style="bold red")
        elif reading and self.shown_view != (self.days, self.by):
            text.append("  reading…")
        text.append("  p: 30/90/365 d · w: day/week · grey: previous", style="dim")
        self.query_one("#trends-title", Figure).show(text)

    def action_next_range(self) -> None:
        self.days = RANGES[(RANGES.index(self.days) + 1) % len(RANGES)]
        self._read()

    def action_toggle_by(self) -> None:
        self.by = "week" if self.by == "day" else "day"
        self._read()
