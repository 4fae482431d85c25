"""Pane 7, Trends: the long view ("is the backlog growing? are we slower than last month?").

Larger plotext charts over 30, 90 or 365 days, by day or by week (keys p and w): the open
backlog at each period's end and opened vs closed (each beside the previous window, faint),
tickets open more than 1, 2 and 3 weeks, weekly SLA compliance, escalations and their rate,
billable and non-billable hours, weekly CSAT with its responses, and today's open tickets by age.

The shown view is read (kpi.history, in a worker thread) after each refresh of the app's data,
shown or not (so key 7 draws without waiting for it), and when the range changes. Charts
rebuild only when their data or size changed (tui.charts), so a refresh that found nothing
new redraws nothing.

The charts' sizes are known before the pane is first shown (`_expect_sizes`: the width its
container has, less the scrollbar's room, split into the grid's columns as Textual splits them),
so the charts of the view read while the pane is hidden, and of the next range, are built and
rendered to strips ahead (below) and key 7's first paint only lays out and composes.

Read-ahead: once the screen has been quiet for AHEAD_DELAY (no key, no refresh being read, the
shown view read), the other ranges of the same grain are read one at a time, in the order key p
shows them, and their charts are built into the charts' cache at the size they are shown at: p
then draws from the cache. A key or new data stops it; it goes on after the next quiet spell.
Python threads share one interpreter lock, so a long read beside a key's own work slowed that
key several times over: reading ahead only when quiet keeps the keys' work alone.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual._resolve import resolve  # Textual's own split of a grid's width into its columns
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.css.scalar import Scalar
from textual.events import Resize
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import WorkerState, get_current_worker

from mspkpi_tui.charts import Series, summary
from mspkpi_tui.tui.charts import Bars, Chart, Key, Lines, build_ahead, span
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.widgets import Figure

RANGES = (30, 90, 365)
WIDE = 110  # columns from which the charts sit two abreast
AHEAD_DELAY = 1.0  # seconds of quiet (no key, no read) before the other ranges are read ahead


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
        self._views: dict[tuple[int, str], object] = {}  # views read from the current data
        self._generation = 0  # counts the app's data reads: a view read from older data is dropped
        self._prefetching: tuple[tuple[int, str], int] | None = None  # (view, generation) being read ahead
        self._ahead_timer: Timer | None = None
        self._drawing_ahead = False  # a _draw_ahead_worker is building (its end clears this)

    def compose(self):
        yield Figure(id="trends-title")
        with Grid(id="trends-grid"):
            for chart_id in self.CHARTS:
                yield Chart(id=chart_id, classes="trend")

    def on_mount(self) -> None:
        self._show_title()
        # The columns the terminal's width gives, before the first layout: set only on the
        # first resize, every chart was built at full width and then again at half width.
        self._columns(self.app.size.width)
        super().on_mount()

    def on_resize(self, event: Resize) -> None:
        self._columns(event.size.width)
        self._schedule_ahead()  # the charts' size changed: what was drawn ahead is for the old one

    def _expect_sizes(self) -> None:
        """Before the pane's first showing, tell each chart the content size it will have: the
        width of the nearest laid-out container (the tabs' content area) less the gutters of
        the hidden widgets down to the grid and the scrollbar's room, split into the grid's
        columns by Textual's own resolve. Only a speed-up: a wrong guess costs a build at the
        real size (tests/test_tui_trends.py checks the guess against the layout)."""
        grid = self.query_one("#trends-grid", Grid)
        if grid.content_region.width > 0:
            return  # laid out: the charts have their sizes
        width = less = 0
        for node in [grid, *grid.ancestors]:
            if not isinstance(node, Widget):
                break
            if node.content_region.width > 0:
                width = node.content_region.width - less
                break
            less += node.styles.gutter.width + (node.scrollbar_size_vertical if node is self else 0)
        if width <= 0:
            return  # nothing laid out yet: the charts are sized when shown
        columns = grid.styles.grid_size_columns or 1
        size = Size(width, self.app.size.height)
        spans = resolve([Scalar.parse("1fr")] * columns, width, grid.styles.grid_gutter_vertical, size, self.app.size)
        for k, chart in enumerate(self.query(Chart)):
            height = chart.styles.height.cells if chart.styles.height is not None else None
            _offset, column_width = spans[k % columns]
            if height is not None and column_width > chart.styles.gutter.width:
                chart.expected_size = (column_width - chart.styles.gutter.width, height - chart.styles.gutter.height)

    def _columns(self, width: int) -> None:
        columns = 2 if width >= WIDE else 1
        grid = self.query_one("#trends-grid", Grid)
        if grid.styles.grid_size_columns != columns:
            grid.styles.grid_size_columns = columns

    @staticmethod
    def load(engine, now, config, trends):
        """The long view is read by the pane itself (`_read`): a refresh hands it the 30-day
        series, which tells it the data changed."""
        return trends

    def show_data(self, _trends) -> None:
        """The app read its data again: read the long view again, shown or not. Read while
        hidden, key 7 shows it at once (the charts build when they get their size); a read
        costs a worker ~0.1-0.3 s on a million tickets, once per change of the data."""
        self._generation += 1
        self._views.clear()
        self._stale = True
        self._stop_ahead()
        self._read()

    def focus_main(self) -> None:
        self.focus(scroll_visible=False)
        if self._stale:
            self._read()

    def _read(self) -> None:
        """Show the chosen view: from the views read for this data if it is there, else read it."""
        self._stale = False
        view = (self.days, self.by)
        if view in self._views:
            self._show_history(view, self._views[view])
            return
        self._show_title(reading=True)
        if self._prefetching == (view, self._generation):
            return  # being read already: _read_done shows it
        self._read_worker(self.app.engine, self.app.now, self.app.config, view, self._generation)

    # --- reading and drawing ahead ---------------------------------------------------------

    def _ahead_views(self) -> list[tuple[int, str]]:
        """The shown view, then the ranges key p shows next, in that order (same grain). While
        the pane is hidden only the next one: key 7 comes before any p, and the rest are read in
        the quiet after it (a refresh while hidden reads no more than two views)."""
        first = RANGES.index(self.days)
        views = [(RANGES[(first + k) % len(RANGES)], self.by) for k in range(len(RANGES))]
        return views if self.app.active_pane_id == self.pane_id else views[:2]

    def _schedule_ahead(self) -> None:
        """(Re)start the quiet spell after which the read-ahead goes on (_ahead)."""
        if self._ahead_timer is not None:
            self._ahead_timer.stop()
        self._ahead_timer = self.set_timer(AHEAD_DELAY, self._ahead)

    def _stop_ahead(self) -> None:
        """A key or new data: the read-ahead's drawing stops now (a read under way finishes:
        its view is kept if its data is current), and waits for the next quiet spell."""
        self.workers.cancel_group(self, "trends-ahead-draw")
        self._drawing_ahead = False
        self._schedule_ahead()

    def _busy(self) -> bool:
        """The app is reading its data, or this pane its shown view: not a quiet moment."""
        return self._drawing_ahead or self._group_running("reload", "trends-history")

    def _ahead(self) -> None:
        """After a quiet spell: read ahead the next view not read yet (one at a time: its end
        draws it and schedules the next), or, all read, draw ahead what is not drawn."""
        self._ahead_timer = None
        if self._prefetching is not None:
            return  # a read ahead is under way: its end goes on
        if self._busy():
            self._schedule_ahead()
            return
        for view in self._ahead_views():
            if view not in self._views:
                self._prefetching = (view, self._generation)
                self._prefetch_worker(self.app.engine, self.app.now, self.app.config, view, self._generation)
                return
        self._draw_ahead()

    def _draw_ahead(self) -> None:
        """Build into the charts' cache the charts of the views read ahead, at the size each
        chart has, once the shown charts are drawn: a few tens of ms a view, so it needs no
        quiet spell, and p right after a paint finds the next range drawn."""
        charts = list(self.query(Chart))
        if self._drawing_ahead or any(chart.building for chart in charts):
            return  # the shown charts first / one at a time: their end calls here again
        self._expect_sizes()
        for chart in charts:
            chart.show_drawn()  # hidden, never shown: the shown view's charts as drawn ahead
        for view in self._ahead_views():
            h = self._views.get(view)
            keys = self._chart_keys(h) if h is not None else {}
            if keys:
                self._drawing_ahead = True
                self._draw_ahead_worker(keys)
                return

    def on_chart_drawn(self, _message: Chart.Drawn) -> None:
        self.call_after_refresh(self._draw_ahead)  # after the screen shows what was drawn

    def _group_running(self, *groups: str) -> bool:
        return any(
            worker.group in groups and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.app.workers
        )

    @property
    def ahead_done(self) -> bool:
        """Every view _ahead_views names is read and drawn at the charts' size, nothing under
        way (tests, the bench: the state a user finds after a second of quiet)."""
        views = self._ahead_views()
        return (
            self._prefetching is None
            and not self._drawing_ahead
            and not self._group_running("trends-history")
            and not any(chart.building for chart in self.query(Chart))
            and all(view in self._views and not self._chart_keys(self._views[view]) for view in views)
        )

    def _chart_keys(self, h) -> dict[Key, Chart]:
        """The charts of one view not yet in the charts' cache or not rendered in the style
        they show in, at the size each chart has, with the chart each is for."""
        from mspkpi_tui.tui.charts import BUILT

        keys = {}
        for chart_id, spec in trend_charts(h).items():
            chart = self.query_one(f"#{chart_id}", Chart)
            key = chart.key_for(spec)
            if key is not None and (key not in BUILT or BUILT.rendered(key, chart.visual_style) is None):
                keys[key] = chart
        return keys

    @work(thread=True, exclusive=True, group="trends-ahead-draw", exit_on_error=False)
    def _draw_ahead_worker(self, keys: dict[Key, Chart]) -> None:
        worker = get_current_worker()
        build_ahead(list(keys), lambda: worker.is_cancelled, keys)
        if not worker.is_cancelled:
            self.app._call(self._drawn_ahead)

    def _drawn_ahead(self) -> None:
        self._drawing_ahead = False
        self._draw_ahead()

    @work(thread=True, exclusive=True, group="trends-history", exit_on_error=False)
    def _read_worker(self, engine, now, config, view: tuple[int, str], generation: int) -> None:
        self._history(engine, now, config, view, generation, report=True)

    @work(thread=True, exclusive=True, group="trends-prefetch", exit_on_error=False)
    def _prefetch_worker(self, engine, now, config, view: tuple[int, str], generation: int) -> None:
        self._history(engine, now, config, view, generation, report=False)

    def _history(self, engine, now, config, view: tuple[int, str], generation: int, report: bool) -> None:
        """In a worker thread: read one view and hand it to the UI thread."""
        from mspkpi_tui.kpi.history import history

        try:
            result = history(engine, now, config, *view)
        except Exception as exc:  # keep the charts shown, say why they are not current
            if report:
                message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                self.app._call(self._read_failed, message[0] if message else type(exc).__name__)
            else:
                self.app._call(self._prefetch_failed, view, generation)
            return
        # Even from a cancelled worker (a newer read started): the view is right for its data.
        self.app._call(self._read_done, view, result, generation)

    def _prefetch_failed(self, view: tuple[int, str], generation: int) -> None:
        """A read ahead failed: if its view is wanted now, read it as the shown one (which reports)."""
        if self._prefetching == (view, generation):
            self._prefetching = None
            if view == (self.days, self.by) and generation == self._generation and view not in self._views:
                self._read()
            # else: not read ahead again until new data (a read that fails would fail again)

    def _read_done(self, view: tuple[int, str], h, generation: int) -> None:
        if self._prefetching == (view, generation):
            self._prefetching = None
        if generation == self._generation:  # else read from older data: the newer read follows
            self._views[view] = h
            if view == (self.days, self.by):
                self._show_history(view, h)
                return
            self._draw_ahead()
        self._schedule_ahead()

    def _show_history(self, view: tuple[int, str], h) -> None:
        self.history, self.shown_view = h, view
        self.reads += 1
        self._expect_sizes()
        for chart_id, spec in trend_charts(h).items():
            self.query_one(f"#{chart_id}", Chart).plot(spec)
        self._show_title()
        self._schedule_ahead()

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
        self._stop_ahead()
        self._read()

    def action_toggle_by(self) -> None:
        self.by = "week" if self.by == "day" else "day"
        self._stop_ahead()
        self._read()
