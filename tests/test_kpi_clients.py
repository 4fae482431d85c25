"""Per-company figures and the money figures on a hand-made tenant (answers worked by hand).

NOW is Monday 2026-11-23 12:00 UTC; the 30-day window starts 2026-10-24 12:00 (30.4375 days a month).
- Acme: a recurring contract (3,000 a month, 10 seats, since 2026-01-01), three tickets, a
  project, surveys, billing items (one recurring: counted once).
- Bolt: tickets and no contract (revenue 0, so margin % is no data and it is needy).
- Calm: no tickets, a contract ending mid-period (churned).
- Dormant: an inactive company (not listed).
"""

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.clients import client_figures, period_window

MONTH = 365.25 / 12


def dataset() -> Data:
    d = Data()
    for cid, name in (("A", "Acme"), ("B", "Bolt"), ("C", "Calm")):
        d.add("companies", id=cid, name=name)
    d.add("companies", id="D", name="Dormant", active=False)
    d.resource("R1", "Alice", hourly_cost=50.0)
    d.resource("R2", "Bob", hourly_cost=30.0)
    d.add(
        "contracts",
        id="KA",
        company_id="A",
        name="Managed",
        monthly_value=3000.0,
        seats=10,
        category="Managed services",
        start_date="2026-01-01",
    )
    d.add(
        "contracts",
        id="KC",
        company_id="C",
        name="Managed",
        monthly_value=1000.0,
        seats=5,
        category="Managed services",
        start_date="2025-01-01",
        end_date="2026-11-08",
        status="Inactive",
    )
    d.closed(
        "T1",
        "2026-11-01 09:00",
        company_id="A",
        issue_type="Hardware",
        first_response_at="2026-11-01 09:30",
        first_response_due="2026-11-01 10:00",
        resolved_at="2026-11-02 09:00",
        resolution_due="2026-11-03 09:00",
        completed_at="2026-11-02 09:00",
    )
    d.closed(
        "T2",
        "2026-11-10 09:00",
        company_id="A",
        issue_type="Project",  # not reactive
        first_response_at="2026-11-10 11:00",
        first_response_due="2026-11-10 10:00",  # missed
        resolved_at="2026-11-11 09:00",
        resolution_due="2026-11-12 09:00",
        completed_at="2026-11-11 09:00",
    )
    d.ticket(
        "T3",
        "2026-11-20 09:00",
        company_id="A",
        first_response_due="2026-11-20 10:00",  # passed without a response: missed
        resolution_due="2026-11-30 09:00",
    )
    d.closed("T4", "2026-11-05 09:00", company_id="B", completed_at="2026-11-06 09:00")
    d.ticket("T5", "2026-09-30 23:30", company_id="B")  # 1 October 00:30 in London
    d.add("projects", id="P1", name="Move", company_id="A", status="Active")
    d.entry("R1", "2026-11-01 10:00", 2.0, ticket_id="T1")
    d.entry("R1", "2026-11-10 10:00", 1.0, ticket_id="T2")
    d.entry("R2", "2026-11-10 12:00", 1.0, ticket_id="T2")
    d.entry("R2", "2026-11-15 10:00", 3.0, project_id="P1")
    d.entry("R1", "2026-11-05 10:00", 5.0, ticket_id="T4")
    d.entry("R1", "2026-10-01 10:00", 8.0, ticket_id="T4")  # before the 30-day window
    d.add("survey_results", company_id="A", completed_at="2026-11-03T10:00:00Z", rating=2, recommend_score=10)
    d.add("survey_results", company_id="A", completed_at="2026-11-12T10:00:00Z", rating=5, recommend_score=5)
    d.add("survey_results", company_id="A", completed_at="2026-11-13T10:00:00Z", rating=4)
    d.add("billing_items", company_id="A", item_date="2026-11-10", extended_price=500.0, our_cost=300.0)
    d.add(
        "billing_items", company_id="A", contract_id="KA", item_date="2026-11-01", extended_price=3000.0, recurring=True
    )
    d.add("billing_items", company_id="A", item_date="2026-09-01", extended_price=1000.0)  # before the window
    return d


@pytest.fixture
def figures(engine):
    dataset().store(engine)
    return client_figures(engine, NOW, config("UTC"), "30d")


def by_name(figures):
    return {row.company: row for row in figures.companies}


