"""The long view (kpi.history) against answers worked by hand, in London days across the
spring DST change (29 March 2026 is 23 hours long), on SQLite and PostgreSQL.

Window: 30 days, 2026-03-12 (index 0) .. 2026-04-10 (index 29, up to now). Day ends: the
next local midnight, 00:00 GMT before the change and 23:00 UTC after it.

Tickets:
  A  created 03-01 10:00, open: in the backlog every day; > 7 d from the start, > 14 d from
     the end of 03-15 (index 3), > 21 d from the end of 03-22 (index 10); escalated? no.
  B  created 03-20 09:00 (index 8), completed 03-25 09:00 (index 13): open at the ends of 8..12.
     First response met (week of 03-16), resolution met (week of 03-23).
  C  created 03-27 10:00 (index 15), closed 03-28 10:00 (a status event; completed_at kept),
     reopened 03-30 10:00 UTC (index 18), open now: closed at the ends of 16 and 17 only;
     > 7 d from the end of 04-03 (index 22), > 14 d at now (index 29).
  D  created 03-29 23:30 UTC = 00:30 BST on the 30th (index 18), completed 04-09 23:30 UTC =
     00:30 BST on the 10th (index 29): open at the ends of 18..28; > 7 d from the end of
     04-06 (index 25); lived 11 days, so never > 14 d. First response due 03-30 01:00, never
     given: missed in the week of 03-30.
  E  created 04-01 (index 20), closed without a completion time: opened, never in the backlog;
     escalated on 04-01 (rate 1 of 1 opened that day).
"""

from test_kpi_builder import Data, config, utc

from mspkpi_tui.kpi.common import Refresh
from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.history import history

LONDON = config("Europe/London")
NOW = utc("2026-04-10 12:00")


def days(values: dict[tuple[int, int] | int, float | None], empty=0) -> list:
    """30 values from {index: v} or {(first, last): v} (inclusive ranges)."""
    out = [empty] * 30
    for key, value in values.items():
        first, last = key if isinstance(key, tuple) else (key, key)
        for i in range(first, last + 1):
            out[i] = value
    return out


def dataset() -> Data:
    d = Data()
    d.resource("R", "Alice")
    d.ticket("A", "2026-03-01 10:00")
    d.closed(
        "B",
        "2026-03-20 09:00",
        completed_at="2026-03-25 09:00",
        first_response_due="2026-03-20 10:00",
        first_response_at="2026-03-20 09:30",
        resolution_due="2026-03-26 09:00",
        resolved_at="2026-03-25 09:00",
    )
    d.ticket("C", "2026-03-27 10:00", status="In Progress", completed_at="2026-03-28 10:00")
    d.event("C", "2026-03-28 10:00", "status", "New", "Complete")
    d.event("C", "2026-03-30 10:00", "status", "Complete", "In Progress")
    d.closed("D", "2026-03-29 23:30", completed_at="2026-04-09 23:30", first_response_due="2026-03-30 01:00")
    d.closed("E", "2026-04-01 09:00")
    d.event("E", "2026-04-01 12:00", "status", "New", "Escalate")
    d.entry("R", "2026-03-20 10:00", 3.0, billable=True)  # a whole GMT day: from the rollup
    d.entry("R", "2026-03-29 22:30", 2.0, billable=True)  # 23:30 BST on the 29th: an edge
    d.entry("R", "2026-03-29 23:15", 1.5)  # 00:15 BST on the 30th
    d.add("survey_results", rating=4, completed_at="2026-04-05T10:00:00Z")  # Sunday: week of 03-30
    d.add("survey_results", rating=5, completed_at="2026-04-06T10:00:00Z")  # Monday: week of 04-06
    return d


def test_daily_history_worked_by_hand(engine):
    dataset().store(engine)
    h = history(engine, NOW, LONDON, 30, "day")
    assert [p.isoformat() for p in (h.periods[0], h.periods[17], h.periods[-1])] == [
        "2026-03-12",
        "2026-03-29",
        "2026-04-10",
    ]
    assert h.opened == days({8: 1, 15: 1, 18: 1, 20: 1})
    assert h.closed == days({13: 1, 16: 1, 29: 1})  # completions, C's first one included
    assert h.backlog == days({(0, 7): 1, (8, 12): 2, (13, 14): 1, 15: 2, (16, 17): 1, (18, 28): 3, 29: 2})
    assert h.aged_over_7d == days({(0, 21): 1, (22, 24): 2, (25, 28): 3, 29: 2})
    assert h.aged_over_14d == days({(3, 28): 1, 29: 2})
    assert h.aged_over_21d == days({(10, 29): 1})
    assert h.escalations == days({20: 1})
    assert h.escalation_rate_pct == days({8: 0.0, 15: 0.0, 18: 0.0, 20: 100.0}, None)
    assert h.billable_hours == days({8: 3.0, 17: 2.0}, 0.0)
    assert h.non_billable_hours == days({18: 1.5}, 0.0)
    # The previous 30 days (02-10 .. 03-11): only A, open from 03-01 (index 19).
    assert h.previous_backlog == [0] * 19 + [1] * 11
    assert h.previous_opened == [0] * 19 + [1] + [0] * 10


def test_history_in_a_report_refresh_reads_the_shared_escalations(engine):
    """In a report refresh the 30-day view counts the first escalations the escalations area
    read (kpi.common.Refresh) instead of reading them again: the same series either way."""
    dataset().store(engine)
    refresh = Refresh()
    escalation_figures(engine, NOW, LONDON, refresh=refresh)
    shared = history(engine, NOW, LONDON, 30, "day", refresh)
    assert shared.escalations == days({20: 1})
    assert shared == history(engine, NOW, LONDON, 30, "day")


def test_weekly_series_worked_by_hand(engine):
    dataset().store(engine)
    h = history(engine, NOW, LONDON, 30, "week")
    weeks = ["2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30", "2026-04-06"]
    assert [w.isoformat() for w in h.periods] == weeks and [w.isoformat() for w in h.weeks] == weeks
    assert h.opened == [0, 1, 1, 2, 0]
    # Week ends: 03-16 00:00 (A), 03-23 (A, B), 03-29 23:00 UTC (A; C closed, D not yet), 04-05 23:00 (A, C, D), now (A, C).
    assert h.backlog == [1, 2, 1, 3, 2]
    assert h.first_response_pct == [None, 100.0, None, 0.0, None]
    assert h.resolution_pct == [None, None, 100.0, None, None]
    assert h.previous_first_response_pct == [None] * 5
    assert h.csat == [None, None, None, 4.0, 5.0]
    assert h.csat_responses == [0, 0, 0, 1, 1]


def test_history_on_an_empty_database(engine):
    for days_back, by, n in ((30, "day", 30), (90, "week", 14), (365, "day", 365)):
        h = history(engine, NOW, LONDON, days_back, by).to_dict()
        assert len(h["periods"]) == n and h["periods"][-1] <= "2026-04-10"
        assert h["opened"] == h["backlog"] == h["aged_over_21d"] == h["escalations"] == [0] * n
        assert h["escalation_rate_pct"] == [None] * n and h["billable_hours"] == [0.0] * n
        assert h["first_response_pct"] == h["csat"] == [None] * len(h["weeks"])
