"""The queue's filter box: Textual's Input without a layout of the screen per keystroke.

Input sets its `virtual_size` (the text's width, for its horizontal scrolling) on every change
of its value, and `Widget.virtual_size` is a reactive with `layout=True`: each keystroke laid
out the whole screen again (the filter keystroke's frame was mostly that layout). The box has a
fixed size (one line, compact, Input's 100% width) and no scrollbars, so its virtual width changes nothing
around it: here it only repaints the box. Input's horizontal scrolling reads `virtual_size`
directly (`max_scroll_x`), not the layout.

And the text typed is handed to `on_text` at once, in the key's handler, rather than by the
Changed message, which reaches the pane a few message hops later: the box was painted alone
first (~10 ms after the key), the query line and the table one frame later (~20-25 ms more on
the 1M database, Textual painting at most 60 frames a second). Now they are one frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class FilterBox(Input):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, on_text: Callable[[str], object], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_text = on_text
        self._quiet = False

    def watch_value(self, value: str) -> None:
        if not self._quiet:
            self._on_text(value)

    def set_quietly(self, value: str) -> None:
        """Show `value` without telling anyone (no on_text, no Changed message)."""
        self._quiet = True
        try:
            with self.prevent(Input.Changed):
                self.value = value
        finally:
            self._quiet = False
