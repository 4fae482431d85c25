"""Pipeline, contracts and projects on hand-made records (answers worked by hand)."""

from test_kpi_builder import NOW, Data, config, utc

from mspkpi_tui.kpi.contracts import contract_figures
from mspkpi_tui.kpi.pipeline import pipeline_figures
from mspkpi_tui.kpi.projects import project_figures

UTC = config("UTC")


def opportunities() -> Data:
    d = Data()
    d.add(
        "opportunities",
        id="O1",
        title="a",
        stage="Qualify",
        stage_rank=1,
        amount=1000,
        stage_entered_at="2026-11-13T12:00:00Z",
    )
    d.add(
        "opportunities",
        id="O2",
        title="b",
        stage="Qualify",
        stage_rank=1,
        amount=3000,
        stage_entered_at="2026-10-29T12:00:00Z",
    )
    # O3 changed stage twice (Qualify, then Proposal) and the source keeps no entered-at time.
    d.add(
        "opportunities",
        id="O3",
        title="c",
        stage="Proposal",
        stage_rank=2,
        amount=5000,
        created_at="2026-08-01T00:00:00Z",
    )
    d.add("opportunity_stage_changes", opportunity_id="O3", stage="Qualify", entered_at="2026-09-01T00:00:00Z")
    d.add("opportunity_stage_changes", opportunity_id="O3", stage="Proposal", entered_at="2026-10-01T12:00:00Z")
    d.add(
        "opportunities",
        id="O4",
        title="d",
        stage="Negotiate",
        stage_rank=3,
        amount=2000,
        stage_entered_at="2026-11-08T12:00:00Z",
    )
    won = dict(stage="Closed", stage_rank=9, status="won")
    d.add("opportunities", id="W1", title="w1", amount=700, closed_on="2026-11-05", win_reason="Price", **won)
    d.add("opportunities", id="W2", title="w2", amount=300, closed_on="2026-11-20", **won)
    d.add("opportunities", id="W3", title="w3", amount=999, closed_on="2026-10-31", win_reason="Price", **won)
    lost = dict(stage="Closed", stage_rank=9, status="lost")
    d.add("opportunities", id="L1", title="l1", amount=400, closed_on="2026-11-02", loss_reason="Competitor", **lost)
    d.add("opportunities", id="L2", title="l2", amount=100, closed_on="2026-11-03", loss_reason="Competitor", **lost)
    return d


def test_pipeline_by_stage_in_the_source_order(engine):
    opportunities().store(engine)
    p = pipeline_figures(engine, NOW, UTC).to_dict()
    assert p["stages"] == [
        {
            "stage": "Qualify",
            "count": 2,
            "amount": 4000.0,
            "avg_days_in_stage": 17.5,
            "max_days_in_stage": 25.0,
            "past_checkins": {"15": 1, "30": 0, "45": 0},
        },
        {
            "stage": "Proposal",
            "count": 1,
            "amount": 5000.0,
            "avg_days_in_stage": 53.0,
            "max_days_in_stage": 53.0,
            "past_checkins": {"15": 1, "30": 1, "45": 1},
        },
        # exactly 15 days in stage: the 15-day check-in is reached
        {
            "stage": "Negotiate",
            "count": 1,
            "amount": 2000.0,
            "avg_days_in_stage": 15.0,
            "max_days_in_stage": 15.0,
            "past_checkins": {"15": 1, "30": 0, "45": 0},
        },
    ]
    assert (p["open_amount"], p["coverage"]) == (11000.0, None)  # no target configured
    assert p["won_month"] == {"count": 2, "amount": 1000.0, "by_reason": {"(none)": 1, "Price": 1}}
    assert p["lost_month"] == {"count": 2, "amount": 500.0, "by_reason": {"Competitor": 2}}


def test_coverage_against_a_target_and_custom_checkins(engine):
    opportunities().store(engine)
    p = pipeline_figures(engine, NOW, config("UTC", pipeline={"target": 2750.0, "checkin_days": [20, 50]}))
    assert p.coverage == 4.0
    assert [s.past_checkins for s in p.stages] == [{20: 1, 50: 0}, {20: 1, 50: 1}, {20: 0, 50: 0}]


