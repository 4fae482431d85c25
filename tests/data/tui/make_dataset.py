"""Writes the TUI tests' small fixed dataset (JSON Lines) next to this file.

Run it again only to change the data: `.venv/bin/python tests/data/tui/make_dataset.py`.
Every time is relative to NOW (a Tuesday), which the tests pin as the clock. The folder
has no manifest anchor, so importing it shifts nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
HERE = Path(__file__).resolve().parent

HOSTILE_TITLE = "[link=https://evil.example]Click me[/link] \x1b[2J\x1b[31mred\x07 [bold red]boom\r\nnext"
HOSTILE_COMPANY = "[bold red]Evil[/bold red] Corp \x1b]52;c;cGF3bmVk\x07"


def at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def day(days: int) -> str:
    return (NOW + timedelta(days=days)).date().isoformat()


H, D = 60, 24 * 60

companies = [
    {"id": "c1", "name": "Acme Dental"},
    {"id": "c2", "name": "Brightwater Logistics"},
    {"id": "c3", "name": "Castle & Co Solicitors"},
    {"id": "c4", "name": HOSTILE_COMPANY},
    {"id": "c5", "name": "Delta Farms"},
]
resources = [
    {"id": "r1", "name": "Alice Nguyen", "weekly_hours": 40},
    {"id": "r2", "name": "Bob Okafor", "weekly_hours": 40},
    {"id": "r3", "name": "Chen Wei", "weekly_hours": 32},
    {"id": "r4", "name": "Dana Kowalski", "weekly_hours": 40},
]
queues = [{"id": "q1", "name": "Service Desk"}, {"id": "q2", "name": "Level 2"}, {"id": "q3", "name": "Onboarding"}]
PRIORITIES = {1: "Critical", 2: "High", 3: "Medium", 4: "Low"}

# (title, company, queue, status, rank, assignee, created (min before now), fr due, fr at, res due)
OPEN = [
    ("Server down at head office", "c1", "q1", "New", 1, None, -3 * H, -2 * H, None, 1 * H),
    ("Email not syncing on phones", "c2", "q1", "In Progress", 2, "r1", -5 * H, -4 * H, -4.5 * H, -30),
    ("VPN drops every hour", "c3", "q2", "Escalate", 2, "r2", -2 * D, -2 * D + 2 * H, -2 * D + 1 * H, -1 * D),
    (HOSTILE_TITLE, "c4", "q1", "New", 3, "r3", -90, 30, None, 6 * H),
    ("Printer jams on floor 2", "c5", "q1", "Waiting Customer", 4, "r4", -3 * D, -3 * D + 8 * H, -3 * D + 2 * H, 2 * D),
    ("New starter laptop for Priya", "c1", "q3", "In Progress", 3, "r1", -1 * D, -1 * D + 4 * H, -1 * D + 1 * H, 3 * H),
    ("Backup job failed on NAS", "c2", "q2", "Escalate", 1, "r2", -6 * H, -5 * H, -5.5 * H, 2 * H),
    ("Password reset for finance team", "c3", "q1", "New", 3, None, -40, 20, None, 8 * H),
    ("Wi-Fi slow in warehouse", "c2", "q2", "In Progress", 3, "r3", -4 * D, -4 * D + 8 * H, -4 * D + 3 * H, -2 * D),
    ("Install accounting update", "c5", "q1", "New", 4, "r4", -2 * H, 6 * H, None, 3 * D),
    ("Phones ring out after 5pm", "c1", "q1", "In Progress", 3, "r1", -8 * H, -7 * H, -7.5 * H, 5 * H),
    (
        "Firewall firmware upgrade",
        "c3",
        "q2",
        "Waiting Customer",
        4,
        "r2",
        -6 * D,
        -6 * D + 8 * H,
        -6 * D + 1 * H,
        4 * D,
    ),
    ("Shared drive permissions", "c4", "q1", "New", 3, None, -20, 40, None, 7 * H),
    ("Onboard three new users", "c5", "q3", "In Progress", 3, "r3", -2 * D, -2 * D + 4 * H, -2 * D + 2 * H, 1 * D),
    (
        "Outlook crashes when opening calendar attachments sent from external partners",
        "c2",
        "q1",
        "In Progress",
        3,
        "r4",
        -26 * H,
        -25 * H,
        -25.5 * H,
        90,
    ),
    ("Replace UPS battery", "c1", "q2", "New", 4, None, -10 * D, -10 * D + 8 * H, -10 * D + 4 * H, None),
    ("Teams meeting room display", "c3", "q1", "Escalate", 2, "r1", -3 * H, -2 * H, None, 2 * H),
    ("Laptop won't charge", "c5", "q1", "New", 2, "r2", -15, 45, None, 4 * H),
]
# (title, company, queue, rank, assignee, created, fr at, resolved, completed)
CLOSED = [
    ("Mailbox full", "c1", "q1", 3, "r1", -3 * D, -3 * D + 20, -3 * D + 2 * H, -3 * D + 2 * H),
    ("Reset MFA", "c2", "q1", 2, "r2", -2 * D, -2 * D + 90, -2 * D + 3 * H, -2 * D + 3 * H),
    ("Install Adobe Reader", "c3", "q1", 4, "r3", -5 * D, -5 * D + 30, -4 * D, -4 * D),
    ("Printer driver", "c5", "q1", 4, "r4", -8 * D, -8 * D + 60, -7 * D, -7 * D),
    ("Domain renewal", "c1", "q2", 3, "r1", -12 * D, -12 * D + 60, -11 * D, -11 * D),
    ("Server patching window", "c2", "q2", 2, "r2", -20 * D, -20 * D + 60, -19 * D, -19 * D),
    ("Guest Wi-Fi password", "c3", "q1", 4, "r3", -1 * D, -1 * D + 15, -1 * D + 60, -1 * D + 60),
    ("Archive old projects share", "c4", "q2", 4, "r4", -15 * D, -15 * D + 600, -14 * D, -14 * D),
]


def ticket_records():
    tickets, events = [], []
    for n, (title, company, queue, status, rank, who, created, fr_due, fr_at, res_due) in enumerate(OPEN, start=1):
        tid = f"t{n}"
        tickets.append(
            {
                "id": tid,
                "number": f"T20260301.{n:04d}",
                "title": title,
                "company_id": company,
                "queue_id": queue,
                "status": status,
                "is_closed": False,
                "priority": PRIORITIES[rank],
                "priority_rank": rank,
                "issue_type": ["Network", "Email", "Hardware", "Software"][n % 4],
                "sub_issue_type": None,
                "assigned_resource_id": who,
                "created_at": at(created),
                "first_response_due": at(fr_due) if fr_due is not None else None,
                "first_response_at": at(fr_at) if fr_at is not None else None,
                "resolution_due": at(res_due) if res_due is not None else None,
                "sla_name": "Standard",
                "last_activity_at": at(min(created + 30, -5)),
                "url": f"https://psa.example/tickets/{1000 + n}",
            }
        )
        events.append(
            {
                "id": f"e{n}a",
                "ticket_id": tid,
                "at": at(created),
                "field": "status",
                "old_value": None,
                "new_value": "New",
            }
        )
        if status != "New":
            events.append(
                {
                    "id": f"e{n}b",
                    "ticket_id": tid,
                    "at": at(created + 20),
                    "field": "status",
                    "old_value": "New",
                    "new_value": status,
                }
            )
        if status == "Escalate":
            tickets[-1]["escalated_at"] = at(created + 20)
            events.append(
                {
                    "id": f"e{n}c",
                    "ticket_id": tid,
                    "at": at(created + 20),
                    "field": "escalation",
                    "old_value": "0",
                    "new_value": "1",
                }
            )
    for n, (title, company, queue, rank, who, created, fr_at, resolved, completed) in enumerate(CLOSED, start=101):
        tid = f"t{n}"
        tickets.append(
            {
                "id": tid,
                "number": f"T20260201.{n:04d}",
                "title": title,
                "company_id": company,
                "queue_id": queue,
                "status": "Complete",
                "is_closed": True,
                "priority": PRIORITIES[rank],
                "priority_rank": rank,
                "issue_type": "Software",
                "assigned_resource_id": who,
                "created_at": at(created),
                "first_response_due": at(created + 60),
                "first_response_at": at(fr_at),
                "resolution_due": at(created + 8 * H),
                "resolved_at": at(resolved),
                "completed_at": at(completed),
                "sla_name": "Standard",
                "last_activity_at": at(completed),
                "url": f"https://psa.example/tickets/{1000 + n}",
            }
        )
        events.append(
            {
                "id": f"e{n}z",
                "ticket_id": tid,
                "at": at(completed),
                "field": "status",
                "old_value": "In Progress",
                "new_value": "Complete",
            }
        )
    return tickets, events


def time_records():
    entries, n = [], 0
    # This week began Monday 2026-03-09 00:00 UTC; last week Monday 2026-03-02.
    plan = [  # (resource, ticket or None, day offset from now, hours, billable, category)
        ("r1", "t2", -1, 1.5, True, "Remote support"),
        ("r1", "t6", -1, 2.0, True, "Onsite"),
        ("r1", None, 0, 1.0, False, "Admin"),
        ("r2", "t3", -1, 3.0, True, "Remote support"),
        ("r2", "t7", 0, 2.5, True, "Remote support"),
        ("r3", "t9", -1, 4.0, True, "Onsite"),
        ("r3", None, -1, 2.0, False, "Training"),
        ("r4", "t5", -1, 1.0, True, "Remote support"),
        ("r1", "t101", -7, 6.0, True, "Remote support"),
        ("r1", None, -6, 2.0, False, "Admin"),
        ("r2", "t102", -7, 7.0, True, "Remote support"),
        ("r3", "t103", -6, 5.0, True, "Onsite"),
        ("r4", "t104", -7, 3.0, True, "Remote support"),
        ("r2", "t102", -7, 1.0, True, "Remote support"),
    ]
    for who, ticket, offset, hours, billable, category in plan:
        n += 1
        entries.append(
            {
                "id": f"te{n}",
                "resource_id": who,
                "ticket_id": ticket,
                "started_at": at(offset * D - 2 * H),
                "hours": hours,
                "billable": billable,
                "category": category,
            }
        )
    timesheets = [
        {
            "id": "ts1",
            "resource_id": "r1",
            "period_start": day(-8),
            "period_end": day(-2),
            "status": "Approved",
            "submitted_at": at(-1 * D),
        },
        {"id": "ts2", "resource_id": "r4", "period_start": day(-8), "period_end": day(-2), "status": "Open"},
        {"id": "ts3", "resource_id": "r3", "period_start": day(-8), "period_end": day(-2), "status": "Rejected"},
    ]
    return entries, timesheets


def sales_records():
    opportunities = [
        {
            "id": "o1",
            "title": "Managed backup for Acme",
            "company_id": "c1",
            "owner_resource_id": "r1",
            "stage": "Qualify",
            "stage_rank": 1,
            "stage_entered_at": at(-10 * D),
            "amount": 12000,
        },
        {
            "id": "o2",
            "title": "Network refresh",
            "company_id": "c2",
            "owner_resource_id": "r2",
            "stage": "Qualify",
            "stage_rank": 1,
            "stage_entered_at": at(-20 * D),
            "amount": 30000,
        },
        {
            "id": "o3",
            "title": "M365 migration",
            "company_id": "c3",
            "owner_resource_id": "r1",
            "stage": "Propose",
            "stage_rank": 2,
            "stage_entered_at": at(-35 * D),
            "amount": 18000,
        },
        {
            "id": "o4",
            "title": "Security awareness",
            "company_id": "c5",
            "owner_resource_id": "r2",
            "stage": "Negotiate",
            "stage_rank": 3,
            "stage_entered_at": at(-50 * D),
            "amount": 6000,
        },
        {
            "id": "o5",
            "title": "Helpdesk contract",
            "company_id": "c1",
            "owner_resource_id": "r1",
            "stage": "Closed",
            "stage_rank": 4,
            "status": "won",
            "amount": 24000,
            "closed_on": day(-5),
            "win_reason": "Price",
        },
        {
            "id": "o6",
            "title": "Phone system",
            "company_id": "c2",
            "owner_resource_id": "r2",
            "stage": "Closed",
            "stage_rank": 4,
            "status": "won",
            "amount": 8000,
            "closed_on": day(-2),
            "win_reason": "Relationship",
        },
        {
            "id": "o7",
            "title": "Cloud desktops",
            "company_id": "c3",
            "owner_resource_id": "r1",
            "stage": "Closed",
            "stage_rank": 4,
            "status": "lost",
            "amount": 15000,
            "closed_on": day(-3),
            "loss_reason": "Competitor",
        },
    ]
    stage_changes = [
        {"id": "sc1", "opportunity_id": "o3", "stage": "Qualify", "entered_at": at(-60 * D)},
        {"id": "sc2", "opportunity_id": "o3", "stage": "Propose", "entered_at": at(-35 * D)},
    ]
    contracts = [
        {
            "id": "k1",
            "company_id": "c1",
            "name": "Acme managed services",
            "number": "MS-001",
            "type": "Recurring Service",
            "period_type": "Monthly",
            "start_date": day(-345),
            "end_date": day(20),
        },
        {
            "id": "k2",
            "company_id": "c2",
            "name": "Brightwater block hours",
            "number": "BH-014",
            "type": "Block Hours",
            "period_type": "Yearly",
            "start_date": day(-315),
            "end_date": day(50),
        },
        {
            "id": "k3",
            "company_id": "c3",
            "name": "Castle backup",
            "number": "BK-007",
            "type": "Recurring Service",
            "period_type": "Monthly",
            "start_date": day(-285),
            "end_date": day(80),
        },
        {
            "id": "k4",
            "company_id": "c5",
            "name": "Delta support",
            "number": "SP-003",
            "type": "Time and Materials",
            "period_type": "Monthly",
            "start_date": day(-100),
            "end_date": day(200),
        },
    ]
    surveys = [
        {"id": f"s{n}", "ticket_id": ticket, "company_id": company, "completed_at": at(-offset * D), "rating": rating}
        for n, (ticket, company, offset, rating) in enumerate(
            [
                ("t101", "c1", 3, 5),
                ("t102", "c2", 2, 4),
                ("t103", "c3", 4, 2),
                ("t104", "c5", 7, 5),
                ("t105", "c1", 11, 1),
                ("t107", "c3", 1, 4),
            ],
            start=1,
        )
    ]
    projects = [
        {
            "id": "p1",
            "name": "Acme office move",
            "company_id": "c1",
            "status": "In Progress",
            "category": "Infrastructure",
            "start_date": day(-60),
            "end_date": day(-5),
            "estimated_hours": 40,
            "actual_hours": 55,
            "percent_complete": 80,
        },
        {
            "id": "p2",
            "name": "Castle M365 rollout",
            "company_id": "c3",
            "status": "In Progress",
            "category": "Cloud",
            "start_date": day(-30),
            "end_date": day(30),
            "estimated_hours": 60,
            "actual_hours": 70,
            "percent_complete": 60,
        },
        {
            "id": "p3",
            "name": "Delta Wi-Fi survey",
            "company_id": "c5",
            "status": "In Progress",
            "category": "Infrastructure",
            "start_date": day(-10),
            "end_date": day(40),
            "estimated_hours": 20,
            "actual_hours": 4,
            "percent_complete": 30,
        },
    ]
    return opportunities, stage_changes, contracts, surveys, projects


def main() -> None:
    tickets, events = ticket_records()
    entries, timesheets = time_records()
    opportunities, stage_changes, contracts, surveys, projects = sales_records()
    files = {
        "companies": companies,
        "resources": resources,
        "queues": queues,
        "projects": projects,
        "tickets": tickets,
        "ticket_events": events,
        "timesheets": timesheets,
        "time_entries": entries,
        "opportunities": opportunities,
        "opportunity_stage_changes": stage_changes,
        "contracts": contracts,
        "survey_results": surveys,
    }
    for name, records in files.items():
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps({k: v for k, v in record.items() if v is not None}) + "\n")


if __name__ == "__main__":
    main()
