"""Snapshots of every pane at 80x24 and 120x40: fixed data, pinned clock, no cursor blink.

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the SVGs under tests/__snapshots__/test_tui_snapshots/ before committing them.
"""

from __future__ import annotations

import pytest

from test_tui_support import make_app, tui_engine, tui_template_db  # noqa: F401

PANE_KEYS = {"queue": "1", "sla": "2", "escalations": "3", "team": "4", "pipeline": "5", "service": "6"}


async def _loaded(pilot) -> None:
    """The first full read is done and the screen has stopped changing."""
    app = pilot.app
    for _ in range(1200):  # a busy machine (tests in parallel) can take many seconds
        if app.reads >= 1:
            break
        await pilot.pause(0.05)
    await _still(pilot)


def _frame(app) -> list:
    return [(segment.text, segment.style) for strip in app.screen._compositor.render_strips() for segment in strip]


async def _still(pilot) -> None:
    """Wait until two frames 0.1 s apart are the same: a pane shown for the first time is
    laid out over several frames, and on a loaded machine that takes a while."""
    await pilot.app.workers.wait_for_complete()
    last = None
    for _ in range(100):
        await pilot.pause(0.1)
        frame = _frame(pilot.app)
        if frame == last:
            return
        last = frame


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("pane", list(PANE_KEYS))
def test_pane_snapshot(snap_compare, tui_engine, pane, size):
    async def show_pane(pilot) -> None:
        await _loaded(pilot)
        await pilot.press(PANE_KEYS[pane])
        for _ in range(100):
            if pilot.app.active_pane_id == pane:
                break
            await pilot.pause(0.05)
        await _still(pilot)

    assert snap_compare(make_app(tui_engine), terminal_size=size, run_before=show_pane)


def test_detail_snapshot(snap_compare, tui_engine):
    async def open_detail(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("j", "j", "j", "j", "enter")
        await _still(pilot)

    assert snap_compare(make_app(tui_engine), terminal_size=(80, 24), run_before=open_detail)
