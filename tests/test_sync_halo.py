"""`mspkpi sync halo` against the fake HaloPSA server, through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fakes.halo import CLIENT_SECRET, HaloFake, halo_time
from sqlalchemy import select

from mspkpi_tui.config import Config, config_from_dict
from mspkpi_tui.errors import SyncError
from mspkpi_tui.kpi.clients import client_figures
from mspkpi_tui.sources.halo.client import read_halo_settings
from mspkpi_tui.sources.halo.mapping import halo_time as parse_halo
from mspkpi_tui.sources.http import RateBudget, RetryPolicy
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.ingest import table_of
from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.models import SyncCursor as SyncCursorRow
from mspkpi_tui.store.models import SyncRun as SyncRunRow

BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
PAGE = 7
TICKETS = list(range(1001, 1031))
SOURCE = "halo"
SENTINELS = ["1900-01-01T00:00:00", "0001-01-01T00:00:00", "1899-12-30T00:00:00"]


def when(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def mixed(moment: datetime, i: int) -> str:
    """Halo mixes forms in one answer: zone-less (the instance's zone), Z, and offsets."""
    if i % 3 == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if i % 3 == 2:
        return moment.astimezone(timezone(timedelta(hours=-5))).isoformat()
    return halo_time(moment)


def populate(fake: HaloFake) -> None:
    """A small MSP: 3 clients, 4 agents, 2 teams, 30 tickets with 2-3 actions each, ..."""
    at = BASE - timedelta(days=1)
    put = lambda entity, record, moment=at: fake.put(entity, record, at=moment)  # noqa: E731
    for i, name in enumerate(["Alpine Dental", "Birch Legal", "Cedar Foods"], start=1):
        put("Client", {"id": i, "name": name, "inactive": i == 3 and False, "accountsid": f"C{i}"})
    for i, (name, disabled) in enumerate(
        [("Ann Archer", False), ("Bob Baker", False), ("Cy Cole", False), ("Dee Dunn", True)], start=1
    ):
        put("Agent", {"id": i, "name": name, "email": f"{name.split()[0].lower()}@msp.example", "isdisabled": disabled})
    put("Team", {"id": 1, "name": "Service Desk"})
    put("Team", {"id": 2, "name": "Escalations"})
    # Statuses: closed by flag where the instance sends one, else by type code 4 (see docs/sources.md).
    for record in [
        {"id": 1, "name": "New", "type": 1},
        {"id": 2, "name": "In Progress", "type": 2},
        {"id": 3, "name": "Escalate", "type": 2},
        {"id": 8, "name": "Resolved", "type": 4},
        {"id": 9, "name": "Closed", "type": 4, "isclosed": True},
        {"id": 10, "name": "Closed?", "type": 4, "isclosed": False},  # the flag wins over the type
        {"id": 20, "name": "Won", "type": 4},
        {"id": 21, "name": "Lost", "type": 4},
    ]:
        put("Status", record)
    # Priorities are rows per SLA: the same priority id has another name under SLA 2.
    for row_id, (sla, pid, name) in enumerate(
        [(1, 1, "P1 Critical"), (1, 2, "P2 High"), (1, 3, "P3 Normal"), (1, 4, "P4 Low"), (2, 1, "VIP Critical")],
        start=1,
    ):
        put("Priority", {"id": row_id, "slaid": sla, "priorityid": pid, "name": name})
    for n, tid in enumerate(TICKETS):
        opened = when(n)
        status = [1, 2, 8, 9, 1, 10][n % 6]
        closed = status in (8, 9)
        put(
            "Tickets",
            {
                "id": tid,
                "summary": f"Ticket {tid}: printer [b]jam[/b]",
                "client_id": 1 + n % 3,
                "agent_id": 1 + n % 3 if n % 7 else 0,
                "team": "Service Desk" if n % 5 else "Escalations",
                "status_id": status,
                "priorityid": 1 + n % 4,
                "sla_id": 2 if n == 4 else 1,
                "tickettype_id": 1,
                "category_1": "Hardware>Purchase" if n % 2 else "Network",
                "dateoccurred": mixed(opened, n),
                "respondbydate": mixed(opened + timedelta(hours=2), n) if n % 4 else SENTINELS[n % 3],
                "responsedate": mixed(opened + timedelta(hours=1), n) if n % 2 else "1900-01-01T00:00:00",
                "fixbydate": mixed(opened + timedelta(hours=24), n),
                "dateclosed": mixed(opened + timedelta(hours=5), n) if closed else "1900-01-01T00:00:00",
                "lastactiondate": mixed(opened + timedelta(hours=1), n),
                "excludefromsla": n == 9,
                "onhold": False,
                "details": f"Printer on floor {n} jams.\r\nTried a reboot." if n % 3 else "",
                "user_name": ["Pat Price", "Quinn Quill", "", "Pat Price"][n % 4],
            },
        )
        # Action ids count from 1 on every ticket: only (ticket, action) is unique.
        for action in range(1, 3 + n % 2):
            put(
                "Actions",
                {
                    "id": action,
                    "ticket_id": tid,
                    "who_agentid": 1 + (n + action) % 3,
                    "outcome": "Remote support" if action == 1 else "Note",
                    "datetime": mixed(opened + timedelta(minutes=30 * action), n + action),
                    "timetaken": 0.5 * action if action != 2 else 0,
                    "actisbillable": action == 1 and n % 2 == 0,
                    "hiddenfromuser": action == 2,
                    # the first action logs work without a note; the others say something
                    "who": ["Ann Archer", "Bob Baker", "Cy Cole"][(n + action) % 3],
                    "note": "" if action == 1 else f"Note {action} on {tid}",
                },
            )
    put(
        "Projects",
        {
            "id": 2001,
            "summary": "Office move",
            "client_id": 1,
            "status_id": 2,
            "estimate": 80,
            "timetaken": 60,
            "startdate": "2026-01-01T00:00:00",
            "targetdate": "2026-03-31T00:00:00",
        },
    )
    put(
        "Projects",
        {
            "id": 2002,
            "summary": "Server refresh",
            "client_id": 2,
            "status_id": 9,
            "estimate": 40,
            "startdate": "0001-01-01T00:00:00",
            "targetdate": "1900-01-01T00:00:00",
        },
    )
    put(
        "Opportunities",
        {
            "id": 3001,
            "summary": "Firewall upgrade",
            "client_id": 1,
            "agent_id": 2,
            "status_id": 1,
            "opportunityvalue": 4000,
            "dateoccurred": halo_time(BASE - timedelta(days=30)),
        },
    )
    put(
        "Opportunities",
        {
            "id": 3002,
            "summary": "M365 licences",
            "client_id": 2,
            "agent_id": 2,
            "status_id": 20,
            "opportunityvalue": 1200,
            "dateclosed": halo_time(BASE - timedelta(days=2)),
            "dateoccurred": halo_time(BASE - timedelta(days=40)),
        },
    )
    for i in range(1, 5):
        put(
            "Timesheet",
            {
                "id": i,
                "agent_id": 1 + i % 2,
                "date": halo_time(BASE - timedelta(days=i)),
                "approved": i == 1,
                "submitted": i == 2,
            },
        )
    put(
        "ClientContract",
        {
            "id": 1,
            "client_id": 1,
            "ref": "MSA-1",
            "start_date": "2025-04-01T00:00:00",
            "end_date": "2026-03-31T00:00:00",
            "periodchargeamount": 1501.0,
        },
    )
    put(
        "ClientContract",
        {
            "id": 2,
            "client_id": 2,
            "ref": "MSA-2",
            "start_date": "2025-01-01T00:00:00",
            "end_date": "1900-01-01T00:00:00",
            "expired": True,
        },
    )
    # Posted invoices with lines (net amount, unit cost x quantity); one raised by a recurring
    # invoice (the contract counts it); one not posted yet (not listed).
    lines = [
        {"id": 1, "qty_order": 2, "unit_price": 100.0, "net_amount": 200.0, "unit_cost": 50.0},
        {"id": 2, "qty_order": 1, "unit_price": 100.0, "net_amount": 100.0},
    ]
    invoices = [
        (1, 1, True, 0, lines),
        (2, 2, True, 5, [{"id": 1, "qty_order": 1, "net_amount": 1501.0}]),
        (3, 1, False, 0, [{"id": 1, "qty_order": 1, "net_amount": 999.0}]),
    ]
    for iid, client, posted, recurring_id, invoice_lines in invoices:
        put(
            "Invoice",
            {
                "id": iid,
                "client_id": client,
                "invoicenumber": f"INV-{iid}",
                "invoice_date": halo_time(BASE + timedelta(days=1)),
                "posted": posted,
                "dateposted": halo_time(BASE + timedelta(days=1, hours=2)) if posted else "1900-01-01T00:00:00",
                "faultid": TICKETS[1] if iid == 1 else 0,
                "recurringinvoice_id": recurring_id,
                "lines": invoice_lines,
            },
        )
    # The 0-10 recommend answer is a feedback custom field (its label is the configured question).
    nps = [
        {"id": 7, "name": "CFRecommend", "label": "How likely are you to recommend us? (0-10)", "value": 10},
        {"id": 7, "name": "CFRecommend", "label": "How likely are you to recommend us? (0-10)", "value": "6"},
        {"id": 7, "name": "CFRecommend", "label": "How likely are you to recommend us? (0-10)", "display": "9"},
    ]
    for i in range(1, 4):
        put(
            "Feedback",
            {
                "id": i,
                "ticket_id": TICKETS[i],
                "client_id": 1 if i < 3 else 2,
                "score": i,
                "date": mixed(when(30 + i), i),
                "comment": "Took two days" if i == 2 else "",
                "customfields": [{"id": 8, "name": "CFChannel", "label": "Channel", "value": "Phone"}, nps[i - 1]],
            },
        )


@pytest.fixture
def fake():
    with HaloFake(max_page_size=PAGE) as server:
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
                    # the ticket link names the fake's port, which differs between servers
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


def sync(run_cli, url: str, fake: HaloFake, *args: str, **env: str):
    return run_cli("--db", url, "sync", "halo", *args, env=fake.env(**env))


def served(fake: HaloFake, entity: str) -> int:
    return sum(e.items or 0 for e in fake.server.log if e.request.path.lower() == f"/api/{entity.lower()}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """A fault-free full sync of the standard data into its own SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('halo-reference') / 'ref.db'}"
    with HaloFake(max_page_size=PAGE) as server:
        populate(server)
        home = tmp_path_factory.mktemp("halo-home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local"))
        done = subprocess.run(
            [sys.executable, "-m", "mspkpi_tui", "--db", url, "sync", "halo"],
            env={**env, **server.env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    return snapshot(url)


# --- full sync -------------------------------------------------------------------------


def test_full_sync_lands_every_entity_with_the_right_values(run_cli, db_url, fake):
    # Malformed records among the good ones: rejected with their reason, the sync goes on.
    fake.put("Tickets", {**fake.data["tickets"][1030], "id": 1031, "dateoccurred": "last tuesday"}, at=BASE)
    fake.put("Tickets", "not a ticket", key=1032, at=BASE)

    done = sync(run_cli, db_url, fake)

    assert done.returncode == 1, done.stderr  # rejects make the exit status 1
    assert "rejected tickets at GET /api/Tickets" in done.stderr and "id=1031" in done.stderr
    assert "created_at is not an ISO-8601 time: 'last tuesday'" in done.stderr
    assert "a record must be a JSON object, not str" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.server.requests_to("/api/authinfo") and fake.server.requests_to("/auth/token")
    assert fake.tokens_issued == 1, "one token for the whole pass"

    assert sorted(c["name"] for c in rows(db_url, "companies").values()) == [
        "Alpine Dental",
        "Birch Legal",
        "Cedar Foods",
    ]
    agents = rows(db_url, "resources")
    assert agents["2"]["name"] == "Bob Baker" and agents["4"]["active"] is False and agents["1"]["active"]
    assert {q["source_id"] for q in rows(db_url, "queues").values()} == {"Service Desk", "Escalations"}

    tickets = rows(db_url, "tickets")
    assert len(tickets) == 30 and "1031" not in tickets
    assert "2001" not in tickets and "3001" not in tickets, "projects and opportunities are not tickets"
    t0, t1, t2 = tickets["1001"], tickets["1002"], tickets["1003"]
    # Zone-less, Z and offset forms all land on the same UTC instant.
    assert t0["created_at"] == BASE and t1["created_at"] == when(1) and t2["created_at"] == when(2)
    assert t0["title"] == "Ticket 1001: printer [b]jam[/b]" and t0["queue_id"] == "Escalations"
    assert t0["company_id"] == "1" and t0["assigned_resource_id"] is None, "agent 0 is nobody"
    assert t1["assigned_resource_id"] == "2" and t1["queue_id"] == "Service Desk"
    # Sentinels are never dates.
    assert t0["first_response_due"] is None and t0["first_response_at"] is None
    assert tickets["1005"]["first_response_due"] is None and tickets["1009"]["first_response_due"] is None
    assert t1["first_response_due"] == when(3) and t1["first_response_at"] == when(2)
    assert t0["resolved_at"] is None and t0["completed_at"] is None
    # Open or closed by the status's flag or type, never by its name.
    assert t2["status"] == "Resolved" and t2["is_closed"] is True and t2["completed_at"] == when(2 + 5)
    assert tickets["1004"]["is_closed"] is True and tickets["1006"]["status"] == "Closed?"
    assert tickets["1006"]["is_closed"] is False, "isclosed false wins over the type"
    assert sum(t["is_closed"] for t in tickets.values()) == 10
    # Priorities are per SLA; the rank is the priority id's order.
    assert t0["priority"] == "P1 Critical" and t0["priority_rank"] == 1
    assert tickets["1005"]["priority"] == "VIP Critical" and tickets["1005"]["priority_rank"] == 1
    assert t2["priority"] == "P3 Normal" and t2["priority_rank"] == 3
    assert (t1["issue_type"], t1["sub_issue_type"]) == ("Hardware", "Purchase")
    assert (t0["issue_type"], t0["sub_issue_type"]) == ("Network", None)
    assert tickets["1010"]["resolution_due"] is None, "excluded from the SLA"
    engine = open_database(db_url)
    with engine.connect() as conn:
        link = conn.execute(select(table_of("tickets").c.url).where(table_of("tickets").c.source_id == "1001")).scalar()
    engine.dispose()
    assert link == f"{fake.url}/tickets?id=1001"

    # Every action with time is a time entry, keyed by (ticket, action): none lost to a shared id.
    entries = rows(db_url, "time_entries")
    assert len(entries) == 30 + 15, "action 1 of every ticket and action 3 of every other one"
    assert entries["1001:1"]["ticket_id"] == "1001" and entries["1030:1"]["ticket_id"] == "1030"
    assert entries["1002:3"]["hours"] == 1.5 and entries["1001:1"]["billable"] is True
    assert entries["1001:1"]["started_at"] == BASE + timedelta(minutes=30)

    projects = rows(db_url, "projects")
    assert projects["2001"]["estimated_hours"] == 80.0 and projects["2001"]["end_date"].isoformat() == "2026-03-31"
    assert projects["2002"]["is_closed"] is True and projects["2002"]["start_date"] is None
    assert projects["2002"]["end_date"] is None
    opps = rows(db_url, "opportunities")
    assert opps["3001"]["status"] == "open" and opps["3001"]["amount"] == 4000.0
    assert opps["3002"]["status"] == "won" and opps["3002"]["closed_on"].isoformat() == "2026-01-03"
    contracts = rows(db_url, "contracts")
    assert contracts["1"]["monthly_value"] == 1501.0 and contracts["2"]["end_date"] is None
    assert contracts["2"]["status"] == "Expired"
    sheets = rows(db_url, "timesheets")
    assert {k: s["status"] for k, s in sheets.items()} == {"1": "Approved", "2": "Submitted", "3": "Open", "4": "Open"}
    assert {k: s["rating"] for k, s in rows(db_url, "survey_results").items()} == {"1": 1.0, "2": 2.0, "3": 3.0}

    # Paging as Halo wants it, on every list.
    for page in fake.list_requests("Tickets"):
        assert page.param("pageinate") == "true" and page.param("page_size") == "100" and page.param("page_no")
    assert len(fake.list_requests("Agent")) == 1, "a short plain list is one page"

    # No credential reaches the output or the database.
    assert CLIENT_SECRET not in done.stdout + done.stderr
    assert not any(CLIENT_SECRET in str(v) for rows_ in snapshot(db_url).values() for r in rows_ for v in r.values())


def test_projects_absent_from_the_ticket_list_and_authinfo_missing(run_cli, sqlite_url, reference):
    """The other reading of both uncertain points: /api/Tickets without projects, no authinfo."""
    with HaloFake(max_page_size=PAGE, tickets_include_projects=False, authinfo=False) as server:
        populate(server)
        done = sync(run_cli, sqlite_url, server)
        assert done.returncode == 0, done.stderr
        assert server.server.requests_to("/auth/token"), "tokens from {url}/auth when authinfo is missing"
    assert snapshot(sqlite_url) == reference


# --- incremental -----------------------------------------------------------------------


def test_incremental_reads_only_changes_from_the_cursor(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    before = rows(db_url, "tickets")
    edited = TICKETS[:9]  # more than a page of 7
    for tid in edited:
        fake.edit("Tickets", tid, summary=f"edited {tid}")
    fake.edit("Tickets", 1001, status_id=3, priorityid=4, agent_id=3, team="Service Desk")
    fake.edit("Actions", (1005, 2), timetaken=0.25)  # a note that now logs time
    fake.server.clear_log()

    done = sync(run_cli, db_url, fake)

    assert done.returncode == 0, done.stderr
    pages = fake.list_requests("Tickets")
    changed_pages = [p for p in pages if p.param("deleted") is None]
    assert len(changed_pages) == 2
    for page in pages:  # the window is on every page, zone-less in the instance's zone
        since = page.param("lastupdatefromdate")
        assert since and "Z" not in since and "+" not in since, since
    assert served(fake, "Tickets") == len(edited)
    assert served(fake, "Actions") == 1 and served(fake, "Client") == 3, "lists without a window are read whole"
    after = rows(db_url, "tickets")
    assert after["1003"]["title"] == "edited 1003" and after["1010"] == before["1010"]
    assert after["1001"]["status"] == "Escalate" and after["1001"]["escalated_at"] is not None
    assert rows(db_url, "time_entries")["1005:2"]["hours"] == 0.25
    events = {(e["ticket_id"], e["field"]): (e["old_value"], e["new_value"]) for e in snapshot(db_url)["ticket_events"]}
    assert events == {
        ("1001", "status"): ("New", "Escalate"),
        ("1001", "priority"): ("P1 Critical", "P4 Low"),
        ("1001", "assignee"): (None, "Cy Cole"),
        ("1001", "queue"): ("Escalations", "Service Desk"),
        ("1001", "escalation"): (None, "escalated"),
    }
    fake.server.clear_log()
    assert sync(run_cli, db_url, fake).returncode == 0
    assert served(fake, "Tickets") <= len(edited) and len(snapshot(db_url)["ticket_events"]) == 5


# --- faults and crashes ----------------------------------------------------------------


def test_429_5xx_and_a_revoked_token_end_identical_to_a_fault_free_run(run_cli, db_url, fake, reference):
    fake.server.fail("/api/tickets", 429, times=2)  # plain text, no Retry-After: waits 30 s (scaled)
    fake.server.fail("/api/actions", 503, times=2)
    fake.server.fail("/api/client", 500, times=1)
    fake.server.fail("/api/status", 502, times=1)
    fake.server.fail("/auth/token", 503, times=1)
    # Every token is revoked at the 3rd request for actions: the client renews it once and goes on.
    revoke_at = {"n": 0}
    original = fake.handle

    def revoking(request):
        if request.path.lower() == "/api/actions":
            revoke_at["n"] += 1
            if revoke_at["n"] == 3:
                fake.revoke_tokens()
        return original(request)

    fake.server.app = revoking

    done = sync(run_cli, db_url, fake)

    assert done.returncode == 0, done.stderr
    statuses = [e.status for e in fake.server.log]
    assert statuses.count(429) == 2 and statuses.count(503) == 3 and statuses.count(401) == 1
    assert fake.tokens_issued == 2
    assert snapshot(db_url) == reference


def test_429s_from_the_rate_limit_are_waited_out(run_cli, sqlite_url, fake, reference):
    fake.rate_limit, fake.rate_window = 25, 1.0  # answers 429 (plain text, no Retry-After) beyond it
    done = sync(run_cli, sqlite_url, fake, MSPKPI_HTTP_BACKOFF_SCALE="0.02")  # 30 s -> 0.6 s
    assert done.returncode == 0, done.stderr
    assert any(e.status == 429 for e in fake.server.log), "the fake's limit was reached"
    assert snapshot(sqlite_url) == reference


def test_the_rate_budget_waits_before_going_over_and_429_waits_at_least_30_s():
    now = {"t": 0.0}
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now["t"] += seconds

    budget = RateBudget(3, 300.0, clock=lambda: now["t"], sleep=sleep)
    for _ in range(3):
        budget.spend()
        now["t"] += 1.0
    assert waits == []
    budget.spend()  # the 4th within 300 s waits until the 1st leaves the window
    assert waits == [297.0]
    policy = RetryPolicy(rate_limited_delay=30.0, sleep=sleep)
    assert policy.delay(0, None, 429) == 30.0 and policy.delay(0, "7", 429) == 7.0
    assert policy.delay(0, None, 503) == 1.0, "only a 429 waits that long"
    assert RetryPolicy().delay(0, None, 429) == 1.0, "other PSAs keep the usual backoff"


def test_killed_mid_run_and_resumed_ends_identical(run_cli, cli_env, db_url, fake, reference):
    fake.server.slow("/api/", 0.15, times=10_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", db_url, "sync", "halo"],
        env={**cli_env, **fake.env(MSPKPI_HALO_STORE_BATCH="1")},  # every Halo page stored alone
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(fake.list_requests("Tickets")) < 3 and time.monotonic() < deadline and process.poll() is None:
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
        cursors = set(conn.execute(select(SyncCursorRow.entity)).scalars())
    engine.dispose()
    assert runs == ["interrupted", "ok"]
    assert {"tickets", "time_entries", "deleted_tickets"} <= cursors


# --- deletions -------------------------------------------------------------------------


def test_deleted_listing_full_pass_prune_and_the_90_percent_guard(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    fake.delete_ticket(1030)  # listed by deleted=true: gone on the next incremental pass, with its actions
    fake.delete("ClientContract", 2)  # no deletion listing: only a full pass sees it

    incremental = sync(run_cli, db_url, fake)
    assert incremental.returncode == 0, incremental.stderr
    tickets = rows(db_url, "tickets")
    assert "1030" not in tickets and len(tickets) == 29
    assert not any(k.startswith("1030:") for k in rows(db_url, "time_entries"))
    assert "2" in rows(db_url, "contracts"), "deletions without a listing wait for a full pass"
    deleted_pages = [p for p in fake.list_requests("Tickets") if p.param("deleted") == "true"]
    assert deleted_pages and all(p.param("lastupdatefromdate") for p in deleted_pages)

    fake.delete("Actions", (1001, 1))  # gone without a trace: a full pass prunes it
    full = sync(run_cli, db_url, fake, "--full")
    assert full.returncode == 0, full.stderr
    assert "2" not in rows(db_url, "contracts") and "1001:1" not in rows(db_url, "time_entries")
    assert "1002:1" in rows(db_url, "time_entries"), "the same action id on another ticket stays"

    # A response that lost most actions must not wipe them.
    for key in [k for k in fake.data["actions"] if k[0] != 1002]:
        fake.delete("Actions", key)
    guarded = sync(run_cli, db_url, fake, "--full")
    assert guarded.returncode == 1
    assert "time_entries: the source returned 2 of 42 stored rows; refusing to delete 40" in guarded.stderr
    assert len(rows(db_url, "time_entries")) == 42


# --- settings and credentials ----------------------------------------------------------


def test_missing_settings_are_named_and_wrong_secret_refused(run_cli, sqlite_url, fake):
    env = fake.env()
    del env["MSPKPI_HALO_CLIENT_SECRET"], env["MSPKPI_HALO_CLIENT_ID"]
    done = run_cli("--db", sqlite_url, "sync", "halo", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "MSPKPI_HALO_CLIENT_SECRET" in lines[0] and "MSPKPI_HALO_CLIENT_ID" in lines[0]
    assert not fake.server.log

    done = sync(run_cli, sqlite_url, fake, MSPKPI_HALO_CLIENT_SECRET="not-the-secret")
    assert done.returncode == 1
    assert "the PSA refused the credentials" in done.stderr and "invalid_client" in done.stderr
    assert "not-the-secret" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert [e.status for e in fake.server.log].count(401) == 1, "a refusal is not retried"


def test_config_file_holding_the_secret_must_be_private(run_cli, sqlite_url, fake, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[halo]\nurl = "{fake.url}"\nclient_id = "mspkpi-halo-client"\nclient_secret = "{CLIENT_SECRET}"\n'
    )
    path.chmod(0o644)
    env = {"MSPKPI_HTTP_BACKOFF_SCALE": "0.01", "MSPKPI_HALO_TENANT": "contoso"}
    done = run_cli("--db", sqlite_url, "--config", str(path), "sync", "halo", env=env)
    assert done.returncode == 1 and "chmod 600" in done.stderr and CLIENT_SECRET not in done.stderr
    path.chmod(0o600)
    done = run_cli("--db", sqlite_url, "--config", str(path), "sync", "halo", env=env)
    assert done.returncode == 0, done.stderr


def test_credentials_never_travel_in_clear(monkeypatch, fake):
    for name, value in fake.env(MSPKPI_HALO_URL="http://halo.example.com").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SyncError, match="plain http"):
        read_halo_settings(Config())
    monkeypatch.setenv("MSPKPI_HALO_URL", "halo.example.com/api")
    settings = read_halo_settings(Config())
    assert settings.url == "https://halo.example.com" and CLIENT_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T08:00:00", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("2026-01-05T08:00:00Z", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("2026-01-05T03:00:00-05:00", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("2026-01-05T08:00:00.123", datetime(2026, 1, 5, 8, 0, 0, 123000, tzinfo=UTC)),
        ("1900-01-01T00:00:00", None),
        ("0001-01-01T00:00:00", None),
        ("1899-12-30T00:00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_halo_dates_and_sentinels(text, expected):
    value = parse_halo(text, UTC)
    assert (datetime.fromisoformat(value).astimezone(UTC) if value else None) == expected


def test_a_second_sync_on_the_same_database_is_refused(run_cli, cli_env, sqlite_url, fake):
    """Ordered by the lock, not the clock: the first sync hangs on its tickets while the second asks."""
    fake.server.slow("/api/tickets", 600)
    first = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", sqlite_url, "sync", "halo"],
        env={**cli_env, **fake.env(), "MSPKPI_HTTP_TIMEOUT": "900"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not fake.server.arrived or fake.server.arrived[-1].path != "/api/Tickets":
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = sync(run_cli, sqlite_url, fake)
        assert second.returncode == 1 and "another sync is already running on this database" in second.stderr
        assert first.poll() is None
    finally:
        first.kill()
        first.wait()
    fake.server.clear_faults()
    assert sync(run_cli, sqlite_url, fake).returncode == 0
    assert len(rows(sqlite_url, "tickets")) == 30


@pytest.mark.slow
def test_the_demo_msp_served_by_the_fake_fills_every_report_section(run_cli, sqlite_url):
    """`mspkpi sync halo` from the demo MSP (tests/fakes/halo_demo.py) gives every pane's figures."""
    import json

    from fakes.halo_demo import load_demo

    with HaloFake() as server:
        counts = load_demo(server)
        done = sync(run_cli, sqlite_url, server, MSPKPI_HALO_RATE_LIMIT="0")
        assert done.returncode == 0, done.stderr
    timed = counts["actions"] - counts["notes"]
    assert f"{counts['tickets']} tickets" in done.stderr and f"{timed} time_entries" in done.stderr
    assert f"{counts['notes']} ticket_notes" in done.stderr
    report = json.loads(run_cli("--db", sqlite_url, "kpi", "-f", "json").stdout)
    assert report["queue"]["open"] > 0 and report["queue"]["by_queue"]
    assert report["sla"]["compliance_30d"]["first_response_pct"] is not None
    assert report["service"]["opened_30d"] > 0 and report["service"]["csat_30d"]["responses"] > 0
    assert report["escalations"]["total"] > 0
    assert any(r["hours_this_week"] or r["hours_last_week"] for r in report["team"]["resources"])
    assert report["pipeline"]["stages"] and report["contracts"]["expiring_90d"] > 0
    assert sum(report["projects"]["at_risk"].values()) > 0 and report["trends"]["days"]
    clients = json.loads(run_cli("--db", sqlite_url, "kpi", "-f", "json", "--section", "clients").stdout)["clients"]
    assert clients["totals"]["nps_responses"] > 0 and clients["totals"]["nps"] is not None  # from feedback fields
    assert clients["money"]["mrr"] and any(c["billed_revenue"] for c in clients["companies"])  # contracts, invoices
    assert any(c["other_cost"] for c in clients["companies"])  # the invoice lines' unit cost


def test_nps_comes_from_the_feedback_field_the_config_names(run_cli, db_url, fake):
    assert sync(run_cli, db_url, fake).returncode == 0
    surveys = rows(db_url, "survey_results")
    assert {k: s["recommend_score"] for k, s in surveys.items()} == {"1": 10.0, "2": 6.0, "3": 9.0}
    assert (surveys["2"]["comment"], surveys["1"]["comment"]) == ("Took two days", None)

    engine = open_database(db_url)
    try:
        figures = client_figures(engine, BASE + timedelta(days=5), config_from_dict({"timezone": "UTC"}))
    finally:
        engine.dispose()
    nps = {r.company_id: (r.nps, r.nps_responses) for r in figures.companies if r.nps_responses}
    assert sorted(nps.values()) == [(0.0, 2), (100.0, 1)]  # client 1: 10 and 6; client 2: 9
    assert (figures.totals["nps"], figures.totals["nps_responses"]) == (33.33, 3)  # (2 - 1) / 3

    # Named by the field's name instead; a question no feedback carries gives no answers.
    assert sync(run_cli, db_url, fake, "--full", MSPKPI_CLIENTS__NPS_QUESTION="CFRecommend").returncode == 0
    assert {k: s["recommend_score"] for k, s in rows(db_url, "survey_results").items()} == {
        "1": 10.0,
        "2": 6.0,
        "3": 9.0,
    }
    assert sync(run_cli, db_url, fake, "--full", MSPKPI_CLIENTS__NPS_QUESTION="Would you buy again?").returncode == 0
    assert {s["recommend_score"] for s in rows(db_url, "survey_results").values()} == {None}


def test_halo_money_invoices_contracts_and_agent_cost(run_cli, db_url, fake):
    fake.edit("Agent", 1, costprice=40.0)  # Ann has an hourly cost; Bob and Cy have none
    fake.edit("ClientContract", 1, billing_period="Quarterly", periodchargeamount=4503.0, contracttype_name="Managed")
    assert sync(run_cli, db_url, fake).returncode == 0
    items = rows(db_url, "billing_items")
    assert sorted(items) == ["1", "2"], "the unposted invoice is not listed"
    assert (items["1"]["extended_price"], items["1"]["our_cost"], items["1"]["recurring"]) == (300.0, 100.0, False)
    assert items["1"]["ticket_id"] == str(TICKETS[1]) and items["1"]["item_date"].isoformat() == "2026-01-06"
    assert (items["2"]["extended_price"], items["2"]["our_cost"], items["2"]["recurring"]) == (1501.0, None, True)
    contract = rows(db_url, "contracts")["1"]
    assert (contract["monthly_value"], contract["category"], contract["seats"]) == (1501.0, "Managed", None)
    assert rows(db_url, "resources")["1"]["hourly_cost"] == 40.0

    engine = open_database(db_url)
    try:
        config = config_from_dict({"timezone": "UTC"})
        figures = client_figures(engine, BASE + timedelta(days=5), config)
        alpine = next(r for r in figures.companies if r.company == "Alpine Dental")
        assert (alpine.billed_revenue, alpine.other_cost) == (300.0, 100.0)
        # Halo contracts state no seats, and Bob and Cy have no cost: no data, with the reasons.
        assert alpine.reactive_per_seat_month is None and alpine.labour_cost is None and alpine.margin is None
        assert alpine.no_data["reactive_per_seat_month"].startswith("no active recurring contract with a seat count")
        assert "h by technicians without an hourly cost" in alpine.no_data["labour_cost"]

        # The Clients pane shows "no data" and its rule line says why.
        import asyncio

        from test_tui_app import loaded, screen_text, wait_until
        from test_tui_support import make_app

        async def pane() -> str:
            app = make_app(engine, config, BASE + timedelta(days=5))
            async with app.run_test(size=(120, 40)) as pilot:
                await loaded(pilot)
                await pilot.press("8")
                await wait_until(pilot, lambda: app.pane("clients").shown_view == "30d")
                await app.workers.wait_for_complete()
                await pilot.pause()
                return screen_text(app)

        text = asyncio.run(pane())
    finally:
        engine.dispose()
    assert "no data" in text and "Alpine Dental" in text
    assert "reactive per seat month: no data (no active recurring contract with a seat count" in text


def test_no_feedback_in_the_tenant_and_options_from_the_halo_table(run_cli, sqlite_url, fake, tmp_path):
    fake.feedback_enabled = False  # the tenant does not expose Feedback: 403, not an error
    fake.invoices_enabled = False  # nor invoices to this API user: nothing to read, nothing pruned
    fake.edit("Tickets", 1002, category_2="Laptop>Battery")
    path = tmp_path / "config.toml"
    path.write_text('[halo]\nissue_type_field = "category_2"\nclosed_status_types = "2, 4"\n')
    done = run_cli("--db", sqlite_url, "--config", str(path), "sync", "halo", env=fake.env())
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr and not rows(sqlite_url, "survey_results")
    assert not rows(sqlite_url, "billing_items")
    tickets = rows(sqlite_url, "tickets")
    assert (tickets["1002"]["issue_type"], tickets["1002"]["sub_issue_type"]) == ("Laptop", "Battery")
    assert tickets["1002"]["is_closed"] is True, "In Progress has type 2, which this config closes"

    path.write_text('[halo]\nclosed_status_types = "two"\n')
    refused = run_cli("--db", sqlite_url, "--config", str(path), "sync", "halo", env=fake.env())
    assert refused.returncode == 1 and "closed_status_types" in refused.stderr
    assert refused.stderr.count("\n") == 1


def test_ctrl_c_in_watch_mode_finishes_the_batch_and_keeps_the_cursor(cli_env, sqlite_url, fake, reference):
    fake.server.slow("/api/", 0.1, times=10_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", "--db", sqlite_url, "sync", "halo", "--watch", "--interval", "60"],
        env={**cli_env, **fake.env(MSPKPI_HALO_STORE_BATCH="1")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(fake.list_requests("Tickets")) < 2 and time.monotonic() < deadline and process.poll() is None:
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
    assert "projects" in cursors and "tickets" not in cursors
    fake.server.clear_faults()
    done = subprocess.run(
        [sys.executable, "-m", "mspkpi_tui", "--db", sqlite_url, "sync", "halo"],
        env={**cli_env, **fake.env()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert snapshot(sqlite_url) == reference
