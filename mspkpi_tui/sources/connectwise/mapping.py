"""ConnectWise JSON -> the canonical records of store/records.py.

Each function maps one vendor record and leaves checking to the shared validation:
a missing required field or an unparseable date reaches `validate` as it is and is
rejected there with its reason. Only vendor structure that cannot even be read
(a record that is not an object) raises `MappingError` here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from mspkpi_tui.sources.connectwise.sla import PriorityHours, due_times
from mspkpi_tui.sources.labels import two_level
from mspkpi_tui.sources.survey_answers import is_nps_question, score
from mspkpi_tui.store.records import RecordError, parse_datetime

# A ticket charged to these is work for a customer; charge codes and activities are internal.
CUSTOMER_CHARGE_TYPES = {"ServiceTicket", "ProjectTicket"}
# ConnectWise time-sheet statuses -> the store's vocabulary (docs/sources.md).
TIMESHEET_STATUS = {
    "Open": "Open",
    "Rejected": "Rejected",
    "ErrorsCorrected": "Errors corrected",  # corrected after a rejection, not yet re-submitted
    "PendingApproval": "Submitted",
    "PendingTierTwoApproval": "Submitted",
    "ApprovedByTierOne": "Approved",
    "ApprovedByTierTwo": "Approved",
    "RejectBySecondTier": "Rejected",
}


class MappingError(ValueError):
    pass


def _obj(record: Any) -> dict:
    if not isinstance(record, dict):
        raise MappingError(f"a record must be a JSON object, not {type(record).__name__}")
    return record


def ref_id(record: dict, name: str) -> str | None:
    """The id inside a reference object such as ``"company": {"id": 5, "name": ...}``."""
    ref = record.get(name)
    if isinstance(ref, dict) and ref.get("id") is not None:
        return str(ref["id"])
    return None


def ref_name(record: dict, name: str) -> Any:
    ref = record.get(name)
    return ref.get("name") if isinstance(ref, dict) else None


def info(record: dict, name: str) -> Any:
    meta = record.get("_info")
    return meta.get(name) if isinstance(meta, dict) else None


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)
    except RecordError:
        return None


# --- reference data read whole on every run ------------------------------------------


@dataclass
class BoardStatus:
    # escalationStatus (NotResponded, Responded, ...) only names the SLA stage a status
    # moves a ticket to; dateResponded/dateResolved record that already, so it is not kept.
    name: str
    closed: bool


@dataclass
class Catalog:
    """Lookups the entity mappings need: board statuses, priorities, SLAs, sales lists."""

    statuses: dict[str, BoardStatus] = field(default_factory=dict)  # status id -> status
    priority_rank: dict[str, int] = field(default_factory=dict)  # priority id -> 1 = most urgent
    sla_hours: dict[tuple[str, str], PriorityHours] = field(
        default_factory=dict
    )  # (sla id, priority id), 24x7 SLAs only
    opportunity_outcome: dict[str, str] = field(default_factory=dict)  # status id -> open | won | lost
    stage_rank: dict[str, int] = field(default_factory=dict)  # stage id -> order
    web_root: str | None = None  # where the CW web UI's ticket links start (web_root below)


# The codebase a cloud company's web UI lives under when the API has not named one yet.
DEFAULT_CODEBASE = "v4_6_release/"


def web_root(site_url: str, codebase: str | None, company: str) -> str:
    """The start of a ticket's link in the ConnectWise web UI, as the UI itself builds it:
    ``https://na.myconnectwise.net/v4_6_release/services/system_io/Service/fv_sr100_request.rspx
    ?companyName=contoso&service_recid=`` (cloud API hosts are the web hosts with "api-" before them)."""
    parts = urlsplit(site_url)
    host = parts.netloc.removeprefix("api-")
    return (
        f"{parts.scheme}://{host}/{codebase or DEFAULT_CODEBASE}services/system_io/Service/fv_sr100_request.rspx"
        f"?companyName={quote(company, safe='')}&service_recid="
    )


def board_statuses(records: list[Any]) -> dict[str, BoardStatus]:
    result = {}
    for record in records:
        if isinstance(record, dict) and record.get("id") is not None:
            result[str(record["id"])] = BoardStatus(
                name=str(record.get("name") or ""),
                closed=record.get("closedStatus") is True,
            )
    return result


def priority_ranks(records: list[Any]) -> dict[str, int]:
    """Dense rank by sortOrder (lower sortOrder = more urgent in ConnectWise), ties by id."""
    usable = [r for r in records if isinstance(r, dict) and r.get("id") is not None]
    usable.sort(key=lambda r: (_number(r.get("sortOrder"), 10**6), _number(r.get("id"), 0)))
    return {str(r["id"]): rank for rank, r in enumerate(usable, start=1)}


def stage_ranks(records: list[Any]) -> dict[str, int]:
    usable = [r for r in records if isinstance(r, dict) and r.get("id") is not None]
    usable.sort(key=lambda r: (_number(r.get("sequenceNumber"), 10**6), _number(r.get("id"), 0)))
    return {str(r["id"]): rank for rank, r in enumerate(usable, start=1)}


def opportunity_outcomes(records: list[Any]) -> dict[str, str]:
    result = {}
    for record in records:
        if isinstance(record, dict) and record.get("id") is not None:
            outcome = "won" if record.get("wonFlag") is True else "lost" if record.get("lostFlag") is True else "open"
            result[str(record["id"])] = outcome
    return result


def sla_priority_hours(priorities: list[Any]) -> dict[str, PriorityHours]:
    result = {}
    for record in priorities:
        priority = ref_id(record, "priority") if isinstance(record, dict) else None
        if priority:
            result[priority] = PriorityHours(_hours(record.get("respondHours")), _hours(record.get("resolutionHours")))
    return result


def _hours(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _number(value: Any, default: float) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


# --- entities ------------------------------------------------------------------------


def company(record: Any) -> dict:
    r = _obj(record)
    return {
        "id": r.get("id"),
        "name": r.get("name"),
        "number": r.get("identifier"),
        "active": r.get("deletedFlag") is not True,
    }


def member(record: Any) -> dict:
    r = _obj(record)
    name = " ".join(str(p) for p in (r.get("firstName"), r.get("lastName")) if p) or r.get("identifier")
    daily = r.get("dailyCapacity")
    weekly = daily * 5 if isinstance(daily, (int, float)) and not isinstance(daily, bool) else None
    return {
        "id": r.get("id"),
        "name": name,
        "email": r.get("primaryEmail"),
        "active": r.get("inactiveFlag") is not True,
        "weekly_hours": weekly,
        "hourly_cost": r.get("hourlyCost"),
    }


def board(record: Any) -> dict:
    r = _obj(record)
    return {"id": r.get("id"), "name": r.get("name")}


def project(record: Any) -> dict:
    r = _obj(record)
    return {
        "id": r.get("id"),
        "name": r.get("name"),
        "company_id": ref_id(r, "company"),
        "status": ref_name(r, "status"),
        "is_closed": r.get("closedFlag") is True,
        "category": two_level(ref_name(r, "board"), ref_name(r, "type")),
        "start_date": r.get("estimatedStart"),
        "end_date": r.get("estimatedEnd"),
        "estimated_hours": r.get("budgetHours"),
        "actual_hours": r.get("actualHours"),
        "percent_complete": r.get("percentComplete"),
    }


@dataclass
class StoredTicket:
    """What the database holds for a ticket, to spot transitions and keep due times."""

    status: str | None
    board_id: str | None
    board_name: str | None
    priority: str | None
    owner_id: str | None
    owner_name: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    escalated_at: datetime | None
    description: str | None = None  # kept when this pass does not read the ticket's notes


@dataclass
class EscalationRule:
    statuses: set[str]
    boards: set[str]

    def applies(self, status: Any, board_name: Any) -> bool:
        return status in self.statuses or board_name in self.boards


def ticket(record: Any, catalog: Catalog, stored: StoredTicket | None, rule: EscalationRule) -> tuple[dict, list[dict]]:
    """The ticket record and the transition events seen against the stored row."""
    r = _obj(record)
    status_id = ref_id(r, "status")
    board_status = catalog.statuses.get(status_id) if status_id else None
    status = ref_name(r, "status")
    is_closed = board_status.closed if board_status else r.get("closedFlag") is True
    priority_id = ref_id(r, "priority")
    sla_id = ref_id(r, "sla")
    entered = _time_or_none(info(r, "dateEntered"))
    last_updated = info(r, "lastUpdated")
    hours = catalog.sla_hours.get((sla_id, priority_id)) if sla_id and priority_id else None
    respond_due, resolve_due = due_times(
        r.get("slaStatus"),
        entered,
        hours,
        (stored.first_response_due, stored.resolution_due) if stored else (None, None),
    )
    escalated_now = rule.applies(status, ref_name(r, "board"))
    escalated_at = stored.escalated_at if stored else None
    if escalated_now and escalated_at is None:
        escalated_at = _time_or_none(last_updated)  # first seen escalated: its last change is the best time known
    row = {
        "id": r.get("id"),
        "number": str(r["id"]) if r.get("id") is not None else None,
        "title": r.get("summary"),
        "company_id": ref_id(r, "company"),
        "queue_id": ref_id(r, "board"),
        "status": status,
        "is_closed": is_closed,
        "priority": ref_name(r, "priority"),
        "priority_rank": catalog.priority_rank.get(priority_id or "", _sort_of(r)),
        "issue_type": ref_name(r, "type"),
        "sub_issue_type": ref_name(r, "subType"),
        "assigned_resource_id": ref_id(r, "owner"),
        "created_at": info(r, "dateEntered"),
        "first_response_due": respond_due.isoformat() if respond_due else None,
        "first_response_at": r.get("dateResponded"),
        "resolution_due": resolve_due.isoformat() if resolve_due else None,
        "resolved_at": r.get("dateResolved"),
        "completed_at": r.get("closedDate"),
        "sla_name": ref_name(r, "sla"),
        "escalation_level": 1 if escalated_now else 0,
        "escalated_at": escalated_at.isoformat() if escalated_at else None,
        "last_activity_at": last_updated,
        "url": f"{catalog.web_root}{r['id']}" if catalog.web_root and isinstance(r.get("id"), int) else None,
        # GET does not return initialDescription on most versions: the sync fills it from the
        # ticket's first detail-description note when it reads the notes, else keeps what it had
        "description": r.get("initialDescription") or (stored.description if stored else None),
        "contact_name": r.get("contactName") or ref_name(r, "contact") or None,
    }
    events = _transitions(r, stored, last_updated, escalated_now) if stored else []
    return row, events


def last_updated(record: dict) -> datetime | None:
    return _time_or_none(info(record, "lastUpdated"))


def note_kind(record: dict) -> str:
    """A ConnectWise note's kind, from its flags (a note may carry several: the first wins)."""
    for flag, kind in (
        ("resolutionFlag", "Resolution"),
        ("internalAnalysisFlag", "Internal analysis"),
        ("detailDescriptionFlag", "Description"),
    ):
        if record.get(flag) is True:
            return kind
    return "Note"


