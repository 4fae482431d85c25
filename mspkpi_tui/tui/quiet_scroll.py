"""A ScrollView that repaints its scrollbars only when its sizes change.

Textual's `ScrollView._size_updated` compares the size of the widget's *parent* (the container
size it is given) with the widget's *own* container size, which differ whenever the widget does
not fill its parent (the queue's table under its summary lines, a pane's list under its
figures). So every layout, a pane switch included, took the sizes as changed and asked the
scrollbars to repaint; that request is handled after the frame being built, as a second frame
~30 ms later that redraws the same scrollbars (and the benchmark's "repaint done" waits for
it). Here a layout with the same sizes as the last one leaves the scrollbars alone; any change
(the terminal, the rows, the pane's layout) goes through Textual's own code as before.

The one private name of Textual this overrides, pinned in tests/test_tui_textual_api.py.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView


class QuietScrollView(ScrollView):
    # The sizes of the last layout that went through to Textual: (size, virtual size given,
    # container size given, the widget's own virtual size).
    sizes_laid_out: tuple[Size, Size, Size, Size] | None = None

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        sizes = (size, virtual_size, container_size, self.virtual_size)
        if sizes == self.sizes_laid_out:
            return False  # the same layout as last time: nothing to resize or repaint
        self.sizes_laid_out = sizes
        return super()._size_updated(size, virtual_size, container_size, layout)
