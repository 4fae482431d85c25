"""Team hours and overdue timesheets, across the US DST change (answers worked by hand)."""

from datetime import date

from test_kpi_builder import Data, config, utc

from mspkpi_tui.kpi.team import team_figures

NEW_YORK = config("America/New_York", timesheet={"lookback_weeks": 1})
NOW = utc("2026-03-11 15:00")  # Wednesday; this week began Monday 9 March 00:00 EDT = 04:00 UTC


def hours_dataset() -> Data:
    d = Data()
    d.resource("A", "Alice", weekly_hours=40.0)
    d.resource("B", "Bob", weekly_hours=20.0)
    d.resource("C", "Carol", active=False)
    d.add("projects", id="P1", name="Migration", status="Active")
    d.ticket("T1")
    d.entry("A", "2026-03-09 04:00", 2.0, billable=True, ticket_id="T1")  # Monday 00:00 EDT: this week
    d.entry("A", "2026-03-09 03:59", 1.0)  # Sunday 23:59 EDT: last week, internal
    d.entry("A", "2026-03-10 15:00", 3.0, billable=True, project_id="P1")
    d.entry("A", "2026-03-10 16:00", 1.0, category="Admin")
    d.entry("A", "2026-03-02 05:00", 4.0, billable=True)  # Monday 00:00 EST: start of last week
    d.entry("A", "2026-03-02 04:30", 8.0, billable=True)  # Sunday 23:30 EST: the week before
    d.entry("B", "2026-03-09 12:00", 5.0, ticket_id="T1")
    d.entry("C", "2026-03-10 12:00", 9.0, billable=True)  # inactive: not listed
    return d


def test_hours_per_technician_this_and_last_week(engine):
    hours_dataset().store(engine)
    team = team_figures(engine, NOW, NEW_YORK)
    assert team.week_start == date(2026, 3, 9)
    alice, bob = team.resources
    assert alice.to_dict() == {
        "name": "Alice",
        "hours_this_week": 6.0,
        "billable_this_week": 5.0,
        "non_billable_this_week": 1.0,
        "hours_last_week": 5.0,
        "utilization_pct": 12.5,
        "billable_pct": 83.33,
        "customer_facing_pct": 83.33,
        # Wednesday 11:00 EDT: 2.25 of 5 working days gone, 18 of 40 h: 5 / 18
        "utilization_wtd_pct": 27.78,
    }
    assert bob.to_dict() == {
        "name": "Bob",
        "hours_this_week": 5.0,
        "billable_this_week": 0.0,
        "non_billable_this_week": 5.0,
        "hours_last_week": 0.0,
        "utilization_pct": 0.0,
        "billable_pct": 0.0,
        "customer_facing_pct": 100.0,
        "utilization_wtd_pct": 0.0,
    }


def test_week_to_date_utilization_counts_the_working_hours_gone_by():
    from datetime import datetime

    from mspkpi_tui.kpi.team import week_share_elapsed

    assert week_share_elapsed(datetime(2026, 3, 9, 8, 0)) == 0.0  # Monday before 09:00: nothing yet
    assert week_share_elapsed(datetime(2026, 3, 9, 13, 0)) == 0.1  # half of Monday
    assert week_share_elapsed(datetime(2026, 3, 11, 17, 30)) == 0.6  # Wednesday evening
    assert week_share_elapsed(datetime(2026, 3, 14, 10, 0)) == 1.0  # the weekend: the whole week


def test_hours_to_deliver_lists_the_five_largest_categories_and_the_rest_as_other():
    from mspkpi_tui.kpi.projects import top

    eight = {f"C{i}": float(i) for i in range(1, 9)}
    assert top(eight) == {"C8": 8.0, "C7": 7.0, "C6": 6.0, "C5": 5.0, "C4": 4.0, "Other": 6.0}
    assert top({"A": 2.0, "B": 1.0}) == {"A": 2.0, "B": 1.0}


