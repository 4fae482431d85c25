"""HaloPSA JSON -> the canonical records of store/records.py.

Each function maps one vendor record and leaves checking to the shared validation; only a
record that is not even an object raises ``MappingError``. Halo's dates mostly carry no
zone (they are in the instance's zone, a setting), but one answer can mix zone-less, ``Z``
and offset forms, and "not set" is written as a date in 1900, 0001 or 1899: ``halo_time``
reads all of them, and a sentinel becomes None, never a stored date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from mspkpi_tui.sources.survey_answers import is_nps_question, score
from mspkpi_tui.store.writer import PicklistEntry

# Before this year a Halo date is its "not set" (1900-01-01, 0001-01-01, 1899-12-30).
SENTINEL_BEFORE_YEAR = 1901


UTC_NAMES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")


class MappingError(ValueError):
    pass


def _obj(record: Any) -> dict:
    if not isinstance(record, dict):
        raise MappingError(f"a record must be a JSON object, not {type(record).__name__}")
    return record


def halo_time(value: Any, zone: tzinfo) -> Any:
    """An ISO time with its zone, None for "not set", or the value as it came (then rejected
    by the shared validation with its reason). A zone-less time is in the instance's zone."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) < 10 or not text[:4].isdigit() or text[4] != "-":
        return value  # not a date: the validation says so
    if int(text[:4]) < SENTINEL_BEFORE_YEAR:
        return None
    tail = text[19:]
    if text.endswith(("Z", "z")) or "+" in tail or "-" in tail:
        return text  # it carries its zone: the validation reads it
    if zone is UTC or getattr(zone, "key", None) in UTC_NAMES:  # the usual case, without parsing twice
        return text + "+00:00"
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()
    except ValueError:
        return value


def _id(value: Any) -> str | None:
    """A reference id; Halo writes 0 or -1 for "none"."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int) and value <= 0:
        return None
    return str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- reference data read whole on every run ------------------------------------------


@dataclass
class Status:
    name: str
    closed: bool


@dataclass
class Catalog:
    """Lookups the entity mappings need: statuses, priorities (rows per SLA), the instance's zone."""

    zone: tzinfo
    url: str = ""
    statuses: dict[str, Status] = field(default_factory=dict)
    priorities: dict[tuple[str | None, str], str] = field(default_factory=dict)  # (sla id, priority id) -> name
    priority_rank: dict[str, int] = field(default_factory=dict)  # priority id -> 1 = most urgent
    issue_type_field: str = "category_1"
    won_statuses: set[str] = field(default_factory=lambda: {"won"})  # casefolded
    lost_statuses: set[str] = field(default_factory=lambda: {"lost"})
    nps_question: str = ""  # [clients] nps_question: the feedback custom field with the 0-10 answer

    def __post_init__(self) -> None:
        self.utc = self.zone is UTC or getattr(self.zone, "key", None) in UTC_NAMES

    def time(self, value: Any) -> Any:
        # The usual form, "2026-01-05T08:00:00" in a UTC instance, without any parsing: a first
        # sync reads millions of them (the validation parses each once anyway).
        if self.utc and type(value) is str and len(value) == 19 and value[4] == "-" and value[10] == "T":
            return None if value < "1901" else value + "+00:00"
        return halo_time(value, self.zone)

    def status(self, record: dict) -> Status | None:
        return self.statuses.get(str(record.get("status_id")))

    def priority(self, record: dict) -> tuple[str | None, int]:
        pid = _id(record.get("priorityid", record.get("priority_id")))
        if pid is None:
            return None, 99
        name = self.priorities.get((_id(record.get("sla_id")), pid)) or self.priorities.get((None, pid))
        return name, self.priority_rank.get(pid, 99)


def statuses(records: list[Any], closed_types: set[int]) -> dict[str, Status]:
    """Open or closed by the status's own flag, never by its name. Halo's documents are unclear
    whether that is an ``isclosed`` flag or an integer ``type``: a flag wins when present,
    else the type is looked up in ``closed_types`` (docs/sources.md)."""
    result = {}
    for record in records:
        if not isinstance(record, dict) or record.get("id") is None:
            continue
        flag = record.get("isclosed")
        kind = record.get("type")
        closed = flag if isinstance(flag, bool) else isinstance(kind, int) and kind in closed_types
        result[str(record["id"])] = Status(str(record.get("name") or ""), closed)
    return result


