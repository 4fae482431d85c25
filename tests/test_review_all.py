"""The review's quarter rows, read once for every company (`mspkpi review --all`), on SQLite and
PostgreSQL: hours by category and local month, tickets per local week, issue types and
requesters land in the right company and bucket at a month edge in the business zone, and
each company's review from the shared rows is the one it gets alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from test_company_days import entry, store, ticket

from mspkpi_tui.config import Config
from mspkpi_tui.kpi import review as reviews
from mspkpi_tui.kpi.common import NO_LABEL
from mspkpi_tui.output.review_format import render_review

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
CONFIG = Config(timezone="Europe/Berlin")  # UTC+1 in October after the 25th, +2 before


def seed(engine) -> None:
    store(
        engine,
        companies=[{"id": "K1", "name": "Acme & Co"}, {"id": "K2", "name": "Acme-Co"}],
        resources=[{"id": "R1", "name": "Alice", "hourly_cost": 50.0}],
        projects=[{"id": "P1", "name": "Move", "company_id": "K2", "status": "Active"}],
        tickets=[
            # 30 September 22:30 UTC is 1 October 00:30 in Berlin: Q4, its first week
            ticket("A", "K1", "2026-09-30 22:30", "2026-10-02 10:00", issue_type="Email", contact_name="Ann"),
            ticket("B", "K1", "2026-10-31 23:30", issue_type="Email", contact_name="Ann"),  # 1 Nov 00:30 local
            ticket("C", "K1", "2026-09-30 21:30", issue_type="Printing"),  # 23:30 local: Q3
            ticket("D", "K2", "2026-10-05 09:00", issue_type="Network", contact_name="Bo"),
        ],
        time_entries=[
            entry("E1", "R1", "2026-09-30 22:15", 1.0, "A"),  # October locally
            entry("E2", "R1", "2026-10-31 23:15", 2.0, "B"),  # November locally
            entry("E3", "R1", "2026-10-10 09:00", 4.0, project_id="P1"),
        ],
    )


def test_quarter_rows_by_local_month_and_week_on_both_databases(engine):
    seed(engine)
    shared = reviews.quarter_frame(engine, NOW, CONFIG, "2026-Q4")
    ids = {name: cid for cid, name in reviews.active_companies(engine)}
    k1, k2 = ids["Acme & Co"], ids["Acme-Co"]
    rows = shared.rows
    assert rows.hours[k1] == {(NO_LABEL, "2026-10"): 1.0, (NO_LABEL, "2026-11"): 2.0}
    assert sum(rows.hours[k2].values()) == 4.0
    assert rows.issue_types[k1] == {"Email": 2} and rows.issue_types[k2] == {"Network": 1}  # C is Q3
    assert rows.requesters[k1] == {"Ann": 2}
    opened = rows.weekly[(k1, "opened")]
    assert opened == {pd.Timestamp("2026-09-28"): 1, pd.Timestamp("2026-10-26"): 1}  # Mondays, local
    assert rows.weekly[(k1, "closed")] == {pd.Timestamp("2026-09-28"): 1}

    for cid, name in reviews.active_companies(engine):
        alone = reviews.review(engine, NOW, CONFIG, name, "2026-Q4")
        shared_one = reviews.company_review(engine, NOW, CONFIG, cid, name, shared)
        assert render_review(shared_one, "markdown") == render_review(alone, "markdown")
