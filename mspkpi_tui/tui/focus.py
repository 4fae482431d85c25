"""Focus that stays on the pane shown.

A pane key used to focus the new pane's main widget with `Widget.focus()`, which defers the
focus to a later message. Two things went wrong with that:

- the switch painted twice: once for the new pane, once more for the focus change (the
  cursor row's colour and the footer's keys), so a pane switch wrote two full screens;
- a focus still pending when the next pane key arrived landed in a pane no longer shown
  (with Textual's TabbedContent, which showed the pane of a focused widget, the two panes
  took the screen from each other for up to 20 s on the 1M-ticket database).

So the panes focus their main widget at once (`focus_now`, in the handler of the key, in the
same frame as the switch), and the dashboard's screen never focuses a widget that is not
displayed (a focus asked for before its pane was switched away from is dropped). The pane
shown follows the pane keys and the tab strip only, never the focus (tui/pane_tabs.py).

Public API only: `Screen.set_focus` (which `Widget.focus` calls later) and `App.get_default_screen`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget


def focus_now(widget: Widget, scroll_visible: bool = False) -> None:
    """Focus `widget` now rather than after the current message (as `Widget.focus` does).
    The focus change repaints what it changes (the widget's focus styles), so the full
    repaint of the widget that `Widget.focus` also asks for is left out."""
    if widget.is_attached:
        widget.screen.set_focus(widget, scroll_visible=scroll_visible)


def displayed(widget: Widget) -> bool:
    """The widget and every container above it are displayed (no `display: none` on the way)."""
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))


if TYPE_CHECKING:
    _WidgetMixin = Widget  # for the type checker the mixin is a widget
else:
    # At run time a plain mixin: Textual inherits DEFAULT_CSS along the first DOMNode base only,
    # so a Widget base here would hide the list's own base's CSS (ScrollView's overflow).
    _WidgetMixin = object


class FocusStyledWhereShown(_WidgetMixin):
    """Listed before the widget's Textual base: `class TicketTable(FocusStyledWhereShown, ScrollView)`.

    A focusable list restyled for its focus only where that shows.

    A pane switch blurs the list of the pane it hides and focuses the list of the pane it shows;
    Textual restyles a widget on every such change (the stylesheet applied to the widget, its
    component classes and its scrollbars, whose repaint came as a second frame after the
    switch). A list blurred as its pane is hidden keeps its focused styles: nobody sees them,
    and the list that gets the focus back when its pane is shown again already has them. Shown
    without the focus (its pane shown while the focus stays elsewhere), it is restyled then."""

    styled_for_focus = False  # the focus state the styles were last applied for

    def watch_has_focus(self, has_focus: bool) -> None:
        if has_focus == self.styled_for_focus or (not has_focus and not displayed(self)):
            return
        self.styled_for_focus = has_focus
        self.update_node_styles()  # what Widget.watch_has_focus does

    def on_show(self) -> None:
        if self.styled_for_focus != self.has_focus:
            self.styled_for_focus = self.has_focus
            self.update_node_styles()


class DashboardScreen(Screen):
    """The dashboard's screen: a widget on a pane not shown is never focused, and a focus
    change repaints only the widgets whose focus styles change, not the whole screen."""

    # Screen.focused repaints the whole screen when it changes (Reactive's default), which a
    # pane switch paid as a second full frame (~19 KB at 120x40). Nothing the screen itself
    # draws depends on the focus: the widgets gaining and losing it restyle and repaint
    # themselves (Screen._update_focus_styles, Widget._on_focus / _on_blur).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def set_focus(self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False) -> None:
        if widget is not None and widget is not self.focused and not displayed(widget):
            return  # a focus asked for before its pane was switched away from
        super().set_focus(widget, scroll_visible=scroll_visible, from_app_focus=from_app_focus)
