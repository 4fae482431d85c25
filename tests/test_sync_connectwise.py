"""`mspkpi sync connectwise` against a fake ConnectWise server on 127.0.0.1.

Every sync here is the real CLI in a subprocess; the data lands in SQLite and in
PostgreSQL (the `db_url` fixture). The fake caps pages at 7 records so the small
data set spans several forward-only pages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from fakes.connectwise_server import CODEBASE, PRIVATE_KEY, ConnectWiseFake, cw_time, parse_conditions
from sqlalchemy import select

from mspkpi_tui.config import Config, config_from_dict
from mspkpi_tui.errors import SyncError
from mspkpi_tui.kpi.clients import client_figures
from mspkpi_tui.sources.connectwise.client import read_cw_settings
from mspkpi_tui.sources.connectwise.mapping import web_root
from mspkpi_tui.sources.connectwise.sla import PriorityHours, due_times, parse_sla_status
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.ingest import table_of
from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.models import SyncCursor as SyncCursorRow
from mspkpi_tui.store.models import SyncRun as SyncRunRow

BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
PAGE = 7
TICKETS = list(range(1001, 1031))
TIME_ENTRIES = list(range(1, 41))
SOURCE = "connectwise"


def ref(id_, name=None, **more):
    return {"id": id_, **({"name": name} if name is not None else {}), **more}


def populate(fake: ConnectWiseFake) -> None:
    """A small MSP: 3 companies, 4 members, 2 boards, 30 tickets, 40 time entries, ..."""
    at = BASE - timedelta(days=1)
    put = lambda endpoint, record, when=at: fake.put(endpoint, record, at=when)  # noqa: E731
    for i, name in enumerate(["Alpine Dental", "Birch Legal", "Cedar Foods"], start=1):
        put("company/companies", {"id": i, "identifier": f"C{i}", "name": name, "deletedFlag": False})
    members = [
        ("ann", "Ann", "Archer", 8, False),
        ("bob", "Bob", "Baker", 6, False),
        ("cy", "Cy", "Cole", 8, False),
        ("dee", "Dee", "Dunn", 8, True),
    ]
    for i, (ident, first, last, daily, inactive) in enumerate(members, start=1):
        put(
            "system/members",
            {
                "id": i,
                "identifier": ident,
                "firstName": first,
                "lastName": last,
                "dailyCapacity": daily,
                "inactiveFlag": inactive,
                "primaryEmail": f"{ident}@msp.example",
                "hourlyCost": 40 + i,
            },
        )
    put("service/boards", {"id": 1, "name": "Service Desk"})
    put("service/boards", {"id": 2, "name": "Projects Desk"})
    statuses = {
        1: [
            (11, "New", False, "NotResponded"),
            (12, "In Progress", False, "Responded"),
            (13, "Waiting Customer", False, "NoEscalation"),
            (14, "Escalate", False, "Responded"),
            (15, ">Closed", True, "Resolved"),
        ],
        2: [(21, "New", False, "NotResponded"), (22, "Completed", True, "Resolved")],
    }
    for board, rows in statuses.items():
        for sid, name, closed, esc in rows:
            put(
                f"service/boards/{board}/statuses",
                {"id": sid, "name": name, "closedStatus": closed, "escalationStatus": esc, "board": ref(board)},
            )
    # Ids are not urgency order: sortOrder is.
    for pid, name, sort in [
        (7, "Priority 1 - Critical", 1),
        (9, "Priority 2 - High", 2),
        (6, "Priority 3 - Medium", 5),
        (8, "Priority 4 - Low", 10),
    ]:
        put("service/priorities", {"id": pid, "name": name, "sortOrder": sort})
    put("service/SLAs", {"id": 1, "name": "24x7", "basedOn": "AllHours"})
    put("service/SLAs", {"id": 2, "name": "Business hours", "basedOn": "MSPCalendar"})
    for n, (pid, respond, resolve) in enumerate([(7, 1, 4), (9, 2, 8), (6, 4, 24), (8, 8, 72)], start=1):
        put(
            "service/SLAs/1/priorities",
            {"id": n, "priority": ref(pid), "respondHours": respond, "planWithin": 0, "resolutionHours": resolve},
        )
        put(
            "service/SLAs/2/priorities",
            {"id": 10 + n, "priority": ref(pid), "respondHours": respond, "planWithin": 0, "resolutionHours": resolve},
        )
    for i in range(1, 4):
        put(
            "project/projects",
            {
                "id": i,
                "name": f"Project {i}",
                "company": ref(i, identifier=f"C{i}"),
                "status": ref(1, "Open" if i < 3 else "Closed"),
                "closedFlag": i == 3,
                "type": ref(1, "Onboarding"),
                "estimatedStart": "2026-01-01T00:00:00Z",
                "estimatedEnd": "2026-03-31T00:00:00Z",
                "budgetHours": 40.0 * i,
                "actualHours": 30.0 * i,
                "percentComplete": 25.0 * i,
            },
        )
    priorities = [
        (7, "Priority 1 - Critical"),
        (9, "Priority 2 - High"),
        (6, "Priority 3 - Medium"),
        (8, "Priority 4 - Low"),
    ]
    for n, tid in enumerate(TICKETS):
        entered = BASE + timedelta(hours=n)
        board = 2 if n % 5 == 4 else 1
        status = (
            (22, "Completed") if board == 2 else [(11, "New"), (12, "In Progress"), (13, "Waiting Customer")][n % 3]
        )
        pid, pname = priorities[n % 4]
        member = 1 + n % 3
        ticket = {
            "id": tid,
            "summary": f"Ticket {tid}: printer [b]jam[/b]",
            "recordType": "ServiceTicket",
            "board": ref(board, "Service Desk" if board == 1 else "Projects Desk"),
            "status": ref(status[0], status[1]),
            "priority": ref(pid, pname, sort=n % 4 + 1),
            "type": ref(1, "Incident"),
            "subType": ref(2, "Hardware"),
            "owner": ref(
                member, f"{members[member - 1][1]} {members[member - 1][2]}", identifier=members[member - 1][0]
            ),
            "company": ref(1 + n % 3, identifier=f"C{1 + n % 3}"),
            "sla": ref(1 if n % 2 else 2, "24x7" if n % 2 else "Business hours"),
            "slaStatus": "Waiting",
            "dateResponded": cw_time(entered + timedelta(minutes=30)) if n % 3 else None,
            "dateResolved": None,
            "closedDate": cw_time(entered + timedelta(hours=5)) if board == 2 else None,
            "closedFlag": board == 2,
            "_info": {"dateEntered": cw_time(entered)},
        }
        if n % 4:  # the requester; real ConnectWise leaves contact out when there is none
            ticket["contact"] = ref(40 + n % 3, ["Pat Price", "Quinn Quill", "Ray Rowe"][n % 3])
        put("service/tickets", ticket, entered + timedelta(hours=1))
        # the notes: the customer's description first, then the technician's internal analysis
        notes = f"service/tickets/{tid}/notes"
        described = {
            "id": 1,
            "ticketId": tid,
            "text": f"Printer {n} jams.\nSince Monday.",
            "detailDescriptionFlag": True,
        }
        described |= {"contact": ref(40 + n % 3, "Pat Price"), "dateCreated": cw_time(entered)}
        put(notes, described, entered)
        if n % 2:
            analysis = {"id": 2, "ticketId": tid, "text": "Fuser worn \x1b[2J out.", "internalAnalysisFlag": True}
            analysis |= {
                "member": ref(member, identifier=members[member - 1][0], name=" ".join(members[member - 1][1:3]))
            }
            put(notes, analysis | {"dateCreated": cw_time(entered + timedelta(minutes=50))}, entered)
    # SLA text cases (see test_full_sync): exact, day/month order, garbage, wrong weekday.
    fake.data["service/tickets"][1000 + 1]["slaStatus"] = "Respond by Mon 01/05 4:00 PM UTC-08"  # SLA 2, business hours
    fake.data["service/tickets"][1000 + 2]["slaStatus"] = "Resolve by Tue 06/01 09:30 UTC+01:00"  # SLA 1, 24x7
    fake.data["service/tickets"][1000 + 3]["slaStatus"] = "Respond by \x1b[31msoon\x1b[0m"
    fake.data["service/tickets"][1000 + 5]["slaStatus"] = "Respond by Tue 01/05 4:00 PM UTC-08"  # 01/05 is a Monday
    # A closed board status wins over the ticket's own closedFlag.
    fake.data["service/tickets"][1007].update(
        status=ref(15, ">Closed"), closedFlag=False, closedDate=cw_time(BASE + timedelta(hours=9))
    )
    fake.data["service/tickets"][1008].update(status=ref(14, "Escalate"))
    # Real ConnectWise leaves out what is not set: an unassigned ticket has no owner key at all.
    del fake.data["service/tickets"][1013]["owner"]
    for key in ("sla", "type", "subType", "slaStatus"):
        del fake.data["service/tickets"][1020][key]
    sheets = [
        ("Open", 1),
        ("PendingApproval", 2),
        ("ApprovedByTierTwo", 3),
        ("Rejected", 4),
        ("ErrorsCorrected", 1),
        ("ApprovedByTierOne", 2),
        ("Open", 3),
        ("Open", 2),
    ]
    for i, (state, member) in enumerate(sheets, start=1):
        start = BASE - timedelta(days=7 * (1 + i % 2))
        put(
            "time/sheets",
            {
                "id": i,
                "member": ref(member, identifier=members[member - 1][0]),
                "year": 2026,
                "period": i,
                "dateStart": cw_time(start),
                "dateEnd": cw_time(start + timedelta(days=6)),
                "status": state,
                "hours": 38.5,
                "deadline": cw_time(start + timedelta(days=8)),
            },
        )
    options = ["Billable", "DoNotBill", "NoCharge", "NoDefault"]
    for i in TIME_ENTRIES:
        kind = ["ServiceTicket", "ServiceTicket", "ProjectTicket", "ChargeCode", "Activity"][i % 5]
        entry = {
            "id": i,
            "member": ref(1 + i % 4, identifier=members[i % 4][0]),
            "chargeToType": kind,
            "chargeToId": TICKETS[i % 28] if kind == "ServiceTicket" else 500 + i,
            "project": ref(1 + i % 3) if kind == "ProjectTicket" else None,
            "timeStart": cw_time(BASE + timedelta(hours=i)),
            "timeEnd": cw_time(BASE + timedelta(hours=i, minutes=45)),
            "actualHours": 0.75,
            "billableOption": options[i % 4],
            "timeSheet": ref(1 + i % 8),
            "workType": ref(1, "Remote Support") if kind != "ChargeCode" else ref(2, "Admin"),
            "status": "Open",
            # the ticket's company on ticket time, else the project's (project n belongs to company n)
            "company": ref(1 + (i % 28) % 3 if kind == "ServiceTicket" else 1 + i % 3),
            "hourlyRate": 120.0,
        }
        if i == 7:
            del entry["timeSheet"], entry["workType"]  # not on a time sheet yet
        if i == 8:
            entry["agreement"] = ref(1)  # applied to an agreement: its monthly value is the revenue
        if i == 12:
            entry["hoursBilled"] = 1.0  # billed for more than was worked
        put("time/entries", entry)
    for sid, name, won, lost in [(1, "Open", False, False), (2, "Won", True, False), (3, "Lost - Price", False, True)]:
        put(
            "sales/opportunities/statuses",
            {"id": sid, "name": name, "wonFlag": won, "lostFlag": lost, "closedFlag": won or lost},
        )
    for sid, name, seq in [(1, "Prospect", 1), (2, "Quote", 3), (3, "Negotiation", 2)]:
        put("sales/stages", {"id": sid, "name": name, "sequenceNumber": seq})
    for i in range(1, 7):
        stage = [(1, "Prospect"), (2, "Quote"), (3, "Negotiation")][i % 3]
        status = [(1, "Open"), (1, "Open"), (1, "Open"), (1, "Open"), (2, "Won"), (3, "Lost - Price")][i - 1]
        put(
            "sales/opportunities",
            {
                "id": i,
                "name": f"Deal {i}",
                "company": ref(1 + i % 3),
                "primarySalesRep": ref(1 + i % 2),
                "stage": ref(*stage),
                "status": ref(*status),
                "probability": ref(3, "50%"),
                "expectedCloseDate": "2026-02-27T00:00:00Z",
                "closedDate": "2026-01-04T00:00:00Z" if i >= 5 else None,
                "pipelineChangeDate": cw_time(BASE - timedelta(days=10 * i)),
                "type": ref(1, "Managed Services"),
                "_info": {"dateEntered": cw_time(BASE - timedelta(days=60))},
            },
        )
        fake.objects[f"sales/opportunities/{i}/forecast"] = {
            "id": i,
            "forecastItems": [
                {"id": 1, "revenue": 1000.0 * i, "includedFlag": True},
                {"id": 2, "revenue": 99.0, "includedFlag": False},
            ],
        }
    agreements = [
        (1, "Active", False, "2026-03-31T00:00:00Z"),
        (2, "Active", True, "2030-01-01T00:00:00Z"),
        (3, "Cancelled", False, "2026-06-30T00:00:00Z"),
        (4, "Expired", False, "2025-12-31T00:00:00Z"),
    ]
    for aid, state, no_end, end in agreements:
        put(
            "finance/agreements",
            {
                "id": aid,
                "name": f"Agreement {aid}",
                "type": ref(1, "Managed IT"),
                "company": ref(1 + aid % 3),
                "billingCycle": ref(1, "Monthly"),
                "startDate": "2025-01-01T00:00:00Z",
                "endDate": end,
                "noEndingDateFlag": no_end,
                "agreementStatus": state,
                "billAmount": 1500.0 + aid,
            },
        )
    # Agreement 2 bills quarterly: its 20 seats at 30 a seat and 300 a quarter are 300 a month.
    fake.edit("finance/agreements", 2, billingCycle=ref(2, "Quarterly"), billAmount=300.0)
    for aid, (agreement, quantity, cancelled) in enumerate(
        [(2, 12, None), (2, 8, None), (2, 5, "2025-06-01T00:00:00Z")], 1
    ):
        put(
            "finance/agreements/2/additions",
            {"id": aid, "agreementId": agreement, "quantity": quantity, "unitPrice": 30.0, "cancelledDate": cancelled},
        )
    for iid, (kind, total, agreement) in enumerate([("Agreement", 1501.0, 1), ("Standard", 240.0, None)], 1):
        put(
            "finance/invoices",
            {
                "id": iid,
                "invoiceNumber": f"INV-{iid}",
                "type": kind,
                "company": ref(2),
                "agreement": ref(agreement) if agreement else None,
                "date": "2026-01-31T00:00:00Z",
                "total": total,
                "serviceTotal": 90.0 if kind == "Standard" else None,  # time billed: the time charges count it
            },
        )
    put("service/surveys", {"id": 4, "name": "CSAT"})
    # The NPS question is a Selection: an answer is the index of its option, here listed 10 first.
    put("service/surveys/4/questions", {"id": 30, "sequenceNumber": 1, "type": "TextBox", "question": "Comments?"})
    captions = ["10 - Extremely likely", *map(str, range(9, 0, -1)), "0 - Not at all likely"]
    put(
        "service/surveys/4/questions",
        {
            "id": 31,
            "sequenceNumber": 2,
            "type": "Selection",
            "question": "How likely are you to  recommend us? (0-10)",  # spacing and case differ from the config
            "options": [{"caption": c, "points": 0, "includeFlag": True} for c in captions],
        },
    )
    for i in range(1, 6):
        answers = {1: "0", 2: "1", 3: "7", 4: "0", 5: None}[i]  # 10, 9, 3, 10; result 5 skipped it
        put(
            "service/surveys/4/results",
            {
                "id": i,
                "surveyId": 4,
                "ticketId": TICKETS[i],
                "totalPoints": i,
                "company": ref(1 + i % 3),
                "footerResponse": "Slow to answer" if i == 4 else None,
                "results": [{"questionId": 30, "answer": "fine"}]
                + ([{"questionId": 31, "answer": answers}] if answers is not None else []),
                "_info": {"dateEntered": cw_time(BASE + timedelta(days=1, hours=i))},
            },
        )


@pytest.fixture
def fake():
    with ConnectWiseFake(max_page_size=PAGE) as server:
        populate(server)
        yield server


def snapshot(url: str) -> dict[str, list[dict]]:
    """Every synced row, with local ids replaced by source ids, so two databases compare."""
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            source_ids = {
                name: dict(conn.execute(select(table_of(name).c.id, table_of(name).c.source_id)).all())
                for name in ENTITY_TABLES
            }
            by_table = {table_of(name).name: name for name in ENTITY_TABLES}
            result = {}
            for name in ENTITY_TABLES:
                table = table_of(name)
                refs = {fk.parent.name: by_table[fk.column.table.name] for fk in table.foreign_keys}
                rows = []
                for row in conn.execute(select(table).where(table.c.source == SOURCE)).mappings():
                    # The ticket link names the fake's port, which differs from server to server.
                    clean = {k: v for k, v in row.items() if k not in ("id", "url")}
                    for column, target in refs.items():
                        clean[column] = source_ids[target].get(clean[column]) if clean[column] is not None else None
                    rows.append(clean)
                result[name] = sorted(rows, key=lambda r: r["source_id"])
            return result
    finally:
        engine.dispose()


def rows(url: str, entity: str) -> dict[str, dict]:
    return {r["source_id"]: r for r in snapshot(url)[entity]}


def ticket_url(url: str, source_id: str) -> str | None:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            tickets = table_of("tickets")
            return conn.execute(
                select(tickets.c.url).where(tickets.c.source == SOURCE, tickets.c.source_id == source_id)
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_web_link_is_the_one_the_connectwise_web_ui_builds():
    assert web_root("https://api-na.myconnectwise.net", "v4_6_release/", "My Co") == (
        "https://na.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rspx"
        "?companyName=My%20Co&service_recid="
    )
    assert web_root("https://cw.msp.example", None, "msp").startswith("https://cw.msp.example/v4_6_release/")


def sync(run_cli, url: str, fake: ConnectWiseFake, *args: str, **env: str):
    return run_cli("--db", url, "sync", "connectwise", *args, env=fake.env(**env))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """A fault-free full sync of the standard data into its own SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cw-reference') / 'ref.db'}"
    with ConnectWiseFake(max_page_size=PAGE) as server:
        populate(server)
        home = tmp_path_factory.mktemp("cw-home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local"))
        done = subprocess.run(
            [sys.executable, "-m", "mspkpi_tui", "--db", url, "sync", "connectwise"],
            env={**env, **server.env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    return snapshot(url)


# --- full sync -------------------------------------------------------------------------


def test_full_sync_lands_every_entity_with_the_right_values(run_cli, db_url, fake):
    # Two bad records among the good ones: they are rejected, the sync goes on.
    fake.put(
        "service/tickets",
        {**fake.data["service/tickets"][1030], "id": 1031, "_info": {"dateEntered": "last tuesday"}},
        at=BASE,
    )
    fake.put("time/entries", {**fake.data["time/entries"][1], "id": 99, "chargeToType": "Bogus"}, at=BASE)

    done = sync(run_cli, db_url, fake)

    assert done.returncode == 1, done.stderr  # rejects make the exit status 1
    assert "rejected tickets at GET /v2025_1/apis/3.0/service/tickets" in done.stderr and "id=1031" in done.stderr
    assert "created_at is not an ISO-8601 time: 'last tuesday'" in done.stderr
    assert "rejected time_entries" in done.stderr and "unknown chargeToType 'Bogus'" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.server.requests_to("/login/companyinfo/contoso"), "the codebase is discovered when not configured"

    companies, members = rows(db_url, "companies"), rows(db_url, "resources")
    assert sorted(c["name"] for c in companies.values()) == ["Alpine Dental", "Birch Legal", "Cedar Foods"]
    assert members["2"]["name"] == "Bob Baker" and members["2"]["weekly_hours"] == 30.0 and members["2"]["active"]
    assert members["4"]["active"] is False and members["1"]["hourly_cost"] == 41.0
    assert {q["name"] for q in rows(db_url, "queues").values()} == {"Service Desk", "Projects Desk"}

    tickets = rows(db_url, "tickets")
    assert len(tickets) == 30 and "1031" not in tickets
    t1001, t1002 = tickets["1001"], tickets["1002"]
    assert t1001["title"] == "Ticket 1001: printer [b]jam[/b]" and t1001["number"] == "1001"
    assert t1001["queue_id"] == "1" and t1001["company_id"] == "1" and t1001["assigned_resource_id"] == "1"
    assert ticket_url(db_url, "1001") == (
        f"{fake.site_url}/{CODEBASE}services/system_io/Service/fv_sr100_request.rspx?companyName=contoso&service_recid=1001"
    )
    assert t1001["created_at"] == BASE and t1001["sla_name"] == "Business hours"
    # slaStatus "Respond by Mon 01/05 4:00 PM UTC-08" -> 2026-01-06 00:00 UTC; a business-hours SLA gets no estimate.
    assert t1001["first_response_due"] == datetime(2026, 1, 6, 0, 0, tzinfo=UTC)
    assert t1001["resolution_due"] is None
    # 24x7 SLA: respond-by from the priority hours (High: 2 h), resolve-by from day/month text.
    assert t1002["priority"] == "Priority 2 - High" and t1002["priority_rank"] == 2
    assert t1002["first_response_due"] == BASE + timedelta(hours=1 + 2)
    assert t1002["resolution_due"] == datetime(2026, 1, 6, 8, 30, tzinfo=UTC)
    assert t1002["first_response_at"] == BASE + timedelta(hours=1, minutes=30)
    # Unreadable text or a weekday that does not match: no due time from it, and no reject.
    assert tickets["1003"]["first_response_due"] is None and tickets["1003"]["resolution_due"] is None
    assert tickets["1005"]["first_response_due"] is None  # "Tue 01/05": 5 January and 1 May are not Tuesdays
    # "Waiting" on a 24x7 SLA: both from the priority hours (Low: 8 h and 72 h).
    assert tickets["1004"]["first_response_due"] == BASE + timedelta(hours=3 + 8)
    assert tickets["1004"]["resolution_due"] == BASE + timedelta(hours=3 + 72)
    assert {t["priority_rank"] for t in tickets.values() if t["priority"] == "Priority 1 - Critical"} == {1}
    assert {t["priority_rank"] for t in tickets.values() if t["priority"] == "Priority 4 - Low"} == {4}
    # Closed flags come from the board's statuses.
    assert tickets["1007"]["is_closed"] is True and tickets["1007"]["status"] == ">Closed"
    assert tickets["1005"]["is_closed"] is True and tickets["1005"]["status"] == "Completed"
    assert tickets["1001"]["is_closed"] is False
    assert sum(t["is_closed"] for t in tickets.values()) == 7
    assert tickets["1008"]["escalation_level"] == 1 and tickets["1008"]["escalated_at"] == BASE + timedelta(hours=8)
    assert tickets["1009"]["escalated_at"] is None
    # Keys ConnectWise leaves out (no owner, no SLA, no type) map to nothing, not to a reject.
    assert tickets["1013"]["assigned_resource_id"] is None and tickets["1013"]["company_id"] == "1"
    assert tickets["1020"]["sla_name"] is None and tickets["1020"]["issue_type"] is None

    sheets = rows(db_url, "timesheets")
    assert {k: v["status"] for k, v in sheets.items()} == {
        "1": "Open",
        "2": "Submitted",
        "3": "Approved",
        "4": "Rejected",
        "5": "Errors corrected",
        "6": "Approved",
        "7": "Open",
        "8": "Open",
    }
    assert sheets["1"]["resource_id"] == "1" and sheets["1"]["deadline"] == BASE - timedelta(days=14) + timedelta(
        days=8
    )

    entries = rows(db_url, "time_entries")
    assert len(entries) == 40 and "99" not in entries
    billable = sorted(int(k) for k, e in entries.items() if e["billable"])
    assert billable == [i for i in TIME_ENTRIES if i % 4 == 0]
    customer = {k for k, e in entries.items() if e["ticket_id"] or e["project_id"]}
    assert customer == {str(i) for i in TIME_ENTRIES if i % 5 in (0, 1, 2)}
    assert (
        entries["1"]["ticket_id"] == str(TICKETS[1])
        and entries["2"]["project_id"] == "3"
        and entries["2"]["ticket_id"] is None
    )
    assert (
        entries["3"]["category"] == "Admin" and entries["3"]["ticket_id"] is None and entries["3"]["project_id"] is None
    )
    assert entries["5"]["timesheet_id"] == "6" and entries["5"]["hours"] == 0.75
    assert entries["7"]["timesheet_id"] is None and entries["7"]["category"] is None

    # A project's category is "Board>Type", as the CW widgets label it (kpi-definitions.md).
    assert {p["category"] for p in rows(db_url, "projects").values()} == {"Professional Services>Onboarding"}

    opps = rows(db_url, "opportunities")
    assert opps["3"]["stage"] == "Prospect" and opps["3"]["stage_rank"] == 1
    assert opps["1"]["stage"] == "Quote" and opps["1"]["stage_rank"] == 3 and opps["2"]["stage_rank"] == 2
    assert opps["4"]["amount"] == 4000.0 and opps["4"]["probability"] == 50.0
    assert opps["5"]["status"] == "won" and opps["6"]["status"] == "lost" and opps["6"]["loss_reason"] == "Lost - Price"
    assert opps["1"]["status"] == "open"
    # Days in stage come from pipelineChangeDate.
    assert opps["2"]["stage_entered_at"] == BASE - timedelta(days=20)
    assert (BASE - opps["2"]["stage_entered_at"]).days == 20
    changes = rows(db_url, "opportunity_stage_changes")
    assert len(changes) == 6 and {c["opportunity_id"] for c in changes.values()} == {str(i) for i in range(1, 7)}

    contracts = rows(db_url, "contracts")
    assert contracts["1"]["end_date"].isoformat() == "2026-03-31" and contracts["1"]["status"] == "Active"
    assert contracts["2"]["end_date"] is None and contracts["3"]["status"] == "Cancelled"
    assert contracts["1"]["period_type"] == "Monthly" and contracts["1"]["monthly_value"] == 1501.0
    assert contracts["1"]["seats"] is None and contracts["1"]["category"] == "Managed IT"
    assert (contracts["2"]["seats"], contracts["2"]["monthly_value"]) == (20.0, (300.0 + 20 * 30.0) / 3)
    invoices = rows(db_url, "billing_items")
    assert (invoices["1"]["recurring"], invoices["1"]["contract_id"], invoices["1"]["extended_price"]) == (
        True,
        "1",
        1501.0,
    )
    assert (invoices["2"]["recurring"], invoices["2"]["item_type"], invoices["2"]["item_date"].isoformat()) == (
        False,
        "Standard",
        "2026-01-31",
    )
    projects = rows(db_url, "projects")
    assert (
        projects["3"]["is_closed"] is True
        and projects["2"]["estimated_hours"] == 80.0
        and projects["2"]["actual_hours"] == 60.0
    )
    assert projects["1"]["percent_complete"] == 25.0 and projects["1"]["end_date"].isoformat() == "2026-03-31"
    surveys = rows(db_url, "survey_results")
    assert {k: v["rating"] for k, v in surveys.items()} == {str(i): float(i) for i in range(1, 6)}
    assert surveys["1"]["ticket_id"] == str(TICKETS[1])

    # No credential reaches the output or the database.
    for secret in ("Priv-Key/456!", "PubKey123"):
        assert secret not in done.stdout + done.stderr
    assert not any("Priv-Key" in str(v) for rows_ in snapshot(db_url).values() for r in rows_ for v in r.values())


def test_nps_comes_from_the_configured_survey_question(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    surveys = rows(db_url, "survey_results")
    # Selection answers are option indexes: "0" is the first caption, "10 - Extremely likely".
    assert {k: v["recommend_score"] for k, v in surveys.items()} == {
        "1": 10.0,
        "2": 9.0,
        "3": 3.0,
        "4": 10.0,
        "5": None,
    }
    assert surveys["4"]["comment"] == "Slow to answer" and surveys["1"]["comment"] is None
    assert {k: v["rating"] for k, v in surveys.items()} == {str(i): float(i) for i in range(1, 6)}  # CSAT as before

    config = config_from_dict({"timezone": "UTC"})
    engine = open_database(db_url)
    try:
        figures = client_figures(engine, BASE + timedelta(days=3), config)
    finally:
        engine.dispose()
    by_name = {r.company: r for r in figures.companies}
    # Results go to companies 1 + id % 3: Birch Legal 10 and 10, Cedar Foods 9 (and one
    # without an answer), Alpine Dental 3.
    assert (by_name["Birch Legal"].nps, by_name["Birch Legal"].nps_responses) == (100.0, 2)
    assert (by_name["Cedar Foods"].nps, by_name["Cedar Foods"].nps_responses) == (100.0, 1)
    assert (by_name["Cedar Foods"].csat_responses, by_name["Alpine Dental"].nps) == (2, -100.0)
    assert (figures.totals["nps"], figures.totals["nps_responses"]) == (50.0, 4)  # (3 - 1) / 4

    # Another question configured (by its id): the recommend answers follow it.
    done = sync(run_cli, db_url, fake, "--full", MSPKPI_CLIENTS__NPS_QUESTION="30")
    assert done.returncode == 0, done.stderr
    assert {v["recommend_score"] for v in rows(db_url, "survey_results").values()} == {None}  # "fine" is no score


def test_time_charges_and_member_costs_feed_revenue_and_labour(run_cli, db_url, fake):
    # A member without an hourly cost logs 0.75 h on Alpine Dental's ticket 1001.
    fake.put("system/members", {"id": 5, "identifier": "eve", "firstName": "Eve", "lastName": "Eng"}, at=BASE)
    entry = {**fake.data["time/entries"][5], "id": 41, "member": ref(5, identifier="eve"), "chargeToId": 1001}
    fake.put("time/entries", {**entry, "company": ref(1), "billableOption": "DoNotBill"}, at=BASE)
    assert sync(run_cli, db_url, fake).returncode == 0

    items = rows(db_url, "billing_items")
    charges = {k: v for k, v in items.items() if k.startswith("time:")}
    # Billable entries are every 4th; entry 8 is on an agreement: 9 charges of 0.75 h (1 h for 12) at 120.
    assert sorted(charges) == sorted(f"time:{i}" for i in range(4, 41, 4) if i != 8)
    assert (charges["time:12"]["quantity"], charges["time:12"]["extended_price"]) == (1.0, 120.0)
    assert (charges["time:16"]["extended_price"], charges["time:16"]["item_type"]) == (90.0, "Time")
    assert charges["time:16"]["ticket_id"] == str(TICKETS[16]) and charges["time:4"]["ticket_id"] is None
    assert (
        charges["time:16"]["item_date"].isoformat() == "2026-01-06"
    )  # 08:00 + 16 h and not charges["time:16"]["recurring"]
    assert items["2"]["extended_price"] == 150.0, "the Standard invoice without its 90 of time"
    assert items["1"]["extended_price"] == 1501.0 and items["1"]["recurring"], "an agreement invoice as it is"
    assert rows(db_url, "resources")["5"]["hourly_cost"] is None

    engine = open_database(db_url)
    try:
        figures = client_figures(engine, datetime(2026, 2, 1, 12, tzinfo=UTC), config_from_dict({"timezone": "UTC"}))
    finally:
        engine.dispose()
    by_name = {r.company: r for r in figures.companies}
    # time charges 120 + 90 + 90; 90 x 3 + the invoice's 150; 90 x 3
    assert by_name["Alpine Dental"].billed_revenue == 300.0
    assert by_name["Birch Legal"].billed_revenue == 420.0
    assert by_name["Cedar Foods"].billed_revenue == 270.0
    assert by_name["Birch Legal"].labour_cost is not None and by_name["Birch Legal"].margin is not None
    assert by_name["Alpine Dental"].labour_cost is None and by_name["Alpine Dental"].margin is None
    assert by_name["Alpine Dental"].no_data["labour_cost"].startswith("0.75 h by technicians without an hourly cost")

    # Entry 16 made non-billable: its charge goes on the next (incremental) pass.
    fake.edit("time/entries", 16, billableOption="NoCharge")
    assert sync(run_cli, db_url, fake).returncode == 0
    assert "time:16" not in rows(db_url, "billing_items") and "time:20" in rows(db_url, "billing_items")
    # A full pass keeps the charges it saw beside the invoices (one entity, two lists).
    assert sync(run_cli, db_url, fake, "--full").returncode == 0
    assert sorted(rows(db_url, "billing_items")) == sorted(["1", "2", *(k for k in charges if k != "time:16")])


# --- incremental -----------------------------------------------------------------------


def test_incremental_fetches_only_changes_and_conditions_survive_paging(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    before = rows(db_url, "tickets")

    edited = TICKETS[:9]  # more than a page of 7
    for tid in edited:
        fake.edit("service/tickets", tid, summary=f"edited {tid}")
    fake.edit(
        "service/tickets",
        1001,
        status=ref(14, "Escalate"),
        priority=ref(8, "Priority 4 - Low"),
        owner=ref(3, "Cy Cole"),
    )
    fake.edit("service/tickets", 1002, board=ref(2, "Projects Desk"), status=ref(21, "New"))
    fake.edit("time/entries", 4, billableOption="Billable")
    # ConnectWise moved to a new release; the configured codebase now answers 404.
    fake.change_codebase("v2025_2/")
    fake.server.clear_log()

    done = sync(run_cli, db_url, fake, MSPKPI_CW_CODEBASE=CODEBASE)

    assert done.returncode == 0, done.stderr
    assert fake.server.requests_to("/login/companyinfo/"), "a 404 makes the client look the codebase up again"
    pages = fake.list_requests("service/tickets")
    assert len(pages) == 2 and all(p.path.startswith("/v2025_2/") for p in pages)
    for page in pages:  # the conditions are kept on every page, UTC with a literal Z
        condition = page.param("conditions")
        assert condition and condition.startswith("lastUpdated>[") and condition.endswith("Z]"), condition
        assert page.headers["pagination-type"] == "forward-only" and page.param("pageSize") == "1000"
    assert pages[0].param("pageId") is None and pages[1].param("pageId") == str(sorted(edited)[6])
    served = sum(e.items or 0 for e in fake.server.log if e.request.path.endswith("/service/tickets"))
    assert served == len(edited), "only the changed tickets come back"
    assert sum(e.items or 0 for e in fake.server.log if e.request.path.endswith("/time/entries")) == 1
    assert sum(e.items or 0 for e in fake.server.log if e.request.path.endswith("/company/companies")) == 0

    after = rows(db_url, "tickets")
    assert after["1003"]["title"] == "edited 1003" and after["1010"] == before["1010"]
    assert after["1001"]["status"] == "Escalate" and after["1001"]["escalated_at"] is not None
    assert after["1002"]["queue_id"] == "2"
    assert rows(db_url, "time_entries")["4"]["billable"] is True
    events = {(e["ticket_id"], e["field"]): (e["old_value"], e["new_value"]) for e in snapshot(db_url)["ticket_events"]}
    assert events == {
        ("1001", "status"): ("New", "Escalate"),
        ("1001", "priority"): ("Priority 1 - Critical", "Priority 4 - Low"),
        ("1001", "assignee"): ("Ann Archer", "Cy Cole"),
        ("1001", "escalation"): (None, "escalated"),
        ("1002", "queue"): ("Service Desk", "Projects Desk"),
        ("1002", "status"): ("In Progress", "New"),
    }

    # Another pass re-reads at most the overlap and records no new events.
    fake.server.clear_log()
    assert sync(run_cli, db_url, fake).returncode == 0
    assert sum(e.items or 0 for e in fake.server.log if e.request.path.endswith("/service/tickets")) <= len(edited)
    assert len(snapshot(db_url)["ticket_events"]) == 6


# --- faults and crashes ----------------------------------------------------------------


def test_429_and_5xx_bursts_end_identical_to_a_fault_free_run(run_cli, db_url, fake, reference):
    fake.server.fail("/service/tickets", 429, times=2, headers={"Retry-After": "1"})
    fake.server.fail("/time/entries", 503, times=3)
    fake.server.fail("/sales/opportunities/3/forecast", 502, times=2)
    fake.server.fail("/login/companyinfo", 500, times=1)
    fake.server.fail("/service/boards/2/statuses", 504, times=1)
    fake.server.slow("/finance/agreements", 1.5, times=1)  # longer than the timeout below: retried

    done = sync(run_cli, db_url, fake, MSPKPI_HTTP_TIMEOUT="0.5")

    assert done.returncode == 0, done.stderr
    statuses = [e.status for e in fake.server.log]
    assert statuses.count(429) == 2 and statuses.count(503) == 3 and statuses.count(502) == 2
    assert snapshot(db_url) == reference


def test_killed_mid_run_and_resumed_ends_identical(run_cli, cli_env, db_url, fake, reference):
    fake.server.slow("/", 0.15, times=10_000)  # slow enough to kill it in the middle of the tickets
    process = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "connectwise"],
        env={**cli_env, **fake.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(fake.list_requests("service/tickets")) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    partial = snapshot(db_url)
    assert 0 < len(partial["tickets"]) < 30, "killed in the middle of the tickets"
    assert not partial["time_entries"]
    fake.server.clear_faults()

    done = sync(run_cli, db_url, fake)

    assert done.returncode == 0, done.stderr
    assert snapshot(db_url) == reference
    engine = open_database(db_url)
    with engine.connect() as conn:
        runs = conn.execute(select(SyncRunRow.status).order_by(SyncRunRow.id)).scalars().all()
    engine.dispose()
    assert runs == ["interrupted", "ok"]


def test_ctrl_c_in_watch_mode_finishes_the_page_and_keeps_the_cursor(cli_env, sqlite_url, fake, reference):
    fake.server.slow("/", 0.1, times=10_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", sqlite_url, "sync", "connectwise", "--watch", "--interval", "60"],
        env={**cli_env, **fake.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(fake.list_requests("service/tickets")) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)

    assert "stopping after the current page" in err and "stopped before tickets finished" in err, err
    stored = snapshot(sqlite_url)
    assert len(stored["tickets"]) % PAGE == 0 and 0 < len(stored["tickets"]) < 30, "whole pages only"
    engine = open_database(sqlite_url)
    with engine.connect() as conn:
        cursors = set(conn.execute(select(SyncCursorRow.entity)).scalars())
    engine.dispose()
    assert "companies" in cursors and "tickets" not in cursors
    fake.server.clear_faults()
    done = subprocess.run(
        [sys.executable, "-m", "mspkpi_tui", "--db", sqlite_url, "sync", "connectwise"],
        env={**cli_env, **fake.env()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert snapshot(sqlite_url) == reference


# --- deletions -------------------------------------------------------------------------


def test_full_pass_prunes_deleted_records_but_not_90_percent(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    fake.edit("service/tickets", 1029, status=ref(11, "New"))  # gives 1029 a ticket event
    # 1029 and 1030 have no time entries (entries use the first 28 tickets).
    fake.delete("service/tickets", 1030)
    fake.delete("sales/opportunities", 6)
    fake.delete("time/entries", 40)

    incremental = sync(run_cli, db_url, fake)
    assert incremental.returncode == 0 and len(rows(db_url, "tickets")) == 30, "deletions are seen only on full passes"
    assert len(rows(db_url, "time_entries")) == 40 and "6" in rows(db_url, "opportunities")
    assert any(e["ticket_id"] == "1029" for e in snapshot(db_url)["ticket_events"])
    fake.delete("service/tickets", 1029)

    full = sync(run_cli, db_url, fake, "--full")
    assert full.returncode == 0, full.stderr
    assert "deleted" in full.stderr and "2 tickets" in full.stderr
    tickets = rows(db_url, "tickets")
    assert len(tickets) == 28 and "1029" not in tickets
    assert not any(e["ticket_id"] in (None, "1029") for e in snapshot(db_url)["ticket_events"])
    assert "6" not in rows(db_url, "opportunities") and len(rows(db_url, "opportunity_stage_changes")) == 5
    assert len(rows(db_url, "time_entries")) == 39

    # A response that lost most time entries must not wipe them.
    for entry_id in TIME_ENTRIES[1:39]:
        fake.delete("time/entries", entry_id)
    guarded = sync(run_cli, db_url, fake, "--full")
    assert guarded.returncode == 1
    assert "time_entries: the source returned 1 of 39 stored rows; refusing to delete 38" in guarded.stderr
    assert len(rows(db_url, "time_entries")) == 39


# --- settings and credentials ----------------------------------------------------------


def test_missing_settings_are_named(run_cli, sqlite_url, fake):
    env = fake.env()
    del env["MSPKPI_CW_PRIVATE_KEY"], env["MSPKPI_CW_CLIENT_ID"]
    done = run_cli("--db", sqlite_url, "sync", "connectwise", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "MSPKPI_CW_PRIVATE_KEY" in lines[0] and "MSPKPI_CW_CLIENT_ID" in lines[0]
    assert "MSPKPI_CW_PUBLIC_KEY" not in lines[0] and "PubKey123" not in lines[0]
    assert not fake.server.log


def test_wrong_credentials_and_unknown_company(run_cli, sqlite_url, fake):
    done = run_cli("--db", sqlite_url, "sync", "connectwise", env=fake.env(MSPKPI_CW_PRIVATE_KEY="not-the-key"))
    assert done.returncode == 1
    assert "the PSA refused the credentials" in done.stderr and "not-the-key" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert [e.status for e in fake.server.log].count(401) == 1, "a refusal is not retried"

    done = run_cli("--db", sqlite_url, "sync", "connectwise", env=fake.env(MSPKPI_CW_COMPANY="nobody"))
    assert done.returncode == 1 and "does not know company 'nobody'" in done.stderr


def test_credentials_never_travel_in_clear(monkeypatch, fake):
    for name, value in fake.env(MSPKPI_CW_SITE_URL="http://cw.example.com").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SyncError, match="plain http to cw.example.com"):
        read_cw_settings(Config())
    monkeypatch.setenv("MSPKPI_CW_SITE_URL", "api-na.myconnectwise.net")  # a bare host means https
    settings = read_cw_settings(Config())
    assert settings.site_url == "https://api-na.myconnectwise.net" and PRIVATE_KEY not in repr(settings)


# --- pieces that need no server ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, entered, expected",
    [
        ("Respond by Mon 01/27 4:00 PM UTC-08", "2025-01-27T15:00:00+00:00", ("respond", "2025-01-28T00:00:00+00:00")),
        ("Resolve by Tue 28/01 16:00 UTC+01:00", "2025-01-27T15:00:00+00:00", ("resolve", "2025-01-28T15:00:00+00:00")),
        (
            "Plan by Fri 01/02 9:00 AM UTC",
            "2025-12-30T09:00:00+00:00",
            ("plan", "2026-01-02T09:00:00+00:00"),
        ),  # next year
        ("Respond by Tue 01/27 4:00 PM UTC-08", "2025-01-27T15:00:00+00:00", None),  # weekday does not match
        ("Respond by Mon 01/27 4:00 PM", "2025-01-27T15:00:00+00:00", None),  # no zone
        ("Waiting", "2025-01-27T15:00:00+00:00", None),
        ("Resolved", "2025-01-27T15:00:00+00:00", None),
        (None, "2025-01-27T15:00:00+00:00", None),
    ],
)
def test_sla_status_text(text, entered, expected):
    deadline = parse_sla_status(text, datetime.fromisoformat(entered))
    assert (None if deadline is None else (deadline.step, deadline.due.isoformat())) == expected


def test_due_times_prefer_the_text_then_24x7_hours_then_what_was_stored():
    entered = datetime(2025, 1, 27, 15, tzinfo=UTC)
    stored = (datetime(2025, 1, 27, 18, tzinfo=UTC), datetime(2025, 1, 29, tzinfo=UTC))
    text = "Resolve by Tue 01/28 9:00 AM UTC"
    assert due_times(text, entered, None, stored) == (stored[0], datetime(2025, 1, 28, 9, tzinfo=UTC))
    hours = PriorityHours(respond=2, resolve=8)
    assert due_times("Waiting", entered, hours, stored) == (entered + timedelta(hours=2), entered + timedelta(hours=8))
    assert due_times("Waiting", entered, None, (None, None)) == (None, None)


def test_the_fake_reads_conditions_like_connectwise():
    record = {"id": 5, "board": {"id": 2}, "summary": "Printer", "_info": {"lastUpdated": "2026-01-05T10:00:00Z"}}
    assert parse_conditions("lastUpdated>[2026-01-05T09:00:00Z] and (board/id in (1,2) or id=9)")(record)
    assert not parse_conditions('lastUpdated>[2026-01-05T10:00:00Z] or summary contains "scan"')(record)
    with pytest.raises(ValueError):
        parse_conditions("lastUpdated>[2026-01-05T09:00:00 00:00]")  # an unencoded + became a space
