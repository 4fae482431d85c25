"""The dashboard: seven panes on number keys, kept current while a sync runs elsewhere.

Refreshing follows dolphie's pattern: one worker thread checks cheaply whether the
database changed (kpi.status.ChangeWatch) and re-reads only then; when it ends, the next
check is scheduled, so reads never overlap and a keypress never waits for one. Widgets
are built once and updated in place; nothing repaints unless what it shows changed
(countdowns move at minute resolution).

The first screen comes first: the first read starts before the widgets are built and reads
the queue while they are built; the first paint waits for it (or for FIRST_DATA_WAIT), so it
already shows the queue, and only after that paint are the other panes read; those panes are
built lazily (LazyPane, after the first paint) and show the latest data the app holds for
them when they mount. Workers never touch widgets: what they need from the
screen is captured on the UI thread (loader.QueueRequest).
"""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import get_current_worker

from mspkpi_tui.clock import utcnow
from mspkpi_tui.config import THEME_ALIASES  # the config refuses any other unknown theme
from mspkpi_tui.kpi.status import ChangeWatch, SyncStatus, sync_status
from mspkpi_tui.kpi.tickets import TicketRow
from mspkpi_tui.safe_text import clean
from mspkpi_tui.tui import links, loader
from mspkpi_tui.tui.focus import DashboardScreen
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.pane import LazyPane, Pane
from mspkpi_tui.tui.pane_tabs import PaneStrip, PaneSwitcher
from mspkpi_tui.tui.panes import PANES
from mspkpi_tui.tui.queue_pane import QueuePane
from mspkpi_tui.tui.screens import DetailScreen, EmptyScreen, FacetScreen, HelpScreen
from mspkpi_tui.tui.status_line import StatusLine, status_text
from mspkpi_tui.tui.ticket_table import TicketTable
from mspkpi_tui.tui.triage_keys import TRIAGE_BINDINGS, Marks, Pending, TriageKeys
from mspkpi_tui.tui.widgets import Table, TicketListView

if TYPE_CHECKING:
    from mspkpi_tui.config import Config
    from mspkpi_tui.kpi.alerts import Announcer

