"""Autotask JSON -> the canonical records of store/records.py.

Picklist fields arrive as integers and are labelled from ``entityInformation/fields``
(whose values are strings). A value the picklist does not know is an error, so the
record is rejected with the reason instead of being stored with a made-up label.
Times pass through as Autotask sends them; records.validate parses them (and rejects
unparseable ones and the 1900-01-01 "unset" sentinel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mspkpi_tui.sources.labels import two_level
from mspkpi_tui.store.records import RecordError, parse_datetime

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class MappingError(RecordError):
    """The Autotask record cannot be expressed as a canonical record."""


class Picklist:
    """One picklist field: value -> label, and value -> rank by the tenant's sort order."""

    def __init__(self, entity: str, name: str, values: list[dict]):
        self.entity, self.name = entity, name
        self.labels: dict[str, str] = {}
        ordered = sorted(values, key=lambda v: (_number(v.get("sortOrder")), _number(v.get("value"))))
        self.ranks: dict[str, int] = {}
        for rank, item in enumerate(ordered, start=1):
            value = str(item.get("value"))
            self.labels[value] = str(item.get("label") or value)
            self.ranks[value] = rank

    def label(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        key = str(value)
        if key not in self.labels:
            raise MappingError(f"{self.name} {value!r} is not in the {self.entity} {self.name} picklist")
        return self.labels[key]

    def rank(self, value: Any) -> int | None:
        return self.ranks.get(str(value)) if value is not None else None


class Picklists:
    """Every picklist of the entities we read, from their entityInformation/fields."""

    def __init__(self, fields_by_entity: dict[str, list[dict]]):
        self._lists: dict[tuple[str, str], Picklist] = {}
        for entity, fields in fields_by_entity.items():
            for item in fields:
                if item.get("isPickList") and isinstance(item.get("picklistValues"), list):
                    self._lists[(entity, item["name"])] = Picklist(entity, item["name"], item["picklistValues"])

    def get(self, entity: str, name: str) -> Picklist:
        return self._lists.get((entity, name)) or Picklist(entity, name, [])

    def label(self, entity: str, name: str, value: Any) -> str | None:
        return self.get(entity, name).label(value)


@dataclass
class Rules:
    """Tenant rules from the config: which statuses close a ticket/project, what escalation is."""

    closed_ticket_statuses: set[str] = field(default_factory=lambda: {"5", "complete"})
    closed_project_statuses: set[str] = field(default_factory=lambda: {"5", "complete"})
    escalation_statuses: set[str] = field(default_factory=lambda: {"escalate"})
    escalation_queues: set[str] = field(default_factory=set)
    escalation_udf: str | None = None
    won_statuses: set[str] = field(default_factory=lambda: {"closed", "implemented"})
    lost_statuses: set[str] = field(default_factory=lambda: {"lost"})


def _is(value: Any, label: str | None, names: set[str]) -> bool:
    return str(value) in names or (label or "").casefold() in names


def _id(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def udf_value(raw: dict, name: str | None) -> Any:
    if not name:
        return None
    for item in raw.get("userDefinedFields") or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get("value")
    return None


def ticket(
    raw: dict, lists: Picklists, rules: Rules, web_url: str | None, contacts: dict[str, str] | None = None
) -> dict:
    status_label = lists.label("Tickets", "status", raw.get("status"))
    priority = lists.get("Tickets", "priority")
    queue_label = lists.label("Tickets", "queueID", raw.get("queueID"))
    udf = udf_value(raw, rules.escalation_udf)
    escalated = (
        (status_label or "").casefold() in rules.escalation_statuses
        or (queue_label or "").casefold() in rules.escalation_queues
        or udf not in (None, "")
    )
    return {
        "id": raw.get("id"),
        "number": raw.get("ticketNumber"),
        "title": raw.get("title"),
        "company_id": _id(raw.get("companyID")),
        "queue_id": _id(raw.get("queueID")),
        "status": status_label,
        "is_closed": _is(raw.get("status"), status_label, rules.closed_ticket_statuses) if status_label else None,
        "priority": priority.label(raw.get("priority")),
        "priority_rank": priority.rank(raw.get("priority")),
        "issue_type": lists.label("Tickets", "issueType", raw.get("issueType")),
        "sub_issue_type": lists.label("Tickets", "subIssueType", raw.get("subIssueType")),
        "assigned_resource_id": _id(raw.get("assignedResourceID")),
        "created_at": raw.get("createDate"),
        "first_response_due": raw.get("firstResponseDueDateTime"),
        "first_response_at": raw.get("firstResponseDateTime"),
        "resolution_due": raw.get("resolvedDueDateTime"),
        "resolved_at": raw.get("resolvedDateTime"),
        "completed_at": raw.get("completedDate"),
        "sla_name": lists.label("Tickets", "serviceLevelAgreementID", raw.get("serviceLevelAgreementID")),
        "escalation_level": 1 if escalated else 0,
        "escalated_at": _udf_time(udf) if escalated else None,
        "last_activity_at": raw.get("lastActivityDate"),
        "url": f"{web_url}Mvc/ServiceDesk/TicketDetail.mvc?workspace=False&mode=0&TicketID={raw.get('id')}"
        if web_url
        else None,
        "description": raw.get("description"),
        # the requester: the ticket's contact, named from Contacts (looked up by the sync)
        "contact_name": (contacts or {}).get(str(raw.get("contactID"))) if raw.get("contactID") is not None else None,
    }


def contact_name(raw: dict) -> str | None:
    """A Contacts record's name: first and last name, else its e-mail address."""
    name = " ".join(p.strip() for p in (raw.get("firstName"), raw.get("lastName")) if isinstance(p, str) and p.strip())
    email = raw.get("emailAddress")
    return name or (email if isinstance(email, str) and email.strip() else None)


def ticket_note(raw: dict, lists: Picklists, resources: dict[str, str], contacts: dict[str, str]) -> dict:
    """A TicketNotes record: its author is the resource (technician) or the contact who wrote it;
    its title leads the body; it is internal when its ``publish`` label says so (the values are
    per tenant, as for writing a note: sources/autotask/writer.py)."""
    title, text = raw.get("title"), raw.get("description")
    parts = [p for p in (title, text) if isinstance(p, str) and p.strip()]
    # text that is not text is kept as it came, so the shared validation rejects it with the reason
    body: Any = text if text is not None and not isinstance(text, str) else "\n".join(parts)
    publish = lists.label("TicketNotes", "publish", raw.get("publish"))
    resource, contact = _id(raw.get("creatorResourceID")), _id(raw.get("createdByContactID"))
    return {
        "id": raw.get("id"),
        "ticket_id": _id(raw.get("ticketID")),
        "created_at": raw.get("createDateTime"),
        "author": (resources.get(resource) if resource else None) or (contacts.get(contact) if contact else None),
        "kind": lists.label("TicketNotes", "noteType", raw.get("noteType")),
        "body": body,
        "internal": "internal" in (publish or "").casefold(),
    }


def _udf_time(value: Any) -> str | None:
    """The escalation UDF's value, when a workflow rule wrote a time into it (UTC if no zone)."""
    if not isinstance(value, str):
        return None
    for text in (value, value + "Z"):
        try:
            parse_datetime(text)
            return text
        except RecordError:
            continue
    return None


def time_entry(raw: dict, billing_codes: dict[str, str], task_projects: dict[str, str]) -> dict:
    task = _id(raw.get("taskID"))
    return {
        "id": raw.get("id"),
        "resource_id": _id(raw.get("resourceID")),
        "ticket_id": _id(raw.get("ticketID")),
        "project_id": task_projects.get(task) if task else None,
        "started_at": raw.get("startDateTime") or raw.get("dateWorked"),
        "hours": raw.get("hoursWorked"),
        "billable": not raw["isNonBillable"] if isinstance(raw.get("isNonBillable"), bool) else None,
        "category": billing_codes.get(str(raw.get("billingCodeID"))),
    }


def resource(raw: dict, availability: dict | None) -> dict:
    name = " ".join(p for p in (raw.get("firstName"), raw.get("lastName")) if isinstance(p, str) and p.strip())
    weekly = None
    if availability:
        hours = [availability.get(f"{day}AvailableHours") for day in WEEKDAYS]
        numbers = [h for h in hours if isinstance(h, (int, float))]
        if len(numbers) == len(hours):
            weekly = float(sum(numbers))
    return {
        "id": raw.get("id"),
        "name": name or raw.get("email"),
        "email": raw.get("email"),
        "active": raw.get("isActive"),
        "weekly_hours": weekly,
        "hourly_cost": raw.get("internalCost"),
    }


def company(raw: dict) -> dict:
    return {
        "id": raw.get("id"),
        "name": raw.get("companyName"),
        "number": raw.get("companyNumber"),
        "active": raw.get("isActive"),
    }


def project(raw: dict, lists: Picklists, rules: Rules, departments: dict[str, str] | None = None) -> dict:
    """A project; its category is "Department>Project type" (departments: id -> name, the
    Departments entity, since a project's department is a reference, not a picklist)."""
    status = lists.label("Projects", "status", raw.get("status"))
    department = (departments or {}).get(str(raw.get("department")))
    return {
        "id": raw.get("id"),
        "name": raw.get("projectName"),
        "company_id": _id(raw.get("companyID")),
        "status": status,
        "is_closed": _is(raw.get("status"), status, rules.closed_project_statuses),
        "category": two_level(department, lists.label("Projects", "projectType", raw.get("projectType"))),
        "start_date": raw.get("startDateTime"),
        "end_date": raw.get("endDateTime"),
        "estimated_hours": raw.get("estimatedTime"),
        "actual_hours": raw.get("actualHours"),
        "percent_complete": raw.get("completedPercentage"),
    }


DAYS_PER_MONTH = 365.25 / 12
RECURRING_ITEM_TYPES = {"recurring contract service", "recurring service", "recurring service adjustment"}


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def service_terms(units_rows: list[dict], today: date) -> tuple[float | None, float | None]:
    """(monthly value, seats) of a recurring contract from its ContractServiceUnits: the rows
    covering `today` (one per contract service; never the sum of periods), each period's
    units x price made monthly by the period's length. (None, None) when no row covers today."""
    value = seats = 0.0
    found = False
    for row in units_rows:
        start, end = _day(row.get("startDate")), _day(row.get("endDate"))
        if start is None or end is None or not start <= today <= end:
            continue
        units, price = row.get("units"), row.get("price")
        if not isinstance(units, (int, float)) or not isinstance(price, (int, float)):
            continue
        found = True
        days = (end - start).days + 1
        value += float(units) * float(price) * DAYS_PER_MONTH / days
        seats += float(units)
    return (round(value, 2), seats) if found else (None, None)


def contract(raw: dict, lists: Picklists, units_rows: list[dict] | None = None, today: date | None = None) -> dict:
    monthly, seats = service_terms(units_rows or [], today) if today is not None else (None, None)
    return {
        "id": raw.get("id"),
        "company_id": _id(raw.get("companyID")),
        "name": raw.get("contractName"),
        "number": raw.get("contractNumber"),
        "type": lists.label("Contracts", "contractType", raw.get("contractType")),
        "period_type": lists.label("Contracts", "contractPeriodType", raw.get("contractPeriodType")),
        "start_date": raw.get("startDate"),
        "end_date": raw.get("endDate"),
        "status": lists.label("Contracts", "status", raw.get("status")),
        "monthly_value": monthly,
        "seats": seats,
        "category": lists.label("Contracts", "contractCategory", raw.get("contractCategory")),
    }


def billing_item(raw: dict, lists: Picklists) -> dict:
    """A posted BillingItems row; a recurring contract period's charge is flagged so revenue
    counts it once (the contract's monthly value already does)."""
    kind = lists.label("BillingItems", "billingItemType", raw.get("billingItemType"))
    return {
        "id": raw.get("id"),
        "company_id": _id(raw.get("companyID")),
        "contract_id": _id(raw.get("contractID")),
        "ticket_id": _id(raw.get("ticketID")),
        "item_date": raw.get("itemDate"),
        "item_type": kind,
        "description": raw.get("description"),
        "quantity": raw.get("quantity"),
        "extended_price": raw.get("extendedPrice"),
        "our_cost": raw.get("ourCost"),
        "recurring": (kind or "").lower() in RECURRING_ITEM_TYPES,
        "posted_at": raw.get("postedDate"),
    }


def opportunity(raw: dict, lists: Picklists, rules: Rules) -> dict:
    stage = lists.get("Opportunities", "stage")
    status_label = lists.label("Opportunities", "status", raw.get("status"))
    status = "open"
    if _is(raw.get("status"), status_label, rules.won_statuses):
        status = "won"
    elif _is(raw.get("status"), status_label, rules.lost_statuses):
        status = "lost"
    return {
        "id": raw.get("id"),
        "title": raw.get("title"),
        "company_id": _id(raw.get("companyID")),
        "owner_resource_id": _id(raw.get("ownerResourceID")),
        "stage": stage.label(raw.get("stage")),
        "stage_rank": stage.rank(raw.get("stage")),
        "status": status,
        "amount": raw.get("amount"),
        "probability": raw.get("probability"),
        "expected_close": raw.get("projectedCloseDate"),
        "closed_on": raw.get("closedDate") or raw.get("lostDate"),
        "win_reason": raw.get("winReason"),
        "loss_reason": raw.get("lossReason"),
        "category": lists.label("Opportunities", "opportunityCategoryID", raw.get("opportunityCategoryID")),
        "created_at": raw.get("createDate"),
        # when it entered this stage: set by the sync from what it stored before
        "stage_entered_at": raw.get("lastActivity") or raw.get("createDate"),
    }


def survey_result(raw: dict) -> dict:
    return {
        "id": raw.get("id"),
        "ticket_id": _id(raw.get("ticketID")),
        "company_id": _id(raw.get("companyID")),
        "completed_at": raw.get("completeDate"),
        "rating": raw.get("surveyRating"),
    }


def queue(value: str, label: str) -> dict:
    return {"id": value, "name": label}
