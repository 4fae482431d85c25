"""The fields of each entity the fake Autotask serves, as ``entityInformation/fields`` reports them.

The real API validates every filter field against this list (case-insensitively) and
answers HTTP 500 with an ``errors`` array for an unknown one, so the fake needs the list
to behave the same. Names, data types and flags follow the vendor's entity reference
for the fields mspkpi reads; picklist values live in ``autotask_server.default_picklists``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    data_type: str  # long, integer, string, datetime, boolean, decimal, double
    length: int = 0  # strings only
    read_only: bool = False
    required: bool = False
    queryable: bool = True
    reference: str = ""  # the entity an id field points at
    picklist_parent: str = ""  # a dependent picklist names its parent field (subIssueType -> issueType)


def _id() -> Field:
    return Field("id", "long", read_only=True, required=True)


def _ref(name: str, entity: str, required: bool = False) -> Field:
    return Field(name, "integer", required=required, reference=entity)


def _text(name: str, length: int, required: bool = False, read_only: bool = False) -> Field:
    return Field(name, "string", length, read_only=read_only, required=required)


def _time(name: str, required: bool = False, read_only: bool = False) -> Field:
    return Field(name, "datetime", read_only=read_only, required=required)


def _int(name: str, required: bool = False, read_only: bool = False, parent: str = "") -> Field:
    return Field(name, "integer", read_only=read_only, required=required, picklist_parent=parent)


def _dec(name: str, required: bool = False, read_only: bool = False) -> Field:
    return Field(name, "decimal", read_only=read_only, required=required)


def _bool(name: str, required: bool = False, read_only: bool = False) -> Field:
    return Field(name, "boolean", read_only=read_only, required=required)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

FIELDS: dict[str, list[Field]] = {
    "Companies": [
        _id(),
        _text("companyName", 100, required=True),
        _text("companyNumber", 50),
        _bool("isActive", required=True),
        _int("companyType", required=True),
        _time("lastTrackedModifiedDateTime", read_only=True),
    ],
    "Resources": [
        _id(),
        _text("firstName", 50, required=True),
        _text("lastName", 50, required=True),
        _text("email", 254, required=True),
        _bool("isActive", required=True),
        _dec("internalCost"),
    ],
    "ResourceDailyAvailabilities": [
        _id(),
        _ref("resourceID", "Resource", required=True),
        *[_dec(f"{day}AvailableHours") for day in WEEKDAYS],
        _dec("weeklyBillableHoursGoal"),
    ],
    "Contracts": [
        _id(),
        _text("contractName", 100, required=True),
        _text("contractNumber", 50),
        _ref("companyID", "Company", required=True),
        _int("contractType", required=True),
        # The fake's period picklist uses letters; the field's type follows its values.
        Field("contractPeriodType", "string", 1),
        _int("status", required=True),
        _time("startDate", required=True),
        _time("endDate", required=True),
        _int("contractCategory"),
    ],
    "ContractServiceUnits": [
        _id(),
        _ref("contractID", "Contract", required=True),
        Field("contractServiceID", "long", read_only=True),
        Field("serviceID", "long", read_only=True),
        _time("startDate", read_only=True),
        _time("endDate", read_only=True),
        _int("units", read_only=True),
        Field("price", "decimal", read_only=True),
        Field("cost", "decimal", read_only=True),
    ],
    "BillingItems": [
        _id(),
        _ref("companyID", "Company", required=True),
        _ref("contractID", "Contract"),
        _ref("ticketID", "Ticket"),
        _int("billingItemType", required=True),
        _time("itemDate", read_only=True),
        _time("postedDate", read_only=True),
        Field("quantity", "decimal", read_only=True),
        Field("rate", "decimal", read_only=True),
        Field("extendedPrice", "decimal", read_only=True),
        Field("ourCost", "decimal", read_only=True),
        Field("invoiceID", "long", read_only=True),
        _text("description", 2000),
    ],
    "Projects": [
        _id(),
        _text("projectName", 100, required=True),
        _ref("companyID", "Company", required=True),
        _int("status", required=True),
        _time("startDateTime", required=True),
        _time("endDateTime", required=True),
        _int("completedPercentage"),
        _dec("estimatedTime", read_only=True),
        _dec("actualHours", read_only=True),
        _ref("department", "Department"),
        _int("projectType", required=True),
        _time("lastActivityDateTime", read_only=True),
    ],
    "Tasks": [
        _id(),
        _ref("projectID", "Project", required=True),
        _text("title", 255, required=True),
        _time("lastActivityDateTime", read_only=True),
    ],
    "Tickets": [
        _id(),
        _text("ticketNumber", 50, read_only=True),
        _text("title", 255, required=True),
        _ref("companyID", "Company", required=True),
        _int("status", required=True),
        _int("priority", required=True),
        _int("queueID"),
        _int("issueType"),
        _int("subIssueType", parent="issueType"),
        _int("ticketType"),
        _int("source"),
        _ref("assignedResourceID", "Resource"),
        _ref("assignedResourceRoleID", "Role"),
        _time("createDate", read_only=True),
        _time("firstResponseDueDateTime"),
        _time("firstResponseDateTime", read_only=True),
        _time("resolvedDueDateTime"),
        _time("resolvedDateTime"),
        _time("dueDateTime", required=True),
        _time("completedDate", read_only=True),
        _time("lastActivityDate", read_only=True),
        _int("serviceLevelAgreementID"),
        _bool("serviceLevelAgreementHasBeenMet", read_only=True),
        _ref("contractID", "Contract"),
        _ref("projectID", "Project"),
        _text("description", 8000),
        _ref("contactID", "Contact"),
    ],
    "Contacts": [
        _id(),
        _ref("companyID", "Company", required=True),
        _text("firstName", 50, required=True),
        _text("lastName", 50, required=True),
        _text("emailAddress", 254),
        _int("isActive", required=True),
        _time("lastActivityDate", read_only=True),
    ],
    "TimeEntries": [
        _id(),
        _ref("resourceID", "Resource", required=True),
        _ref("ticketID", "Ticket"),
        _ref("taskID", "Task"),
        _time("dateWorked", required=True),
        _time("startDateTime"),
        _time("endDateTime"),
        _dec("hoursWorked"),
        _dec("hoursToBill", read_only=True),
        _bool("isNonBillable"),
        _int("timeEntryType", read_only=True),
        _ref("billingCodeID", "BillingCode"),
        _time("lastModifiedDateTime", read_only=True),
    ],
    "BillingCodes": [_id(), _text("name", 150, read_only=True), _bool("isActive", read_only=True)],
    "Departments": [_id(), _text("name", 100, required=True), _text("description", 1000)],
    "Opportunities": [
        _id(),
        _text("title", 128, required=True),
        _ref("companyID", "Company", required=True),
        _ref("ownerResourceID", "Resource", required=True),
        _int("stage"),
        _int("status", required=True),
        _dec("amount", required=True),
        _int("probability", required=True),
        _time("projectedCloseDate", required=True),
        _time("closedDate"),
        _time("lostDate", read_only=True),
        _time("createDate"),
        _time("lastActivity", read_only=True),
        _text("winReason", 250),
        _text("lossReason", 250),
        _int("opportunityCategoryID"),
    ],
    "SurveyResults": [
        _id(),
        _ref("surveyID", "Survey"),
        _ref("ticketID", "Ticket"),
        _ref("companyID", "Company"),
        _time("completeDate", read_only=True),
        Field("surveyRating", "double", read_only=True),
    ],
    "ServiceLevelAgreementResults": [
        _id(),
        _ref("ticketID", "Ticket"),
        _bool("isFirstResponseMet", read_only=True),
        Field("firstResponseElapsedHours", "double", read_only=True),
        _bool("isResolutionMet", read_only=True),
        Field("resolutionElapsedHours", "double", read_only=True),
    ],
    "DeletedTicketLogs": [
        _id(),
        Field("ticketID", "long", read_only=True),
        _text("ticketNumber", 50, read_only=True),
        _ref("deletedByResourceID", "Resource"),
        _time("deletedDateTime", read_only=True),
    ],
}

# User-defined fields per entity (a tenant's own; filters on them carry "udf": true).
FIELDS["TicketNotes"] = [
    _id(),
    _ref("ticketID", "Ticket", required=True),
    _text("title", 250, required=True),
    _text("description", 32000, required=True),
    _int("noteType", required=True),
    _int("publish", required=True),
    _ref("creatorResourceID", "Resource"),
    _ref("impersonatorCreatorResourceID", "Resource"),
    Field("createdByContactID", "integer", read_only=True, reference="Contact"),
    _time("createDateTime", read_only=True),
    _time("lastActivityDate", read_only=True),
]
FIELDS["ResourceRoles"] = [
    _id(),
    _ref("resourceID", "Resource", required=True),
    _ref("roleID", "Role", required=True),
    _int("queueID"),
    _bool("isActive"),
]

UDFS: dict[str, list[Field]] = {"Tickets": [_text("Escalated On", 100)]}

# What GET {Entity}/entityInformation says each entity allows (mspkpi only reads).
WRITABLE = {"Companies", "Contracts", "Projects", "Tasks", "Tickets", "TimeEntries", "Opportunities", "TicketNotes"}


def field_info(field: Field, picklist: list[dict] | None) -> dict:
    """One item of ``entityInformation/fields`` (or ``/userDefinedFields``), as the API shapes it."""
    return {
        "name": field.name,
        "dataType": field.data_type,
        "length": field.length,
        "isRequired": field.required,
        "isReadOnly": field.read_only,
        "isQueryable": field.queryable,
        "isReference": bool(field.reference),
        "referenceEntityType": field.reference,
        "isPickList": picklist is not None,
        "picklistValues": picklist,
        "picklistParentValueField": field.picklist_parent,
        "isSupportedWebhookField": False,
    }


def entity_info(entity: str) -> dict:
    """The answer to ``GET {Entity}/entityInformation``."""
    writable = entity in WRITABLE
    return {
        "info": {
            "name": entity[:-3] + "y" if entity.endswith("ies") else entity.rstrip("s"),
            "canCreate": writable,
            "canDelete": entity in ("Tasks", "TimeEntries"),
            "canQuery": True,
            "canUpdate": writable,
            "userAccessForCreate": "All" if writable else "None",
            "userAccessForDelete": "None",
            "userAccessForQuery": "All",
            "userAccessForUpdate": "All" if writable else "None",
            "hasUserDefinedFields": entity in UDFS,
            "supportsWebhookCallouts": entity in ("Companies", "Tickets"),
        }
    }
