"""Dispatch now (kpi/dispatch.py) on hand-made technicians, both databases. NOW: Monday 12:00 UTC."""

from __future__ import annotations

from datetime import timedelta

from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.dispatch import dispatch_now


def at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def test_dispatch_order_load_today_and_time_off(engine):
    d = Data()
    d.resource("PA", "Alice", weekly_hours=40)
    d.resource("PB", "Bob", weekly_hours=40)
    d.resource("PC", "Cara", weekly_hours=30)
    d.resource("PD", "Dan", active=False)
    d.ticket("T1", assigned_resource_id="PA", resolution_due=at(-1))  # overdue
    d.ticket("T2", assigned_resource_id="PA")
    d.ticket("T3", assigned_resource_id="PB", first_response_due=at(5))
    d.closed("T4", assigned_resource_id="PB", resolution_due=at(-3))  # closed: not a load
    d.entry("PA", "2026-11-23 09:00", 2.0, ticket_id="T2")
    d.entry("PA", "2026-11-22 09:00", 5.0, ticket_id="T1")  # yesterday
    d.entry("PB", "2026-11-23 08:00", 1.0, ticket_id="T3")
    d.entry("PB", "2026-11-23 10:00", 0.5)  # internal: not a ticket
    d.entry("PB", "2026-11-23 13:00", 3.0, ticket_id="T1")  # after now
    d.entry("PC", "2026-11-23 08:00", 8.0, category="Holiday")
    d.store(engine)
    cfg = config("UTC", timesheet={"time_off_categories": ["Holiday"]})
    team = dispatch_now(engine, NOW, cfg)
    assert [
        (t.name, t.open_assigned, t.at_risk, t.hours_today, t.day_hours, t.current_ticket, t.time_off_today)
        for t in team
    ] == [
        ("Bob", 1, 0, 1.5, 8.0, "TT3", False),
        ("Alice", 2, 1, 2.0, 8.0, "TT2", False),
        ("Cara", 0, 0, 8.0, 6.0, None, True),
    ]
    # A wider horizon puts Bob's response due in 5 h at risk: Alice still has more open.
    wider = config("UTC", views={"at_risk_hours": 6}, timesheet={"time_off_categories": ["Holiday"]})
    assert [(t.name, t.at_risk) for t in dispatch_now(engine, NOW, wider)] == [("Bob", 1), ("Alice", 1), ("Cara", 0)]


def test_ties_go_to_the_least_of_their_day_used_then_the_name(engine):
    d = Data()
    d.resource("PA", "Ann", weekly_hours=20)  # a 4 h day
    d.resource("PB", "Ben", weekly_hours=40)
    d.resource("PC", "Bea", weekly_hours=40)
    d.entry("PA", "2026-11-23 08:00", 2.0)  # half her day
    d.entry("PB", "2026-11-23 08:00", 2.0)  # a quarter of his
    d.store(engine)
    assert [t.name for t in dispatch_now(engine, NOW, config("UTC"))] == ["Bea", "Ben", "Ann"]