def ticket_note(record: Any, ticket_id: Any) -> dict:
    """A ``service/tickets/{id}/notes`` record: by its member (a technician) or its contact,
    internal when only the MSP sees it (the internal-analysis or internal flag). Keyed by ticket
    and note id, as ids are only known unique within a ticket's list."""
    r = _obj(record)
    return {
        "id": f"{ticket_id}:{r['id']}" if r.get("id") is not None else None,
        "ticket_id": str(ticket_id),
        "created_at": r.get("dateCreated") or info(r, "dateEntered"),
        "author": ref_name(r, "member") or ref_name(r, "contact") or r.get("createdBy") or None,
        "kind": note_kind(r),
        "body": r.get("text"),
        "internal": r.get("internalAnalysisFlag") is True or r.get("internalFlag") is True,
    }


def first_description(notes: list[Any]) -> str | None:
    """The ticket's initial description: its oldest detail-description note's text."""
    described = [n for n in notes if isinstance(n, dict) and n.get("detailDescriptionFlag") is True]
    described = [n for n in described if isinstance(n.get("text"), str) and n["text"].strip()]
    if not described:
        return None
    return min(described, key=lambda n: (str(n.get("dateCreated") or ""), str(n.get("id")))).get("text")


def _sort_of(record: dict) -> int:
    sort = record.get("priority", {}).get("sort") if isinstance(record.get("priority"), dict) else None
    return sort if isinstance(sort, int) and not isinstance(sort, bool) else 99