FIRST_PANE = "queue"  # shown and read first (its read takes the queue's query: loader.QueueRequest)
# With a live clock, figures that depend on the time (due within the hour, overdue ...) are
# re-read at least this often even when no sync wrote anything.
REREAD_SECONDS = 300
FIRST_PAINT_WAIT = 2.0  # seconds the first read waits for the queue's paint before reading the other panes
# Seconds the first paint waits for the first read's queue before it is drawn without it. Drawn
# with it, the first paint shows the data: one layout and paint instead of an empty screen, then
# a second layout with the rows (~0.1 s of CPU of a start on the 1M-ticket database).
FIRST_DATA_WAIT = 0.5
KEY_NAMES = {
    "question_mark": "?",
    "exclamation_mark": "!",
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


class MspkpiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "mspkpi"
    BINDINGS = [
        *[
            Binding(str(n), f"show_pane('{pane.pane_id}')", pane.title, show=False, id=f"pane-{pane.pane_id}")
            for n, pane in enumerate(PANES, start=1)
        ],
        Binding("question_mark", "help", "Help", id="help"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("c", "copy_number", "Copy #", show=False, id="copy-number"),
        Binding("y", "copy_url", "Copy URL", show=False, id="copy-url"),
        Binding("o", "open_url", "Open in browser", show=False, id="open-url"),
        Binding("exclamation_mark", "alert_log", "Today's alerts", show=False, id="alert-log"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, engine: Engine, config: Config, now: datetime | None = None, where: str | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.config = config
        self.pinned_now = now
        self.where = where or engine.url.render_as_string(hide_password=True)
        self.animation_level = "none"
        self.sync: SyncStatus | None = None
        self.read_error: str | None = None
        self.reads = 0  # completed re-reads, for tests and the benchmark
        # run_app sets it: a process that is the app. Not in tests, where many apps share one
        # process and freezing would keep each earlier app's garbage for good.
        self.freeze_after_first_read = False
        self._watch = ChangeWatch(engine)
        self._next_check: Timer | None = None
        self._last_read = 0.0
        self.latest: dict[str, object] = {}  # pane id -> the data last read for it
        # The panes built so far and the tabs, kept at hand: a pane key found them by a query of
        # the whole DOM (a few ms of each switch).
        self._panes: dict[str, Pane] = {}
        tabs = [(cls.pane_id, f"{n} {cls.title}") for n, cls in enumerate(PANES, start=1)]
        self._strip = PaneStrip(tabs, active=FIRST_PANE, id="pane-strip")
        self._switcher = PaneSwitcher(current=FIRST_PANE, id="panes")
        self._key_bar = KeyBar()
        self._built = False  # on_mount has run
        self._first_data = False  # the first read has the queue (or has ended without it)
        self._first_paint_hold = ExitStack()  # holds the screen's updates until the first data (on_load)
        self._after_build: list[Callable[[], object]] = []  # for after the first paint
        self.marks = Marks()  # tickets marked for a bulk action (space), shared by every list
        self.pending = Pending()  # triage changes sent, not yet confirmed: the lists show them at once
        self._alerts: Announcer | None = None  # what was announced (loaded in the worker on first use)
        # Where bells and notifications are written (the terminal; tests catch them instead).
        self.terminal_write: Callable[[str], None] = self._write_terminal
        theme = config.tui.theme
        if theme:
            self.theme = THEME_ALIASES.get(theme, theme)

    def get_default_screen(self) -> Screen:
        return DashboardScreen(id="_default")  # never focuses a widget on a pane not shown (tui/focus.py)

    @property
    def now(self) -> datetime:
        return self.pinned_now or utcnow()

    # --- building ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._strip
        with self._switcher:
            for cls in PANES:
                pane = cls(id=f"pane-{cls.pane_id}")
                self._switcher.fit(pane)
                yield pane if cls.pane_id == FIRST_PANE else LazyPane(pane)
        yield StatusLine(id="status")
        yield self._key_bar

    async def on_load(self) -> None:
        # The first read starts before the widgets are built and runs while they are (its SQLite
        # part in parallel); the screen is not drawn until the queue is in.
        self._first_paint_hold.enter_context(self.batch_update())
        self.set_timer(FIRST_DATA_WAIT, self._first_paint_hold.close)  # a slow database: the screen first
        self.check_for_changes(force=True, request=loader.QueueRequest(height=self.size.height))
        await asyncio.sleep(0)  # the worker's thread starts now, not after the widgets are built

    def on_mount(self) -> None:
        if self.config.tui.keymap:
            self.set_keymap(dict(self.config.tui.keymap))
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass  # not on the main thread (tests) or no SIGHUP on this platform
        self.pane(FIRST_PANE).focus_main()
        self._built = True
        if self._first_data:
            self._first_paint_hold.close()
        for callback in self._after_build:
            self.call_after_refresh(callback)
        self._after_build.clear()
        if self.sync is not None:
            self._apply_status(self.sync)
        self._show_status()
        if self.pinned_now is None:
            self._minute_tick(first=True)

    def on_unmount(self) -> None:
        self._watch.close()

    def _hang_up(self) -> None:
        """The terminal went away (SSH dropped): stop instead of spinning on a dead tty.
        The clean exit can block writing to the dead terminal: the watchdog ends it anyway."""
        from mspkpi_tui.terminal import HANGUP_GRACE_SECONDS, arm_watchdog

        arm_watchdog(HANGUP_GRACE_SECONDS, 129)
        self.exit(return_code=129)

    def pane(self, pane_id: str) -> Pane:
        return self.query_one(f"#pane-{pane_id}", Pane)

    def mounted_panes(self) -> list[Pane]:
        """The panes built so far (all but the queue are built after the first paint)."""
        return [pane for cls in PANES for pane in self.query(f"#pane-{cls.pane_id}").results(Pane)]

    def pane_mounted(self, pane: Pane) -> None:
        pane_id = pane.pane_id
        self._panes[pane_id] = pane
        pane.has_data_feed = True  # from now on every delivery is shown at once
        self._switcher.fit(pane)  # a pane key may have shown or hidden it while it was mounting
        if pane_id in self.latest:
            pane.show_data(self.latest[pane_id])
        if pane_id == self.active_pane_id and not isinstance(self.focused, Input):
            pane.focus_main()

    def _deliver(self, pane_id: str, data) -> None:
        """New data for a pane: kept for when it is built, shown now if it is."""
        self.latest[pane_id] = data
        if pane_id == FIRST_PANE:
            self._first_data_in()
        if not self.screen_stack:  # the first read, before the screen is built: the pane shows it when mounted
            return
        for pane in self.query(f"#pane-{pane_id}").results(Pane):
            # A pane still being mounted (in the DOM, its widgets not all mounted) shows `latest`
            # from its own on_mount: shown now, a table mounting after it would be emptied by
            # its own on_mount and the pane would stay blank until new data.
            if pane.has_data_feed:
                pane.show_data(data)

    @property
    def active_pane_id(self) -> str:
        return self._switcher.current

    # --- reading the database ---------------------------------------------------------------

    def check_for_changes(self, force: bool = False, request: loader.QueueRequest | None = None) -> None:
        """Re-read everything if the database changed (or when forced), then schedule the next check."""
        if request is None:
            queue = self.query(QueuePane)
            if not queue:  # the app is closing
                return
            request = queue.first().request()
        self._check_worker(force, request)

    @work(thread=True, exclusive=True, group="reload", exit_on_error=False)
    def _check_worker(self, force: bool, request: loader.QueueRequest) -> None:
        worker = get_current_worker()
        try:
            changed = self._watch.changed()
            due = self.pinned_now is None and time.monotonic() - self._last_read > REREAD_SECONDS
            if force or changed or due:
                self._read_all(worker, request)
            if self.config.alerts.enabled and not worker.is_cancelled:
                self._check_alerts()  # every check: a due time passes without any write
        except Exception as exc:  # the database went away, a query failed: keep the last data, say why
            message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            self._call(self._read_failed, message[0] if message else type(exc).__name__)
        finally:
            self._call(self._check_ended)
            if not worker.is_cancelled:
                self._call(self._schedule_next_check)

    def _read_all(self, worker, request: loader.QueueRequest) -> None:
        now = self.now
        status = sync_status(self.engine, now, self.config)
        # Read before anything is handed to the UI thread: each hand-over waits for it, and on
        # the first read it is building the widgets meanwhile.
        queue = loader.load_queue(self.engine, now, self.config, request) if status.has_tickets else None
        self._call(self._apply_status, status)
        if queue is None or worker.is_cancelled:
            return
        self._call(self._deliver, FIRST_PANE, queue)
        if not self.latest.keys() - {FIRST_PANE}:  # the first read: let the queue paint before the heavy reads
            painted = threading.Event()
            self._call(self._after_paint, painted.set)
            painted.wait(FIRST_PAINT_WAIT)
        trends = loader.load_trends(self.engine, now, self.config)
        for cls in PANES:
            if cls.pane_id == FIRST_PANE:
                continue
            if worker.is_cancelled:
                return
            self._call(self._deliver, cls.pane_id, cls.load(self.engine, now, self.config, trends))
        self._call(self._read_done)

    def _first_data_in(self) -> None:
        """The first read has the queue, or has ended without it (an empty database, a failed
        read): the first paint may go ahead once the screen is built (on_mount)."""
        self._first_data = True
        if self._built:
            self._first_paint_hold.close()

    def _check_ended(self) -> None:
        """After every check. The first one lets the first paint go ahead if its read did not
        (an empty database, a failed read) and ends start-up's pause of the garbage collector
        (cli.main), after `_read_done` froze what the first read built."""
        self._first_data_in()
        if not gc.isenabled():
            gc.enable()

    def _after_paint(self, callback: Callable[[], object]) -> None:
        """After the next paint; before the screen is built (the first read can be done by
        then), after its first paint."""
        if self._built:
            self.call_after_refresh(callback)
        else:
            self._after_build.append(callback)

    def _check_alerts(self) -> None:
        """In the worker: what fires now, what of it to announce (kpi/alerts.py), the state saved
        only when it changed; the announcing itself on the UI thread."""
        from mspkpi_tui.kpi.alerts import evaluate
        from mspkpi_tui.tui import alerts as alert_io

        path = alert_io.state_path(self.engine.url.render_as_string(hide_password=True))
        if self._alerts is None:
            self._alerts = alert_io.load_state(path)
        now = self.now
        announcements = self._alerts.step(evaluate(self.engine, now, self.config), now, self.config, self.engine)
        if self._alerts.changed:
            alert_io.save_state(path, self._alerts)
        if announcements:
            self._call(self._announce, announcements)

    def _announce(self, announcements: list) -> None:
        from mspkpi_tui.tui.alerts import deliver

        deliver(
            announcements,
            lambda message: self.notify(message, title="Alert", severity="warning", markup=False),
            self.terminal_write,
        )

    def _write_terminal(self, data: str) -> None:
        """Bells and OSC notifications, straight to the terminal (Textual's own bell() writes
        the same way); nothing in a headless run."""
        driver = self._driver
        if driver is not None and not self.is_headless:
            driver.write(data)
            driver.flush()

    def alert_log(self) -> list:
        """Today's announcements (kpi.alerts.LogEntry), oldest first."""
        return list(self._alerts.log) if self._alerts is not None else []

    def action_alert_log(self) -> None:
        from mspkpi_tui.tui.alerts import AlertLogScreen

        if not isinstance(self.screen, AlertLogScreen):
            self.push_screen(AlertLogScreen())

    def _call(self, callback, *args) -> None:
        """Run on the UI thread; quietly nothing when the app is already closing."""
        if not self.is_running:
            return
        try:
            self.call_from_thread(callback, *args)
        except (RuntimeError, LookupError):
            if self.is_running:
                raise

    def _read_done(self) -> None:
        self._last_read = time.monotonic()
        self.reads += 1
        if self.reads == 1 and self.freeze_after_first_read:
            # What start-up built (modules, widgets, SQLAlchemy's metadata, the first read's caches)
            # lives as long as the app: out of the collector's reach, a full collection scans only
            # what was made since, instead of pausing the screen for 170-550 ms (measured on the
            # 1M-ticket database; the Trends bench's slow key-7 samples were these pauses).
            gc.freeze()
        if self.read_error:
            self.read_error = None
            self._show_status()
        if isinstance(self.screen, DetailScreen):
            self.screen.reload()

    def _read_failed(self, message: str) -> None:
        self.read_error = message
        self._show_status()

    def _schedule_next_check(self) -> None:
        if self._next_check is not None:
            self._next_check.stop()
            self._next_check = None
        seconds = self.config.tui.refresh_seconds
        if seconds and seconds > 0:
            self._next_check = self.set_timer(seconds, self.check_for_changes)

    def _apply_status(self, status: SyncStatus) -> None:
        self.sync = status
        if not self._built:  # the first read can finish before the screen is built: on_mount applies it
            return
        empty = any(isinstance(s, EmptyScreen) for s in self.screen_stack)
        if not status.has_tickets and not empty:
            self.push_screen(EmptyScreen(self.where))
        elif status.has_tickets and empty:
            while any(isinstance(s, EmptyScreen) for s in self.screen_stack):
                self.pop_screen()
        self._show_status()

    def _show_status(self) -> None:
        for screen in self.screen_stack:
            self.show_status_on(screen)

    def show_status_on(self, screen: Screen) -> None:
        text = status_text(self.sync, self.now, self.config.zone, self.read_error)
        for line in screen.query(StatusLine):
            line.show(text)

    def _minute_tick(self, first: bool = False) -> None:
        """Countdowns and 'x min ago' change once a minute: repaint just those, on the minute."""
        now = utcnow()
        self.set_timer(60 - now.second - now.microsecond / 1e6 + 0.05, self._minute_tick)
        if not first:
            self.tick_minute()

    def tick_minute(self) -> None:
        """The minute changed: each pane repaints the cells that read the clock and changed."""
        for pane in self.mounted_panes():
            pane.tick()
        self._show_status()
        if isinstance(self.screen, DetailScreen):
            self.screen.reload()

    # --- actions ---------------------------------------------------------------------------

    def action_show_pane(self, pane_id: str) -> None:
        from mspkpi_tui.tui.alerts import AlertLogScreen

        while isinstance(self.screen, (DetailScreen, HelpScreen, AlertLogScreen)):
            self.pop_screen()
        if isinstance(self.screen, EmptyScreen):
            return
        # The pane and the focus on its main widget change together: one frame (tui/focus.py).
        self._show_pane(pane_id, focus=True)

    def _show_pane(self, pane_id: str, focus: bool) -> None:
        # The pane, the tab strip and the focus on the pane's main widget change together: one
        # frame (tui/focus.py, tui/pane_tabs.py).
        with self.batch_update():
            self._switcher.current = pane_id
            self._strip.active = pane_id
            pane = self._panes.get(pane_id)  # not built yet: it focuses itself when mounted
            if focus and pane is not None:
                pane.focus_main()
                self._key_bar.show_keys_now()  # the new pane's keys in the same frame

    @on(PaneStrip.Chosen)
    def _pane_chosen(self, event: PaneStrip.Chosen) -> None:
        """A click on a pane's name (shown and focused, as by its key), or left or right on the
        focused strip (shown, the focus stays on the strip)."""
        if event.focus_pane:
            self.action_show_pane(event.pane_id)
        else:
            self._show_pane(event.pane_id, focus=False)

    def action_refresh(self) -> None:
        self.check_for_changes(force=True)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def current_ticket(self) -> TicketRow | None:
        screen = self.screen
        if isinstance(screen, DetailScreen):
            return screen.current_ticket()
        if isinstance(screen, TriageKeys):  # a screen with its own ticket list (the company page)
            return screen.current_ticket()
        if isinstance(screen, (EmptyScreen, HelpScreen)) or len(self.screen_stack) > 1:
            return None
        panes = self.query(f"#pane-{self.active_pane_id}").results(Pane)
        pane = next(iter(panes), None)
        return pane.current_ticket() if pane is not None else None

    # Every toast and every clipboard copy passes through the one sanitiser: a ticket number
    # holding ESC ] 52 ... (set the clipboard) or ESC [ 2 J (clear the screen) is copied and
    # shown as visible symbols, never as an escape sequence.

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout, markup=markup)

    def copy_to_clipboard(self, text: str) -> None:
        super().copy_to_clipboard(clean(text))

    def action_copy_number(self) -> None:
        ticket = self.current_ticket()
        if ticket is None:
            self.notify("No ticket selected", severity="warning")
            return
        self.copy_to_clipboard(ticket.number)
        self.notify(f"Copied {ticket.number}", markup=False)

    def action_copy_url(self) -> None:
        ticket = self.current_ticket()
        if ticket is None or not ticket.url:
            self.notify(
                "No ticket selected" if ticket is None else "The source gave this ticket no URL", severity="warning"
            )
            return
        self.copy_to_clipboard(ticket.url)
        self.notify(f"Copied {ticket.url}", markup=False)

    def action_open_url(self) -> None:
        """Open the ticket's PSA link in the browser (tui/links.py); copy it when no browser can."""
        ticket = self.current_ticket()
        if ticket is None or not ticket.url:
            self.notify(
                "No ticket selected" if ticket is None else "The source gave this ticket no URL", severity="warning"
            )
            return
        url = links.openable(ticket.url)
        if url is None:
            self.notify(
                f"Not opened (only http and https links): {clean(ticket.url)}", severity="warning", markup=False
            )
            return
        self._open_url(url)

    @work(thread=True, exclusive=True, group="open-url")
    def _open_url(self, url: str) -> None:
        # A thread: webbrowser may run xdg-settings / xdg-open, which can take a while.
        opened = links.open_in_browser(url)
        self.call_from_thread(self._opened_url, url, opened)

    def _opened_url(self, url: str, opened: bool) -> None:
        if opened:
            self.notify(f"Opened {url}", markup=False)
            return
        self.copy_to_clipboard(url)
        self.notify(f"No browser here (SSH or no display): copied {url}", markup=False)

    @on(TicketTable.Opened)
    def _open_from_queue(self, event: TicketTable.Opened) -> None:
        self.push_screen(DetailScreen(event.ticket_id))

    @on(Table.RowSelected)
    def _open_from_list(self, event: Table.RowSelected) -> None:
        if isinstance(event.table, TicketListView) and event.row_key.isdigit():
            self.push_screen(DetailScreen(int(event.row_key)))

    # --- help and the command palette --------------------------------------------------------

    def _keys(self, binding: Binding) -> str:
        keys = self.config.tui.keymap.get(binding.id, binding.key) if binding.id else binding.key
        return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        def rows(bindings: Iterable) -> list[tuple[str, str]]:
            made = Binding.make_bindings(bindings)
            return [(self._keys(b), b.description + (f"  [{b.id}]" if b.id else "")) for b in made if b.description]

        everywhere = rows(self.BINDINGS) + [("ctrl+p", "Command palette (panes, refresh, theme, every action)")]
        sections = [("Everywhere", everywhere)]
        for n, cls in enumerate(PANES, start=1):  # a pane's own keys, from the registry
            for title, bindings, extra in cls.key_help():
                sections.append((f"{title or cls.title} (pane {n})" if not extra else title, rows(bindings) + extra))
        return sections + [
            (
                "Tables in panes 2-6 and the lists behind figures",
                rows(Table.BINDINGS)
                + [
                    ("Enter", "Open the ticket's detail (ticket lists), or the list behind a figure"),
                    ("Tab Shift+Tab", "Next / previous table of the pane, and the tab strip"),
                    ("← →", "On the tab strip: previous / next pane"),
                ],
            ),
            ("Ticket lists in panes 2-3 (triage, as in the Queue)", rows(TRIAGE_BINDINGS)),
            ("Ticket detail", rows(DetailScreen.BINDINGS)),
            (
                "Facet picker",
                rows(FacetScreen.BINDINGS) + [("↑ ↓ Home End PgUp PgDn", "Move"), ("Enter", "Pick the value")],
            ),
            ("This help", rows(HelpScreen.BINDINGS)),
        ]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Keys" (its key panel) is replaced by ours (every key, the keymap applied):
        # the palette lists each action once.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Keys")
        for n, cls in enumerate(PANES, start=1):
            yield SystemCommand(
                f"Pane {n}: {cls.title}", f"Show the {cls.title} pane", lambda p=cls.pane_id: self.action_show_pane(p)
            )
        yield SystemCommand("Refresh now", "Re-read the database", self.action_refresh)
        yield SystemCommand("Keys", "Every key binding", self.action_help)
        yield SystemCommand(
            "Today's alerts", "The alerts announced today; Enter opens the ticket", self.action_alert_log
        )
        yield SystemCommand(
            "Copy ticket number", "The selected ticket's number, to the clipboard (OSC 52)", self.action_copy_number
        )
        yield SystemCommand(
            "Copy ticket URL", "The selected ticket's PSA link, to the clipboard (OSC 52)", self.action_copy_url
        )
        yield SystemCommand(
            "Open ticket in browser",
            "The selected ticket's PSA link (copied when no browser can open)",
            self.action_open_url,
        )
        queue = self.query_one(QueuePane)

        def filter_queue() -> None:
            self.action_show_pane(FIRST_PANE)
            queue.action_filter()

        yield SystemCommand("Queue: filter", "Filter the queue as you type", filter_queue)
        yield SystemCommand("Queue: next sort order", "Cycle the queue's sort order", queue.action_sort)
        yield SystemCommand(
            "Queue: facets", "Filter the queue by queue, assignee, company, priority or status", queue.action_facets
        )
        yield SystemCommand("Queue: clear filter", "Show every open ticket", queue.action_clear)
        for view in queue.views():

            def show_view(key: str = view.key) -> None:
                self.action_show_pane(FIRST_PANE)
                queue.action_view(key)

            yield SystemCommand(f"View: {view.name} ({view.key})", view.description or "Saved filter", show_view)


def run_app(engine: Engine, config: Config, now: datetime | None = None) -> None:
    """Open the dashboard (the CLI's default command); exits with the app's return code
    (129 after SIGHUP, so a supervisor sees the terminal went away)."""
    from mspkpi_tui.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before the app's threads: its memory stays flat over a day of refreshes
    app = MspkpiApp(engine, config, now=now)
    app.freeze_after_first_read = True
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
