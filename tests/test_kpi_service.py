"""Service figures on hand-made tickets (answers worked by hand)."""

import pytest
from pydantic import ValidationError
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.service import service_figures

UTC = config("UTC")


def dataset() -> Data:
    d = Data()
    d.resource("R1", "Alice")
    # In the 30d window (from 2026-10-24 12:00): S1, S2, S3 opened; S1, S2, S4 closed.
    d.closed(
        "S1",
        "2026-11-01 00:00",
        first_response_at="2026-11-01 00:30",
        resolved_at="2026-11-02 00:00",
        completed_at="2026-11-02 00:00",
    )
    d.closed(
        "S2",
        "2026-11-10 00:00",
        first_response_at="2026-11-10 01:30",
        resolved_at="2026-11-10 12:00",
        completed_at="2026-11-10 12:00",
    )
    d.ticket("S3", "2026-11-20 00:00")
    d.closed(
        "S4",
        "2026-10-20 00:00",
        first_response_at="2026-10-20 01:00",
        resolved_at="2026-10-25 00:00",
        completed_at="2026-10-25 00:00",
    )
    # Earlier this year (FCR only), and one completed at 03:00 UTC on 1 January.
    d.closed(
        "S5",
        "2026-02-01 00:00",
        first_response_at="2026-02-01 00:10",
        resolved_at="2026-03-01 00:00",
        completed_at="2026-03-01 00:00",
    )
    d.closed("S6", "2025-12-30 00:00", resolved_at="2026-01-01 03:00", completed_at="2026-01-01 03:00")
    d.closed("S7", "2025-12-01 00:00", completed_at="2025-12-31 12:00")  # last year
    for ticket, n in {"S1": 2, "S2": 1, "S5": 3, "S6": 1, "S7": 0}.items():
        for _ in range(n):
            d.entry("R1", "2026-11-01 10:00", 0.5, ticket_id=ticket)
    for rating, when in [
        (5, "2026-11-05 10:00"),
        (2, "2026-11-06 10:00"),
        (2.5, "2026-11-07 10:00"),
        (1, "2026-10-01 10:00"),
    ]:
        d.add("survey_results", rating=rating, completed_at=f"{when}:00+00:00", ticket_id="S1")
    d.event("S3", "2026-11-21 09:00", "status", "Complete", "In Progress")  # reopened
    d.event("S3", "2026-11-22 09:00", "status", "Closed", "New")  # the same ticket again: counted once
    d.event("S2", "2026-11-10 12:00", "status", "New", "Complete")  # a completion, not a reopen
    d.event("S1", "2026-10-01 09:00", "status", "Complete", "New")  # before the window
    d.event("S4", "2026-11-01 09:00", "status", "Complete", "Closed")  # closed to closed
    return d


def test_service_figures(engine):
    dataset().store(engine)
    s = service_figures(engine, NOW, UTC)
    assert (s.opened_30d, s.closed_30d, s.kill_rate_30d) == (3, 3, 100.0)
    assert s.avg_first_response_minutes_30d == 60.0  # (30 + 90) / 2
    assert s.avg_resolution_hours_30d == 52.0  # (24 + 12 + 120) / 3
    # YTD (UTC): S1 (2 entries), S2 (1), S4 (0), S5 (3), S6 (1) -> first touch S2 S4 S6.
    assert s.fcr_ytd.to_dict() == {"total": 5, "first_touch": 3, "multi_touch": 2, "pct": 60.0}
    assert s.csat_30d.to_dict() == {"avg": 3.17, "responses": 3, "below_3": 2}
    assert s.reopened_30d == 1


def test_ytd_starts_at_local_new_year(engine):
    dataset().store(engine)
    s = service_figures(engine, NOW, config("America/New_York"))
    # S6 was completed on 31 December in New York: not this year.
    assert s.fcr_ytd.to_dict() == {"total": 4, "first_touch": 2, "multi_touch": 2, "pct": 50.0}


def test_fcr_over_30_days_when_configured(engine):
    dataset().store(engine)
    s = service_figures(engine, NOW, config("UTC", service={"fcr_period": "30d"}))
    assert s.fcr_ytd.to_dict() == {"total": 3, "first_touch": 2, "multi_touch": 1, "pct": 66.67}  # S1 S2 S4
    with pytest.raises(ValidationError, match="fcr_period"):  # the typed config refuses it when set
        config("UTC", service={"fcr_period": "week"})


def test_service_on_an_empty_database(engine):
    assert service_figures(engine, NOW, UTC).to_dict() == {
        "opened_30d": 0,
        "closed_30d": 0,
        "kill_rate_30d": None,
        "avg_first_response_minutes_30d": None,
        "avg_resolution_hours_30d": None,
        "fcr_ytd": {"total": 0, "first_touch": 0, "multi_touch": 0, "pct": None},
        "csat_30d": {"avg": None, "responses": 0, "below_3": 0},
        "reopened_30d": 0,
    }
