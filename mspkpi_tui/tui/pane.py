"""The contract between the app and its panes.

The app knows its panes only through this class: it builds one tab per entry of
tui.panes.PANES, reads each pane's data with the pane's `load` in the refresh worker (off
the UI thread, never in a render path), and hands the result to `show_data` on the UI
thread. Everything else a pane does (its widgets, its keys) is its own business.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Engine
from textual.binding import BindingType
from textual.widget import Widget

if TYPE_CHECKING:
    from mspkpi_tui.kpi.tickets import TicketRow
    from mspkpi_tui.kpi.trends import Trends
    from mspkpi_tui.tui.app import MspkpiApp


if TYPE_CHECKING:
    _Mixin = Widget  # for the type checker a pane is a widget (self.app, self.query_one ...)
else:
    # At run time a plain mixin: Textual inherits DEFAULT_CSS along the first DOMNode base only,
    # so a Widget base here would hide the container's CSS (VerticalScroll's height: 1fr).
    _Mixin = object


class Pane(_Mixin):
    """Base of the panes, listed first in a pane's bases, before its Textual container:
    `class TeamPane(Pane, VerticalScroll)`. Not a DOMNode itself: query panes by id, not by type."""

    pane_id: ClassVar[str]  # the tab's id; the widget's id is "pane-<pane_id>"
    title: ClassVar[str]  # the tab's label (after its number key) and the command palette's

    # Set once the pane is mounted with its widgets (app.pane_mounted): deliveries before that
    # wait in the app's `latest` for it.
    has_data_feed: bool = False

    if TYPE_CHECKING:
        app: MspkpiApp  # for the type checker: panes live in the mspkpi app (engine, config, now)

    @staticmethod
    def load(engine: Engine, now: datetime, config: Any, trends: Trends) -> Any:
        """Read what the pane shows: runs in the refresh worker, returns an immutable bundle."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        """Show a bundle from `load` (UI thread; update widgets in place, repaint only changes)."""
        raise NotImplementedError

    def focus_main(self) -> None:
        """Focus the widget the keys act on when the pane is shown."""
        raise NotImplementedError

    def tick(self) -> None:
        """The minute changed: repaint what reads the clock (countdowns, ages). Default: nothing."""

    def current_ticket(self) -> TicketRow | None:
        """The ticket the copy keys act on, if the pane lists tickets."""
        return None

    @classmethod
    def key_help(cls) -> list[tuple[str, list[BindingType], list[tuple[str, str]]]]:
        """The help screen's sections for this pane: (title, bindings, extra rows of keys and what
        they do). Default: the pane's own BINDINGS under its title ("" = the pane's title), if any."""
        own = list(cls.__dict__.get("BINDINGS", []))
        return [("", own, [])] if own else []

    def on_mount(self) -> None:
        # A pane mounted after its data arrived (the panes after the queue are mounted
        # lazily, after the first paint) shows the app's latest data for it.
        self.app.pane_mounted(self)


class LazyPane(Widget):
    """A placeholder that mounts its pane after the first paint, in its place.

    Public API only (textual.lazy.Lazy keeps the widget in a private attribute): the pane is
    mounted beside the placeholder once the screen has refreshed, then the placeholder goes.
    Nothing happens when the app is already closing by then (a quick quit, SIGHUP).
    """

    DEFAULT_CSS = "LazyPane { display: none; }"

    def __init__(self, pane: Widget) -> None:
        super().__init__()
        self.pane = pane

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_pane)

    async def _mount_pane(self) -> None:
        from textual.widget import MountError

        parent = self.parent
        if not isinstance(parent, Widget) or not parent.is_attached:
            return
        try:
            await parent.mount(self.pane, after=self)
        except MountError:
            if parent.is_attached:
                raise
            return
        await self.remove()
