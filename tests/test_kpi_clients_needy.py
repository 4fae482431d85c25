"""The "needy" flag by a multiple of the MSP median (hours per ticket, tickets per seat), with
the rule that flagged it, and the time and profitability matrix (points, quadrant lines at the
medians), on a hand-made tenant; both databases (the `engine` fixture).

NOW is 2026-11-23 12:00 UTC; the 30-day window is 30 / 30.4375 = 0.98563 months. Every
company has one recurring contract of 1,000 a month from 2026-01-01 (revenue 1,000 x 0.98563
= 985.63 in the window); every hour costs 50 (one technician).

| company | seats | closed (reactive) | hours      | h/ticket | tickets/seat/month  | h/seat | labour | margin %                 |
| Alder   | 10    | 2                 | 2 x 1.0    | 1.0      | 2/(10 x .98563)=0.2 | 0.2    | 100    | 885.63/985.63 = 89.85    |
| Birch   | 10    | 2                 | 2 x 2.0    | 2.0      | 0.2                 | 0.4    | 200    | 785.63/985.63 = 79.71    |
| Cedar   | 10    | 2                 | 2 x 5.0    | 5.0      | 0.2                 | 1.0    | 500    | 485.63/985.63 = 49.27    |
| Dogwood | 2     | 4                 | 4 x 0.5    | 0.5      | 4/(2 x .98563)=2.03 | 1.0    | 100    | 89.85                    |
| Elm     | 10    | 0                 | 0          | no data  | 0.0                 | 0.0    | 0      | 100.0                    |

Medians: hours per ticket of (1, 2, 5, 0.5) = 1.5 (Elm closed none); tickets per seat of
(0.2, 0.2, 0.2, 2.03, 0.0) = 0.2; hours per seat of (0.2, 0.4, 1.0, 1.0, 0.0) = 0.4; margin %
of (89.85, 79.71, 49.27, 89.85, 100.0) = 89.85. With the default multiple 1.5: Cedar's 5.0 >
2.25 (hours per ticket) and Dogwood's 2.03 > 0.3 (tickets per seat) are needy; Birch's 2.0 is
not (under 2.25).
"""

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.clients import client_figures, profitability_matrix

COMPANIES = {  # name: (seats, reactive tickets closed, hours on each)
    "Alder": (10, 2, 1.0),
    "Birch": (10, 2, 2.0),
    "Cedar": (10, 2, 5.0),
    "Dogwood": (2, 4, 0.5),
    "Elm": (10, 0, 0.0),
}


def dataset() -> Data:
    d = Data()
    d.resource("R1", "Alice", hourly_cost=50.0)
    for name, (seats, closed, hours) in COMPANIES.items():
        cid = name[0]
        d.add("companies", id=cid, name=name)
        d.add(
            "contracts",
            id=f"K{cid}",
            company_id=cid,
            name="Managed",
            monthly_value=1000.0,
            seats=seats,
            category="Managed services",
            start_date="2026-01-01",
        )
        for k in range(closed):
            ticket = f"T{cid}{k}"
            d.closed(ticket, f"2026-11-{10 + k:02d} 09:00", company_id=cid, completed_at=f"2026-11-{10 + k:02d} 15:00")
            d.entry("R1", f"2026-11-{10 + k:02d} 10:00", hours, ticket_id=ticket)
    return d


@pytest.fixture
def figures(engine):
    dataset().store(engine)
    return client_figures(engine, NOW, config("UTC"), "30d")


def test_the_hand_worked_figures(figures):
    rows = {r.company: r for r in figures.companies}
    assert {n: rows[n].hours_per_ticket for n in COMPANIES} == {
        "Alder": 1.0,
        "Birch": 2.0,
        "Cedar": 5.0,
        "Dogwood": 0.5,
        "Elm": None,
    }
    assert {n: rows[n].reactive_per_seat_month for n in COMPANIES} == {
        "Alder": 0.2,
        "Birch": 0.2,
        "Cedar": 0.2,
        "Dogwood": 2.03,
        "Elm": 0.0,
    }
    assert {n: rows[n].margin_pct for n in COMPANIES} == {
        "Alder": 89.85,
        "Birch": 79.71,
        "Cedar": 49.27,
        "Dogwood": 89.85,
        "Elm": 100.0,
    }
    assert figures.medians == {
        "hours_per_ticket": 1.5,
        "reactive_per_seat_month": 0.2,
        "margin_pct": 89.85,
        "hours_per_seat": 0.4,
    }


def test_needy_by_a_multiple_of_the_median_names_the_rule(figures):
    needy = {r.company: r.needy for r in figures.companies if r.needy}
    assert needy == {
        "Cedar": ["hours per ticket 5, over 1.5 x the median 1.5"],
        "Dogwood": ["tickets per seat 2.03, over 1.5 x the median 0.2"],
    }
    assert figures.totals["needy"] == 2


def test_the_multiple_is_the_configured_one(engine):
    dataset().store(engine)
    # x 1.3: Birch's 2.0 is now over 1.95; Cedar and Dogwood stay flagged, each by its own rule
    rows = client_figures(engine, NOW, config("UTC", clients={"needy_multiple": 1.3}), "30d").companies
    needy = {r.company: r.needy for r in rows if r.needy}
    assert needy == {
        "Birch": ["hours per ticket 2, over 1.3 x the median 1.5"],
        "Cedar": ["hours per ticket 5, over 1.3 x the median 1.5"],
        "Dogwood": ["tickets per seat 2.03, over 1.3 x the median 0.2"],
    }
    # x 11: nothing is far enough above the medians (Dogwood 2.03 < 2.2, Cedar 5 < 16.5)
    rows = client_figures(engine, NOW, config("UTC", clients={"needy_multiple": 11.0}), "30d").companies
    assert [r.company for r in rows if r.needy] == []


def test_the_matrix_points_and_its_quadrant_lines_at_the_medians(figures):
    found = profitability_matrix(figures)
    assert [(p.company, p.hours_per_seat, p.margin_pct) for p in found.points] == [
        ("Alder", 0.2, 89.85),
        ("Birch", 0.4, 79.71),
        ("Cedar", 1.0, 49.27),
        ("Dogwood", 1.0, 89.85),
        ("Elm", 0.0, 100.0),
    ]
    assert (found.hours_per_seat_median, found.margin_pct_median) == (0.4, 89.85)
    # the needy-and-unprofitable quadrant (more hours per seat than the median, less margin): Cedar only
    bottom_right = [
        p.company
        for p in found.points
        if p.hours_per_seat > found.hours_per_seat_median and p.margin_pct < found.margin_pct_median
    ]
    assert bottom_right == ["Cedar"]


def test_a_company_without_seats_or_margin_is_not_a_point(engine):
    d = dataset()
    d.add("companies", id="F", name="Fir")  # tickets, no contract: no seats, no revenue
    d.closed("TF", "2026-11-12 09:00", company_id="F", completed_at="2026-11-12 15:00")
    d.entry("R1", "2026-11-12 10:00", 1.0, ticket_id="TF")
    d.store(engine)
    found = profitability_matrix(client_figures(engine, NOW, config("UTC"), "30d"))
    assert "Fir" not in [p.company for p in found.points] and len(found.points) == 5
