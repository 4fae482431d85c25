"""`mspkpi sync autotask` against the fake Autotask server: full, incremental, mapping, rejects.

The real CLI runs in a subprocess; the fake is a real HTTP server on 127.0.0.1
(tests/fakes/autotask_server.py). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fakes.autotask_server import AutotaskFake, make_ticket, populate
from sqlalchemy import func, select

from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine
from mspkpi_tui.store.records import parse_datetime

FAST = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.001"}


@pytest.fixture
def fake():
    with AutotaskFake() as server:
        populate(server)
        yield server


def sync_command(run_cli, url, fake):
    """`mspkpi sync autotask ...` against the fake server, with fast retries."""

    def run(*args: str, **env: str):
        return run_cli("--db", url, "sync", "autotask", *args, env={**fake.env(), **FAST, **env})

    return run


@pytest.fixture
def sync(run_cli, db_url, fake):
    return sync_command(run_cli, db_url, fake)


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


# Behaviours of the HTTP side (paging, zones, limits) do not depend on the database: SQLite only.
@pytest.fixture
def sqlite_sync(run_cli, sqlite_url, fake):
    return sync_command(run_cli, sqlite_url, fake)


@pytest.fixture
def sqlite_db(sqlite_url):
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def rows(engine, model, *where):
    with engine.connect() as conn:
        return conn.execute(select(model).where(*where)).mappings().all()


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def ticket(engine, source_id: int):
    found = rows(engine, models.Ticket, models.Ticket.source_id == str(source_id))
    return found[0] if found else None


def test_full_sync_maps_every_entity(sync, fake, db):
    done = sync()
    assert done.returncode == 0, done.stderr
    assert "autotask: stored" in done.stderr
    for model, entity in [
        (models.Ticket, "Tickets"),
        (models.TimeEntry, "TimeEntries"),
        (models.Company, "Companies"),
        (models.Resource, "Resources"),
        (models.Project, "Projects"),
        (models.Contract, "Contracts"),
        (models.Opportunity, "Opportunities"),
        (models.SurveyResult, "SurveyResults"),
        (models.BillingItem, "BillingItems"),
    ]:
        assert count(db, model) == len(fake.data[entity]), entity
    assert count(db, models.Queue) == 4

    critical = ticket(db, 3)  # priority 4 = Critical: most urgent although its id is the largest
    assert (critical["priority"], critical["priority_rank"]) == ("Critical", 1)
    assert (ticket(db, 4)["priority"], ticket(db, 4)["priority_rank"]) == ("High", 2)
    assert ticket(db, 3)["status"] == "Complete" and ticket(db, 3)["is_closed"] is True
    assert ticket(db, 1)["status"] == "In Progress" and ticket(db, 1)["is_closed"] is False
    assert ticket(db, 1)["url"] == fake.web_url() + "Mvc/ServiceDesk/TicketDetail.mvc?workspace=False&mode=0&TicketID=1"
    assert ticket(db, 1)["title"] == "Printer 1 on fire \x1b[31m[red]"  # untrusted text kept as it came
    escalated = ticket(db, 4)  # status 11 = Escalate
    assert escalated["escalation_level"] == 1 and escalated["escalated_at"] == escalated["last_activity_at"]
    assert ticket(db, 1)["escalated_at"] is None
    # all three time formats (.000Z, .00Z, none) read as the same instants
    styles = {fake.data["Tickets"][i]["createDate"][19:] for i in (1, 2, 3)}
    assert styles == {".000Z", ".00Z", "Z"}
    for i in (1, 2, 3):
        assert ticket(db, i)["created_at"] == parse_datetime(fake.data["Tickets"][i]["createDate"])

    tech = rows(db, models.Resource, models.Resource.source_id == "101")[0]
    assert (tech["name"], tech["weekly_hours"], tech["hourly_cost"]) == ("Tech1 Smith", 40.0, 41.0)
    task_entry = rows(db, models.TimeEntry, models.TimeEntry.source_id == str(10_000 + 12))[0]
    project = rows(db, models.Project, models.Project.id == task_entry["project_id"])[0]
    assert project["source_id"] == str(fake.data["Tasks"][task_entry_task(fake, 12)]["projectID"])
    # "Department>Project type": the department is a reference to the Departments entity.
    categories = {p["source_id"]: p["category"] for p in rows(db, models.Project)}
    assert categories["401"] == "General>Client" and categories["402"] == "Projects>Client"
    assert categories["403"] == "Client"  # no department: the missing level is left out
    entry = rows(db, models.TimeEntry, models.TimeEntry.source_id == "10004")[0]
    assert (entry["billable"], entry["hours"], entry["category"]) == (False, 0.75, "Onsite")
    won = rows(db, models.Opportunity, models.Opportunity.source_id == "504")[0]
    assert (won["status"], won["stage"], won["stage_rank"]) == ("won", "Qualify", 1)
    assert count(db, models.OpportunityStageChange) == len(fake.data["Opportunities"])
    assert rows(db, models.Contract, models.Contract.source_id == "301")[0]["type"] == "Recurring Service"

    with db.connect() as conn:
        run = conn.execute(select(models.SyncRun)).mappings().one()
    assert run["status"] == "ok" and run["mode"] == "incremental" and run["requests"] >= 15
    assert run["counts"]["tickets"] == len(fake.data["Tickets"])
    everything = json.dumps(run, default=str) + done.stdout + done.stderr
    assert fake.secret not in everything and fake.integration_code not in everything


def task_entry_task(fake, i: int) -> int:
    return fake.data["TimeEntries"][10_000 + i]["taskID"]


def test_every_query_walks_ids_within_the_page_limit_and_reads_the_usage(sqlite_sync, fake):
    fake.data["Tickets"].clear()
    fake._sorted_ids["Tickets"] = None
    for i in range(1, 1203):  # 2 full pages and a short one
        fake.put("Tickets", make_ticket(i, fake.now().replace(microsecond=0), status=1))
    fake.threshold["currentTimeframeRequestCount"] = 9_700  # 97% used by other integrations: slow down
    assert sqlite_sync().returncode == 0
    assert fake.server.requests_to("/thresholdinformation", "GET")
    queries = fake.server.requests_to("/tickets/query", "POST")
    bodies = [q.request.json() for q in queries]
    assert all(b["MaxRecords"] <= 500 for b in bodies)
    assert [b["filter"][0] for b in bodies] == [
        {"op": "gte", "field": "id", "value": 0},
        {"op": "gt", "field": "id", "value": 500},
        {"op": "gt", "field": "id", "value": 1000},
    ]
    assert [q.items for q in queries] == [500, 500, 202]


def test_incremental_fetches_only_what_changed(sync, fake, db):
    assert sync().returncode == 0
    fake.server.clear_log()
    fake.edit("Tickets", 1, status=11)  # In Progress -> Escalate
    fake.edit("Tickets", 2, priority=4, assignedResourceID=105)
    fake.edit("Tickets", 4, queueID=29683354)
    fake.put(
        "Tickets",
        {
            **make_ticket(999, fake.now().replace(microsecond=0)),
            "lastActivityDate": fake.data["Tickets"][1]["lastActivityDate"],
        },
    )
    fake.edit("TimeEntries", 10_001, hoursWorked=2.5)
    assert [e for e in fake.data["TimeEntries"].values() if e["ticketID"] == 8]
    fake.delete_ticket(8)  # with its time entries, as Autotask does
    fake.edit("Opportunities", 501, stage=3)
    fake.edit("Opportunities", 502, amount=99.0)  # same stage: keeps when it entered it
    before = rows(db, models.Opportunity, models.Opportunity.source_id == "502")[0]

    done = sync()
    assert done.returncode == 0, done.stderr
    tickets = fake.server.requests_to("/tickets/query", "POST")
    assert sum(q.items for q in tickets) == 4
    assert tickets[0].request.json()["filter"][1]["field"] == "lastActivityDate"
    assert sum(q.items for q in fake.server.requests_to("/timeentries/query", "POST")) == 1
    assert rows(db, models.TimeEntry, models.TimeEntry.source_id == "10001")[0]["hours"] == 2.5
    assert ticket(db, 999) is not None and ticket(db, 8) is None
    assert not rows(db, models.TimeEntry, models.TimeEntry.source_id.in_(["10007", "10067", "10127"]))

    events = {(e["field"], e["old_value"], e["new_value"]) for e in rows(db, models.TicketEvent)}
    assert events == {
        ("status", "In Progress", "Escalate"),
        ("escalation", "0", "1"),
        ("priority", "Low", "Critical"),
        ("assignee", "Tech3 Smith", "Tech5 Smith"),
        ("queue", "Level I Support", "Level II Support"),
    }
    escalated = ticket(db, 1)
    assert escalated["escalation_level"] == 1 and escalated["escalated_at"] is not None

    moved = rows(db, models.Opportunity, models.Opportunity.source_id == "501")[0]
    assert moved["stage"] == "Negotiate" and moved["stage_entered_at"] > before["stage_entered_at"]
    kept = rows(db, models.Opportunity, models.Opportunity.source_id == "502")[0]
    assert kept["amount"] == 99.0 and kept["stage_entered_at"] == before["stage_entered_at"]
    stages = [
        c["stage"]
        for c in rows(db, models.OpportunityStageChange, models.OpportunityStageChange.opportunity_id == moved["id"])
    ]
    assert sorted(stages) == ["Negotiate", "Propose"]

    fake.server.clear_log()  # a third pass with nothing new stores nothing new
    assert sync().returncode == 0
    assert sum(q.items for q in fake.server.requests_to("/tickets/query", "POST")) <= 4  # only the overlap
    assert len(rows(db, models.TicketEvent)) == 5


def test_unmappable_records_are_rejected_with_reason_and_the_sync_goes_on(sync, fake, db):
    base = fake.now().replace(microsecond=0)
    fake.put("Tickets", {**make_ticket(901, base), "status": 99})
    fake.put("Tickets", {**make_ticket(902, base), "createDate": None})
    fake.put("Tickets", {**make_ticket(903, base), "createDate": "yesterday"})
    fake.put("Tickets", {**make_ticket(904, base), "createDate": "1900-01-01T00:00:00Z"})
    done = sync()
    assert done.returncode == 1
    assert "status 99 is not in the Tickets status picklist" in done.stderr
    assert "missing required field 'created_at'" in done.stderr
    assert "not an ISO-8601 time: 'yesterday'" in done.stderr
    assert "placeholder date" in done.stderr
    assert count(db, models.Ticket) == len(fake.data["Tickets"]) - 4
    kept = rows(db, models.RejectedRecord)
    assert len(kept) == 4 and {r["entity"] for r in kept} == {"tickets"}
    assert json.loads(next(r["raw"] for r in kept if "99" in r["reason"]))["id"] == 901


def test_zone_is_rediscovered_once_after_a_401(sqlite_sync, fake, sqlite_db):
    db = sqlite_db
    fake.move_zone("zone7", after_requests=6)
    done = sqlite_sync()
    assert done.returncode == 0, done.stderr
    assert count(db, models.Ticket) == len(fake.data["Tickets"])
    assert any(e.status == 401 for e in fake.server.log)
    assert len(fake.server.requests_to("zoneinformation")) == 2
    assert ticket(db, 1)["url"].startswith(fake.web_url("zone7"))


def test_the_fake_behaves_like_autotask():
    with AutotaskFake() as fake:
        populate(fake, tickets=30)
        headers = {"ApiIntegrationCode": fake.integration_code, "UserName": fake.username, "Secret": fake.secret}
        api = fake.base_url() + "V1.0/Tickets/query"
        too_many = httpx.post(
            api, json={"MaxRecords": 501, "filter": [{"op": "exist", "field": "id"}]}, headers=headers
        )
        assert too_many.status_code == 500 and "between 1 and 500" in too_many.json()["errors"][0]
        assert (
            httpx.post(api, json={"MaxRecords": 5, "filter": [{"op": "gt", "field": "id", "value": 0}]}).status_code
            == 401
        )
        body = {
            "MaxRecords": 10,
            "filter": [
                {
                    "op": "or",
                    "items": [
                        {"op": "eq", "field": "status", "value": 5},
                        {"op": "in", "field": "priority", "value": [4]},
                    ],
                }
            ],
        }
        first = httpx.post(api, json=body, headers=headers).json()
        ids = [r["id"] for r in first["items"]]
        assert ids == sorted(ids) and len(ids) == 10
        nxt = first["pageDetails"]["nextPageUrl"]
        assert httpx.get(nxt, headers=headers).status_code == 405
        second = httpx.post(nxt, json=body, headers=headers).json()
        assert min(r["id"] for r in second["items"]) > max(ids)
        assert httpx.get(fake.zone_url + "atservicesrest/v1.0/zoneInformation?user=nobody@x").status_code == 500
        fields = httpx.get(fake.base_url() + "V1.0/Tickets/entityInformation/fields", headers=headers).json()["fields"]
        status = next(f for f in fields if f["name"] == "status")
        assert all(isinstance(v["value"], str) for v in status["picklistValues"])


def test_throttle_slows_down_as_the_tenant_uses_its_hourly_budget():
    from mspkpi_tui.sources.autotask.client import Throttle

    waits: list[float] = []
    throttle = Throttle(sleep=waits.append)
    pauses = []
    for used in (100, 6_000, 7_500, 9_000, 9_900):
        throttle.update({"externalRequestThreshold": 10_000, "currentTimeframeRequestCount": used})
        throttle.wait()
        pauses.append(throttle.pause())
    assert pauses == sorted(pauses) and pauses[0] == 0 and pauses[-1] >= 5
    assert waits == pauses[1:]
    throttle.update({"unexpected": True})
    assert throttle.pause() == 0


def test_a_record_naming_a_row_not_synced_yet_fetches_that_row(sync, fake, db):
    """A ticket created while we read time entries (here: one the ticket pass did not see)."""
    assert sync().returncode == 0
    old = fake.data["Tickets"][1]["lastActivityDate"]  # older than the cursor: the ticket pass skips it
    fake.put("Tickets", {**make_ticket(777, fake.now().replace(microsecond=0)), "lastActivityDate": old})
    entry = fake.edit("TimeEntries", 10_001, ticketID=777)
    fake.server.clear_log()
    done = sync()
    assert done.returncode == 0, done.stderr
    assert ticket(db, 777) is not None
    stored = rows(db, models.TimeEntry, models.TimeEntry.source_id == str(entry["id"]))[0]
    assert stored["ticket_id"] == ticket(db, 777)["id"]
    by_id = [q.request.json()["filter"][0] for q in fake.server.requests_to("/tickets/query", "POST")]
    assert {"op": "in", "field": "id", "value": [777]} in by_id


def test_a_permission_failure_is_shown_at_once_not_retried(sqlite_sync, fake):
    """Autotask reports a missing permission as HTTP 500 with the reason (issue 17)."""
    fake.forbidden["Opportunities"] = (
        "The logged in Resource does not have the adequate permissions to query Opportunity"
    )
    done = sqlite_sync()
    assert done.returncode == 1
    assert "HTTP 500 on POST" in done.stderr and "adequate permissions to query Opportunity" in done.stderr
    assert len(fake.server.requests_to("/opportunities/query", "POST")) == 1


# --- a full pass never deletes what the PSA still has (issue 10, section 7) ----------------


def company(engine, source_id: int):
    found = rows(engine, models.Company, models.Company.source_id == str(source_id))
    return found[0] if found else None


def test_the_zero_company_is_listed_and_survives_a_full_pass(sync, fake, db):
    assert fake.data["Companies"][0]["companyType"] == 5 and fake.data["Tickets"][10]["companyID"] == 0
    assert sync().returncode == 0
    first = fake.server.requests_to("/companies/query", "POST")[0].request.json()["filter"][0]
    assert first == {"op": "gte", "field": "id", "value": 0}
    full = sync("--full")
    assert full.returncode == 0, full.stderr
    assert "deleted" not in full.stderr
    zero = company(db, 0)
    assert zero is not None and zero["name"] == "Example MSP (owner)"
    assert ticket(db, 10)["company_id"] == zero["id"]


def test_a_full_pass_deletes_only_what_the_psa_lacks_by_id_and_nothing_points_at(sync, fake, db):
    fake.put("Companies", {**fake.data["Companies"][1], "id": 50, "companyName": "Gone Ltd"})
    assert sync().returncode == 0
    fake.unlisted = {("Companies", 3)}  # the listing misses it; a query by id finds it
    fake.delete("Companies", 50)  # really gone, and nothing points at it
    fake.delete("Companies", 5)  # gone from Autotask, yet stored tickets still name it
    fake.server.clear_log()

    full = sync("--full")

    assert full.returncode == 1  # the kept orphan is a warning
    assert "deleted" in full.stderr and "1 companies" in full.stderr
    assert "companies: kept 1 row(s) Autotask no longer has, because stored records still point at them (5)" in (
        full.stderr
    )
    assert company(db, 50) is None and company(db, 3) is not None and company(db, 5) is not None
    assert ticket(db, 4)["company_id"] == company(db, 5)["id"]  # companyID 1 + 4 % 6
    by_id = [q.request.json()["filter"] for q in fake.server.requests_to("/companies/query", "POST")]
    assert [{"op": "in", "field": "id", "value": [3, 5, 50]}] in by_id


def test_money_fields_come_from_service_units_and_billing_items(sync, fake, db):
    """Seats and the monthly value from the ContractServiceUnits row covering today (never the
    sum of periods), the category label; billing items with the recurring charge flagged."""
    assert sync().returncode == 0
    k1 = rows(db, models.Contract, models.Contract.source_id == "301")[0]
    # Contract 301: 10 + 1 + 12 seats in the current 30-day period, 60 a seat, made monthly.
    assert (k1["seats"], k1["monthly_value"]) == (23.0, round(23 * 60 * (365.25 / 12) / 30, 2))
    assert (k1["category"], rows(db, models.Contract, models.Contract.source_id == "302")[0]["category"]) == (
        "Managed services",
        "Block hours",
    )
    recurring = rows(db, models.BillingItem, models.BillingItem.source_id == "8001")[0]
    product = rows(db, models.BillingItem, models.BillingItem.source_id == "8101")[0]
    assert (recurring["recurring"], recurring["item_type"], recurring["extended_price"]) == (
        True,
        "Recurring Contract Service",
        600.0,
    )
    assert (product["recurring"], product["item_type"], product["our_cost"], product["quantity"]) == (
        False,
        "Product",
        700.0,
        2.0,
    )
    assert product["item_date"] == parse_datetime(fake.data["BillingItems"][8101]["itemDate"]).date()