def priorities(records: list[Any]) -> tuple[dict[tuple[str | None, str], str], dict[str, int]]:
    """Halo keeps one priority row per SLA (``slaid`` + ``priorityid``); the label is the row of
    the ticket's SLA, the rank is the priority id's order (1 = P1 = most urgent)."""
    names: dict[tuple[str | None, str], str] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        pid = _id(record.get("priorityid", record.get("id")))
        if pid is None or not record.get("name"):
            continue
        names[(_id(record.get("slaid")), pid)] = str(record["name"])
        names.setdefault((None, pid), str(record["name"]))
    ids = sorted({pid for _sla, pid in names}, key=lambda p: (float(p) if p.replace(".", "").isdigit() else 1e9, p))
    return names, {pid: rank for rank, pid in enumerate(ids, start=1)}


def picklist(records: list[Any]) -> list[PicklistEntry]:
    """Statuses or teams as picklist values (id, name), in Halo's order (`sequence`, else the list's)."""
    entries = []
    for n, r in enumerate(records):
        if isinstance(r, dict) and r.get("id") is not None and r.get("name"):
            sequence = r.get("sequence")
            order = int(sequence) if isinstance(sequence, int | float) and not isinstance(sequence, bool) else n
            active = r.get("inactive") is not True and r.get("isdisabled") is not True
            entries.append(PicklistEntry(str(r["id"]), str(r["name"]), sort_order=order, active=active))
    return entries


def priority_picklist(records: list[Any], ranks: dict[str, int]) -> list[PicklistEntry]:
    """Priorities by name (rows per SLA share a priority id; each name is listed once), most urgent first."""
    entries: dict[str, PicklistEntry] = {}
    for r in records:
        pid = _id(r.get("priorityid", r.get("id"))) if isinstance(r, dict) else None
        if pid is not None and r.get("name"):
            name = str(r["name"])
            entries.setdefault(name.casefold(), PicklistEntry(pid, name, sort_order=ranks.get(pid, 99)))
    return list(entries.values())


# --- entities ------------------------------------------------------------------------


def client(record: Any) -> dict:
    r = _obj(record)
    return {
        "id": r.get("id"),
        "name": r.get("name"),
        "number": r.get("accountsid") or None,
        "active": r.get("inactive") is not True,
    }


def agent(record: Any) -> dict:
    r = _obj(record)
    return {
        "id": r.get("id"),
        "name": r.get("name"),
        "email": r.get("email") or None,
        "active": r.get("isdisabled") is not True and r.get("inactive") is not True,
        "hourly_cost": _number(r.get("costprice")),
    }


def team(record: Any) -> dict:
    """Tickets name their team, not its id: the team's name is the queue's id (docs/sources.md)."""
    r = _obj(record)
    return {"id": r.get("name"), "name": r.get("name")}


