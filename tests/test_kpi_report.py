"""The report: every documented key, each format, and the real `mspkpi kpi` command."""

import csv
import io
import json

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.kpi.report import compute_report
from mspkpi_tui.output import render
from mspkpi_tui.store.engine import open_database

# The public keys (issue 3 and docs/kpi.md); nested dicts list their keys, lists their items' keys.
KEYS = {
    "queue": ["open", "unassigned", "by_priority", "by_status", "by_queue"],
    "sla": [
        "first_response_overdue",
        "first_response_due_1h",
        "resolution_overdue",
        "resolution_due_today",
        "compliance_30d",
    ],
    "service": [
        "opened_30d",
        "closed_30d",
        "kill_rate_30d",
        "avg_first_response_minutes_30d",
        "avg_resolution_hours_30d",
        "fcr_ytd",
        "csat_30d",
        "reopened_30d",
    ],
    "escalations": ["period_days", "total", "rate_pct", "open", "by_issue_type", "by_priority"],
    "team": ["week_start", "resources", "overdue_timesheets"],
    "pipeline": ["stages", "open_amount", "coverage", "won_month", "lost_month"],
    "contracts": ["expiring_30d", "expiring_60d", "expiring_90d", "expiring"],
    "projects": ["at_risk", "hours_to_be_delivered"],
    "trends": ["days", "opened", "closed", "first_response_breaches", "escalations", "hours", "csat", "history"],
    "clients": ["period", "start", "end", "months", "companies", "medians", "totals", "money", "nps_question"],
}
NESTED = {
    ("sla", "compliance_30d"): ["first_response_pct", "resolution_pct"],
    ("service", "fcr_ytd"): ["total", "first_touch", "multi_touch", "pct"],
    ("service", "csat_30d"): ["avg", "responses", "below_3"],
    ("team", "resources"): [
        "name",
        "hours_this_week",
        "billable_this_week",
        "non_billable_this_week",
        "hours_last_week",
        "utilization_pct",
        "billable_pct",
        "customer_facing_pct",
        "utilization_wtd_pct",
    ],
    ("team", "overdue_timesheets"): [
        "resource",
        "period_start",
        "period_end",
        "billable_hours",
        "non_billable_hours",
        "hours_worked",
        "status",
    ],
    ("pipeline", "stages"): ["stage", "count", "amount", "avg_days_in_stage", "max_days_in_stage", "past_checkins"],
    ("pipeline", "won_month"): ["count", "amount", "by_reason"],
    ("contracts", "expiring"): ["company", "contract", "number", "type", "period_type", "start", "end"],
    ("projects", "at_risk"): ["Red", "Amber", "Green"],
    ("projects", "hours_to_be_delivered"): ["total", "by_category"],
    ("clients", "companies"): [
        "company_id",
        "company",
        "open",
        "opened",
        "closed",
        "avg_first_response_minutes",
        "avg_resolution_hours",
        "fcr_pct",
        "sla_first_response_pct",
        "sla_resolution_pct",
        "sla_pct",
        "csat_avg",
        "csat_responses",
        "csat_below_3",
        "nps",
        "nps_responses",
        "nps_promoters",
        "nps_detractors",
        "hours",
        "ticket_hours",
        "hours_per_ticket",
        "seats",
        "reactive_tickets",
        "reactive_per_seat_month",
        "recurring_revenue",
        "billed_revenue",
        "revenue",
        "labour_cost",
        "ticket_labour_cost",
        "other_cost",
        "margin",
        "margin_pct",
        "lifetime_revenue",
        "relationship_months",
        "lifetime_revenue_per_month",
        "needy",
        "no_data",
    ],
    ("clients", "medians"): ["hours_per_ticket", "reactive_per_seat_month", "margin_pct", "hours_per_seat"],
    ("clients", "totals"): [
        "opened",
        "closed",
        "new_vs_closed_difference",
        "new_vs_closed_ratio",
        "labour_cost",
        "cost_per_ticket",
        "nps",
        "nps_responses",
        "needy",
        "no_data",
    ],
    ("clients", "money"): [
        "as_of",
        "mrr",
        "mrr_by_category",
        "seats",
        "all_in_seat_price",
        "clients_at_start",
        "clients_lost",
        "churn_pct",
        "mrr_at_start",
        "mrr_lost",
        "revenue_churn_pct",
        "no_data",
    ],
}
HOSTILE = "[bold red]Boom[/bold red] \x1b[31mred\x1b[0m"


def small_dataset() -> Data:
    d = Data()
    d.add("companies", id="C", name="Acme | Co")
    d.resource("R", "Alice Averylongsurname-Withadoublebarrelledname", weekly_hours=40.0)
    d.resource("R2", "Bob")
    d.ticket(
        "1",
        "2026-11-20 09:00",
        status=HOSTILE,
        first_response_due="2026-11-20 10:00",
        resolution_due="2026-11-24 09:00",
    )
    d.closed(
        "2",
        "2026-11-10 09:00",
        first_response_at="2026-11-10 09:30",
        first_response_due="2026-11-10 10:00",
        resolved_at="2026-11-11 09:00",
        completed_at="2026-11-11 09:00",
    )
    d.entry("R", "2026-11-23 09:00", 2.5, billable=True, ticket_id="2")
    d.entry("R", "2026-11-18 09:00", 7.0)
    d.add("survey_results", rating=4, completed_at="2026-11-12T10:00:00Z", ticket_id="2")
    d.add(
        "opportunities",
        id="O",
        title="Firewall",
        stage="Proposal",
        stage_rank=2,
        amount=1200,
        stage_entered_at="2026-10-01T00:00:00Z",
    )
    d.add(
        "contracts",
        id="K",
        company_id="C",
        name="Managed services",
        number="MS-1",
        type="Recurring",
        period_type="Monthly",
        start_date="2026-01-01",
        end_date="2026-12-15",
    )
    d.add(
        "projects",
        id="P",
        name="Move",
        status="Active",
        category="Migration",
        estimated_hours=20,
        actual_hours=5,
        end_date="2026-11-01",
    )
    return d


