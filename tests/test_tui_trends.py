"""Pilot tests of the Trends pane (key 7) and of the charts' cache: real SQLite, fixed data, pinned clock."""

from __future__ import annotations

import pytest
from test_tui_app import loaded, screen_text, wait_until
from test_tui_support import make_app, tui_config, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.tui.charts import BUILT, Chart

pytestmark = pytest.mark.anyio


async def trends_shown(pilot, days: int = 30, by: str = "day") -> None:
    pane = pilot.app.pane("trends")
    await wait_until(pilot, lambda: pane.shown_view == (days, by))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_trends_pane_shows_the_long_view_and_switches_range(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("7")
        await trends_shown(pilot)
        pane = app.pane("trends")
        assert len(pane.history.backlog) == 30 and pane.history.periods[-1].isoformat() == "2026-03-10"
        for phrase in ("Trends: last 30 days by day", "Backlog at day end", "Opened per day", "prev. opened"):
            await wait_until(pilot, lambda phrase=phrase: phrase in screen_text(app), 10)
        # The backlog chart's title names its last value: today's open tickets (the queue's count).
        assert f"last {pane.history.backlog[-1]} " in app.query_one("#trends-backlog", Chart).spec.title
        await pilot.press("p")
        await trends_shown(pilot, 90)
        await pilot.press("w")
        await trends_shown(pilot, 90, "week")
        await wait_until(pilot, lambda: "Trends: last 90 days by week" in screen_text(app), 10)
        assert len(pane.history.periods) == 14 and pane.history.by == "week"
        await pilot.press("p", "p")  # 365, then back to 30
        await trends_shown(pilot, 30, "week")


async def settled(pilot) -> None:
    """The Trends pane's read-ahead is done: the other ranges read and drawn at the charts' size."""
    pane = pilot.app.pane("trends")
    await wait_until(pilot, lambda: pane.ahead_done)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_quiet_screen_rebuilds_no_chart(tui_engine):
    """Re-reads that find the same data build nothing, the read-ahead included (every pane is
    handed equal data; the Trends pane reads its long view and the other ranges again); the
    next range, drawn ahead in the quiet, is shown by p without a build."""
    BUILT.clear()  # nothing drawn by an earlier test: the ranges below must be built
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("7")
        await trends_shown(pilot)
        first_paint = BUILT.builds
        assert first_paint > 0
        await settled(pilot)
        assert BUILT.builds > first_paint  # 90 and 365 days drawn ahead
        for _ in range(3):  # the charts laid out for the first time settle over a few frames
            await pilot.pause()
        pane = app.pane("trends")
        builds, shown, reads, history_reads = BUILT.builds, BUILT.shown, app.reads, pane.reads
        for n in (1, 2):
            await pilot.press("r")  # a forced re-read of unchanged data
            await wait_until(pilot, lambda n=n: app.reads == reads + n)
            await app.workers.wait_for_complete()
            await wait_until(pilot, lambda n=n: pane.reads == history_reads + n)  # the long view was read again
            await settled(pilot)  # and the other ranges read ahead again
        assert (BUILT.builds, BUILT.shown) == (builds, shown)  # nothing built, nothing redrawn
        await pilot.press("p")
        await trends_shown(pilot, 90)
        await wait_until(pilot, lambda: all(c._built and c._built[0] == c.spec for c in pane.query(Chart)))
        assert BUILT.builds == builds and BUILT.shown > shown  # shown from what was drawn ahead


async def test_charts_are_built_off_the_ui_thread_and_kept_by_spec_and_size(tui_engine, monkeypatch):
    """plotext runs in worker threads only; a range shown before is drawn again from the kept
    text (no plotext build), and the range and period stay as chosen while other panes are shown."""
    import threading

    import plotext

    on_ui_thread = []
    build = plotext.build

    def recorded_build():
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return build()

    monkeypatch.setattr(plotext, "build", recorded_build)
    BUILT.clear()
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("7")
        await trends_shown(pilot)
        await pilot.press("p")
        await trends_shown(pilot, 90)
        await pilot.press("w")
        await trends_shown(pilot, 90, "week")
        assert on_ui_thread and not any(on_ui_thread)
        builds, shown = BUILT.builds, BUILT.shown
        await pilot.press("w")
        await trends_shown(pilot, 90, "day")  # seen before at this size: from the kept text
        await wait_until(pilot, lambda: BUILT.shown > shown)
        assert BUILT.builds == builds
        await pilot.press("1")
        await wait_until(pilot, lambda: app.active_pane_id == "queue")
        await pilot.press("7")
        await wait_until(pilot, lambda: app.active_pane_id == "trends")
        pane = app.pane("trends")
        assert (pane.days, pane.by) == (90, "day")
        await trends_shown(pilot, 90, "day")
        assert "Trends: last 90 days by day" in screen_text(app)


async def test_the_long_view_is_read_before_key_7(tui_engine):
    """A refresh reads the long view while another pane is shown: key 7 shows it without a read."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await wait_until(pilot, lambda: bool(app.query("#pane-trends")))
        pane = app.pane("trends")
        await wait_until(pilot, lambda: pane.shown_view == (30, "day"))
        assert app.active_pane_id == "queue"
        reads = pane.reads
        await pilot.press("7")
        await trends_shown(pilot)
        await wait_until(pilot, lambda: "Backlog at day end" in screen_text(app), 10)
        assert pane.reads == reads


async def test_key_p_shows_the_next_range_read_beforehand(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("7")
        await trends_shown(pilot)
        pane = app.pane("trends")
        await wait_until(pilot, lambda: (90, "day") in pane._views)  # read while 30 days are shown
        ready = pane._views[(90, "day")]
        await pilot.press("p")
        await trends_shown(pilot, 90)
        assert pane.history is ready
        await pilot.press("r")  # new data: the views read before are dropped, the shown one read again
        await wait_until(pilot, lambda: pane.history is not ready and pane.shown_view == (90, "day"))


def test_build_ahead_builds_what_is_missing_and_stops_when_cancelled():
    """The read-ahead's drawing: into the shared cache, only the keys not there, and nothing
    more once cancelled (a key was pressed: the key's own charts build first)."""
    from datetime import date

    from mspkpi_tui.charts import Series
    from mspkpi_tui.tui.charts import Lines, build_ahead

    days = tuple(date(2026, 3, d) for d in range(1, 11))
    labels = tuple(f"{d:%d %b}" for d in days)
    specs = [Lines(f"chart {k}", labels, (Series("s", tuple(float(i * k) for i in range(10))),)) for k in range(4)]
    keys = [(spec, 40, 11) for spec in specs]
    BUILT.clear()
    BUILT.put(keys[0], specs[0].draw(40, 11))
    assert build_ahead(keys[:2], lambda: False) == 1  # the first was there already
    assert all(key in BUILT for key in keys[:2]) and keys[2] not in BUILT
    asked = []
    assert build_ahead(keys[2:], lambda: asked.append(1) or len(asked) > 1) == 1  # cancelled after one
    assert keys[2] in BUILT and keys[3] not in BUILT


async def test_first_showing_builds_each_chart_at_one_size(tui_engine):
    """Key 7 the first time: each chart is built once, at the size the grid gives it (the
    grid's columns were set on the first resize only, so every chart was built at the full
    width and then again at half of it)."""
    BUILT.clear()
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("7")
        await trends_shown(pilot)
        pane = app.pane("trends")
        charts = list(pane.query(Chart))
        await wait_until(pilot, lambda: all(c._built and c._built[0] == c.spec for c in charts))
        shown = {c.spec for c in charts}
        sizes = [key[1:] for key in BUILT._texts if key[0] in shown]
        assert len(sizes) == len(charts)  # one size each
        assert all(width < 60 for width, _height in sizes)  # two abreast at 120 columns


@pytest.mark.parametrize(
    "size, no_color", [((80, 24), False), ((120, 40), False), ((80, 24), True)], ids=["80x24", "120x40", "NO_COLOR"]
)
async def test_key_7_after_a_quiet_spell_draws_from_strips_rendered_ahead(tui_engine, monkeypatch, size, no_color):
    """While the pane is hidden, its charts' sizes are known from the terminal's width, so the
    shown range and the next one are built and rendered to strips ahead in a quiet moment: key
    7 and a p right after it build no chart, and every chart on screen hands out the strips
    its worker rendered, the same strips Static's own rendering makes of the chart's text
    (NO_COLOR and the ANSI theme included: Textual's output filters come after either)."""
    from textual.widgets import Static

    BUILT.clear()
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tui_engine, tui_config(theme="ansi") if no_color else None)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await settled(pilot)  # hidden: the 30 and 90 days read and drawn ahead
        builds = BUILT.builds
        assert builds > 0
        await pilot.press("7")
        await trends_shown(pilot)
        pane = app.pane("trends")
        charts = list(pane.query(Chart))
        await wait_until(pilot, lambda: all(c._built and c._built[1:] == tuple(c.content_size) for c in charts))
        assert BUILT.builds == builds  # drawn ahead at the size the layout gave
        # the sizes the pane told its charts before its first layout were the layout's
        assert [getattr(c, "expected_size", None) for c in charts] == [tuple(c.content_size) for c in charts]
        for chart in charts:
            assert chart._ready is not None and chart._ready[0] == chart._built
            width, height = chart.content_size
            ready = [list(chart.render_line(y)) for y in range(height)]
            assert ready == [list(Static.render_line(chart, y)) for y in range(height)]
            assert any(segment.style and segment.style.color for line in ready for segment in line)  # coloured
        await pilot.press("p")
        await trends_shown(pilot, 90)
        await wait_until(pilot, lambda: all(c._built and c._built[0] == c.spec for c in charts))
        assert BUILT.builds == builds  # the next range was drawn ahead too


def test_rendered_strips_are_kept_for_fewer_charts_than_texts():
    """The strips are bounded on their own, the most recent kept; a text built again drops
    its old strips."""
    from textual.style import Style

    from mspkpi_tui.tui.charts import Lines, Rendered, _Built

    built = _Built(most=8, most_rendered=2)
    style = Style()
    keys = [(Lines(f"chart {n}", (), ()), 40, 11) for n in range(4)]
    for key in keys:
        built.put(key, key[0].draw(40, 11))
        built.put_rendered(key, Rendered(style, None, ()))  # type: ignore[arg-type]
    assert [built.rendered(key, style) is not None for key in keys] == [False, False, True, True]
    assert all(key in built for key in keys)  # the texts stay
    built.put(keys[3], keys[3][0].draw(40, 11))
    assert built.rendered(keys[3], style) is None
