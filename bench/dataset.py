"""A large MSP's three years of history, drawn deterministically with numpy.

The shapes follow a real service desk closely enough for honest query plans: ticket
volume grows over time and follows the working week and day, priorities carry SLA
windows (some missed), the open backlog is mostly recent with an old tail, a few per cent
of tickets are escalated or reopened, technicians log many short entries on tickets plus
project and internal time, and every row's references point at real rows.
Times are int64 epoch seconds (UTC), dates int64 epoch days; ids are 1-based row numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime

import numpy as np

from bench.columns import Table

DAY = 86_400
HOUR = 3_600
YEARS = 3

STATUSES = ["New", "In Progress", "Waiting Customer", "Waiting Vendor", "Scheduled", "On Hold", "Escalate", "Complete"]
NEW, IN_PROGRESS, ESCALATE, COMPLETE = 0, 1, 6, 7
PRIORITIES = ["Critical", "High", "Medium", "Low"]  # rank 1..4
PRIORITY_SHARE = [0.03, 0.15, 0.57, 0.25]
FIRST_RESPONSE_HOURS = np.array([0.25, 1.0, 4.0, 8.0])
RESOLUTION_HOURS = np.array([4.0, 8.0, 24.0, 72.0])
ESCALATION_CHANCE = np.array([0.15, 0.08, 0.03, 0.015])
QUEUES = [
    "Service Desk",
    "Monitoring Alerts",
    "Level 2",
    "Network",
    "Security",
    "Onboarding",
    "Procurement",
    "Projects",
    "Billing",
    "After Hours",
    "Triage",
    "Escalations",
]
QUEUE_SHARE = [0.40, 0.15, 0.12, 0.06, 0.05, 0.04, 0.04, 0.04, 0.03, 0.03, 0.03, 0.01]
ISSUE_TYPES = {
    "Hardware": ["Laptop", "Desktop", "Peripheral"],
    "Software": ["Install", "Licensing", "Crash"],
    "Network": ["Connectivity", "VPN", "Wi-Fi"],
    "Email": ["Mailbox", "Spam", "Delivery"],
    "Security": ["Phishing", "Malware", "MFA"],
    "Account/Access": ["Password reset", "New user", "Permissions"],
    "Printing": ["Driver", "Jam", "Scan to email"],
    "Backup": ["Failed job", "Restore request", "Capacity"],
    "Monitoring Alert": ["Disk space", "Service down", "High CPU"],
    "Other": ["How-to", "Request", "General"],
}
ISSUE_SHARE = [0.12, 0.16, 0.10, 0.12, 0.06, 0.14, 0.06, 0.05, 0.14, 0.05]
TITLES = [
    "Cannot log in",
    "Outlook keeps asking for password",
    "Printer offline",
    "VPN drops every hour",
    "New starter on Monday",
    "Laptop will not boot",
    "Slow network in office",
    "Backup job failed",
    "Disk space low on server",
    "Suspicious email received",
    "Shared drive missing",
    "Teams calls drop",
    "Install software request",
    "Reset MFA device",
    "Wi-Fi not connecting",
    "License renewal",
    "Service stopped on host",
    "Scanner not sending email",
    "Password expired",
    "Phone not syncing mail",
]
ENTRY_CATEGORIES = [
    "Remote support",
    "Onsite support",
    "Phone support",
    "Project work",
    "Admin",
    "Training",
    "Internal meeting",
    "Travel",
]
PROJECT_CATEGORIES = ["Onboarding", "Migration", "Infrastructure", "Security", "Cloud", "Hardware refresh"]
NOTE_KINDS = ["Task Notes", "Internal note", "Resolution"]
NOTE_BODIES = [
    "Called the user; reproduced the fault and collected logs.",
    "Waiting on the vendor's reply before the next step.",
    "Applied the fix remotely; asked the user to confirm.",
    "User confirmed it works. Closing after a day of monitoring.",
]
PROJECT_STATUSES = ["New", "In Progress", "On Hold", "Complete"]
CONTRACT_TYPES = ["Recurring Service", "Block Hours", "Time & Materials", "Retainer"]
PERIOD_TYPES = ["Monthly", "Quarterly", "Yearly"]
CONTRACT_STATUSES = ["Active", "Expired", "Cancelled"]
CONTRACT_CATEGORIES = ["Managed services", "Block hours", "IT support", "Retainers"]  # by CONTRACT_TYPES
TIMESHEET_STATUSES = ["Open", "Submitted", "Approved", "Rejected"]
STAGES = ["Prospect", "Qualified", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
STAGE_PROBABILITY = np.array([10.0, 25.0, 50.0, 75.0, 100.0, 0.0])
OPP_STATUSES = ["open", "won", "lost"]
WIN_REASONS = ["Price", "Relationship", "Service quality", "Bundled offer"]
LOSS_REASONS = ["Price", "Went with competitor", "No decision", "Timing", "Budget"]
OPP_CATEGORIES = ["New business", "Upsell", "Renewal", "Project"]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Robin",
    "Drew",
    "Charlie",
    "Emerson",
    "Finley",
    "Harper",
    "Kendall",
    "Logan",
    "Parker",
    "Reese",
    "Rowan",
    "Sage",
    "Skyler",
    "Tatum",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
]
COMPANY_WORDS = [
    "Acme",
    "Northwind",
    "Bluebird",
    "Summit",
    "Harbor",
    "Cedar",
    "Granite",
    "Maple",
    "Riverside",
    "Oakridge",
    "Silverline",
    "Pioneer",
    "Redwood",
    "Lakeside",
    "Evergreen",
    "Brightside",
    "Ironwood",
    "Westfield",
    "Highland",
    "Crescent",
]
COMPANY_KINDS = [
    "Dental",
    "Legal",
    "Logistics",
    "Accounting",
    "Clinic",
    "Builders",
    "Realty",
    "Foods",
    "Motors",
    "Design",
    "Insurance",
    "Pharmacy",
    "Schools",
    "Hotels",
    "Engineering",
    "Media",
    "Labs",
    "Farms",
    "Trust",
    "Partners",
]
WEEKDAY_WEIGHT = np.array([1.25, 1.1, 1.05, 1.0, 0.9, 0.18, 0.12])  # Monday first


@dataclass(frozen=True)
class Sizes:
    tickets: int = 1_000_000
    open_tickets: int = 20_000
    time_entries: int = 5_000_000
    technicians: int = 300
    companies: int = 2_000
    opportunities: int = 20_000

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        base = cls()
        minimum = {
            "technicians": 8,
            "companies": 20,
            "opportunities": 50,
            "open_tickets": 20,
            "tickets": 200,
            "time_entries": 1000,
        }
        return cls(**{f.name: max(minimum[f.name], round(getattr(base, f.name) * scale)) for f in fields(cls)})


def generate_tables(sizes: Sizes, now: datetime, seed: int = 20261118) -> list[Table]:
    """Every table's rows, in the order references need them."""
    return Builder(sizes, int(now.timestamp()), seed).build()