def test_service_figures_per_company(figures):
    rows = by_name(figures)
    assert list(rows) == ["Acme", "Bolt", "Calm"]  # the inactive company is not listed
    a = rows["Acme"]
    assert (a.open, a.opened, a.closed) == (1, 3, 2)
    assert a.avg_first_response_minutes == 75.0  # 30 and 120 minutes
    assert a.avg_resolution_hours == 24.0
    assert a.fcr_pct == 50.0  # T1 one entry, T2 two
    assert a.sla_first_response_pct == 33.33  # T1 met; T2 late; T3 due passed without a response
    assert a.sla_resolution_pct == 100.0  # T3 is not due yet
    assert a.sla_pct == 60.0  # 3 met of 5 due times
    assert (a.csat_avg, a.csat_responses, a.csat_below_3) == (3.67, 3, 1)
    assert (a.nps, a.nps_responses, a.nps_promoters, a.nps_detractors) == (0.0, 2, 1, 1)
    assert (a.hours, a.ticket_hours, a.hours_per_ticket) == (7.0, 4.0, 2.0)
    assert a.seats == 10.0 and a.reactive_tickets == 2
    assert a.reactive_per_seat_month == round(2 / (10 * 30 / MONTH), 2)  # 0.2


def test_money_per_company(figures):
    a, b, c = (by_name(figures)[n] for n in ("Acme", "Bolt", "Calm"))
    assert a.recurring_revenue == round(3000 * 30 / MONTH, 2) == 2956.88
    assert a.billed_revenue == 500.0  # the recurring charge is the contract's value, counted once
    assert a.revenue == 3456.88
    assert (a.labour_cost, a.ticket_labour_cost, a.other_cost) == (270.0, 180.0, 300.0)  # 2x50 + 50 + 30 + 3x30
    assert a.margin == 2886.88 and a.margin_pct == 83.51
    assert a.needy == [] and a.no_data == {}
    # Lifetime: 326.5 days since 1 January at 3,000 a month, plus every non-recurring item.
    assert a.lifetime_revenue == round(3000 * 326.5 / MONTH + 1500, 2) == 33680.7
    assert a.relationship_months == 10.73

    assert (b.revenue, b.labour_cost, b.margin, b.margin_pct) == (0.0, 250.0, -250.0, None)
    assert b.no_data["margin_pct"] == "no revenue in the period"
    assert (
        b.seats is None
        and b.reactive_per_seat_month is None
        and "contracts.seats" in b.no_data["reactive_per_seat_month"]
    )
    assert b.needy == ["no revenue against 250 labour cost"]
    assert b.hours_per_ticket == 5.0 and b.lifetime_revenue is None

    # Calm's contract ran to the end of 8 November: 15.5 days of the window.
    assert (c.opened, c.closed, c.hours, c.fcr_pct, c.csat_avg, c.nps) == (0, 0, 0.0, None, None, None)
    assert c.recurring_revenue == round(1000 * 15.5 / MONTH, 2) == 509.24
    assert c.margin_pct == 100.0 and c.seats is None


def test_medians_totals_and_msp_money(figures):
    assert figures.medians["hours_per_ticket"] == 3.5  # 2.0 and 5.0; Calm closed nothing
    assert figures.medians["margin_pct"] == 91.76  # (83.51 + 100.0) / 2 = 91.755, half up (round() gives 91.75)
    totals = figures.totals
    assert (totals["opened"], totals["closed"], totals["new_vs_closed_difference"]) == (4, 3, 1)
    assert totals["new_vs_closed_ratio"] == 1.33
    assert totals["labour_cost"] == 520.0 and totals["cost_per_ticket"] == 143.33  # 430 on tickets / 3
    assert (totals["nps"], totals["nps_responses"], totals["needy"]) == (0.0, 2, 1)
    assert totals["no_data"] == {} and "nps" not in by_name(figures)["Calm"].no_data  # answers exist: 0 responses
    money = figures.money
    assert (money.mrr, money.seats, money.all_in_seat_price) == (3000.0, 10.0, 300.0)
    assert [(s.category, s.mrr, s.pct, s.clients) for s in money.mrr_by_category] == [
        ("Managed services", 3000.0, 100.0, 1)
    ]
    assert (money.clients_at_start, money.clients_lost, money.churn_pct) == (2, 1, 50.0)
    assert (money.mrr_at_start, money.mrr_lost, money.revenue_churn_pct) == (4000.0, 1000.0, 25.0)