def _transitions(r: dict, stored: StoredTicket, at: Any, escalated_now: bool) -> list[dict]:
    if not isinstance(at, str) or _time_or_none(at) is None:
        return []  # the ticket itself is rejected for its bad lastUpdated; no events either
    ticket_id = str(r.get("id"))
    changes = []
    status = ref_name(r, "status")
    if status != stored.status:
        changes.append(("status", stored.status, status))
    if ref_id(r, "board") != stored.board_id:
        changes.append(("queue", stored.board_name, ref_name(r, "board")))
    if ref_name(r, "priority") != stored.priority:
        changes.append(("priority", stored.priority, ref_name(r, "priority")))
    if ref_id(r, "owner") != stored.owner_id:
        changes.append(("assignee", stored.owner_name, ref_name(r, "owner")))
    if escalated_now and stored.escalated_at is None:
        changes.append(("escalation", None, "escalated"))
    # The id is built from what changed and when, so seeing the same change again upserts.
    return [
        {
            "id": f"{ticket_id}:{name}:{at}",
            "ticket_id": ticket_id,
            "at": at,
            "field": name,
            "old_value": old,
            "new_value": new,
        }
        for name, old, new in changes
    ]


def timesheet(record: Any) -> dict:
    r = _obj(record)
    status = r.get("status")
    return {
        "id": r.get("id"),
        "resource_id": ref_id(r, "member"),
        "period_start": r.get("dateStart"),
        "period_end": r.get("dateEnd"),
        "status": TIMESHEET_STATUS.get(status, status) if isinstance(status, str) else status,
        "deadline": r.get("deadline"),
    }