def test_time_off_reduces_available_hours_when_configured(engine):
    d = hours_dataset()
    d.entry("A", "2026-03-11 13:00", 8.0, category="Vacation")
    d.store(engine)
    rules = config("America/New_York", timesheet={"lookback_weeks": 1, "time_off_categories": ["Vacation"]})
    alice = team_figures(engine, NOW, rules).resources[0]
    assert (alice.hours_this_week, alice.utilization_pct) == (6.0, 15.63)  # 5 billable / (40 - 8) = 15.625, half up


def test_under_hours_weeks_for_a_source_without_timesheets(engine):
    hours_dataset().store(engine)
    overdue = [o.to_dict() for o in team_figures(engine, NOW, NEW_YORK).overdue_timesheets]
    week = {"period_start": "2026-03-02", "period_end": "2026-03-08", "status": "Under hours"}
    assert overdue == [
        {"resource": "Alice", **week, "billable_hours": 4.0, "non_billable_hours": 1.0, "hours_worked": 5.0},
        {"resource": "Bob", **week, "billable_hours": 0.0, "non_billable_hours": 0.0, "hours_worked": 0.0},
    ]


def test_under_hours_waits_for_the_grace_period(engine):
    hours_dataset().store(engine)
    assert team_figures(engine, utc("2026-03-10 03:59"), NEW_YORK).overdue_timesheets == []  # grace ends 04:00
    assert len(team_figures(engine, utc("2026-03-10 04:01"), NEW_YORK).overdue_timesheets) == 2


def test_enough_hours_is_not_under_hours(engine):
    d = Data()
    d.resource("A", "Alice", weekly_hours=10.0)
    d.entry("A", "2026-03-03 15:00", 9.0)  # exactly 90% of 10
    d.store(engine)
    assert team_figures(engine, NOW, NEW_YORK).overdue_timesheets == []


def test_overdue_timesheets_from_a_source_that_has_them(engine):
    d = Data("cw")
    d.resource("D", "Dan")
    d.add("timesheets", id="TS1", resource_id="D", period_start="2026-03-02", period_end="2026-03-08", status="Open")
    d.add(
        "timesheets", id="TS2", resource_id="D", period_start="2026-02-23", period_end="2026-03-01", status="approved"
    )
    d.add("timesheets", id="TS3", resource_id="D", period_start="2026-03-09", period_end="2026-03-15", status="Open")
    d.add(
        "timesheets",
        id="TS4",
        resource_id="D",
        period_start="2026-02-16",
        period_end="2026-02-22",
        status="Rejected",
        deadline="2026-03-20T00:00:00Z",
    )
    d.add(
        "timesheets", id="TS5", resource_id="D", period_start="2026-02-09", period_end="2026-02-15", status="Submitted"
    )
    d.entry("D", "2026-03-03 15:00", 6.0, billable=True, timesheet_id="TS1")
    d.entry("D", "2026-03-04 15:00", 2.0, timesheet_id="TS1")
    d.entry("D", "2026-03-09 03:30", 1.0)  # Sunday 23:30 EDT: still in TS1's period
    d.entry("D", "2026-03-09 04:00", 7.0)  # Monday: the next period
    d.store(engine)
    overdue = [o.to_dict() for o in team_figures(engine, NOW, NEW_YORK).overdue_timesheets]
    assert overdue == [
        {
            "resource": "Dan",
            "period_start": "2026-03-02",
            "period_end": "2026-03-08",
            "billable_hours": 6.0,
            "non_billable_hours": 3.0,
            "hours_worked": 9.0,
            "status": "Open",
        },
    ]
    # Before the grace day after the period's end has passed, it is not overdue yet.
    assert team_figures(engine, utc("2026-03-10 03:00"), NEW_YORK).overdue_timesheets == []


def test_team_on_an_empty_database(engine):
    t = team_figures(engine, NOW, NEW_YORK).to_dict()
    assert t == {"week_start": "2026-03-09", "resources": [], "overdue_timesheets": []}