class Builder:
    def __init__(self, sizes: Sizes, now: int, seed: int):
        self.n = sizes
        self.now = now
        self.rng = np.random.default_rng(seed)
        self.today = now // DAY  # epoch day (UTC)
        self.first_day = self.today - 365 * YEARS + 1
        self.days = self.today - self.first_day + 1
        self.week0 = self.first_day - (self.first_day + 3) % 7  # the Monday on or before the first day
        self.weeks = (self.today - self.week0) // 7 + 1

    def build(self) -> list[Table]:
        tables = [self.companies(), self.resources(), self.queues(), self.projects()]
        tables += [self.tickets(), self.ticket_events(), self.timesheets(), self.time_entries()]
        tables += [self.opportunities(), self.opportunity_stage_changes(), self.contracts(), self.survey_results()]
        tables += [self.billing_items()]  # after the others: its random draws leave the tables above as they were
        tables += [self.ticket_notes()]  # the same, added later
        # Rollups the store keeps at write time, filled from the rows they summarise.
        tables[3].add("actual_hours", "float", np.round(self.project_hours, 2))
        tables[4].add("time_entry_count", "int", self.entries_per_ticket)
        return tables

    # --- helpers ---------------------------------------------------------------------

    def table(self, name: str, rows: int) -> Table:
        table = Table(name, rows)
        table.add("id", "int", np.arange(1, rows + 1))
        table.add("source", "label", np.zeros(rows, dtype=np.int64), labels=["bench"])
        table.add("source_id", "text", make=lambda a, b: [f"{i:08d}" for i in range(a + 1, b + 1)])
        return table

    def weights(self, size: int, sigma: float) -> np.ndarray:
        w = self.rng.lognormal(0.0, sigma, size)
        return w / w.sum()

    def business_days(self, size: int, weekdays_only: bool = False) -> np.ndarray:
        """Epoch days over the three years: busier on weekdays, growing over time."""
        offsets = np.arange(self.days)
        weekday = (self.first_day + offsets + 3) % 7
        w = WEEKDAY_WEIGHT[weekday] * (0.75 + 0.5 * offsets / self.days)
        if weekdays_only:
            w = np.where(weekday < 5, w, 0.0)
        return self.first_day + self.rng.choice(self.days, size=size, p=w / w.sum())

    def time_of_day(self, size: int) -> np.ndarray:
        """Seconds after midnight: mostly office hours, some round the clock."""
        office = self.rng.normal(12.5 * HOUR, 2.6 * HOUR, size)
        anytime = self.rng.uniform(0, DAY, size)
        return np.clip(np.where(self.rng.random(size) < 0.85, office, anytime), 0, DAY - 1).astype(np.int64)

    def not_after_now(self, times: np.ndarray) -> np.ndarray:
        late = times >= self.now
        if late.any():
            day_start = (times[late] // DAY) * DAY
            times[late] = day_start + (self.rng.random(late.sum()) * (self.now - day_start)).astype(np.int64)
        return times

    # --- reference tables ------------------------------------------------------------

    def companies(self) -> Table:
        n = self.n.companies
        t = self.table("companies", n)
        words, kinds = len(COMPANY_WORDS), len(COMPANY_KINDS)

        def names(a, b):
            out = []
            for i in range(a, b):
                name = f"{COMPANY_WORDS[i % words]} {COMPANY_KINDS[(i // words) % kinds]}"
                out.append(name if i < words * kinds else f"{name} {i // (words * kinds) + 1}")
            return out

        t.add("name", "text", make=names)
        t.add("number", "text", make=lambda a, b: [f"C{i:05d}" for i in range(a + 1, b + 1)])
        t.add("active", "bool", self.rng.random(n) < 0.97)
        self.company_weight = self.weights(n, 1.2)
        self.premium = self.rng.random(n) < 0.2
        return t

    def resources(self) -> Table:
        n = self.n.technicians
        t = self.table("resources", n)
        firsts, lasts = len(FIRST_NAMES), len(LAST_NAMES)

        def person(i):
            name = f"{FIRST_NAMES[i % firsts]} {LAST_NAMES[(i // firsts) % lasts]}"
            return name if i < firsts * lasts else f"{name} {i // (firsts * lasts) + 1}"

        self.resource_names = [person(i) for i in range(n)]
        t.add("name", "text", make=lambda a, b: self.resource_names[a:b])
        t.add("email", "text", make=lambda a, b: [f"tech{i:04d}@msp.example" for i in range(a + 1, b + 1)])
        t.add("active", "bool", np.ones(n, dtype=bool))
        t.add("weekly_hours", "float", np.where(self.rng.random(n) < 0.1, 32.0, 40.0))
        t.add("hourly_cost", "float", np.round(self.rng.uniform(35, 75, n), 2))
        self.resource_weight = self.weights(n, 0.35)
        return t

    def queues(self) -> Table:
        t = self.table("queues", len(QUEUES))
        t.add("name", "label", np.arange(len(QUEUES)), labels=QUEUES)
        return t

    def projects(self) -> Table:
        n = max(10, round(self.n.companies * 1.5))
        t = self.table("projects", n)
        start = self.business_days(n, weekdays_only=True)
        end = start + self.rng.integers(20, 200, n)
        late = self.rng.random(n) < 0.25  # ran or is running past its end date
        finished = end + np.where(late, self.rng.integers(5, 90, n), 0)
        is_closed = finished < self.today
        status = np.where(is_closed, 3, self.rng.choice(3, n, p=[0.1, 0.8, 0.1]))
        estimated = np.round(self.rng.lognormal(math.log(80), 0.8, n))
        self.project_start, self.project_until = start, np.minimum(finished, self.today)
        self.project_closed, self.project_estimated = is_closed, estimated
        # Entries go to projects in proportion to their size and how much of them has run.
        run = (self.project_until - start + 1) / (finished - start + 1)
        weight = estimated * run * self.rng.lognormal(0, 0.3, n)
        self.project_weight = weight / weight.sum()
        t.add("name", "text", make=lambda a, b: [f"{PROJECT_CATEGORIES[i % 6]} project {i + 1}" for i in range(a, b)])
        t.add("company_id", "int", self.rng.choice(self.n.companies, n, p=self.company_weight) + 1)
        t.add("status", "label", status, labels=PROJECT_STATUSES)
        t.add("is_closed", "bool", is_closed)
        t.add("category", "label", self.rng.integers(0, len(PROJECT_CATEGORIES), n), labels=PROJECT_CATEGORIES)
        t.add("start_date", "date", start)
        t.add("end_date", "date", end)
        t.add("estimated_hours", "float", estimated, null=self.rng.random(n) < 0.05)
        elapsed = np.clip((self.today - start) / np.maximum(end - start, 1), 0, 1)
        percent = np.where(is_closed, 100.0, np.round(np.clip(elapsed * self.rng.uniform(0.6, 1.15, n), 0, 0.99) * 100))
        t.add("percent_complete", "float", percent)
        return t  # actual_hours is added once the time entries exist

    # --- tickets -----------------------------------------------------------------------

    def tickets(self) -> Table:
        n, rng, now = self.n.tickets, self.rng, self.now
        created = np.sort(self.not_after_now(self.business_days(n) * DAY + self.time_of_day(n)))
        rank0 = rng.choice(4, n, p=PRIORITY_SHARE)
        has_sla = rng.random(n) < 0.92
        fr_window = (FIRST_RESPONSE_HOURS[rank0] * HOUR).astype(np.int64)
        res_window = (RESOLUTION_HOURS[rank0] * HOUR).astype(np.int64)
        fr_delay = np.maximum(60, rng.lognormal(np.log(0.35 * fr_window), 0.9)).astype(np.int64)
        res_delay = np.maximum(fr_delay + 300, rng.lognormal(np.log(0.45 * res_window), 1.0)).astype(np.int64)
        close_delay = res_delay + np.where(rng.random(n) < 0.3, rng.exponential(20 * HOUR, n), 0).astype(np.int64)

        # The open backlog: mostly the last days' tickets, with a tail of old ones.
        age_days = (now - created) / DAY
        w = np.exp(-age_days / 7) + 0.03 * np.exp(-age_days / 120) + 0.0005
        keys = np.log(rng.random(n)) / w  # weighted sampling without replacement (Efraimidis-Spirakis)
        is_open = np.zeros(n, dtype=bool)
        is_open[np.argpartition(-keys, self.n.open_tickets - 1)[: self.n.open_tickets]] = True
        closed = ~is_open

        # A closed ticket cannot finish after now: squeeze its timeline into the time it had.
        room = np.maximum(now - 60 - created, 0)
        squeeze = np.where(closed & (close_delay > room), room / np.maximum(close_delay, 1), 1.0)
        fr_delay = (fr_delay * squeeze).astype(np.int64)
        res_delay = (res_delay * squeeze).astype(np.int64)
        close_delay = (close_delay * squeeze).astype(np.int64)
        forgotten = is_open & (rng.random(n) < 0.03)
        responded = closed | ((created + fr_delay < now) & ~forgotten)
        first_response = created + fr_delay
        completed = created + close_delay
        end = np.where(closed, completed, now)

        escalated = rng.random(n) < ESCALATION_CHANCE[rank0]
        escalated_at = created + (rng.uniform(0.05, 0.6, n) * (end - created)).astype(np.int64)
        level = np.where(escalated, np.where(rng.random(n) < 0.25, 2, 1), 0)

        open_status = rng.choice([1, 2, 3, 4, 5], n, p=[0.5, 0.22, 0.08, 0.12, 0.08])
        open_status = np.where(escalated & (rng.random(n) < 0.8), ESCALATE, open_status)
        status = np.where(closed, COMPLETE, np.where(responded, open_status, NEW))

        queue = rng.choice(len(QUEUES), n, p=QUEUE_SHARE)
        queue = np.where(escalated & (rng.random(n) < 0.4), QUEUES.index("Level 2"), queue)
        company = rng.choice(self.n.companies, n, p=self.company_weight)
        assignee = rng.choice(self.n.technicians, n, p=self.resource_weight)
        unassigned = is_open & (rng.random(n) < np.where(status == NEW, 0.6, 0.05))
        issue = rng.choice(len(ISSUE_TYPES), n, p=ISSUE_SHARE)
        sub_issue = issue * 3 + rng.integers(0, 3, n)
        last_touch = np.maximum.reduce(
            [created, np.where(responded, first_response, 0), np.where(escalated, escalated_at, 0)]
        )
        last_activity = np.where(
            closed, completed, last_touch + (rng.random(n) * 0.5 * (now - last_touch)).astype(np.int64)
        )

        day_of = created // DAY
        seq = np.arange(n) - np.searchsorted(day_of, day_of, side="left") + 1
        day_text = np.datetime_as_string(np.arange(self.first_day, self.today + 1).astype("datetime64[D]"), unit="D")
        day_text = [d.replace("-", "") for d in day_text.tolist()]
        first_day = self.first_day

        t = self.table("tickets", n)
        t.add(
            "number",
            "text",
            make=lambda a, b: [
                f"T{day_text[d - first_day]}.{s:04d}" for d, s in zip(day_of[a:b].tolist(), seq[a:b].tolist())
            ],
        )
        t.add("title", "label", rng.integers(0, len(TITLES), n), labels=TITLES)
        t.add("company_id", "int", company + 1)
        t.add("queue_id", "int", queue + 1)
        t.add("status", "label", status, labels=STATUSES)
        t.add("is_closed", "bool", closed)
        t.add("priority", "label", rank0, labels=PRIORITIES)
        t.add("priority_rank", "int", rank0 + 1)
        t.add("issue_type", "label", issue, labels=list(ISSUE_TYPES))
        t.add("sub_issue_type", "label", sub_issue, labels=[s for subs in ISSUE_TYPES.values() for s in subs])
        t.add("assigned_resource_id", "int", assignee + 1, null=unassigned)
        t.add("created_at", "time", created)
        t.add("first_response_due", "time", created + fr_window, null=~has_sla)
        t.add("first_response_at", "time", first_response, null=~responded)
        t.add("resolution_due", "time", created + res_window, null=~has_sla)
        t.add("resolved_at", "time", created + res_delay, null=is_open)
        t.add("completed_at", "time", completed, null=is_open)
        t.add(
            "sla_name",
            "label",
            self.premium[company].astype(np.int64),
            null=~has_sla,
            labels=["Standard SLA", "Premium SLA"],
        )
        t.add("escalation_level", "int", level)
        t.add("escalated_at", "time", escalated_at, null=~escalated)
        t.add("last_activity_at", "time", last_activity)

        self.t_created, self.t_end, self.t_closed, self.t_completed = created, end, closed, completed
        self.t_responded, self.t_first_response = responded, first_response
        self.t_escalated, self.t_escalated_at = escalated, escalated_at
        self.t_rank0, self.t_company = rank0, company
        self.t_assignee, self.t_unassigned = assignee, unassigned
        return t

    def ticket_events(self) -> Table:
        """Status transitions (responded, escalated, completed, reopened), priority and assignee changes."""
        rng, n = self.rng, self.n.tickets
        created, span = self.t_created, self.t_end - self.t_created
        values = STATUSES + PRIORITIES + self.resource_names
        prio, person = len(STATUSES), len(STATUSES) + len(PRIORITIES)
        FIELDS = ["status", "priority", "assignee"]
        parts = []  # (ticket index, at, field, old, new)

        def add(mask, at, field, old, new):
            idx = np.flatnonzero(mask)
            full = lambda v: np.broadcast_to(v, n)[idx]  # noqa: E731
            parts.append((idx, full(at), np.full(len(idx), field), full(old), full(new)))

        add(self.t_responded, self.t_first_response, 0, NEW, IN_PROGRESS)
        add(self.t_escalated, self.t_escalated_at, 0, IN_PROGRESS, ESCALATE)
        add(self.t_closed, self.t_completed, 0, np.where(self.t_escalated, ESCALATE, IN_PROGRESS), COMPLETE)
        reopened = np.where(self.t_closed, rng.random(n) < 0.025, (rng.random(n) < 0.03) & (span > 2 * HOUR))
        add(reopened, created + span // 2, 0, IN_PROGRESS, COMPLETE)
        add(reopened, created + (span * 6) // 10, 0, COMPLETE, IN_PROGRESS)
        reprioritised = rng.random(n) < 0.06
        other_rank = (self.t_rank0 + rng.integers(1, 4, n)) % 4
        add(reprioritised, created + span // 10, 1, prio + other_rank, prio + self.t_rank0)
        reassigned = ~self.t_unassigned & (rng.random(n) < 0.25)
        other_person = (self.t_assignee + rng.integers(1, self.n.technicians, n)) % self.n.technicians
        add(reassigned, created + span // 5, 2, person + other_person, person + self.t_assignee)

        ticket, at, field, old, new = (np.concatenate(p) for p in zip(*parts))
        order = np.argsort(at, kind="stable")
        t = self.table("ticket_events", len(order))
        t.add("ticket_id", "int", ticket[order] + 1)
        t.add("at", "time", at[order])
        t.add("field", "label", field[order], labels=FIELDS)
        t.add("old_value", "label", old[order], labels=values)
        t.add("new_value", "label", new[order], labels=values)
        return t

    def ticket_notes(self) -> Table:
        """Two notes on every open ticket and on one closed ticket in ten (the ones a detail is
        opened on), by the assignee (or a contact on an unassigned ticket), during its life."""
        rng, n = self.rng, self.n.tickets
        noted = np.flatnonzero(~self.t_closed | (rng.random(n) < 0.1))
        ticket = np.repeat(noted, 2)
        k = len(ticket)
        span = (self.t_end - self.t_created)[ticket]
        at = self.t_created[ticket] + (rng.random(k) * span).astype(np.int64)
        people = self.resource_names + ["Customer contact"]
        author = np.where(self.t_unassigned[ticket], len(people) - 1, self.t_assignee[ticket])
        t = self.table("ticket_notes", k)
        t.add("ticket_id", "int", ticket + 1)
        t.add("created_at", "time", self.not_after_now(at))
        t.add("author", "label", author, labels=people)
        t.add("kind", "label", rng.integers(0, len(NOTE_KINDS), k), labels=NOTE_KINDS)
        t.add("body", "label", rng.integers(0, len(NOTE_BODIES), k), labels=NOTE_BODIES)
        t.add("internal", "bool", rng.random(k) < 0.4)
        return t

    # --- time ----------------------------------------------------------------------------

    def timesheets(self) -> Table:
        """One weekly timesheet (Monday to Sunday) per technician per week."""
        people, weeks = self.n.technicians, self.weeks
        n = people * weeks
        resource = np.repeat(np.arange(people), weeks)
        start = self.week0 + np.tile(np.arange(weeks), people) * 7
        period_end = start + 6
        age = self.today - period_end  # days since the period ended
        r = self.rng.random(n)
        status = np.where(
            age > 14, np.where(r < 0.97, 2, 1), np.where(r < 0.55, 1, np.where(r < 0.8, 2, np.where(r < 0.95, 0, 3)))
        )
        status = np.where(age < 0, 0, status)
        deadline = (period_end + 1) * DAY + 17 * HOUR
        submitted = (period_end + 1) * DAY + (self.rng.random(n) * 2 * DAY).astype(np.int64)
        t = self.table("timesheets", n)
        t.add("resource_id", "int", resource + 1)
        t.add("period_start", "date", start)
        t.add("period_end", "date", period_end)
        t.add("status", "label", status, labels=TIMESHEET_STATUSES)
        t.add("deadline", "time", deadline)
        t.add("submitted_at", "time", np.minimum(submitted, self.now), null=(status == 0) | (status == 3))
        return t

    def time_entries(self) -> Table:
        rng, n_tickets, total = self.rng, self.n.tickets, self.n.time_entries
        # Entries per ticket: about half are fixed at the first touch, the rest take several.
        u = rng.random(n_tickets)
        per_ticket = np.where(u < 0.05, 0, np.where(u < 0.5, 1, 2 + rng.negative_binomial(2, 2 / 7, n_tickets)))
        scale = min(1.0, 0.85 * total / max(per_ticket.sum(), 1))  # keep room for project and internal time
        if scale < 1.0:
            per_ticket = np.floor(per_ticket * scale + rng.random(n_tickets)).astype(np.int64)
        ticket = np.repeat(np.arange(n_tickets), per_ticket)
        k = len(ticket)
        started_t = self.t_created[ticket] + (rng.random(k) * (self.t_end - self.t_created)[ticket]).astype(np.int64)
        own = ~self.t_unassigned[ticket] & (rng.random(k) < 0.8)
        resource_t = np.where(own, self.t_assignee[ticket], rng.choice(self.n.technicians, k, p=self.resource_weight))
        hours_t = np.clip(rng.lognormal(np.log(0.2), 0.7, k), 0.05, 8)
        category_t = rng.choice(3, k, p=[0.75, 0.1, 0.15])
        billable_t = rng.random(k) < 0.7

        # The rest: project work and internal time on working days.
        m = max(total - k, 0)
        on_project = rng.random(m) < 0.45
        project = rng.choice(len(self.project_weight), m, p=self.project_weight)
        p_start, p_until = self.project_start[project], self.project_until[project]
        day = np.where(
            on_project,
            p_start + (rng.random(m) * (p_until - p_start + 1)).astype(np.int64),
            self.business_days(m, True),
        )
        day = np.minimum(day, self.today)
        started_o = self.not_after_now(day * DAY + self.time_of_day(m))
        resource_o = rng.choice(self.n.technicians, m, p=self.resource_weight)
        hours_o = np.clip(rng.lognormal(np.log(0.5), 0.6, m), 0.1, 8)
        category_o = np.where(on_project, 3, rng.choice([4, 5, 6, 7], m, p=[0.55, 0.15, 0.2, 0.1]))
        billable_o = on_project & (rng.random(m) < 0.8)

        started = np.concatenate([started_t, started_o])
        order = np.argsort(started, kind="stable")  # ids follow time, as a sync would see them
        started = started[order]
        resource = np.concatenate([resource_t, resource_o])[order]
        hours = np.round(np.concatenate([hours_t, hours_o]) * 20) / 20  # to the 3 minutes
        hours = np.maximum(hours, 0.05)[order]
        ticket_id = np.concatenate([ticket + 1, np.zeros(m, dtype=np.int64)])[order]
        project_id = np.concatenate([np.zeros(k, dtype=np.int64), np.where(on_project, project + 1, 0)])[order]
        week = (started // DAY - self.week0) // 7
        timesheet_id = resource * self.weeks + week + 1
        self.entries_per_ticket = np.bincount(ticket_id, minlength=n_tickets + 1)[1:]
        self.project_hours = np.bincount(project_id, weights=hours, minlength=len(self.project_weight) + 1)[1:]

        t = self.table("time_entries", len(started))
        t.add("resource_id", "int", resource + 1)
        t.add("ticket_id", "int", ticket_id, null=ticket_id == 0)
        t.add("project_id", "int", project_id, null=project_id == 0)
        t.add("timesheet_id", "int", timesheet_id)
        t.add("started_at", "time", started)
        t.add("hours", "float", hours)
        t.add("billable", "bool", np.concatenate([billable_t, billable_o])[order])
        t.add("category", "label", np.concatenate([category_t, category_o])[order], labels=ENTRY_CATEGORIES)
        return t

    # --- sales, contracts, surveys ------------------------------------------------------------

    def opportunities(self) -> Table:
        rng, n, now = self.rng, self.n.opportunities, self.now
        created = np.sort(self.not_after_now(self.business_days(n, True) * DAY + self.time_of_day(n)))
        duration = (rng.lognormal(np.log(35), 0.8, n) * DAY).astype(np.int64)
        closes = created + duration
        is_open = closes > now
        won = ~is_open & (rng.random(n) < 0.35)
        reached = rng.choice(4, n, p=[0.35, 0.3, 0.2, 0.15])  # last working stage (0-based)
        reached = np.where(won, 3, reached)
        final = np.where(is_open, reached, np.where(won, 4, 5))
        changes = reached + 1 + (~is_open)  # stages entered, the closing one included
        # Stage k (0-based, in the order entered) is entered at created + span * k / changes.
        span = np.where(is_open, now - created, duration)
        opp = np.repeat(np.arange(n), changes)
        k = np.arange(len(opp)) - np.repeat(np.cumsum(changes) - changes, changes)
        last = k == changes[opp] - 1
        stage = np.where(last, final[opp], k)
        frac = k / np.where(is_open, changes, changes - 1)[opp]
        entered = created[opp] + (frac * span[opp]).astype(np.int64)
        entered = np.minimum(entered, now)
        self.stage_changes = (opp, stage, entered)
        stage_entered = entered[np.cumsum(changes) - 1]

        status = np.where(is_open, 0, np.where(won, 1, 2))
        owners = max(3, self.n.technicians // 25)
        t = self.table("opportunities", n)
        t.add("title", "text", make=lambda a, b: [f"{OPP_CATEGORIES[i % 4]} deal {i + 1}" for i in range(a, b)])
        t.add("company_id", "int", rng.choice(self.n.companies, n, p=self.company_weight) + 1)
        t.add("owner_resource_id", "int", rng.integers(0, owners, n) + 1)
        t.add("stage", "label", final, labels=STAGES)
        t.add("stage_rank", "int", final + 1)
        t.add("stage_entered_at", "time", stage_entered)
        t.add("status", "label", status, labels=OPP_STATUSES)
        t.add("amount", "float", np.round(rng.lognormal(np.log(6000), 1.0, n) / 50) * 50)
        t.add("probability", "float", STAGE_PROBABILITY[final])
        t.add("expected_close", "date", (created + (rng.lognormal(np.log(30), 0.5, n) * DAY).astype(np.int64)) // DAY)
        t.add("closed_on", "date", closes // DAY, null=is_open)
        t.add("win_reason", "label", rng.integers(0, len(WIN_REASONS), n), null=~won, labels=WIN_REASONS)
        t.add("loss_reason", "label", rng.integers(0, len(LOSS_REASONS), n), null=status != 2, labels=LOSS_REASONS)
        t.add("category", "label", rng.integers(0, len(OPP_CATEGORIES), n), labels=OPP_CATEGORIES)
        t.add("created_at", "time", created)
        return t

    def opportunity_stage_changes(self) -> Table:
        opp, stage, entered = self.stage_changes
        t = self.table("opportunity_stage_changes", len(opp))
        t.add("opportunity_id", "int", opp + 1)
        t.add("stage", "label", stage, labels=STAGES)
        t.add("entered_at", "time", entered)
        return t

    def contracts(self) -> Table:
        rng = self.rng
        per_company = rng.integers(1, 5, self.n.companies)
        company = np.repeat(np.arange(self.n.companies), per_company)
        n = len(company)
        start = self.today - rng.integers(10, 4 * 365, n)
        end = start + 365 * rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2]) - 1
        open_ended = rng.random(n) < 0.08
        cancelled = rng.random(n) < 0.05
        status = np.where(cancelled, 2, np.where(~open_ended & (end < self.today), 1, 0))
        kind = rng.choice(len(CONTRACT_TYPES), n, p=[0.5, 0.2, 0.2, 0.1])
        start_year = start.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        t = self.table("contracts", n)
        t.add("company_id", "int", company + 1)
        t.add(
            "name",
            "text",
            make=lambda a, b: [
                f"{CONTRACT_TYPES[c]} {y}" for c, y in zip(kind[a:b].tolist(), start_year[a:b].tolist())
            ],
        )
        t.add("number", "text", make=lambda a, b: [f"CT-{i:06d}" for i in range(a + 1, b + 1)])
        t.add("type", "label", kind, labels=CONTRACT_TYPES)
        t.add("period_type", "label", rng.choice(3, n, p=[0.7, 0.1, 0.2]), labels=PERIOD_TYPES)
        t.add("start_date", "date", start)
        t.add("end_date", "date", end, null=open_ended)
        t.add("status", "label", status, labels=CONTRACT_STATUSES)
        value = np.round(rng.lognormal(np.log(1500), 0.7, n), 2)
        t.add("monthly_value", "float", value)
        # Seats and category from what is drawn above (no new draws: the later tables stay as they were).
        t.add("seats", "float", np.maximum(np.round(value / 60.0), 1.0), null=kind != 0)
        t.add("category", "label", kind, labels=CONTRACT_CATEGORIES)
        self.c_company, self.c_start, self.c_value, self.c_kind = company, start, value, kind
        return t

    def billing_items(self) -> Table:
        """Each Recurring Service contract's charge for its last three months (flagged recurring)
        and product sales, two per company a year on average."""
        rng = self.rng
        recurring = np.flatnonzero(self.c_kind == 0)
        months = np.arange(3)
        r_contract = np.repeat(recurring, len(months))
        r_day = self.today - 30 * np.tile(months, len(recurring))
        products = 2 * self.n.companies
        p_company = rng.integers(0, self.n.companies, products)
        p_day = self.today - rng.integers(0, 365, products)
        p_price = np.round(rng.lognormal(np.log(900), 0.6, products), 2)
        n = len(r_contract) + products
        day = np.concatenate([r_day, p_day])
        order = np.argsort(day, kind="stable")
        company = np.concatenate([self.c_company[r_contract], p_company])[order]
        t = self.table("billing_items", n)
        t.add("company_id", "int", company + 1)
        contract = np.concatenate([r_contract + 1, np.zeros(products, dtype=np.int64)])[order]
        t.add("contract_id", "int", contract, null=contract == 0)
        t.add("item_date", "date", day[order])
        is_recurring = np.concatenate([np.ones(len(r_contract), bool), np.zeros(products, bool)])[order]
        t.add("item_type", "label", (~is_recurring).astype(np.int64), labels=["Recurring Contract Service", "Product"])
        price = np.concatenate([self.c_value[r_contract], p_price])[order]
        t.add("extended_price", "float", price)
        t.add("our_cost", "float", np.round(price * np.where(is_recurring, 0.12, 0.8), 2))
        t.add("recurring", "bool", is_recurring)
        return t

    def survey_results(self) -> Table:
        rng = self.rng
        answered = np.flatnonzero(self.t_closed & (rng.random(self.n.tickets) < 0.12))
        n = len(answered)
        completed = np.minimum(self.t_completed[answered] + rng.exponential(8 * HOUR, n).astype(np.int64), self.now)
        order = np.argsort(completed, kind="stable")
        t = self.table("survey_results", n)
        t.add("ticket_id", "int", answered[order] + 1)
        t.add("company_id", "int", self.t_company[answered][order] + 1)
        t.add("completed_at", "time", completed[order])
        t.add("rating", "float", rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], n, p=[0.03, 0.04, 0.08, 0.25, 0.60]))
        return t
