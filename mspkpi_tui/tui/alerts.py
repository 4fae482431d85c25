"""Alerts on the dashboard: the toast, the terminal bell, a desktop notification, the day's log.

kpi/alerts.py decides what fires and what to announce; this module says it. The bell is a
plain BEL (tmux forwards it and marks the window by default). A desktop notification is
OSC 9 (iTerm2, WezTerm, kitty, foot, Windows Terminal) and OSC 777 (VTE terminals, rxvt);
inside tmux each is wrapped in tmux's passthrough (ESC P tmux; ... ESC \\, every ESC of the
sequence doubled), which tmux forwards only with ``set -g allow-passthrough on``. Every word
written goes through the one sanitiser, and ";" is replaced so PSA text cannot add fields.

What was announced is kept per database in a file under the user's state directory
(XDG_STATE_HOME, via platformdirs), so a restart does not announce everything again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from mspkpi_tui.kpi.alerts import Announcement, Announcer
from mspkpi_tui.safe_text import clean
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.status_line import StatusLine
from mspkpi_tui.tui.widgets import Figure, Table

if TYPE_CHECKING:
    from mspkpi_tui.tui.app import MspkpiApp

BEL = "\x07"
ESC = "\x1b"
TITLE = "mspkpi"


# --- the bytes ---------------------------------------------------------------------------------


def _field(text: str) -> str:
    return clean(text).replace(";", ",")


def osc9(message: str) -> str:
    return f"{ESC}]9;{_field(message)}{BEL}"


def osc777(title: str, body: str) -> str:
    return f"{ESC}]777;notify;{_field(title)};{_field(body)}{BEL}"


def tmux_passthrough(sequence: str) -> str:
    """Wrapped for tmux: DCS tmux; <the sequence, each ESC doubled> ST."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ESC}\\"


def terminal_bytes(delivery: str, message: str, in_tmux: bool) -> str:
    """What one announcement writes to the terminal (besides its toast): nothing when off."""
    out = ""
    if delivery in ("notify", "both"):
        for sequence in (osc9(f"{TITLE}: {message}"), osc777(TITLE, message)):
            out += tmux_passthrough(sequence) if in_tmux else sequence
    if delivery in ("bell", "both"):
        out += BEL  # never wrapped: tmux takes the bell itself and marks the window
    return out


def deliver(
    announcements: list[Announcement],
    toast: Callable[[str], None],
    write: Callable[[str], None],
    in_tmux: bool | None = None,
) -> None:
    """A toast per announcement, and at most one bell for the lot (a burst is one ring)."""
    if in_tmux is None:
        in_tmux = bool(os.environ.get("TMUX"))
    notified = ""
    rang = False
    for a in announcements:
        if a.delivery == "off":
            continue
        toast(clean(a.message))
        written = terminal_bytes(a.delivery, a.message, in_tmux)
        if BEL in written and written.endswith(BEL):
            rang = True
            written = written[:-1]
        notified += written
    if notified or rang:
        write(notified + (BEL if rang else ""))


# --- the state file ------------------------------------------------------------------------------


def state_path(db_url: str) -> Path:
    """One file per database: alerts-<hash of its URL>.json in the user's state directory."""
    from platformdirs import user_state_path

    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return user_state_path("mspkpi", appauthor=False) / f"alerts-{digest}.json"


def load_state(path: Path) -> Announcer:
    """The saved state; a missing, unreadable or malformed file starts afresh (never an error)."""
    try:
        return Announcer.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return Announcer()


def save_state(path: Path, state: Announcer) -> None:
    """Written whole to a temporary file and renamed (a crash leaves the old or the new file),
    readable by its owner only. A failure to write is not worth stopping the dashboard for."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".alerts-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state.to_dict(), f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass


# --- the day's log -------------------------------------------------------------------------------


class AlertLogScreen(Screen):
    """Today's alerts, newest first; Enter opens the ticket's detail."""

    if TYPE_CHECKING:
        app: MspkpiApp

    BINDINGS = [
        Binding("escape", "close", "Close", id="close-alerts"),
        Binding("exclamation_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Figure(id="alerts-title")
        yield Table(("Time", "Rule", "Alert"), id="alerts-table")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.show_status_on(self)
        log = list(reversed(self.app.alert_log()))
        zone = self.app.config.zone
        title = Text(f"Today's alerts: {len(log)}", style="bold")
        title.append("  (Enter opens the ticket, Esc closes)" if log else "  (none yet)")
        self.query_one("#alerts-title", Figure).show(title)
        table = self.query_one(Table)
        table.show_rows(
            [
                (
                    f"{n}:{e.ticket_id or ''}",
                    (
                        Text(e.at.astimezone(zone).strftime("%H:%M")),
                        fmt.plain(e.rule.replace("_", " ")),
                        fmt.plain(e.message),
                    ),
                )
                for n, e in enumerate(log)
            ]
        )
        table.focus()

    @on(Table.RowSelected)
    def _open(self, event: Table.RowSelected) -> None:
        from mspkpi_tui.tui.screens import DetailScreen

        event.stop()
        key = event.row_key
        ticket = key.partition(":")[2]
        if ticket.isdigit():
            self.app.push_screen(DetailScreen(int(ticket)))
        else:
            self.app.notify("This alert is about the desk, not one ticket", severity="warning")

    def action_close(self) -> None:
        self.dismiss()
