"""`o`: open a ticket's PSA link in the browser, when there is one to open.

The link comes from the PSA, so it is treated as hostile: only an http(s) link with a host,
that the sanitiser leaves unchanged (no control or invisible character), is handed to the
browser. A link with a `javascript:`, `file:` or other scheme is never opened.

Over SSH there is usually no browser on the machine the app runs on, and on Linux without a
display Python's webbrowser falls back to a console browser (lynx, w3m) that would take over
the terminal the dashboard is drawing on: in both cases nothing is started and the caller
copies the link instead (OSC 52 reaches the lead's own terminal).
"""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Mapping
from urllib.parse import urlsplit

from mspkpi_tui.safe_text import clean

SCHEMES = ("http", "https")


def openable(url: str | None) -> str | None:
    """The link when it is safe to hand to a browser, else None."""
    if not url or clean(url) != url or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host, for one
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    return url


def graphical_browser_possible(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a browser could show a page to the person at this terminal.

    Over SSH a browser would open on the remote machine (or nowhere); on Linux and the BSDs a
    graphical browser needs a display, and without one webbrowser would pick a console browser.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith("win"):
        return True
    over_ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"))
    if platform == "darwin":
        return not over_ssh
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    """Open the link (already checked by `openable`); False when no browser took it."""
    if not graphical_browser_possible():
        return False
    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False