def time_entry(record: Any) -> dict:
    r = _obj(record)
    charge_type = r.get("chargeToType")
    ticket_id = str(r["chargeToId"]) if charge_type == "ServiceTicket" and r.get("chargeToId") is not None else None
    # Project tickets live in project/tickets, which is not synced: the project is what we keep.
    project_id = ref_id(r, "project") if charge_type == "ProjectTicket" else None
    if charge_type not in CUSTOMER_CHARGE_TYPES and charge_type not in ("ChargeCode", "Activity"):
        raise MappingError(f"unknown chargeToType {charge_type!r}")
    return {
        "id": r.get("id"),
        "resource_id": ref_id(r, "member"),
        "ticket_id": ticket_id,
        "project_id": project_id,
        "timesheet_id": ref_id(r, "timeSheet"),
        "started_at": r.get("timeStart"),
        "hours": r.get("actualHours"),
        "billable": r.get("billableOption") == "Billable",
        "category": ref_name(r, "workType") or (None if charge_type in CUSTOMER_CHARGE_TYPES else charge_type),
    }


TIME_CHARGE_PREFIX = "time:"  # a time entry's charge among the billing items: "time:{entry id}"


def time_charge(record: Any) -> dict | None:
    """A billable time entry as the charge it makes: hoursBilled (else actualHours) x hourlyRate,
    dated by the work's (UTC) day, so time revenue falls in the period its labour cost does.
    None for time that bills nothing on its own: not Billable, no rate, applied to an agreement
    (the agreement's monthly value is that revenue) or without a company."""
    if not isinstance(record, dict) or record.get("id") is None or record.get("billableOption") != "Billable":
        return None
    rate = record.get("hourlyRate")
    hours = record.get("hoursBilled")
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
        hours = record.get("actualHours")
    if (
        not isinstance(rate, (int, float))
        or isinstance(rate, bool)
        or rate <= 0
        or not isinstance(hours, (int, float))
        or isinstance(hours, bool)
        or hours <= 0
        or ref_id(record, "agreement") is not None
        or ref_id(record, "company") is None
    ):
        return None
    start = record.get("timeStart")
    return {
        "id": f"{TIME_CHARGE_PREFIX}{record['id']}",
        "company_id": ref_id(record, "company"),
        "ticket_id": str(record["chargeToId"]) if record.get("chargeToType") == "ServiceTicket" else None,
        "item_date": start[:10] if isinstance(start, str) else start,
        "item_type": "Time",
        "description": ref_name(record, "workType"),
        "quantity": float(hours),
        "extended_price": round(float(hours) * float(rate), 2),
        "recurring": False,
    }


