"""The key bar: the keys of the focused widget and its screen, drawn as one line of text.

Textual's Footer is a row of one widget per key, recomposed (every key widget removed and
mounted again, then a layout) a frame after each focus change, so a pane switch that changes
the keys painted twice: the pane, then a frame later the new footer. KeyBar is one widget
that draws the same keys in the same styles as one line: it is told of the new keys in the
frame that changes them (`show_keys_now`, from the pane keys) and only repaints itself.

Public API only: the screen's `bindings_updated_signal` (what Textual's Footer listens to)
and `Screen.active_bindings`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

# Below this width the "^p palette" hint (right-aligned, over the keys) would crowd the keys:
# it is left out and the keys are cut cleanly at the edge (the palette key still works).
PALETTE_HINT_MIN_WIDTH = 60
DIM = Style(dim=True)  # a key that does nothing here, as the Footer shows it


class Key(NamedTuple):
    key: str  # what simulate_key presses on a click
    display: str  # how the key is shown ("^p", "enter")
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """One line of keys at the bottom of a screen, as Textual's compact Footer draws them."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: tuple[Key, ...] = ()
        self.palette: Key | None = None
        # Where each key is drawn (start, end cell, key), for a click; set by render.
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """The screen's keys may have changed (a focus change, a binding refreshed)."""
        if screen is not self.screen:
            return
        keys, palette = self._read(screen)
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def show_keys_now(self) -> None:
        """Draw the keys of the focus as it is now, in the frame being built (a pane key calls
        it after moving the focus): Textual tells the bar only after that frame is painted."""
        if self.is_attached:
            self.bindings_changed(self.screen)

    def _read(self, screen: Screen) -> tuple[tuple[Key, ...], Key | None]:
        app = self.app
        keys: list[Key] = []
        palette: Key | None = None
        seen_actions: set[str] = set()
        for key, (_, binding, enabled, _) in screen.active_bindings.items():
            if app.ENABLE_COMMAND_PALETTE and key == app.COMMAND_PALETTE_BINDING:
                palette = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
                continue
            if not binding.show or binding.action in seen_actions:
                continue  # one entry per action, as the Footer shows them
            seen_actions.add(binding.action)
            keys.append(Key(binding.key, app.get_key_display(binding), binding.description, enabled))
        return tuple(keys), palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str]] = []
        for key in self.keys:
            start = line.cell_len
            dim = Style() if key.enabled else DIM
            line.append(key.display, style=key_style + dim)
            if key.description:
                line.append(" " + key.description, style=description_style + dim)
            spans.append((start, line.cell_len, key.key))
            line.append(" ")
        palette = self.palette
        if palette is not None and width >= PALETTE_HINT_MIN_WIDTH:
            hint = Text.assemble(("▏", self.rich_style), (palette.display, key_style))
            hint.append(" " + palette.description, style=description_style)
            start = max(0, width - hint.cell_len)
            line.truncate(start, pad=True)
            spans = [(a, min(b, start), k) for a, b, k in spans if a < start]
            spans.append((start, width, palette.key))
            line.append_text(hint)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return

    @property
    def plain(self) -> str:
        """The keys as shown, for tests: 'key description' pairs."""
        return "  ".join(f"{k.display} {k.description}".strip() for k in self.keys)