def test_compute_report_has_every_public_key(engine):
    small_dataset().store(engine)
    report = compute_report(engine, NOW, config("Europe/London"), list(KEYS))
    assert (report["as_of"], report["timezone"]) == ("2026-11-23T12:00:00Z", "Europe/London")
    for section, keys in KEYS.items():
        assert list(report[section]) == keys, section
    for (section, key), keys in NESTED.items():
        value = report[section][key]
        item = value[0] if isinstance(value, list) else value
        assert list(item) == keys, (section, key)
    assert all(len(report["trends"][k]) == 31 for k in KEYS["trends"] if k != "history")
    assert len(report["trends"]["history"]["backlog"]) == 30 and report["trends"]["history"]["by"] == "day"
    assert set(report["rules"]) == set(KEYS)
    json.dumps(report)  # JSON-ready as it is
    assert report["contracts"]["expiring"][0]["end"] == "2026-12-15"
    assert report["team"]["resources"][0]["hours_this_week"] == 2.5


def test_one_section_and_a_bad_one(engine):
    report = compute_report(engine, NOW, config(), ["sla"])
    assert set(report) == {"as_of", "timezone", "sla", "rules"}
    with pytest.raises(MspkpiError, match="unknown section 'slas'; choose one of: queue, sla, service"):
        compute_report(engine, NOW, config(), ["slas"])
    with pytest.raises(MspkpiError, match="unknown format 'yaml'; choose one of: table, json, csv, markdown"):
        render(report, "yaml")


def test_csv_has_one_row_per_figure(engine):
    small_dataset().store(engine)
    rows = list(csv.reader(io.StringIO(render(compute_report(engine, NOW, config()), "csv"))))
    assert rows[0] == ["section", "key", "value"]
    figures = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert figures[("queue", "open")] == "1"
    assert figures[("sla", "compliance_30d.first_response_pct")] == "50.0"  # ticket 2 met, ticket 1 missed
    assert figures[("team", "resources.0.billable_this_week")] == "2.5"
    assert figures[("trends", "opened.29")] == "0" and figures[("trends", "csat.0")] == ""
    assert all(len(r) == 3 for r in rows)


def test_table_fits_80_columns_and_shows_psa_text_literally(engine):
    small_dataset().store(engine)
    text = render(compute_report(engine, NOW, config()), "table")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b" not in text
    assert "[bold red]Boom" in text.replace("\n", "")  # markup shown, not applied
    assert "\u241b[31mred" in text  # ESC shown as its control picture
    for heading in (
        "QUEUE",
        "SLA",
        "SERVICE",
        "ESCALATIONS",
        "TEAM",
        "PIPELINE",
        "CONTRACTS",
        "PROJECTS",
        "TRENDS",
        "rule:",
    ):
        assert heading in text


def test_markdown_tables_are_well_formed(engine):
    small_dataset().store(engine)
    text = render(compute_report(engine, NOW, config()), "markdown")
    assert "## trends" in text and "Acme \\| Co" in text
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            cells = [len(row.replace("\\|", "").split("|")) for row in block]
            assert len(set(cells)) == 1, block
            assert set(block[1]) <= {"|", "-"}
            block = []


@pytest.fixture
def demo_db(sqlite_url):
    engine = open_database(sqlite_url)
    small_dataset().store(engine)
    engine.dispose()
    return sqlite_url


def test_cli_json_prints_every_key(run_cli, demo_db):
    result = run_cli("--db", demo_db, "--now", "2026-11-23T12:00:00Z", "kpi", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["as_of"] == "2026-11-23T12:00:00Z"
    assert "clients" not in report  # asked for by name only (a row per client)
    for section, keys in KEYS.items():
        if section != "clients":
            assert list(report[section]) == keys
    clients = run_cli("--db", demo_db, "--now", "2026-11-23T12:00:00Z", "kpi", "-s", "clients", "-f", "json")
    assert clients.returncode == 0, clients.stderr
    assert list(json.loads(clients.stdout)["clients"]) == KEYS["clients"]
    table = run_cli("--db", demo_db, "--now", "2026-11-23T12:00:00Z", "kpi", "-s", "clients")
    assert "CLIENTS" in table.stdout and max(len(line) for line in table.stdout.splitlines()) <= 80
    assert (
        report["queue"]["open"] == 1
        and report["projects"]["at_risk"]["Red"] == 0
        and report["projects"]["at_risk"]["Amber"] == 1
    )


def test_cli_formats_and_sections(run_cli, demo_db):
    base = ("--db", demo_db, "--now", "2026-11-23T12:00:00Z", "kpi")
    table = run_cli(*base, "--section", "team")
    assert table.returncode == 0, table.stderr
    assert "TEAM" in table.stdout and "QUEUE" not in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    rows = list(csv.reader(io.StringIO(run_cli(*base, "-f", "csv", "-s", "contracts").stdout)))
    assert {r[0] for r in rows[3:]} == {"contracts"} and ["contracts", "expiring_30d", "1"] in rows
    markdown = run_cli(*base, "--format", "markdown", "--section", "projects").stdout
    assert markdown.startswith("# mspkpi KPIs") and "| Amber | 1 |" in markdown


def test_cli_bad_section_is_one_line(run_cli, demo_db):
    result = run_cli("--db", demo_db, "kpi", "--section", "bogus")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "mspkpi: error: unknown section 'bogus'; choose one of: queue, sla, service, escalations, team, pipeline, contracts, projects, trends, clients"
    ]
