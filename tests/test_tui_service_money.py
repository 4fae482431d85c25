"""The Service pane's MSP-wide money and ticket lines, on the hand-made tenant of
tests/test_kpi_clients.py (answers worked there): MRR split by contract category with its
clients, churn of clients and of recurring revenue, new vs closed and cost per ticket, each
with its window; the same figures as kpi.clients' (the Clients pane's)."""

from __future__ import annotations

import pytest
from test_kpi_builder import NOW, config
from test_kpi_clients import dataset
from test_tui_app import loaded, wait_until
from test_tui_support import make_app

from mspkpi_tui.tui.widgets import Figure

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_the_service_pane_shows_mrr_split_churn_new_vs_closed_and_cost_per_ticket(engine):
    dataset().store(engine)
    app = make_app(engine, config("UTC"), now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("6")
        figures = app.query_one("#svc-money", Figure)
        await wait_until(pilot, lambda: "Recurring revenue" in figures.plain)
        lines = figures.plain.splitlines()
    assert lines == [
        "Recurring revenue (MRR at 2026-11-23): MRR 3,000 · all-in seat price 300.00 (Clients pane, key 8, per client)",
        "MRR by contract category: Managed services 3,000 (100%, 1 client)",
        "Churn (30 days): clients 50% (1 of 2) · recurring revenue 25% (1,000 of 4,000)",
        "Clients' tickets (30 days): new vs closed 4 / 3 (ratio 1.33, difference +1) · "
        "cost per ticket 143.33 (labour on tickets / tickets closed)",
    ]


async def test_no_contract_values_is_no_data(engine):
    from test_kpi_builder import Data

    d = Data()
    d.add("companies", id="A", name="Acme")
    d.resource("R1", "Alice")  # no hourly cost: labour is no data, so is cost per ticket
    d.closed("T1", "2026-11-01 09:00", company_id="A", completed_at="2026-11-02 09:00")
    d.entry("R1", "2026-11-01 10:00", 2.0, ticket_id="T1")
    d.store(engine)
    app = make_app(engine, config("UTC"), now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("6")
        figures = app.query_one("#svc-money", Figure)
        await wait_until(pilot, lambda: "Recurring revenue" in figures.plain)
        lines = figures.plain.splitlines()
    assert lines[0] == (
        "Recurring revenue (MRR at 2026-11-23): no data (no contract has a monthly value (contracts.monthly_value))"
    )
    assert lines[1] == (
        "Clients' tickets (30 days): new vs closed 1 / 1 (ratio 1.00, difference +0) · "
        "cost per ticket no data (labour on tickets / tickets closed)"
    )


async def test_at_80x24_the_keys_reach_the_money_lines_below_the_contracts(engine):
    """The money lines sit below the contracts table; G on the table (its last row) brings what
    follows the table into view, so a keyboard user reaches them without a mouse."""
    from test_tui_app import screen_text

    data = dataset()
    for i in range(12):  # contracts ending within 90 days: a table longer than the screen
        data.add("contracts", id=f"X{i}", company_id="A", name=f"Block {i}", end_date=f"2026-12-{10 + i}")
    data.store(engine)
    app = make_app(engine, config("UTC"), now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("6")
        figures = app.query_one("#svc-money", Figure)
        await wait_until(pilot, lambda: "Recurring revenue" in figures.plain)
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "svc-contracts")
        assert "MRR by contract category" not in screen_text(app)  # below the fold at first
        await pilot.press("G")
        await pilot.pause()
        await pilot.pause()
        shown = screen_text(app)
    assert "MRR by contract category" in shown
