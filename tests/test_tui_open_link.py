"""`o` opens the selected ticket's PSA link in the browser, from the Queue, the other ticket
lists and the ticket detail; with no browser (SSH, no display) it says so and copies the link.

The browser is the OS boundary: `webbrowser.open` is replaced by a recorder, and the
environment says whether a display is there. Only http(s) links are handed over.
"""

from __future__ import annotations

import webbrowser

import pytest
from test_tui_app import loaded, settle, table, wait_until
from test_tui_support import REPO_ROOT, make_app, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.store import models
from mspkpi_tui.tui import links
from mspkpi_tui.tui.screens import DetailScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def browser(monkeypatch) -> list[str]:
    """A desktop session (a display, no SSH) whose browser records what it was asked to open."""
    opened: list[str] = []

    def record(url: str, new: int = 0, autoraise: bool = True) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", record)
    monkeypatch.setenv("DISPLAY", ":0")
    for name in ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"):
        monkeypatch.delenv(name, raising=False)
    return opened


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _press_o(pilot) -> None:
    await pilot.press("o")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_o_in_the_queue_opens_the_ticket_link(tui_engine, browser):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("j")
        await settle(pilot)
        url = table(app).current_row().url
        await _press_o(pilot)
        assert browser == [url] and url.startswith("https://psa.example/tickets/")
        assert f"Opened {url}" in toasts(app)


async def test_o_in_the_sla_list_and_the_detail_opens_that_ticket(tui_engine, browser):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        view = app.query_one("#sla-list")
        await wait_until(pilot, lambda: view.row_count > 1)
        view.focus()
        await pilot.press("down")
        await pilot.pause()
        listed = view.current_ticket()
        await _press_o(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await settle(pilot)
        await _press_o(pilot)
    assert browser == [listed.url, listed.url]


async def test_o_over_ssh_without_a_display_copies_the_link_instead(tui_engine, browser, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22")
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        url = table(app).current_row().url
        await _press_o(pilot)
        assert browser == []  # no console browser takes over the dashboard's terminal
        assert app.clipboard == url
        assert any("No browser here" in t and url in t for t in toasts(app))


@pytest.mark.parametrize(
    "hostile", ["javascript:alert(1)", "file:///etc/passwd", "https://psa.example/\x1b]52;c;x\x07"]
)
async def test_o_never_hands_a_non_web_or_dirty_link_to_the_browser(tui_engine, browser, hostile):
    with tui_engine.begin() as conn:
        conn.execute(models.table(models.Ticket).update().values(url=hostile))
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await _press_o(pilot)
        assert browser == []
        warning = [t for t in toasts(app) if t.startswith("Not opened")]
        assert warning and "\x1b" not in warning[0]


def test_o_is_in_the_help_and_the_readme(tui_engine):
    app = make_app(tui_engine)
    everywhere = dict(app.help_sections()[0][1])
    assert everywhere["o"].startswith("Open in browser")
    assert "| `o` | on a ticket |" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "env, platform, expected",
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"SSH_CONNECTION": "a b c d"}, "linux", False),  # no display: webbrowser would pick lynx
        ({}, "linux", False),
        ({"SSH_TTY": "/dev/pts/1"}, "darwin", False),
        ({}, "darwin", True),
        ({"SSH_CONNECTION": "a b c d"}, "win32", True),
    ],
)
def test_a_browser_is_tried_only_where_one_can_show_the_page(env, platform, expected):
    assert links.graphical_browser_possible(env, platform) is expected
