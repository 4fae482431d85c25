"""Pilot tests of the Clients pane (key 8) and the company page: real SQLite, fixed data, pinned clock."""

from __future__ import annotations

import pytest
from test_tui_app import loaded, screen_text, wait_until
from test_tui_support import make_app, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.kpi.clients import client_figures
from mspkpi_tui.tui.charts import Chart
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio


async def clients_shown(pilot, period: str = "30d") -> None:
    pane = pilot.app.pane("clients")
    await wait_until(pilot, lambda: pane.shown_view == period)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def first_column(app) -> list[str]:
    table = app.query_one("#clients-table", Table)
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def test_clients_pane_lists_every_active_company_and_sorts(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("8")
        await clients_shown(pilot)
        pane = app.pane("clients")
        expected = client_figures(tui_engine, app.now, app.config, "30d")
        assert pane.figures == expected  # what the engine computes, nothing of its own
        names = first_column(app)
        assert len(names) == len(expected.companies) > 0
        assert names == sorted(names, key=str.lower)  # by company first
        assert "Clients: last 30 days" in screen_text(app)
        table = app.query_one("#clients-table", Table)
        await pilot.press("s", "s")  # the shared table sort: by the second column, open tickets
        await wait_until(pilot, lambda: table.sort_column == 1)
        opens = [int(table.get_row_at(i)[1].plain) for i in range(table.row_count)]
        assert opens == sorted(opens)
        await pilot.press("v")
        await wait_until(pilot, lambda: table.sort_reverse)
        opens = [int(table.get_row_at(i)[1].plain) for i in range(table.row_count)]
        assert opens == sorted(opens, reverse=True)


async def test_the_period_switches_and_the_matrix_shows(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("8")
        await clients_shown(pilot)
        await pilot.press("p")
        await clients_shown(pilot, "quarter")
        await wait_until(pilot, lambda: "Clients: this quarter" in screen_text(app))
        await pilot.press("p")
        await clients_shown(pilot, "12m")
        assert app.pane("clients").figures == client_figures(app.engine, app.now, app.config, "12m")
        chart = app.query_one("#clients-matrix", Chart)
        assert not chart.display
        await pilot.press("m")
        assert chart.display and chart.spec is not None and "Hours per seat vs margin %" in chart.spec.title


async def test_enter_opens_the_company_page_and_escape_closes_it(tui_engine):
    from mspkpi_tui.tui.company_screen import CompanyScreen

    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("8")
        await clients_shown(pilot)
        pane = app.pane("clients")
        busiest = max(pane.figures.companies, key=lambda r: (r.open, r.company))
        table = app.query_one("#clients-table", Table)
        table.move_cursor(row=table.get_row_index(str(busiest.company_id)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CompanyScreen) and app.screen.page is not None)
        screen = app.screen
        assert screen.row.company_id == busiest.company_id
        assert len(screen.page.trends.months) == 12
        await wait_until(pilot, lambda: f"Open tickets: {busiest.open}" in screen_text(app))
        # The page's figures and charts can paint a frame after its open tickets (seen under load).
        await wait_until(pilot, lambda: "Last 30 days:" in screen_text(app) and "Opened per month" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CompanyScreen))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_company_page_charts_have_room_to_draw_their_line(tui_engine, size):
    """Two abreast and 10 rows at 120 columns; stacked at 8 rows at 80 (the page scrolls), and
    the page opens at its top. Each chart's text has its axis and plotted rows, not only a title."""
    from mspkpi_tui.tui.company_screen import CHARTS, CompanyScreen

    app = make_app(tui_engine)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("8")
        await clients_shown(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CompanyScreen) and app.screen.page is not None)
        charts = [app.screen.query_one(f"#{chart_id}", Chart) for chart_id in CHARTS]
        await wait_until(pilot, lambda: all(c._built is not None for c in charts))
        await pilot.pause()
        regions = [c.region for c in charts]
        rows = 10 if size[0] == 120 else 8
        assert [r.height for r in regions] == [rows] * 4
        if size[0] == 120:
            assert regions[0].y == regions[1].y and regions[2].y == regions[3].y > regions[0].y
            assert regions[0].width + regions[1].width >= 110
        else:
            assert len({r.y for r in regions}) == 4 and regions[0].width >= 76
        drawn = [c.render().plain.splitlines() for c in charts]  # type: ignore[union-attr]
        assert [len(lines) for lines in drawn] == [rows] * 4
        # the tickets chart has data here: a y axis tick on each plotted row (title, frame and x labels aside)
        assert sum("┤" in line for line in drawn[0]) >= rows - 4
        assert app.screen.query_one("#company-body").scroll_y == 0