def team_key(record: Any) -> str | None:
    name = record.get("name") if isinstance(record, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def category(value: Any) -> tuple[Any, Any]:
    """``Hardware>Purchase`` -> ("Hardware", "Purchase"); the rest of a deeper path stays in the second."""
    if not isinstance(value, str) or not value.strip():
        return None, None
    top, _, rest = value.partition(">")
    return top.strip() or None, rest.strip() or None


def ticket(record: Any, catalog: Catalog) -> dict:
    r = _obj(record)
    status = catalog.status(r)
    closed_at = catalog.time(r.get("dateclosed"))
    is_closed = status.closed if status else closed_at is not None
    priority, rank = catalog.priority(r)
    issue, sub_issue = category(r.get(catalog.issue_type_field))
    no_sla = r.get("excludefromsla") is True
    tid = r.get("id")
    team_name = r.get("team")
    return {
        "id": tid,
        "number": str(tid) if tid is not None else None,
        "title": r.get("summary"),
        "company_id": _id(r.get("client_id")),
        "queue_id": team_name if isinstance(team_name, str) and team_name.strip() else None,
        "status": status.name if status else None,
        "is_closed": is_closed,
        "priority": priority,
        "priority_rank": rank,
        "issue_type": issue,
        "sub_issue_type": sub_issue,
        "assigned_resource_id": _id(r.get("agent_id")),
        "created_at": catalog.time(r.get("dateoccurred")),
        "first_response_due": None if no_sla else catalog.time(r.get("respondbydate")),
        "first_response_at": catalog.time(r.get("responsedate")),
        "resolution_due": None if no_sla else catalog.time(r.get("fixbydate")),
        "resolved_at": closed_at if is_closed else None,
        "completed_at": closed_at if is_closed else None,
        "sla_name": r.get("sla_name") or None,
        "last_activity_at": catalog.time(r.get("lastactiondate")),
        "url": f"{catalog.url}/tickets?id={tid}" if catalog.url and tid is not None else None,
        "description": r.get("details"),
        "contact_name": r.get("user_name") or None,
    }


def action_key(record: Any) -> str | None:
    """An action's source id: Halo numbers actions per ticket, so (ticket, action)."""
    if not isinstance(record, dict) or record.get("id") is None or record.get("ticket_id") is None:
        return None
    return f"{record['ticket_id']}:{record['id']}"


def logs_time(record: Any) -> bool:
    """Only actions with time taken become time entries (the rest are notes and e-mails)."""
    hours = _number(record.get("timetaken")) if isinstance(record, dict) else None
    return hours is not None and hours > 0


def has_note(record: Any) -> bool:
    """An action that says something (a note, an e-mail, a reply) is one of the ticket's notes."""
    note = record.get("note") if isinstance(record, dict) else None
    return note is not None and not (isinstance(note, str) and not note.strip())


def action_note(record: Any, catalog: Catalog) -> dict:
    """An action with a note as a ticket note: who wrote it (``who``, the agent's or the end
    user's name), when, its outcome as the kind, and whether the end user cannot see it."""
    r = _obj(record)
    return {
        "id": action_key(r),
        "ticket_id": _id(r.get("ticket_id")),
        "created_at": catalog.time(r.get("datetime") or r.get("actionarrivaldate")),
        "author": r.get("who") or None,
        "kind": r.get("outcome") or None,
        "body": r.get("note"),
        "internal": r.get("hiddenfromuser") is True,
    }


def action_time_entry(record: Any, catalog: Catalog) -> dict:
    r = _obj(record)
    billable = r.get("actisbillable")
    return {
        "id": action_key(r),
        "resource_id": _id(r.get("who_agentid")),
        "ticket_id": _id(r.get("ticket_id")),
        "started_at": catalog.time(r.get("actionarrivaldate") or r.get("datetime")),
        "hours": r.get("timetaken"),
        "billable": billable is True,
        "category": r.get("outcome") or None,
    }


def timesheet(record: Any, catalog: Catalog) -> dict:
    """Halo's timesheets are per agent per day."""
    r = _obj(record)
    agent_id = _id(r.get("agent_id"))
    day = catalog.time(r.get("date"))
    day_text = day[:10] if isinstance(day, str) else None
    approved = r.get("approved") is True or r.get("approval_status") in (1, "Approved")
    return {
        "id": r.get("id") or (f"{agent_id}:{day_text}" if agent_id and day_text else None),
        "resource_id": agent_id,
        "period_start": day_text,
        "period_end": day_text,
        "status": "Approved" if approved else "Submitted" if r.get("submitted") is True else "Open",
    }


# Months per contract billing period (its name, lower case); anything else is taken as monthly.
PERIOD_MONTHS = {
    "monthly": 1,
    "quarterly": 3,
    "half-yearly": 6,
    "six monthly": 6,
    "annually": 12,
    "annual": 12,
    "yearly": 12,
}


def _monthly(amount: float | None, period: Any) -> float | None:
    months = PERIOD_MONTHS.get(str(period or "monthly").strip().lower(), 1)
    return None if amount is None else round(amount / months, 2)


def contract(record: Any, catalog: Catalog) -> dict:
    """A client contract: ``periodchargeamount`` is the charge per billing period, made monthly
    by ``billing_period``'s name; Halo contracts carry no seat count (seats: no data)."""
    r = _obj(record)
    expired = r.get("expired") is True or r.get("active") is False
    kind = r.get("contracttype_name") or r.get("type") or None
    return {
        "id": r.get("id"),
        "company_id": _id(r.get("client_id")),
        "name": r.get("ref") or r.get("contract_ref") or f"Contract {r.get('id')}",
        "number": r.get("ref") or None,
        "type": r.get("contracttype_name") or r.get("type") or None,
        "period_type": r.get("billing_period") or None,
        "start_date": _day(catalog.time(r.get("start_date"))),
        "end_date": _day(catalog.time(r.get("end_date"))),
        "status": "Expired" if expired else "Active",
        "monthly_value": _monthly(_number(r.get("periodchargeamount")), r.get("billing_period")),
        "category": kind if isinstance(kind, str) else None,
    }


def _lines(record: dict) -> list[dict]:
    lines = record.get("lines")
    return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []


def invoice(record: Any, catalog: Catalog) -> dict:
    """A posted invoice as one billing item: the lines' ``net_amount`` (else the invoice's
    ``total``), our cost = the lines' ``unit_cost x qty_order``. An invoice raised from a
    recurring invoice (``recurringinvoice_id``, or ``recurring_invoice_id``: the spelling is
    not settled) is recurring: the contract's monthly value counts that revenue once."""
    r = _obj(record)
    lines = _lines(r)
    prices = [_number(line.get("net_amount")) for line in lines]
    price: Any = round(sum(p for p in prices if p is not None), 2) if lines else _number(r.get("total"))
    costs = [
        (_number(line.get("unit_cost")), _number(line.get("qty_order")))
        for line in lines
        if _number(line.get("unit_cost")) is not None
    ]
    cost = round(sum(c * (q if q is not None else 1.0) for c, q in costs if c is not None), 2) if costs else None
    recurring = _id(r.get("recurringinvoice_id") or r.get("recurring_invoice_id")) is not None
    posted = r.get("posted") is True
    return {
        "id": r.get("id"),
        "company_id": _id(r.get("client_id")),
        "ticket_id": _id(r.get("faultid") or r.get("ticket_id")),
        "item_date": _day(catalog.time(r.get("invoice_date"))),
        "item_type": "Recurring" if recurring else "Invoice",
        "description": r.get("invoicenumber") or None,
        "extended_price": price,
        "our_cost": cost,
        "recurring": recurring,
        "posted_at": catalog.time(r.get("dateposted")) if posted else None,
    }


def project(record: Any, catalog: Catalog) -> dict:
    r = _obj(record)
    status = catalog.status(r)
    return {
        "id": r.get("id"),
        "name": r.get("summary"),
        "company_id": _id(r.get("client_id")),
        "status": status.name if status else None,
        "is_closed": status.closed if status else catalog.time(r.get("dateclosed")) is not None,
        "category": r.get("tickettype_name") or None,
        "start_date": _day(catalog.time(r.get("startdate") or r.get("dateoccurred"))),
        "end_date": _day(catalog.time(r.get("targetdate") or r.get("deadlinedate"))),
        "estimated_hours": _number(r.get("estimate")),
        "actual_hours": _number(r.get("timetaken")),
        "percent_complete": _number(r.get("percentcomplete")),
    }


def opportunity(record: Any, catalog: Catalog) -> dict:
    r = _obj(record)
    status = catalog.status(r)
    name = status.name if status else None
    folded = (name or "").casefold()
    outcome = (
        "won"
        if folded in catalog.won_statuses
        else "lost"
        if folded in catalog.lost_statuses or (status and status.closed)
        else "open"
    )
    return {
        "id": r.get("id"),
        "title": r.get("summary"),
        "company_id": _id(r.get("client_id")),
        "owner_resource_id": _id(r.get("agent_id")),
        "stage": name,
        "status": outcome,
        "amount": _number(r.get("opportunityvalue")) or 0.0,
        "probability": _number(r.get("opportunityprobability")),
        "expected_close": _day(catalog.time(r.get("targetdate"))),
        "closed_on": _day(catalog.time(r.get("dateclosed"))) if outcome != "open" else None,
        "win_reason": name if outcome == "won" else None,
        "loss_reason": name if outcome == "lost" else None,
        "category": r.get("tickettype_name") or None,
        "created_at": catalog.time(r.get("dateoccurred")),
    }


def feedback(record: Any, catalog: Catalog) -> dict:
    """Customer feedback on a ticket, as a CSAT survey result (Halo's score as it comes). The
    0-10 recommend answer (NPS) is the feedback's custom field named by ``[clients]
    nps_question`` (its name, label or id); without one there is no NPS from Halo."""
    r = _obj(record)
    comment = r.get("comment")
    return {
        "id": r.get("id"),
        "ticket_id": _id(r.get("ticket_id")),
        "company_id": _id(r.get("client_id")),
        "completed_at": catalog.time(r.get("date")),
        "rating": r.get("score"),
        "recommend_score": _recommend(r.get("customfields"), catalog.nps_question),
        "comment": comment if isinstance(comment, str) and comment.strip() else None,
    }


def _recommend(fields: Any, wanted: str) -> float | None:
    if not wanted or not isinstance(fields, list):
        return None
    for f in fields:
        if isinstance(f, dict) and (
            is_nps_question(f.get("name"), f.get("id"), wanted) or is_nps_question(f.get("label"), None, wanted)
        ):
            value = f.get("value")
            return score(value if value not in (None, "") else f.get("display"))
    return None


def _day(value: Any) -> Any:
    return value[:10] if isinstance(value, str) and len(value) >= 10 and value[4] == "-" else value
