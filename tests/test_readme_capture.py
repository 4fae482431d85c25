"""The README's 80x24 Queue capture (and docs/screen-queue.txt, the same text) is what the app
shows today on the demo data: the tab bar, the figures, the column header, the status line and
the footer match a pilot run at 80x24 (the ticket rows' countdowns and the sync time move with
the clock, so those are not compared)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_tui_app import loaded, screen_text
from test_tui_support import make_app, tui_config

from mspkpi_tui.store.engine import open_database

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parent.parent
STABLE_LINES = [0, 1, 2, 3, 4, 5, 22, 23]  # tabs, figures, header; status line and footer
WHEN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d \([^)]*\)")


def _readme_capture() -> list[str]:
    readme = (REPO / "README.md").read_text()
    start = readme.index("The Queue pane at 80x24, on the demo data:\n\n```\n")
    block = readme[start:].split("```\n", 2)[1]
    return block.rstrip("\n").split("\n")


def _stable(lines: list[str]) -> list[str]:
    return [WHEN.sub("<time>", lines[i].rstrip()) for i in STABLE_LINES]


def test_the_readme_block_and_docs_capture_are_the_same_text():
    assert _readme_capture() == (REPO / "docs" / "screen-queue.txt").read_text().rstrip("\n").split("\n")


async def test_the_readme_capture_matches_the_app_at_80x24(run_cli, sqlite_url):
    done = run_cli("--db", sqlite_url, "demo", "--no-tui")
    assert done.returncode == 0, done.stderr
    engine = open_database(sqlite_url)
    try:
        app = make_app(engine, tui_config(), now=datetime.now(UTC))
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            shown = screen_text(app).split("\n")
    finally:
        engine.dispose()
    captured = _readme_capture()
    assert len(captured) == 24
    assert _stable(shown) == _stable(captured)