def test_pipeline_on_an_empty_database(engine):
    assert pipeline_figures(engine, NOW, UTC).to_dict() == {
        "stages": [],
        "open_amount": 0.0,
        "coverage": None,
        "won_month": {"count": 0, "amount": 0.0, "by_reason": {}},
        "lost_month": {"count": 0, "amount": 0.0, "by_reason": {}},
    }


def contracts() -> Data:
    d = Data()
    d.add("companies", id="C", name="Acme")
    rows = [
        ("C1", "Active", "2026-11-23"),  # ends today
        ("C2", "Active", "2026-12-23"),  # today + 30
        ("C3", "Active", "2026-12-24"),  # today + 31
        ("C4", "Active", "2027-02-21"),  # today + 90
        ("C5", "Active", "2027-02-22"),  # today + 91
        ("C6", "Expired", "2026-12-01"),
        ("C7", "Active", "2026-11-22"),  # ended yesterday
        ("C8", "active", "2026-12-01"),
    ]
    for cid, status, end in rows:
        d.add(
            "contracts",
            id=cid,
            company_id="C",
            name=f"Managed {cid}",
            number=f"N-{cid}",
            type="Recurring",
            period_type="Monthly",
            start_date="2026-01-01",
            end_date=end,
            status=status,
        )
    return d


def test_contracts_expiring_within_30_60_90_days(engine):
    contracts().store(engine)
    for now, zone in [(NOW, "UTC"), (utc("2026-11-24 03:00"), "America/New_York")]:  # both: today is 23 Nov
        c = contract_figures(engine, now, config(zone))
        assert (c.expiring_30d, c.expiring_60d, c.expiring_90d) == (3, 4, 5)
        assert [e.contract for e in c.expiring] == [
            "Managed C1",
            "Managed C8",
            "Managed C2",
            "Managed C3",
            "Managed C4",
        ]
    assert c.to_dict()["expiring"][0] == {
        "company": "Acme",
        "contract": "Managed C1",
        "number": "N-C1",
        "type": "Recurring",
        "period_type": "Monthly",
        "start": "2026-01-01",
        "end": "2026-11-23",
    }


def test_contracts_on_an_empty_database(engine):
    assert contract_figures(engine, NOW, UTC).to_dict() == {
        "expiring_30d": 0,
        "expiring_60d": 0,
        "expiring_90d": 0,
        "expiring": [],
    }


def test_projects_red_amber_green_and_hours_to_deliver(engine):
    d = Data()
    project = lambda pid, **kw: d.add("projects", id=pid, name=pid, status="Active", **kw)  # noqa: E731
    project("P1", category="Onboarding", end_date="2026-11-01", estimated_hours=100, actual_hours=120)  # late both: Red
    # 22 of 30 days elapsed (73%) at 50% complete: late on calendar only -> Amber; 60 h left
    project(
        "P2",
        category="Onboarding",
        start_date="2026-11-01",
        end_date="2026-12-01",
        percent_complete=50,
        estimated_hours=100,
        actual_hours=40,
    )
    # ahead of schedule, no estimate: Green, never late on hours, nothing to deliver
    project("P3", start_date="2026-11-01", end_date="2026-12-01", percent_complete=80, actual_hours=500)
    # 10 of 20 days elapsed at exactly 50%: on time; over its estimate -> Amber
    project(
        "P4",
        category="Migration",
        start_date="2026-11-13",
        end_date="2026-12-03",
        percent_complete=50,
        estimated_hours=10,
        actual_hours=12,
    )
    project("P5", category="Migration", end_date="2026-01-01", estimated_hours=100, is_closed=True)  # closed: ignored
    project("P6", category="Migration", estimated_hours=40)  # no dates, nothing logged: Green, 40 h left
    d.store(engine)
    p = project_figures(engine, NOW, UTC).to_dict()
    assert p["at_risk"] == {"Red": 1, "Amber": 2, "Green": 2}
    assert p["hours_to_be_delivered"] == {
        "total": 100.0,
        "by_category": {"Onboarding": 60.0, "Migration": 40.0, "(none)": 0.0},
    }


def test_projects_on_an_empty_database(engine):
    assert project_figures(engine, NOW, UTC).to_dict() == {
        "at_risk": {"Red": 0, "Amber": 0, "Green": 0},
        "hours_to_be_delivered": {"total": 0.0, "by_category": {}},
    }
