"""Issue 11: in every pane's table the cursor is always on a row on screen and the pane
scrolls with it (j, G, g, PageDown at 80x24), with more rows than fit on the screen; the
facet picker's and the help's page keys; and the Queue's rows keep one width whatever the
title (CJK, emoji, 5,000 characters) with the Assignee column intact.

The extra rows go in through the store's writer (`SyncWriter.store_page`), as the fixed
dataset does, so the panes read them the way they read a real sync.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from test_tui_app import loaded, screen_text, wait_until
from test_tui_support import SYNCED_AT, make_app, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.store import models
from mspkpi_tui.store.writer import SyncWriter
from mspkpi_tui.tui.ticket_table import TicketTable
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio

EXTRA = 40  # well over the 24 rows of the screen


@pytest.fixture
def anyio_backend():
    return "asyncio"


def add_rows(engine) -> None:
    """EXTRA technicians (with time logged), contracts, pipeline stages and open escalated
    tickets, each with a name no other row shares ("Extra NN")."""
    entries = [
        {
            "id": f"xe{i}",
            "resource_id": f"xr{i}",
            "ticket_id": "t2",
            "started_at": "2026-03-09T09:00:00Z",
            "hours": 1.5,
            "billable": True,
            "category": "Remote support",
        }
        for i in range(EXTRA)
    ]
    pages: dict[str, list[dict]] = {
        "resources": [{"id": f"xr{i}", "name": f"Tech {i:02d}", "weekly_hours": 40} for i in range(EXTRA)],
        "contracts": [
            {
                "id": f"xk{i}",
                "company_id": "c1",
                "name": f"Extra contract {i:02d}",
                "number": f"XC-{i:03d}",
                "type": "Recurring Service",
                "period_type": "Monthly",
                "start_date": "2025-06-01",
                "end_date": f"2026-03-{11 + i % 20:02d}",
            }
            for i in range(EXTRA)
        ],
        "opportunities": [
            {
                "id": f"xo{i}",
                "title": f"Extra deal {i:02d}",
                "company_id": "c1",
                "owner_resource_id": "r1",
                "stage": f"Stage {i:02d}",
                "stage_rank": 10 + i,
                "stage_entered_at": "2026-03-01T14:00:00Z",
                "amount": 1000 + i,
            }
            for i in range(EXTRA)
        ],
        "tickets": [
            {
                "id": f"xt{i}",
                "number": f"X2026{i:04d}",
                "title": f"Extra escalation {i:02d}",
                "company_id": "c1",
                "queue_id": "q2",
                "status": "Escalate",
                "is_closed": False,
                "priority": "High",
                "priority_rank": 2,
                "issue_type": "Software",
                "assigned_resource_id": "r2",
                "created_at": "2026-03-09T08:00:00Z",
                "escalated_at": "2026-03-09T09:00:00Z",
                "last_activity_at": "2026-03-09T09:00:00Z",
            }
            for i in range(EXTRA)
        ],
        "time_entries": entries,
    }
    with SyncWriter(engine, "demo", "file", clock=lambda: SYNCED_AT) as run:
        for entity, batch in pages.items():
            run.store_page(entity, batch, [f"extra-{entity}:{i + 1}" for i in range(len(batch))])
        assert run.summary is not None and not run.summary.rejects, run.summary


@pytest.mark.parametrize(
    "pane_key, table_id, column",
    [("4", "#team-hours", 0), ("5", "#pipe-stages", 0), ("6", "#svc-contracts", 3), ("3", "#esc-list", 0)],
)
async def test_the_cursor_is_always_on_a_row_on_screen_in_every_panes_table(tui_engine, pane_key, table_id, column):
    """The column: one that tells the rows apart and is still shown at 80 columns."""
    add_rows(tui_engine)
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press(pane_key)
        table = app.query_one(table_id, Table)
        await wait_until(pilot, lambda: table.row_count > EXTRA and table.size.width > 0)
        table.focus()
        await pilot.pause()

        def cursor_cell() -> str:
            return table.get_row_at(table.cursor_row)[column].plain

        def on_screen() -> bool:
            return cursor_cell() in screen_text(app)

        cells = [table.get_row_at(i)[column].plain for i in range(table.row_count)]
        assert len(set(cells)) == len(cells), cells  # each row's cell is its own
        assert not all(cell in screen_text(app) for cell in cells)  # more rows than the screen holds
        for keys in (("G",), ("g",), ("pagedown",), ("pagedown",), ("j",) * 7, ("G",), ("k",) * 3):
            await pilot.press(*keys)
            await pilot.pause()
            await pilot.pause()
            assert on_screen(), (keys, cursor_cell(), screen_text(app))
        await pilot.press("G")
        await pilot.pause()
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1 and on_screen()
        await pilot.press("g")
        await pilot.pause()
        await pilot.pause()
        assert table.cursor_row == 0 and on_screen()


async def test_page_keys_in_the_facet_picker_and_page_up_in_the_help(tui_engine):
    from textual.widgets import OptionList

    from mspkpi_tui.tui.screens import FacetScreen, HelpScreen

    add_rows(tui_engine)  # 40 more open tickets, so the picker has more than one page
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FacetScreen) and app.screen.query_one(OptionList).option_count > 5
        )
        options = app.screen.query_one(OptionList)
        await pilot.press("g")
        await pilot.pause()
        top = options.highlighted
        assert top is not None
        page = options.scrollable_content_region.height
        assert options.option_count > page > 2  # more options than one page
        await pilot.press("pagedown")
        await pilot.pause()
        down = options.highlighted
        assert down is not None and down - top >= page - 2, (top, down, page)  # a page, not a row
        assert options.scroll_y > 0  # the list scrolled with it
        assert str(options.get_option_at_index(down).prompt) in screen_text(app)
        await pilot.press("pagedown")
        await pilot.pause()
        further = options.highlighted
        assert further is not None and further > down
        await pilot.press("pageup")
        await pilot.pause()
        back = options.highlighted
        assert back is not None and further - back >= page - 2 and back > top, (further, back, page)
        assert str(options.get_option_at_index(back).prompt) in screen_text(app)
        await pilot.press("escape", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        body = app.screen.query_one("#help-body")
        await pilot.pause()
        await pilot.press("G")
        await pilot.pause()
        bottom = body.scroll_y
        assert bottom == body.max_scroll_y > body.size.height  # more than one page of help
        await pilot.press("pageup")
        await pilot.pause()
        assert 0 < body.scroll_y < bottom and bottom - body.scroll_y >= body.size.height - 2, (body.scroll_y, bottom)
        await pilot.press("pageup")
        await pilot.pause()
        assert body.scroll_y < bottom - body.size.height


# Textual 8.2.8's OptionList page up searches from the line a page above without wrapping: landing
# on the first heading (a disabled option) it found nothing and cleared the highlight (fixed in
# FacetScreen.action_move).
async def test_page_up_near_the_top_of_the_facet_picker_keeps_an_option_highlighted(tui_engine):
    from textual.widgets import OptionList

    from mspkpi_tui.tui.screens import FacetScreen

    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FacetScreen) and app.screen.query_one(OptionList).option_count > 5
        )
        options = app.screen.query_one(OptionList)
        await pilot.press("j", "j", "pageup")
        await pilot.pause()
        assert options.highlighted == 1  # the first option that can be picked (headings cannot)


HOSTILE_TITLES = ("漢字のタイトル" * 6, "🔥🚒 server on fire 👩‍💻🇯🇵" * 3, "long " * 1000)


async def test_queue_rows_keep_one_width_and_the_assignee_whatever_the_title(tui_engine):
    """CJK, emoji (a ZWJ sequence and a flag among them) and a 5,000-character title at 80x24:
    every row is the table's width in display cells and the Assignee cell is the whole name."""
    assert len(HOSTILE_TITLES[2]) == 5000
    tickets = models.table(models.Ticket)
    with tui_engine.begin() as conn:
        ids = [row.id for row in conn.execute(tickets.select())]
        for n, ticket_id in enumerate(ids):
            conn.execute(tickets.update().where(tickets.c.id == ticket_id).values(title=HOSTILE_TITLES[n % 3]))
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        view = app.query_one(TicketTable)
        await wait_until(pilot, lambda: len(view.ids) > 0 and all(i in view._rows for i in view.ids[:3]))
        await pilot.pause()
        width = view.scrollable_content_region.width
        x, cells = view._column_spans()["assignee"]
        assert cells >= 13  # the Assignee column is kept at 80 columns
        titles = set()
        shown = min(len(view.ids), view.scrollable_content_region.height)
        assert shown >= 3
        for y in range(shown):
            row = view._rows[view.ids[view.scroll_offset.y + y]]
            # before the crop to the widget: the cells alone add up to the columns' widths
            columns = sum(w for _, w in view._columns) + len(view._columns) - 1
            assert cell_len(view._row_text(row).plain) == columns <= width, (y, row.title[:20])
            strip = view.render_line(y)
            text = "".join(segment.text for segment in strip)
            assert cell_len(text) == strip.cell_length == width, (y, text)
            assignee = "".join(segment.text for segment in strip.crop(x, x + cells)).rstrip()
            assert assignee == (row.assignee or "unassigned"), (y, text)
            tx, tcells = view._column_spans()["title"]
            title = "".join(segment.text for segment in strip.crop(tx, tx + tcells))
            assert title.strip() and cell_len(title) == tcells, (y, title)
            titles.add(row.title)
        assert titles == set(HOSTILE_TITLES)  # all three kinds on the first screen
        screen = screen_text(app)
        assert "unassigned" in screen and "Bob Okafor" in screen
        assert all(cell_len(line) == 80 for line in screen.splitlines())
