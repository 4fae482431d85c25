"""`y` in the ticket detail copies the ticket's PSA link, for a ConnectWise ticket (the link the CW
web UI builds from the site, the codebase and the company id) and for a demo ticket (a link to a
demo host), as an OSC 52 sequence to the terminal, through the sanitiser."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from fakes.connectwise_server import CODEBASE, COMPANY, ConnectWiseFake
from test_sync_connectwise import BASE, populate
from test_tui_app import loaded, settle, table
from test_tui_support import make_app, tui_config
from textual.drivers.headless_driver import HeadlessDriver

from mspkpi_tui.store.engine import open_database
from mspkpi_tui.tui.screens import DetailScreen

pytestmark = pytest.mark.anyio


async def _copy_url_from_detail(engine, now: datetime, monkeypatch) -> tuple[str, str, list[str]]:
    """Open the first ticket's detail, press y: (its number, the clipboard, the OSC 52 payloads)."""
    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda _driver, data: written.append(data))
    app = make_app(engine, tui_config(), now=now)
    async with app.run_test(size=(100, 40)) as pilot:
        await loaded(pilot)
        number = table(app).current_row().number
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("y")
        await pilot.pause()
        clipboard = app.clipboard
    osc52 = [base64.b64decode(w[len("\x1b]52;c;") : -1]).decode() for w in written if w.startswith("\x1b]52;c;")]
    return number, clipboard, osc52


async def test_y_copies_the_connectwise_web_link(run_cli, sqlite_url, monkeypatch):
    with ConnectWiseFake(max_page_size=7) as fake:
        populate(fake)
        done = run_cli("--db", sqlite_url, "sync", "connectwise", env=fake.env())
        assert done.returncode == 0, done.stderr
        site = fake.site_url
    engine = open_database(sqlite_url)
    try:
        number, clipboard, osc52 = await _copy_url_from_detail(engine, BASE + timedelta(days=3), monkeypatch)
    finally:
        engine.dispose()
    expected = (
        f"{site}/{CODEBASE}services/system_io/Service/fv_sr100_request.rspx"
        f"?companyName={COMPANY}&service_recid={number}"  # a CW ticket's number is its record id
    )
    assert clipboard == expected and osc52 == [expected]


async def test_y_copies_the_demo_ticket_link(run_cli, sqlite_url, monkeypatch):
    done = run_cli("--db", sqlite_url, "demo", "--no-tui")
    assert done.returncode == 0, done.stderr
    engine = open_database(sqlite_url)
    try:
        number, clipboard, osc52 = await _copy_url_from_detail(engine, datetime.now(UTC), monkeypatch)
    finally:
        engine.dispose()
    assert number.startswith("T4")
    assert clipboard == f"https://psa.demo.example/tickets/{number}" and osc52 == [clipboard]