def test_quarter_starts_at_local_midnight(engine):
    dataset().store(engine)
    london = {r.company: r for r in client_figures(engine, NOW, config("Europe/London"), "quarter").companies}
    utc = {r.company: r for r in client_figures(engine, NOW, config("UTC"), "quarter").companies}
    assert london["Bolt"].opened == 2 and utc["Bolt"].opened == 1  # T5: 30 Sep 23:30 UTC is 1 Oct in London
    assert period_window(NOW, config("Europe/London"), "quarter").start.isoformat() == "2026-09-30T23:00:00+00:00"
    twelve = period_window(NOW, config("UTC"), "12m")
    assert twelve.start.isoformat() == "2025-11-23T00:00:00+00:00"


def test_no_money_in_the_source_is_no_data_not_zero(engine):
    d = Data()
    d.add("companies", id="A", name="Acme")
    d.resource("R1", "Alice")  # no hourly cost
    d.closed("T1", "2026-11-01 09:00", company_id="A", completed_at="2026-11-02 09:00")
    d.entry("R1", "2026-11-01 10:00", 2.0, ticket_id="T1")
    d.store(engine)
    figures = client_figures(engine, NOW, config("UTC"))
    row = figures.companies[0]
    assert (row.revenue, row.labour_cost, row.margin, row.margin_pct) == (None, None, None, None)
    assert row.no_data["revenue"] == "the source has no contract values or billing items"
    assert row.no_data["labour_cost"] == "2.00 h by technicians without an hourly cost (resources.hourly_cost)"
    assert figures.money.mrr is None and "monthly value" in figures.money.no_data["mrr"]
    assert figures.totals["cost_per_ticket"] is None
    # No recommend answer anywhere (Autotask keeps none): NPS is no data, and the reason names the question.
    assert row.nps is None and figures.totals["nps"] is None
    assert figures.totals["no_data"]["nps"].startswith("no answer to 'How likely are you to recommend us? (0-10)'")
    assert row.no_data["nps"] == figures.totals["no_data"]["nps"]


def test_a_configured_margin_threshold_flags_and_names_the_rule(engine):
    dataset().store(engine)
    cfg = config("UTC", clients={"margin_threshold_pct": 90.0})
    rows = {r.company: r for r in client_figures(engine, NOW, cfg).companies}
    assert rows["Acme"].needy == ["margin 83.5% below 90%"]
    assert rows["Calm"].needy == []


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="unknown period 'week'"):
        period_window(NOW, config("UTC"), "week")


def test_technician_efficiency(engine):
    from mspkpi_tui.kpi.technicians import technician_efficiency

    d = dataset()
    d.add(
        "tickets",
        id="T6",
        number="T6",
        title="t",
        status="Complete",
        is_closed=True,
        priority="Low",
        created_at="2026-11-02T09:00:00Z",
        completed_at="2026-11-03T09:00:00Z",
        assigned_resource_id="R2",
    )
    d.entry("R2", "2026-11-16 10:00", 4.0, category="Training")
    d.store(engine)
    rows = {r.name: r for r in technician_efficiency(engine, NOW, config("UTC"))}
    alice, bob = rows["Alice"], rows["Bob"]
    # Alice: 2 + 1 + 5 h on tickets in the window (8 h on T4 was before it), closed none assigned to her.
    assert (alice.ticket_hours, alice.tickets_closed, alice.hours_per_ticket, alice.fcr_pct) == (8.0, 0, None, None)
    # Bob: 1 h on T2; T6 closed with no entries (first touch); 4 h training.
    assert (bob.ticket_hours, bob.tickets_closed, bob.hours_per_ticket, bob.fcr_pct) == (1.0, 1, 1.0, 100.0)
    assert (bob.training_hours, alice.training_hours) == (4.0, 0.0)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("period", ["30d", "quarter", "12m"])