def opportunity(record: Any, catalog: Catalog, amount: float | None) -> dict:
    r = _obj(record)
    status_id = ref_id(r, "status")
    outcome = catalog.opportunity_outcome.get(status_id or "", "open")
    status_name = ref_name(r, "status")
    stage_id = ref_id(r, "stage")
    return {
        "id": r.get("id"),
        "title": r.get("name"),
        "company_id": ref_id(r, "company"),
        "owner_resource_id": ref_id(r, "primarySalesRep"),
        "stage": ref_name(r, "stage"),
        "stage_rank": catalog.stage_rank.get(stage_id or "", 0),
        "stage_entered_at": r.get("pipelineChangeDate"),
        "status": outcome,
        "amount": amount if amount is not None else 0.0,
        "probability": _percent(ref_name(r, "probability")),
        "expected_close": r.get("expectedCloseDate"),
        "closed_on": r.get("closedDate"),
        # ConnectWise has no structured reason; the closing status's name is the usual carrier.
        "win_reason": status_name if outcome == "won" else None,
        "loss_reason": status_name if outcome == "lost" else None,
        "category": ref_name(r, "type"),
        "created_at": info(r, "dateEntered"),
    }


def stage_change(record: dict) -> dict | None:
    """The stage the opportunity is in and since when, as a history row (idempotent id)."""
    stage, since = ref_name(record, "stage"), record.get("pipelineChangeDate")
    if not stage or not since:
        return None
    opp = str(record.get("id"))
    return {
        "id": f"{opp}:{ref_id(record, 'stage')}:{since}",
        "opportunity_id": opp,
        "stage": stage,
        "entered_at": since,
    }


def forecast_amount(body: Any) -> float:
    """Revenue of the included forecast items (a list, or an object with forecastItems)."""
    items = body.get("forecastItems", []) if isinstance(body, dict) else body if isinstance(body, list) else []
    total = 0.0
    for item in items:
        if isinstance(item, dict) and item.get("includedFlag") is not False:
            total += _number(item.get("revenue"), 0.0)
    return total


def _percent(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.search(r"\d+(?:\.\d+)?", value) if isinstance(value, str) else None
    return float(match.group()) if match else None


# Months per agreement billing cycle (by its name, lower case); anything else is taken as monthly.
CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "semi-annual": 6, "semiannual": 6, "annual": 12, "yearly": 12}


