"""The queue's filter box: Textual's Input without a layout of the screen per keystroke.

Input sets its `virtual_size` (the text's width, for its horizontal scrolling) on every change
of its value, and `Widget.virtual_size` is a reactive with `layout=True`: each keystroke laid
out the whole screen again (the filter keystroke's frame was mostly that layout). The box has a
fixed size (one line, compact, Input's 100% width) and no scrollbars, so its virtual width changes nothing
around it: here it only repaints the box. Input's horizontal scrolling reads `virtual_size`
directly (`max_scroll_x`), not the layout.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class FilterBox(Input):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
