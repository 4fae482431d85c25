"""The company page's open tickets take the Queue's keys (pilot, against the fake Autotask):
/ filters, space marks, and a triage key goes through mspkpi_tui.actions, the pending value
showing in the page's own list until the PSA confirms."""

from __future__ import annotations

import threading

import pytest
from test_actions_tui import synced, wait_until  # noqa: F401  (the synced fixture)

from mspkpi_tui.config import config_from_dict
from mspkpi_tui.tui.app import MspkpiApp
from mspkpi_tui.tui.company_screen import CompanyScreen
from mspkpi_tui.tui.ticket_table import TicketTable
from mspkpi_tui.tui.triage import PickerScreen
from mspkpi_tui.tui.widgets import Table

pytestmark = pytest.mark.anyio


def list_text(screen: CompanyScreen) -> str:
    view = screen.open_list
    return "\n".join("".join(s.text for s in view.render_line(y)) for y in range(view.size.height))


async def open_busiest_company(app, pilot) -> CompanyScreen:
    await wait_until(pilot, lambda: app.query_one(TicketTable).current_row() is not None)
    await pilot.press("8")
    pane = app.pane("clients")
    await wait_until(pilot, lambda: pane.figures is not None and pane.shown_view == "30d")
    busiest = max(pane.figures.companies, key=lambda r: (r.open, r.company))
    assert busiest.open >= 2
    table = app.query_one("#clients-table", Table)
    table.move_cursor(row=table.get_row_index(str(busiest.company_id)))
    await pilot.press("enter")
    await wait_until(
        pilot, lambda: isinstance(app.screen, CompanyScreen) and app.screen.open_list.current_ticket() is not None
    )
    return app.screen


async def test_assign_from_the_company_page_goes_through_the_actions_layer(synced):  # noqa: F811
    fake, engine = synced
    release = threading.Event()
    fake.before_write = lambda _id: release.wait(30)  # the PSA holds the PATCH: the change stays pending
    app = MspkpiApp(engine, config_from_dict({}))
    try:
        async with app.run_test(size=(140, 50)) as pilot:
            screen = await open_busiest_company(app, pilot)
            row = screen.current_ticket()
            assert row is not None
            assert app.current_ticket() == row  # c / y copy the page's ticket
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
            target = next(v for v in app.screen.values if v != row.assignee)
            await pilot.press(*target.split()[0], "enter")
            await wait_until(pilot, lambda: app.pending.of(row.number).get("assignee") == target)
            assert isinstance(app.screen, CompanyScreen)
            await wait_until(pilot, lambda: f"{target}…"[:12] in list_text(screen))  # the pending value, drawn
            release.set()
            await wait_until(pilot, lambda: fake.server.requests_to("/v1.0/tickets", "PATCH") != [])
            await app.workers.wait_for_complete()
    finally:
        release.set()
    ticket_id = next(i for i, t in fake.data["Tickets"].items() if t["ticketNumber"] == row.number)
    resource = next(r for r in fake.data["Resources"].values() if f"{r['firstName']} {r['lastName']}" == target)
    sent = fake.server.requests_to("/v1.0/tickets", "PATCH")[0].request.json()
    assert (sent["id"], sent["assignedResourceID"]) == (ticket_id, resource["id"])


async def test_the_company_page_filters_and_marks_like_the_queue(synced):  # noqa: F811
    _fake, engine = synced
    app = MspkpiApp(engine, config_from_dict({}))
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await open_busiest_company(app, pilot)
        everything = list(screen.open_list.rows_by_key.values())
        wanted = everything[-1]
        word = max((w for w in wanted.title.split() if w.isalpha()), key=len)  # a word of its title
        await pilot.press("slash", *word, "enter")
        await wait_until(
            pilot, lambda: screen.ticket_query.text == word and str(wanted.id) in screen.open_list.rows_by_key
        )

        def matches(r) -> bool:
            return any(word.lower() in (v or "").lower() for v in (r.number, r.title, r.company, r.assignee))

        await wait_until(pilot, lambda: all(matches(r) for r in screen.open_list.rows_by_key.values()))
        assert f"filter: {word}" in screen.query_one("#company-open-title").plain
        await pilot.press("space")
        assert len(app.marks) == 1 and "1 marked (M clears)" in screen.query_one("#company-open-title").plain
        await pilot.press("M")
        assert len(app.marks) == 0
        await pilot.press("x")
        await wait_until(pilot, lambda: len(screen.open_list.rows_by_key) == len(everything))
