"""The demo MSP served by the fake HaloPSA server, for a local try-out of `mspkpi sync halo`.

    cd tests && python -m fakes.halo_demo            # prints the settings to export, serves until Ctrl-C

The demo's canonical records (mspkpi_tui/fixtures/demo) are turned into Halo's shapes:
clients, agents, teams (tickets name their team), statuses with a closed type, priorities per
SLA, tickets with zone-less dates and 1900 sentinels for "not set", one action per time entry
logged on a ticket (numbered per ticket), per-day timesheet rows, contracts, projects and
opportunities (tickets of their own lists) and feedback. Times move so the demo's anchor is
about now (whole weeks, as `mspkpi demo` does). What Halo does not hold (the demo's ticket
events, time not logged on a ticket) is left out; the sync derives events itself.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fakes.halo import HaloFake, halo_time
from mspkpi_tui.fixtures import demo_folder

SENTINEL = "1900-01-01T00:00:00"
RECOMMEND_LABEL = "How likely are you to recommend us? (0-10)"  # the config's default [clients] nps_question
CLOSED_TYPE, OPEN_TYPE = 4, 1


def _read(folder: Path, name: str) -> list[dict]:
    path = folder / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class _Shift:
    def __init__(self, anchor: datetime, now: datetime):
        self.delta = timedelta(weeks=round((now - anchor) / timedelta(weeks=1)))

    def time(self, value: Any) -> str:
        if not value:
            return SENTINEL
        return halo_time(datetime.fromisoformat(str(value).replace("Z", "+00:00")) + self.delta)

    def day(self, value: Any) -> str:
        if not value:
            return SENTINEL
        return halo_time(datetime.fromisoformat(str(value)[:10]).replace(tzinfo=UTC) + self.delta)


def load_demo(fake: HaloFake, now: datetime | None = None) -> dict[str, int]:
    """Fill `fake` with the demo MSP; returns how many records of each list it holds."""
    with demo_folder() as folder:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data = {
            name: _read(folder, name)
            for name in (
                "companies",
                "resources",
                "queues",
                "tickets",
                "ticket_notes",
                "time_entries",
                "timesheets",
                "contracts",
                "projects",
                "opportunities",
                "survey_results",
                "billing_items",
            )
        }
    shift = _Shift(datetime.fromisoformat(manifest["anchor"].replace("Z", "+00:00")), now or datetime.now(UTC))
    old = datetime(2000, 1, 1, tzinfo=UTC)
    put = lambda entity, record: fake.put(entity, record, at=old)  # noqa: E731
    for c in data["companies"]:
        put(
            "Client",
            {"id": c["id"], "name": c["name"], "accountsid": c.get("number"), "inactive": not c.get("active", True)},
        )
    for r in data["resources"]:
        put(
            "Agent",
            {
                "id": r["id"],
                "name": r["name"],
                "email": r.get("email"),
                "isdisabled": not r.get("active", True),
                "costprice": r.get("hourly_cost"),
            },
        )
    teams = {q["id"]: q["name"] for q in data["queues"]}
    for qid, name in teams.items():
        put("Team", {"id": qid, "name": name})

    statuses: dict[tuple[str, bool], int] = {}
    priorities: dict[str, int] = {}

    def status_id(name: str, closed: bool) -> int:
        if (name, closed) not in statuses:
            statuses[(name, closed)] = sid = len(statuses) + 1
            put("Status", {"id": sid, "name": name, "type": CLOSED_TYPE if closed else OPEN_TYPE})
        return statuses[(name, closed)]

    for t in data["tickets"]:
        if t["priority"] not in priorities:
            priorities[t["priority"]] = int(t.get("priority_rank") or len(priorities) + 1)
    for name, pid in priorities.items():
        put("Priority", {"id": pid, "slaid": 1, "priorityid": pid, "name": name})

    for t in data["tickets"]:
        category = ">".join(p for p in (t.get("issue_type"), t.get("sub_issue_type")) if p)
        closed = bool(t.get("is_closed"))
        put(
            "Tickets",
            {
                "id": t["id"],
                "summary": t["title"],
                "client_id": t.get("company_id") or 0,
                "agent_id": t.get("assigned_resource_id") or 0,
                "team": teams.get(t.get("queue_id"), ""),
                "status_id": status_id(t["status"], closed),
                "priorityid": priorities[t["priority"]],
                "sla_id": 1,
                "category_1": category,
                "dateoccurred": shift.time(t["created_at"]),
                "respondbydate": shift.time(t.get("first_response_due")),
                "responsedate": shift.time(t.get("first_response_at")),
                "fixbydate": shift.time(t.get("resolution_due")),
                "dateclosed": shift.time(t.get("completed_at") or t.get("resolved_at")) if closed else SENTINEL,
                "lastactiondate": shift.time(t.get("last_activity_at") or t["created_at"]),
                "details": t.get("description") or "",
                "user_name": t.get("contact_name") or "",
            },
        )
    numbers: dict[int, int] = {}
    for e in data["time_entries"]:
        if not e.get("ticket_id"):
            continue  # Halo's actions belong to tickets
        numbers[e["ticket_id"]] = number = numbers.get(e["ticket_id"], 0) + 1
        put(
            "Actions",
            {
                "id": number,
                "ticket_id": e["ticket_id"],
                "who_agentid": e["resource_id"],
                "outcome": e.get("category") or "Remote support",
                "datetime": shift.time(e["started_at"]),
                "timetaken": e["hours"],
                "actisbillable": bool(e.get("billable")),
            },
        )
    # The demo's notes: actions with a note and no time, by the agent who wrote them (``who``).
    for n in data.get("ticket_notes", []):
        numbers[n["ticket_id"]] = number = numbers.get(n["ticket_id"], 0) + 1
        put(
            "Actions",
            {
                "id": number,
                "ticket_id": n["ticket_id"],
                "who": n.get("author") or "",
                "outcome": n.get("kind") or "Note",
                "note": n["body"],
                "hiddenfromuser": bool(n.get("internal")),
                "datetime": shift.time(n["created_at"]),
                "timetaken": 0,
            },
        )
    for s in data["timesheets"]:
        put(
            "Timesheet",
            {
                "id": s["id"],
                "agent_id": s["resource_id"],
                "date": shift.day(s["period_start"]),
                "approved": s["status"] == "Approved",
                "submitted": s["status"] == "Submitted",
            },
        )
    for c in data["contracts"]:
        put(
            "ClientContract",
            {
                "id": c["id"],
                "client_id": c.get("company_id"),
                "ref": c["name"],
                "start_date": shift.day(c.get("start_date")),
                "end_date": shift.day(c.get("end_date")),
                "expired": c.get("status") not in (None, "Active"),
                "periodchargeamount": c.get("monthly_value"),
                "billing_period": "Monthly",
                "contracttype_name": c.get("category"),
            },
        )
    for b in data["billing_items"]:
        quantity = b.get("quantity") or 1.0
        cost = b.get("our_cost")
        put(
            "Invoice",
            {
                "id": b["id"],
                "client_id": b["company_id"],
                "invoicenumber": f"INV{b['id']:06d}",
                "invoice_date": shift.day(b["item_date"]),
                "posted": True,
                "dateposted": shift.day(b["item_date"]),
                "faultid": b.get("ticket_id") or 0,
                "recurringinvoice_id": b.get("contract_id") if b.get("recurring") else 0,
                "lines": [
                    {
                        "id": 1,
                        "item_shortdescription": b.get("description"),
                        "qty_order": quantity,
                        "unit_price": round(b["extended_price"] / quantity, 4),
                        "net_amount": b["extended_price"],
                        "unit_cost": None if cost is None else round(cost / quantity, 4),
                    }
                ],
            },
        )
    base = 10_000_000  # projects and opportunities are tickets too: ids apart from the demo's tickets
    for p in data["projects"]:
        put(
            "Projects",
            {
                "id": base + p["id"],
                "summary": p["name"],
                "client_id": p.get("company_id") or 0,
                "status_id": status_id(p["status"], bool(p.get("is_closed"))),
                "startdate": shift.day(p.get("start_date")),
                "targetdate": shift.day(p.get("end_date")),
                "estimate": p.get("estimated_hours"),
                "timetaken": p.get("actual_hours"),
                "percentcomplete": p.get("percent_complete"),
                "tickettype_name": p.get("category"),
            },
        )
    for o in data["opportunities"]:
        name = {"won": "Won", "lost": "Lost"}.get(o.get("status", "open"), o["stage"])
        put(
            "Opportunities",
            {
                "id": 2 * base + o["id"],
                "summary": o["title"],
                "client_id": o.get("company_id") or 0,
                "agent_id": o.get("owner_resource_id") or 0,
                "status_id": status_id(name, o.get("status", "open") != "open"),
                "opportunityvalue": o.get("amount"),
                "opportunityprobability": o.get("probability"),
                "targetdate": shift.day(o.get("expected_close")),
                "dateclosed": shift.day(o.get("closed_on")),
                "dateoccurred": shift.time(o.get("created_at")),
            },
        )
    for s in data["survey_results"]:
        put(
            "Feedback",
            {
                "id": s["id"],
                "ticket_id": s.get("ticket_id"),
                "client_id": s.get("company_id"),
                "score": s["rating"],
                "date": shift.time(s["completed_at"]),
                "comment": s.get("comment") or "",
                # the recommend answer as a feedback custom field labelled with the default question
                "customfields": [
                    {"id": 1, "name": "CFRecommend", "label": RECOMMEND_LABEL, "value": s.get("recommend_score")}
                ],
            },
        )
    return {entity: len(rows) for entity, rows in fake.data.items()} | {"notes": len(data.get("ticket_notes", []))}


def main() -> int:
    fake = HaloFake()
    counts = load_demo(fake)
    with fake:
        print("The demo MSP on a fake HaloPSA at", fake.url, f"({counts.get('tickets', 0):,} tickets).")
        print("In another shell:")
        for name, value in fake.env(MSPKPI_HALO_RATE_LIMIT="0").items():
            if name != "MSPKPI_HTTP_BACKOFF_SCALE":
                print(f"  export {name}='{value}'")
        print("  mspkpi --db /tmp/halo-demo.db sync halo && mspkpi --db /tmp/halo-demo.db")
        print("Ctrl-C stops the server.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