def test_the_service_panes_totals_are_the_clients_figures(engine, period, zone):
    """service_totals (the Service pane, every refresh) reads only what that pane shows, and
    gives the Clients figures' money and ticket totals exactly: with every technician costed,
    and with one hour by a technician without a cost (labour and cost per ticket: no data)."""
    from mspkpi_tui.kpi.clients import service_totals

    d = dataset()
    d.add("companies", id="E", name="Empty")  # active, no ticket: a zero row in the sums
    d.store(engine)
    for uncosted in (False, True):
        if uncosted:
            d.resource("R3", "Carl")
            d.entry("R3", "2026-11-16 10:00", 1.0, ticket_id="T4")
            d.store(engine)
        full = client_figures(engine, NOW, config(zone), period)
        money, totals = service_totals(engine, NOW, config(zone), period)
        assert money == full.money
        assert totals == {k: full.totals[k] for k in ("opened", "closed", "new_vs_closed_difference")} | {
            k: full.totals[k] for k in ("new_vs_closed_ratio", "labour_cost", "cost_per_ticket")
        }
        assert (totals["cost_per_ticket"] is None) == uncosted


def test_figures_round_half_up_on_a_tie(engine):
    """docs "Rounding": half up at the shown precision, hours and money alike (Python's round()
    gives 0.12 for 0.125 and 5.62 for 5.625: both are exact binary ties, rounded to even).
    Tie: one entry of 0.125 h (7.5 minutes) at 45 an hour, labour 5.625; a billed item of 10.125."""
    from mspkpi_tui.kpi.company import company_page

    d = Data()
    d.add("companies", id="T", name="Tie")
    d.resource("R1", "Alice", hourly_cost=45.0)
    d.closed("T1", "2026-11-10 09:00", company_id="T", completed_at="2026-11-10 11:00")
    d.entry("R1", "2026-11-10 10:00", 0.125, ticket_id="T1")
    d.add("billing_items", company_id="T", item_date="2026-11-10", extended_price=10.125, our_cost=0.0)
    d.store(engine)
    figures = client_figures(engine, NOW, config("UTC"), "30d")
    row = figures.companies[0]
    assert (row.hours, row.ticket_hours, row.hours_per_ticket) == (0.13, 0.13, 0.13)
    assert (row.labour_cost, row.ticket_labour_cost) == (5.63, 5.63)
    assert (row.billed_revenue, row.revenue) == (10.13, 10.13)
    assert row.margin == 4.5  # 10.13 - 5.63
    assert figures.totals["labour_cost"] == 5.63 and figures.totals["cost_per_ticket"] == 5.63
    page = company_page(engine, NOW, config("UTC"), row.company_id)
    assert page.trends.hours[-1] == 0.13 and page.trends.revenue[-1] == 10.13


def test_nps_rounds_half_up():
    from mspkpi_tui.kpi.clients import nps

    # 1 promoter (or detractor) of 800 answers: 100 / 800 = 0.125, half away from zero.
    assert nps(1, 0, 800) == 0.13 and nps(0, 1, 800) == -0.13


def test_rows_are_made_without_the_frozen_init_but_stay_frozen_dataclasses(figures):
    """kpi.common.frozen_record skips the frozen dataclass's __init__ (speed): the rows must still be equal
    to ClientRow(...)'s, frozen, readable with vars(), and a missing field must be refused."""
    import dataclasses

    from mspkpi_tui.kpi.clients import ClientRow
    from mspkpi_tui.kpi.common import frozen_record

    for row in figures.companies:
        assert row == ClientRow(**vars(row)) and vars(row) == dataclasses.asdict(row)
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.open = 0  # type: ignore[misc]
    fields = dict(vars(figures.companies[0]))
    del fields["margin"]
    with pytest.raises(TypeError, match="margin"):
        frozen_record(ClientRow, fields)


def test_mrr_rounds_half_up(engine):
    """MRR, its category share, MRR at start and lost: half up like every figure (a 100.125
    monthly value is an exact binary tie: round() gives 100.12)."""
    d = Data()
    d.add("companies", id="A", name="Acme")
    for kid, end in (("K1", None), ("K2", "2026-11-01")):  # K2 ended in the window: lost
        d.add(
            "contracts",
            id=kid,
            company_id="A",
            name=kid,
            monthly_value=100.125,
            category="Managed services",
            start_date="2025-01-01",
            **({"end_date": end, "status": "Inactive"} if end else {}),
        )
    d.store(engine)
    money = client_figures(engine, NOW, config("UTC"), "30d").money
    assert (money.mrr, money.mrr_by_category[0].mrr) == (100.13, 100.13)
    assert (money.mrr_at_start, money.mrr_lost) == (200.25, 100.13)
