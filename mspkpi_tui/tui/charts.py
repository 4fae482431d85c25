"""The chart widget: plotext text kept between repaints (dolphie's pattern).

textual-plotext's PlotextPlot rebuilds its chart on every render. Here a chart is built only
when what it plots (a frozen spec, compared by value) or the widget's size changed, in a
worker thread, and kept by (spec, size), so a quiet screen rebuilds nothing.

The worker that builds a chart also renders it: plotext's ANSI text -> rich Text -> Textual
Content -> the strips a Static would render from it (`Visual.to_strips`, the same call with
the same style), and the widget's render_line hands those strips out (Textual's Line API).
The UI thread only composes: turning eight charts' coloured text into strips on it cost
~100 ms of a key's time. Output is the same as a Static showing the Text (tests/
test_tui_snapshots.py): where the ready strips do not fit (another style or size, a text
selection), the Static path renders as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from rich.text import Text
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual
from textual.widgets import Static

from mspkpi_tui import charts


def span(days: Sequence[date]) -> str:
    return f"{days[0].day} {days[0]:%b}–{days[-1].day} {days[-1]:%b}" if days else "no days"


@dataclass(frozen=True)
class Spark:
    """One row: 'label first–last ⠤⠔⠊ last 2 · min 0 · max 7' (the line drawn by plotext)."""

    label: str
    days: tuple[date, ...]
    values: tuple[float | None, ...]
    height: int | None = 1

    def draw(self, width: int, height: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{self.label} {span(self.days)} ", style="bold")
        tail = f" {charts.summary(self.values)}"
        room = width - len(text.plain) - len(tail)
        if room >= 8:
            text.append_text(Text.from_ansi(charts.spark(self.values, room, 1)))
        text.append(tail)
        return text


@dataclass(frozen=True)
class Lines:
    """A framed line chart: title, x labels, one or more series (a faint previous period)."""

    title: str
    labels: tuple[str, ...]
    series: tuple[charts.Series, ...]
    height: int | None = None

    def draw(self, width: int, height: int) -> Text:
        return Text.from_ansi(charts.line_chart(self.title, self.labels, self.series, width, height))


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one row each: the widget is as tall as its bars (up to `most` of them)."""

    title: str
    items: tuple[tuple[str, float], ...]
    most: int = 6

    @property
    def height(self) -> int:
        return min(max(len(self.items), 1), self.most) + 3

    def draw(self, width: int, height: int) -> Text:
        return Text.from_ansi(charts.bar_chart(self.title, self.items, width, height))


@dataclass(frozen=True)
class Scatter:
    """Points with quadrant lines (the Clients pane's time and profitability matrix)."""

    title: str
    points: tuple[tuple[float, float], ...]
    x_line: float | None
    y_line: float | None
    xlabel: str = ""
    ylabel: str = ""
    height: int | None = None

    def draw(self, width: int, height: int) -> Text:
        return Text.from_ansi(
            charts.scatter_chart(
                self.title, self.points, self.x_line, self.y_line, width, height, self.xlabel, self.ylabel
            )
        )


Spec = Spark | Lines | Bars | Scatter
Key = tuple[Spec, int, int]  # what is drawn, at which width and height


@dataclass(frozen=True)
class Rendered:
    """A built chart made ready for the screen in the worker: the Content a Static would make
    of its Text, and the strips it would render from it in that style."""

    style: VisualStyle
    content: Content
    strips: tuple[Strip, ...]


class _Built:
    """The charts built lately, by (spec, width, height), shared by every Chart: a range
    switched back to, or a pane shown again at a size seen before, is drawn without plotext.
    Bounded (the oldest go first) and locked: builds finish in worker threads."""

    def __init__(self, most: int = 96, most_rendered: int = 48) -> None:
        self.most = most
        self._texts: OrderedDict[Key, Text] = OrderedDict()
        # The strips of the texts shown or drawn ahead lately, in the last style each was
        # rendered in, bounded on their own: 48 holds the Trends pane's three ranges by day
        # and by week and the other panes' charts (30 charts' strips are ~1,500 segments).
        self.most_rendered = most_rendered
        self._rendered: OrderedDict[Key, Rendered] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # plotext builds by every chart of the process (tests, the bench)
        self.shown = 0  # texts put on screen, built or from here

    def get(self, key: Key) -> Text | None:
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
            return text

    def __contains__(self, key: Key) -> bool:
        with self._lock:
            return key in self._texts

    def rendered(self, key: Key, style: VisualStyle) -> Rendered | None:
        with self._lock:
            rendered = self._rendered.get(key)
            if rendered is None or rendered.style != style:
                return None
            self._rendered.move_to_end(key)
            return rendered

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self._rendered.clear()

    def put(self, key: Key, text: Text) -> None:
        with self._lock:
            self.builds += 1
            self._texts[key] = text
            self._rendered.pop(key, None)
            while len(self._texts) > self.most:
                old, _text = self._texts.popitem(last=False)
                self._rendered.pop(old, None)

    def put_rendered(self, key: Key, rendered: Rendered) -> None:
        with self._lock:
            if key in self._texts:
                self._rendered[key] = rendered
                self._rendered.move_to_end(key)
                while len(self._rendered) > self.most_rendered:
                    self._rendered.popitem(last=False)


BUILT = _Built(most=128)


