"""The 30-day series, bucketed by London days across the spring DST change (worked by hand).

The series cover the 30d window (30 x 24 h up to now): the 31 local days it touches, the
first from 12:00 GMT on 11 March, today up to now; so each sums to its 30d figure."""

from test_kpi_builder import Data, config, utc

from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.kpi.trends import trend_series

LONDON = config("Europe/London")
NOW = utc("2026-04-10 12:00")  # days run 2026-03-11 (from 12:00) .. 2026-04-10; 29 March is 23 hours long


def series(values: dict[int, float], empty=0) -> list:
    return [values.get(i, empty) for i in range(31)]


def test_daily_series_in_the_business_zone(engine):
    d = Data()
    d.resource("R", "Alice")
    d.ticket("1", "2026-03-29 23:30")  # 00:30 BST on the 30th
    d.ticket("2", "2026-03-29 00:30")  # the 29th
    d.ticket("3", "2026-03-28 23:30")  # 23:30 GMT on the 28th
    d.ticket("4", "2026-04-10 11:00")  # today
    d.ticket("5", "2026-04-10 12:30")  # after now: not counted
    d.ticket("6", "2026-03-11 23:30")  # the window's first, partial day
    d.ticket("6b", "2026-03-11 11:59")  # before the window: not counted
    d.ticket("6c", "2026-03-11 12:00")  # the window's first instant
    d.ticket("6d", "2026-04-10 12:00")  # now itself: counted, like the 30d figure
    d.closed("7", "2026-04-01 00:00", completed_at="2026-04-09 23:30")  # 00:30 BST today
    d.closed(
        "8", "2026-04-01 00:00", first_response_due="2026-04-01 10:00", first_response_at="2026-04-01 11:00"
    )  # late
    d.closed(
        "9", "2026-04-01 00:00", first_response_due="2026-04-02 10:00", first_response_at="2026-04-02 09:00"
    )  # on time
    d.ticket("10", "2026-04-01 00:00", first_response_due="2026-04-10 11:30")  # passed unanswered today
    d.ticket("11", "2026-04-01 00:00", first_response_due="2026-04-10 13:00")  # not due yet
    d.ticket("12", "2026-04-01 00:00", status="Escalate")
    d.event("12", "2026-04-03 12:00", "status", "New", "Escalate")
    d.entry("R", "2026-03-29 22:30", 2.0)  # 23:30 BST on the 29th
    d.entry("R", "2026-03-29 23:15", 1.5)  # 00:15 BST on the 30th
    d.add("survey_results", rating=4, completed_at="2026-04-05T10:00:00Z")
    d.add("survey_results", rating=5, completed_at="2026-04-05T18:00:00Z")
    d.store(engine)
    t = trend_series(engine, NOW, LONDON)
    assert [day.isoformat() for day in (t.days[0], t.days[18], t.days[-1])] == [
        "2026-03-11",
        "2026-03-29",
        "2026-04-10",
    ]
    # tickets 7-12 were created on 1 April (index 21)
    assert t.opened == series({0: 2, 17: 1, 18: 1, 19: 1, 21: 6, 30: 2})
    assert t.closed == series({30: 1})
    assert t.first_response_breaches == series({21: 1, 30: 1})
    assert t.escalations == series({23: 1})
    assert t.hours == series({18: 2.0, 19: 1.5}, 0.0)
    assert t.csat == series({25: 4.5}, None)
    # A figure and the trend beside it cover the same window, so they agree (kpi-definitions.md).
    s = service_figures(engine, NOW, LONDON)
    assert (sum(t.opened), sum(t.closed)) == (s.opened_30d, s.closed_30d) == (13, 1)
    assert sum(t.escalations) == escalation_figures(engine, NOW, LONDON).total == 1


def test_trends_on_an_empty_database(engine):
    t = trend_series(engine, NOW, LONDON).to_dict()
    assert len(t["days"]) == 31 and t["days"][-1] == "2026-04-10"
    assert t["opened"] == t["closed"] == t["first_response_breaches"] == t["escalations"] == [0] * 31
    assert t["hours"] == [0.0] * 31 and t["csat"] == [None] * 31
