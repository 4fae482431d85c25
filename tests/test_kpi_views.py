"""Triage views (kpi/views.py) on hand-made tickets, answers worked by hand, both databases.

NOW is Monday 2026-11-23 12:00 UTC; business hours Monday to Friday 08:00-18:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from test_kpi_builder import NOW, Data, config, utc

from mspkpi_tui.config import RESERVED_KEYS, config_from_dict
from mspkpi_tui.errors import ConfigError
from mspkpi_tui.kpi import views
from mspkpi_tui.kpi.tickets import TicketQuery, queue_ids, tickets

RULES = config("UTC")


def view(key: str, cfg=RULES) -> views.View:
    return next(v for v in views.all_views(cfg) if v.key == key)


def listed(engine, v: views.View, now: datetime = NOW) -> list[str]:
    """The source ids the view lists, in its order."""
    ids = queue_ids(engine, now, TicketQuery(v.text, v.facets, v.sort, v))
    with engine.connect() as conn:
        by_id = dict(conn.execute(select(tickets.c.id, tickets.c.source_id)).all())
    return [by_id[i] for i in ids]


def at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def test_business_hours_reach_back_over_the_weekend():
    week = views.BusinessHours(UTC)
    # Monday 12:00 minus 16 business hours: Monday 08-12 (4), Friday 08-18 (10), Thursday 16-18 (2).
    assert week.before(NOW, 16) == utc("2026-11-19 16:00")
    # Saturday counts nothing: 3 business hours before Saturday noon is Friday 15:00.
    assert week.before(utc("2026-11-21 12:00"), 3) == utc("2026-11-20 15:00")
    # Before the day opens (Monday 07:00): from Friday's close.
    assert week.before(utc("2026-11-23 07:00"), 1) == utc("2026-11-20 17:00")
    # A zone: 9-17 in New York (UTC-5 in November), Monday 15:00 UTC = 10:00 local; 2 h -> Friday 16:00 local.
    ny = views.BusinessHours(config("America/New_York").zone, start_hour=9, end_hour=17)
    assert ny.before(utc("2026-11-23 15:00"), 2) == utc("2026-11-20 21:00")


def test_at_risk_lists_due_within_the_horizon_and_overdue(engine):
    d = Data()
    d.ticket("R1", first_response_due=at(0.5))  # at risk (response)
    d.ticket("R2", resolution_due=at(-1))  # overdue
    d.ticket("R3", resolution_due=at(2))  # outside the hour
    d.ticket("R4", first_response_due=at(0.5), first_response_at=at(-2), resolution_due=at(5))  # responded
    d.closed("R5", resolution_due=at(-3))  # closed
    d.ticket("R6", first_response_due=at(1))  # exactly at the horizon: not within
    d.store(engine)
    assert listed(engine, view("R")) == ["R2", "R1"]  # overdue first (the due order)
    wider = config("UTC", views={"at_risk_hours": 2.5})
    assert listed(engine, view("R", wider)) == ["R2", "R1", "R6", "R3"]


def test_new_lists_unassigned_longest_waiting_first_and_the_median_triage_time(engine):
    d = Data()
    d.resource("P1", "Alice")
    d.ticket("N1", "2026-11-22 09:00")
    d.ticket("N2", "2026-11-20 09:00")
    d.ticket("N3", "2026-11-21 09:00", assigned_resource_id="P1")  # assigned
    d.closed("N4", "2026-11-19 09:00")  # closed
    # triage times: 30 min, 2 h, 1 h -> median 1 h; T4 is older than 30 days; T5 was only unassigned.
    d.ticket("T1", "2026-11-20 10:00", assigned_resource_id="P1")
    d.event("T1", "2026-11-20 10:30", "assignee", None, "Alice")
    d.event("T1", "2026-11-20 12:30", "assignee", "Alice", "Bob")  # a later reassignment is not triage
    d.ticket("T2", "2026-11-21 09:00", assigned_resource_id="P1")
    d.event("T2", "2026-11-21 11:00", "assignee", None, "Alice")
    d.ticket("T3", "2026-11-22 09:00", assigned_resource_id="P1")
    d.event("T3", "2026-11-22 10:00", "assignee", None, "Alice")
    d.ticket("T4", "2026-10-01 09:00", assigned_resource_id="P1")
    d.event("T4", "2026-10-01 09:05", "assignee", None, "Alice")
    d.ticket("T5", "2026-11-22 09:00")
    d.event("T5", "2026-11-22 09:30", "assignee", "Alice", None)
    d.store(engine)
    assert listed(engine, view("N")) == ["N2", "N1", "T5"]
    assert sorted(views.triage_times(engine, NOW, 30)) == [1800.0, 3600.0, 7200.0]
    assert views.median_triage_seconds(engine, NOW, RULES) == pytest.approx(3600.0, abs=0.01)


def test_stale_counts_entries_and_status_changes_in_business_hours(engine):
    d = Data()
    d.resource("P1", "Alice")
    # The cutoff is Thursday 2026-11-19 16:00 (16 business hours before Monday noon).
    d.ticket("S1", "2026-11-10 09:00")
    d.entry("P1", "2026-11-19 15:00", 1.0, ticket_id="S1")  # before the cutoff: stale
    d.ticket("S2", "2026-11-10 09:00")
    d.event("S2", "2026-11-19 17:00", "status", "New", "In Progress")  # after: not stale
    d.ticket("S3", "2026-11-20 09:00")  # created after the cutoff
    d.ticket("S4", "2026-11-09 09:00", last_activity_at="2026-11-22 10:00")  # only an automatic update: stale
    d.ticket("S5", "2026-11-01 09:00", status="In Progress")
    d.event("S5", "2026-11-21 10:00", "status", "Complete", "In Progress")  # reopened on Saturday: not stale
    d.ticket("S6", "2026-11-12 09:00")
    d.event("S6", "2026-11-20 10:00", "priority", "Low", "High")  # a priority change is not activity
    d.closed("S7", "2026-11-01 09:00")
    d.store(engine)
    assert listed(engine, view("Z")) == ["S4", "S1", "S6"]  # oldest first
    # Twelve hours earlier (Monday 00:00) the cutoff is Thursday 10:00: S1's entry is after it.
    assert listed(engine, view("Z"), utc("2026-11-23 00:00")) == ["S4", "S6"]


def test_waiting_on_customer_counts_from_entering_the_status(engine):
    d = Data()
    d.ticket("W1", status="Waiting Customer")
    d.event("W1", "2026-11-17 09:00", "status", "In Progress", "Waiting Customer")  # 6 days
    d.ticket("W2", status="Waiting Customer")
    d.event("W2", "2026-11-20 09:00", "status", "In Progress", "Waiting Customer")  # 3 days
    d.ticket("W3", "2026-10-20 09:00", status="Waiting Customer")  # no event: since creation
    d.ticket("W4", status="Waiting Customer")
    d.event("W4", "2026-11-10 09:00", "status", "New", "Waiting Customer")
    d.event("W4", "2026-11-12 09:00", "status", "Waiting Customer", "In Progress")
    d.event("W4", "2026-11-21 09:00", "status", "In Progress", "Waiting Customer")  # back 2 days ago
    d.ticket("W5", status="Waiting on Client")  # ConnectWise's name
    d.event("W5", "2026-11-01 09:00", "status", "New", "Waiting on Client")
    d.store(engine)
    assert listed(engine, view("W")) == ["W3", "W1"]
    cw = config("UTC", views={"waiting_statuses": ["Waiting on Client"], "waiting_days": 2})
    assert listed(engine, view("W", cw)) == ["W5"]


def test_aged_steps_through_one_two_three_weeks(engine):
    d = Data()
    d.ticket("A1", "2026-11-15 12:00")  # 8 days
    d.ticket("A2", "2026-11-08 12:00")  # 15 days
    d.ticket("A3", "2026-11-01 12:00")  # 22 days
    d.ticket("A4", "2026-11-20 12:00")  # 3 days
    d.closed("A5", "2026-10-01 12:00")
    d.store(engine)
    one = view("A")
    two = views.aged_step(one)
    three = views.aged_step(two)
    assert listed(engine, one) == ["A3", "A2", "A1"]
    assert listed(engine, two) == ["A3", "A2"]
    assert listed(engine, three) == ["A3"]
    assert views.aged_step(three).days == 7
    assert views.aged_counts(engine, NOW) == views.AgedCounts(3, 2, 1)


def test_a_custom_view_is_a_saved_filter(engine):
    d = Data()
    d.ticket("C1", status="New", priority="High", priority_rank=2)
    d.ticket("C2", status="New")
    d.ticket("C3", status="In Progress", priority="High", priority_rank=2)
    d.store(engine)
    cfg = config_from_dict(
        {"views": {"custom": [{"name": "Hot new", "key": "h", "status": "New", "priority": "High"}]}}
    )
    hot = view("h", cfg)
    assert (hot.name, hot.kind) == ("Hot new", views.CUSTOM)
    assert listed(engine, hot) == ["C1"]


@pytest.mark.parametrize("key", ["a", "R", "x", "8", "m", "!"])
def test_a_custom_view_may_not_take_a_bound_key(key):
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"views": {"custom": [{"name": "Mine", "key": key}]}})
    message = str(caught.value)
    assert "\n" not in message and "[views] custom.0.key" in message and "is taken" in message


def test_two_custom_views_may_not_share_a_key():
    views_table = {"custom": [{"name": "One", "key": "h"}, {"name": "Two", "key": "h"}]}
    with pytest.raises(ConfigError, match="used twice"):
        config_from_dict({"views": views_table})


def test_reserved_keys_cover_every_binding_of_the_dashboard():
    from textual.binding import Binding

    from mspkpi_tui.tui.app import MspkpiApp
    from mspkpi_tui.tui.panes import PANES
    from mspkpi_tui.tui.ticket_table import TicketTable

    bindings = [*MspkpiApp.BINDINGS, *TicketTable.BINDINGS]
    for pane in PANES:
        bindings += list(getattr(pane, "BINDINGS", []))
    keys = {key.strip() for b in Binding.make_bindings(bindings) for key in b.key.split(",")}
    names = {"question_mark": "?", "slash": "/", "exclamation_mark": "!"}
    single = {names.get(k, k) for k in keys if len(names.get(k, k)) == 1}
    assert single <= RESERVED_KEYS
