"""The key bar, rebuilt only when the keys it shows change.

Textual's Footer recomposes (removes and mounts every key widget) whenever the focused
widget's bindings change, which is on every pane switch; most panes show the same keys,
so that work (and a second repaint) is usually for nothing.

Public API only: `bindings_changed` (the Footer's hook for the screen's bindings signal) and
`Screen.active_bindings`. `_shown_keys` is None until the first call has gone through to the
Footer, so the first bindings always compose it.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

# Below this width the "^p palette" hint (docked right, over the keys) would cover the keys:
# it is left out and the keys are cut cleanly at the edge (the palette key still works).
PALETTE_HINT_MIN_WIDTH = 60


class QuietFooter(Footer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown_keys: tuple | None = None

    def on_resize(self) -> None:
        wanted = self.size.width >= PALETTE_HINT_MIN_WIDTH
        if self.show_command_palette != wanted:
            self.show_command_palette = wanted

    def _keys(self, screen: Screen) -> tuple:
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen) -> None:
        keys = self._keys(screen)
        if keys == self._shown_keys:
            return
        self._shown_keys = keys
        super().bindings_changed(screen)