def build_ahead(keys: list[Key], cancelled: Callable[[], bool], charts: dict[Key, Chart] | None = None) -> int:
    """In a worker thread: build into BUILT the charts a key is about to show (the ranges read
    ahead), one at a time, so the key draws them without plotext; with `charts` (the widget
    each key is for), render them to strips too, so the key does not. Stops when `cancelled()`
    (the user acted: their own charts build first). Returns how many it built."""
    built = 0
    for key in keys:
        if cancelled():
            break
        text = BUILT.get(key)
        if text is None:
            spec, width, height = key
            text = spec.draw(width, height)
            BUILT.put(key, text)
            built += 1
        chart = charts.get(key) if charts else None
        if chart is not None:
            chart.render_ahead(key, text)
    return built


class Chart(Static):
    """Shows a spec (Spark, Lines, Bars). plotext builds it in a worker thread, and only when
    the spec or the size changed and the pair is not in BUILT: the UI thread never waits for
    plotext, and a quiet screen builds nothing."""

    DEFAULT_CSS = "Chart { height: 1; width: 1fr; }"

    class Drawn(Message):
        """A chart put a new text on screen (the Trends pane draws ahead once its charts are drawn)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.spec: Spec | None = None
        self._built: Key | None = None  # shown
        self._wanted: Key | None = None  # being built in a worker
        self._ready: tuple[Key, Rendered] | None = None  # the shown chart's strips, rendered in a worker
        # The content size the pane will give this chart when it is first shown (from the
        # terminal's width): a hidden chart is drawn ahead at it, so its first paint builds nothing.
        self.expected_size: tuple[int, int] | None = None

    def plot(self, spec: Spec) -> None:
        if spec == self.spec:
            return
        self.spec = spec
        if spec.height is not None and self.styles.height != spec.height:
            self.styles.height = spec.height  # the layout gives the new size; on_resize draws then
        self._build()

    def on_resize(self, event: Resize) -> None:
        self._build()

    def _build(self) -> None:
        width, height = self.content_size
        hidden = width <= 0 or height <= 0
        if hidden and self.expected_size is not None and self._built is None:
            width, height = self.expected_size  # not shown yet: shown from BUILT if drawn ahead
        if self.spec is None or width <= 0 or height <= 0:
            return
        key = (self.spec, width, height)
        if key in (self._built, self._wanted):
            return
        text = BUILT.get(key)
        if text is not None:
            self._wanted = key
            self._show(key, text)
            return
        if hidden:
            return  # built when shown (or drawn ahead by its pane in a quiet moment)
        self._wanted = key
        self.run_worker(
            partial(self._draw, key, self.visual_style),
            thread=True,
            group=f"chart-{id(self)}",
            exclusive=True,
            exit_on_error=False,
        )

    def show_drawn(self) -> None:
        """Show the chart from BUILT if it was drawn meanwhile (drawn ahead while hidden)."""
        self._build()

    def _draw(self, key: Key, style: VisualStyle) -> None:
        """In a worker thread: plotext's text (charts.py keeps one figure behind a lock), and
        the strips it shows as."""
        spec, width, height = key
        text = spec.draw(width, height)
        BUILT.put(key, text)
        self._render_strips(key, text, style)
        call = getattr(self.app, "_call", None) or self.app.call_from_thread
        call(self._show, key, text)

    def render_ahead(self, key: Key, text: Text) -> None:
        """In a worker thread: render a text built for this chart to strips, in its style now."""
        if BUILT.rendered(key, self.visual_style) is None:
            self._render_strips(key, text, self.visual_style)

    def _render_strips(self, key: Key, text: Text, style: VisualStyle) -> None:
        """What Static does with a Text on the UI thread (visualize, then Widget._render_content),
        done here: the same Content and the same `Visual.to_strips` call, at the key's size."""
        _spec, width, height = key
        content = Content.from_rich_text(text, console=self.app.console)
        strips = Visual.to_strips(self, content, width, height, style, apply_selection=False)
        BUILT.put_rendered(key, Rendered(style, content, tuple(strips)))

    def _show(self, key: Key, text: Text) -> None:
        if key != self._wanted:
            return  # a newer spec or size was asked for meanwhile: its build follows
        self._wanted, self._built = None, key
        BUILT.shown += 1
        rendered = BUILT.rendered(key, self.visual_style)
        self._ready = (key, rendered) if rendered is not None else None
        # A chart's height is set (CSS or its spec) unless it is auto: then its text sizes it.
        layout = self.styles.height is None or self.styles.height.is_auto
        self.update(rendered.content if rendered is not None else text, layout=layout)
        self.post_message(self.Drawn())

    def render_line(self, y: int) -> Strip:
        """The strips rendered in the worker, if they are for this size and style (else Static's
        own rendering, on this thread)."""
        ready = self._ready
        if ready is not None and self.text_selection is None:
            (_spec, width, height), rendered = ready
            if self.size == (width, height) and rendered.style == self.visual_style:
                if y < len(rendered.strips):
                    return rendered.strips[y]
                return Strip.blank(width, rendered.style.rich_style)
        return super().render_line(y)

    @property
    def building(self) -> bool:
        """A build of this chart's spec or size is under way."""
        return self._wanted is not None

    def key_for(self, spec: Spec) -> Key | None:
        """The key `spec` would be built under here: the widget's size now or, hidden, the size
        it was last drawn at (or, never shown, the size its pane expects it to get); None if
        it has had no size yet or the spec asks another height."""
        width, height = self.content_size
        if width <= 0 or height <= 0:
            if self._built is not None:
                _spec, width, height = self._built
            elif self.expected_size is not None:
                width, height = self.expected_size
            else:
                return None
        if spec.height is not None and spec.height != height:
            return None
        return (spec, width, height)

    @property
    def plain(self) -> str:
        return str(self.render()) if self._built else ""
