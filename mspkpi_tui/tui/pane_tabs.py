"""The pane tabs: a one-line strip of the panes' names and the container that shows one pane.

Textual's TabbedContent did this with a Tabs widget (a Tab widget per name, an underline bar)
over a ContentSwitcher of TabPanes. A pane switch then cost more than the pane it shows: the
TabbedContent, the ContentSwitcher and the TabPane each repainted their whole area (their
active-pane reactives and the TabPane's display), the two Tab widgets were restyled for the
moved `-active` class, and the underline bar moved a frame later (bench/RESULTS.md, the pane
switch rounds). Here a switch changes the `display` of two panes and repaints one line of text.

The strip is focusable (Tab reaches it, as it reached Textual's tabs): left and right show the
previous and next pane and keep the focus on the strip; a click on a name shows that pane and
focuses it, as its number key does. The owner (the app) decides what showing a pane means, so
the strip only says which pane was asked for (`PaneStrip.Chosen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.widget import Widget


class PaneStrip(Widget, can_focus=True):
    """The panes' names on one line, " 1 Queue 2 SLAs ...": the shown pane's bold and reversed (it
    stands out under NO_COLOR too), the others dimmed. When the names do not fit, the strip
    starts late enough for the shown pane's name to be whole."""

    DEFAULT_CSS = """
    PaneStrip {
        height: 1;
        width: 1fr;
        & > .pane-strip--tab { color: $foreground 50%; }
        & > .pane-strip--hover { color: $foreground; }
        & > .pane-strip--active { color: $foreground; text-style: bold reverse; }
        &:focus > .pane-strip--active {
            text-style: $block-cursor-text-style;
            color: $block-cursor-foreground;
            background: $block-cursor-background;
        }
        &:ansi > .pane-strip--tab { text-style: dim; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"pane-strip--tab", "pane-strip--hover", "pane-strip--active"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous pane", show=False),
        Binding("right", "step(1)", "Next pane", show=False),
    ]
    ALLOW_SELECT = False

    class Chosen(Message):
        """A pane was asked for: by a click (`focus_pane`: focus its main widget) or by left or
        right on the focused strip (the focus stays on the strip)."""

        def __init__(self, pane_id: str, focus_pane: bool) -> None:
            super().__init__()
            self.pane_id = pane_id
            self.focus_pane = focus_pane

    def __init__(self, tabs: Sequence[tuple[str, str]], active: str, id: str | None = None) -> None:
        """`tabs`: (pane id, label) in order; `active`: the pane shown first."""
        super().__init__(id=id)
        self.tabs = list(tabs)
        self._active = active
        self._hover: str | None = None

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, pane_id: str) -> None:
        if pane_id != self._active:
            self._active = pane_id
            self.refresh()  # one line

    def _cells(self) -> list[tuple[str, int, int]]:
        """(pane id, first cell, end cell) of each name as drawn: " 1 Queue" is one name."""
        ids = [pane_id for pane_id, _ in self.tabs]
        widths = [1 + cell_len(label) for _, label in self.tabs]
        start = 0
        # Start late enough for the shown pane's name to end on screen (a narrow terminal).
        if self._active in ids:
            end_of_active = sum(widths[: ids.index(self._active) + 1])
            while end_of_active - sum(widths[:start]) > self.size.width and start < ids.index(self._active):
                start += 1
        cells, x = [], 0
        for pane_id, width in zip(ids[start:], widths[start:], strict=True):
            cells.append((pane_id, x, x + width))
            x += width
        return cells

    def render(self) -> Text:
        styles = {name: self.get_component_rich_style(f"pane-strip--{name}") for name in ("tab", "hover", "active")}
        labels = dict(self.tabs)
        line = Text(no_wrap=True, overflow="crop", end="")
        for pane_id, _, _ in self._cells():
            kind = "active" if pane_id == self._active else "hover" if pane_id == self._hover else "tab"
            line.append(" ")  # the gap before a name is not part of its highlight
            line.append(labels[pane_id], styles[kind])
        return line

    def pane_at(self, x: int) -> str | None:
        return next((pane_id for pane_id, start, end in self._cells() if start <= x < end), None)

    def action_step(self, delta: int) -> None:
        ids = [pane_id for pane_id, _ in self.tabs]
        pane_id = ids[(ids.index(self._active) + delta) % len(ids)]
        self.post_message(self.Chosen(pane_id, focus_pane=False))

    def on_click(self, event: events.Click) -> None:
        pane_id = self.pane_at(event.x)
        if pane_id is not None:
            self.post_message(self.Chosen(pane_id, focus_pane=True))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self.pane_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, pane_id: str | None) -> None:
        if pane_id != self._hover:
            self._hover = pane_id
            self.refresh()


class PaneSwitcher(Container):
    """The panes, one displayed at a time. A pane is a direct child (no wrapper to repaint), so
    one mounted later (the lazy panes) takes its display from `current` through `fit`."""

    DEFAULT_CSS = "PaneSwitcher { height: 1fr; }"

    def __init__(self, current: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self._current = current

    @property
    def current(self) -> str:
        return self._current

    @current.setter
    def current(self, pane_id: str) -> None:
        if pane_id == self._current:
            return
        self._current = pane_id
        for child in self.children:
            self.fit(child)

    def fit(self, pane: Widget) -> None:
        """Display `pane` if it is the current one, hide it if not."""
        pane_id = getattr(pane, "pane_id", None)
        if pane_id is not None:
            pane.display = pane_id == self._current