def _is_amount(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _amount(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def agreement(record: Any, additions: list[Any] | None = None) -> dict:
    """An agreement with its additions: the monthly value is billAmount plus the additions'
    quantity x unitPrice (additions not cancelled), made monthly by the billing cycle; the
    seats are the additions' quantities (None without additions)."""
    r = _obj(record)
    status = r.get("agreementStatus") or ("Cancelled" if r.get("cancelledFlag") is True else "Active")
    live = [a for a in additions or [] if isinstance(a, dict) and not a.get("cancelledDate")]
    months = CYCLE_MONTHS.get(str(ref_name(r, "billingCycle") or "monthly").lower(), 1)
    value = r.get("billAmount")
    if live:
        value = _amount(value) + sum(_amount(a.get("quantity")) * _amount(a.get("unitPrice")) for a in live)
    monthly = None if value is None else round(_amount(value) / months, 2)
    return {
        "id": r.get("id"),
        "company_id": ref_id(r, "company"),
        "name": r.get("name"),
        "type": ref_name(r, "type"),
        "period_type": ref_name(r, "billingCycle"),
        "start_date": r.get("startDate"),
        "end_date": None if r.get("noEndingDateFlag") is True else r.get("endDate"),
        "status": status,
        "monthly_value": monthly if isinstance(value, (int, float)) else value,
        "seats": sum(_amount(a.get("quantity")) for a in live) if live else None,
        "category": ref_name(r, "type"),
    }


def invoice(record: Any) -> dict:
    """An invoice as one billing item: agreement invoices are the recurring charge (the
    agreement's monthly value counts it once). On any other invoice the time billed
    (``serviceTotal``) is left out: the time entries' charges count it, dated by the work."""
    r = _obj(record)
    kind = str(r.get("type") or "")
    total: Any = r.get("total")
    services = r.get("serviceTotal")
    if kind.lower() != "agreement" and _is_amount(total) and _is_amount(services):
        total = round(_amount(total) - _amount(services), 2)
    return {
        "id": r.get("id"),
        "company_id": ref_id(r, "company"),
        "contract_id": ref_id(r, "agreement"),
        "ticket_id": ref_id(r, "ticket"),
        "item_date": r.get("date"),
        "item_type": kind or None,
        "description": r.get("invoiceNumber"),
        "extended_price": total,
        "recurring": kind.lower() == "agreement",
        "posted_at": info(r, "dateEntered"),
    }


@dataclass(frozen=True)
class NpsQuestion:
    """A survey's "would you recommend" question: its id and, for a Selection question, the
    captions of its options in order (the answer to one is the option's index)."""

    id: str
    captions: tuple[str, ...] = ()


def nps_question(questions: list[Any], wanted: str) -> NpsQuestion | None:
    """The question of `service/surveys/{id}/questions` that feeds NPS, None when the survey has none."""
    for q in questions:
        if isinstance(q, dict) and q.get("id") is not None and is_nps_question(q.get("question"), q["id"], wanted):
            listed = q.get("options")
            options: list[Any] = listed if isinstance(listed, list) else []
            captions = tuple(str(o.get("caption") or "") if isinstance(o, dict) else "" for o in options)
            return NpsQuestion(str(q["id"]), captions)
    return None


def recommend_score(record: dict, question: NpsQuestion | None) -> Any:
    """The result's answer to the NPS question (its ``results[]`` entry with that questionId)."""
    details = record.get("results")
    if question is None or not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("questionId")) == question.id:
            answer = detail.get("answer")
            if question.captions and isinstance(answer, (str, int)) and str(answer).strip().isdigit():
                index = int(str(answer).strip())
                if 0 <= index < len(question.captions):
                    return score(question.captions[index])
            return score(answer)
    return None


def survey_result(record: Any, nps: dict[str, NpsQuestion] | None = None) -> dict:
    """A survey result: CSAT is its totalPoints; NPS the answer to the configured question of
    its survey (`nps`: survey id -> question), the footer response its comment."""
    r = _obj(record)
    question = (nps or {}).get(str(r.get("surveyId")))
    comment = r.get("footerResponse")
    return {
        "id": r.get("id"),
        "ticket_id": str(r["ticketId"]) if r.get("ticketId") is not None else None,
        "company_id": ref_id(r, "company"),
        "completed_at": info(r, "dateEntered") or info(r, "lastUpdated"),
        "rating": r.get("totalPoints"),
        "recommend_score": recommend_score(r, question),
        "comment": comment if isinstance(comment, str) and comment.strip() else None,
    }
