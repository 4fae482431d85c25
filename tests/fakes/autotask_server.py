"""A fake Autotask PSA REST API on 127.0.0.1, faithful to ../shared/psa-api-notes.md.

- ``GET /atservicesrest/v1.0/zoneInformation?user=`` (no auth; unknown user -> HTTP 500)
- every other call lives under ``/{zone}/ATServicesRest/V1.0/`` and needs the three
  headers ApiIntegrationCode, UserName, Secret (else 401 ``{"errors": [...]}``); after
  ``move_zone()`` the old zone answers 401 and zoneInformation names the new one.
- ``POST {Entity}/query`` (or ``GET .../query?search=``) with MaxRecords 1..500 (more:
  HTTP 500 with the vendor's message), filters (eq noteq gt gte lt lte in notIn exist
  notExist contains beginsWith endsWith, and/or groups) whose fields are checked,
  case-insensitively, against the entity's fields (``autotask_schema``; a UDF filter
  carries ``"udf": true``): an unknown one is HTTP 500 with ``{"errors": [...]}``.
  IncludeFields, results sorted by id, ``nextPageUrl`` continued by the method that
  began the query (POST with the same body; GET with the search in the URL), and a page
  can be fetched again; ``{Entity}/query/count``; ``{Entity}/entityInformation``,
  ``.../fields`` (data types, flags, picklist values as strings) and
  ``.../userDefinedFields``; ``ThresholdInformation``.
- injected 429/5xx faults carry Autotask's ``{"errors": [...]}`` body; ``forbidden``
  makes an entity's queries fail as permission failures do there: HTTP 500.
- times come with ``.000``, ``.00`` or no fraction; the data lives in memory and tests
  edit it (``edit`` bumps the entity's modified time, ``delete_ticket`` logs the deletion).
Faults (429, 5xx bursts, slow answers) come from the FakeServer in ``fakes.server``.
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fakes.autotask_schema import FIELDS, UDFS, entity_info, field_info
from fakes.server import FakeServer, ItemsResponse, Request, Response

USERNAME = "api-user@example-msp.com"
SECRET = "s3cret-Value!"
INTEGRATION_CODE = "INTEGRATION-CODE-123"
MAX_RECORDS = 500

# Where each entity keeps its last-modified time (the ones without one are refreshed whole).
MODIFIED_FIELD = {
    "Tickets": "lastActivityDate",
    "TimeEntries": "lastModifiedDateTime",
    "Projects": "lastActivityDateTime",
    "Companies": "lastTrackedModifiedDateTime",
    "Opportunities": "lastActivity",
    "Tasks": "lastActivityDateTime",
    "TicketNotes": "lastActivityDate",
    "Contacts": "lastActivityDate",
}
ENTITIES = [
    "Companies",
    "Resources",
    "ResourceDailyAvailabilities",
    "Contracts",
    "Projects",
    "Tasks",
    "Tickets",
    "TimeEntries",
    "BillingCodes",
    "Departments",
    "Opportunities",
    "SurveyResults",
    "ServiceLevelAgreementResults",
    "DeletedTicketLogs",
    "TicketNotes",
    "Contacts",
    "ResourceRoles",
    "ContractServiceUnits",
    "BillingItems",
]


def at_time(moment: datetime, style: int = 0) -> str:
    """Autotask's UTC text: style 0 '.000Z', 1 '.00Z', 2 no fraction."""
    base = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return base + (".000Z", ".00Z", "Z")[style % 3]


def _pick(value: str, label: str, sort: int, parent: str = "", active: bool = True) -> dict:
    return {
        "value": value,
        "label": label,
        "sortOrder": sort,
        "isActive": active,
        "isSystem": False,
        "parentValue": parent,
    }


def default_picklists() -> dict[str, dict[str, list[dict]]]:
    statuses = [
        (1, "New"),
        (5, "Complete"),
        (7, "Waiting Customer"),
        (8, "In Progress"),
        (9, "Waiting Materials"),
        (10, "Dispatched"),
        (11, "Escalate"),
        (12, "Waiting Vendor"),
        (13, "Waiting Approval"),
        (21, "Customer Note Added"),
    ]
    return {
        "Tickets": {
            "status": [_pick(str(v), label, i + 1) for i, (v, label) in enumerate(statuses)],
            # id order is not urgency: Critical (4) sorts first
            "priority": [
                _pick("1", "High", 2),
                _pick("2", "Medium", 3),
                _pick("3", "Low", 4),
                _pick("4", "Critical", 1),
            ],
            "queueID": [
                _pick("29682833", "Client Portal", 1),
                _pick("29682969", "Level I Support", 2),
                _pick("29683354", "Level II Support", 3),
                _pick("8", "Escalations", 4),
            ],
            "issueType": [_pick("1", "Hardware", 1), _pick("2", "Software", 2), _pick("3", "Network", 3)],
            "subIssueType": [
                _pick("11", "Laptop", 1, "1"),
                _pick("12", "Printer", 2, "1"),
                _pick("21", "Office", 1, "2"),
                _pick("31", "VPN", 1, "3"),
            ],
            "ticketType": [_pick("1", "Service Request", 1), _pick("2", "Incident", 2)],
            "serviceLevelAgreementID": [_pick("1", "Standard SLA", 1), _pick("2", "Premium SLA", 2)],
        },
        # What decides whether a customer sees a note is `publish`; the values are per tenant.
        "TicketNotes": {
            "noteType": [_pick("1", "Task Summary", 1), _pick("2", "Task Detail", 2), _pick("3", "Task Notes", 3)],
            "publish": [_pick("1", "All Autotask Users", 1), _pick("2", "Internal Only", 2)],
        },
        "Projects": {
            "status": [_pick("1", "New", 1), _pick("2", "In Progress", 2), _pick("5", "Complete", 3)],
            "projectType": [_pick("5", "Client", 1), _pick("8", "Internal", 2)],
        },
        "Contracts": {
            "contractType": [_pick("1", "Time and Materials", 1), _pick("7", "Recurring Service", 2)],
            "contractPeriodType": [_pick("m", "Monthly", 1), _pick("y", "Yearly", 2)],
            "status": [_pick("0", "Inactive", 1), _pick("1", "Active", 2)],
            "contractCategory": [_pick("1", "Managed services", 1), _pick("2", "Block hours", 2)],
        },
        "BillingItems": {
            "billingItemType": [
                _pick("1", "Labor", 1),
                _pick("2", "Product", 2),
                _pick("6", "Recurring Contract Service", 3),
            ],
        },
        "Opportunities": {
            "stage": [
                _pick("1", "Qualify", 1),
                _pick("2", "Propose", 2),
                _pick("3", "Negotiate", 3),
                _pick("4", "Close", 4),
            ],
            "status": [
                _pick("0", "Not Ready To Buy", 1),
                _pick("1", "Active", 2),
                _pick("2", "Lost", 3),
                _pick("3", "Closed", 4),
                _pick("4", "Implemented", 5),
            ],
            "opportunityCategoryID": [_pick("1", "Managed Services", 1), _pick("2", "Hardware", 2)],
        },
    }


def error_body(status: int) -> dict:
    """What Autotask sends with a refusal the tests inject (429, 5xx): a list of messages."""
    if status == 429:
        return {"errors": ["Too many requests: the request threshold of this database has been reached"]}
    return {"errors": [f"An unexpected error occurred on the server (HTTP {status})"]}


class PagingToken:
    counter = itertools.count(1)


class AutotaskFake:
    """The tenant's data and the API over it. ``with AutotaskFake() as fake: fake.env()``."""

    def __init__(self, *, username: str = USERNAME, secret: str = SECRET, integration_code: str = INTEGRATION_CODE):
        self.username, self.secret, self.integration_code = username, secret, integration_code
        self.data: dict[str, dict[int, dict]] = {name: {} for name in ENTITIES}
        self._sorted_ids: dict[str, list[int] | None] = {}
        self.picklists = default_picklists()
        self.zone = "zone1"
        self.threshold = {
            "externalRequestThreshold": 10000,
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": 0,
        }
        # Paging tokens stay valid after use: a page can be fetched again after a failure.
        self.pages: dict[str, tuple[str, str, dict, int]] = {}
        self.forbidden: dict[str, str] = {}  # entity -> the message its queries fail with (HTTP 500)
        self.forbidden_writes: dict[str, str] = {}  # entity -> the message its writes fail with (HTTP 500)
        # Called just before a ticket PATCH is applied: a colleague's change landing between the
        # client's re-read and its write (no ETag lets a client see that coming).
        self.before_write: Callable[[int], None] | None = None
        # (entity, id) of rows a listing misses though a query by id finds them: the fault a
        # full pass must survive before it deletes anything (tests set it).
        self.unlisted: set[tuple[str, int]] = set()
        self.lock = threading.RLock()
        self.server = FakeServer(self.handle, error_body=error_body)
        self.clock_offset = timedelta(0)
        self._move_at: tuple[int, str] | None = None

    # --- running -----------------------------------------------------------------------

    def __enter__(self) -> AutotaskFake:
        self.server.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.stop()

    @property
    def zone_url(self) -> str:
        return self.server.url + "/"

    def base_url(self, zone: str | None = None) -> str:
        return f"{self.server.url}/{zone or self.zone}/ATServicesRest/"

    def web_url(self, zone: str | None = None) -> str:
        return f"{self.server.url}/{zone or self.zone}-web/"

    def env(self, **overrides: str) -> dict[str, str]:
        """MSPKPI_AUTOTASK_* pointing at this fake (zone discovered, as in production)."""
        env = {
            "MSPKPI_AUTOTASK_USERNAME": self.username,
            "MSPKPI_AUTOTASK_SECRET": self.secret,
            "MSPKPI_AUTOTASK_INTEGRATION_CODE": self.integration_code,
            "MSPKPI_AUTOTASK_ZONE_URL": self.zone_url,
        }
        env.update(overrides)
        return env

    def move_zone(self, zone: str = "zone2", after_requests: int = 0) -> None:
        """The tenant moved: the old zone refuses it, zoneInformation names the new one.

        With `after_requests`, the move happens once that many more API calls were answered."""
        if after_requests:
            self._move_at = (self.threshold["currentTimeframeRequestCount"] + after_requests, zone)
        else:
            self.zone = zone

    # --- editing the tenant --------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def put(self, entity: str, record: dict) -> None:
        with self.lock:
            if record["id"] not in self.data[entity]:
                self._sorted_ids[entity] = None
            self.data[entity][record["id"]] = record

    def edit(self, entity: str, record_id: int, **changes: Any) -> dict:
        """Change a record as a PSA user would; its modified time becomes now."""
        with self.lock:
            record = self.data[entity][record_id]
            record.update(changes)
            if entity in MODIFIED_FIELD:
                record[MODIFIED_FIELD[entity]] = at_time(self.now(), record_id)
            return record

    def delete(self, entity: str, record_id: int) -> None:
        with self.lock:
            del self.data[entity][record_id]
            self._sorted_ids[entity] = None

    def delete_ticket(self, ticket_id: int) -> None:
        """Delete a ticket (and its time entries, as Autotask requires, and its notes) and log it."""
        with self.lock:
            ticket = self.data["Tickets"].pop(ticket_id)
            self._sorted_ids["Tickets"] = None
            for entry_id in [i for i, e in self.data["TimeEntries"].items() if e.get("ticketID") == ticket_id]:
                self.delete("TimeEntries", entry_id)
            for note_id in [i for i, n in self.data["TicketNotes"].items() if n.get("ticketID") == ticket_id]:
                self.delete("TicketNotes", note_id)
            log_id = max(self.data["DeletedTicketLogs"], default=0) + 1
            self.put(
                "DeletedTicketLogs",
                {
                    "id": log_id,
                    "ticketID": ticket_id,
                    "ticketNumber": ticket["ticketNumber"],
                    "deletedByResourceID": 4,
                    "deletedDateTime": at_time(self.now(), log_id),
                },
            )

    def ids(self, entity: str) -> list[int]:
        with self.lock:
            ids = self._sorted_ids.get(entity)
            if ids is None:
                ids = self._sorted_ids[entity] = sorted(self.data[entity])
            return ids

    # --- the API -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.lower().rstrip("/")
        if path == "/atservicesrest/v1.0/zoneinformation":
            return self._zone_information(request)
        parts = path.split("/")  # ['', zone, 'atservicesrest', 'v1.0', Entity, ...]
        if len(parts) < 5 or parts[2] != "atservicesrest" or parts[3] != "v1.0":
            return Response(404, {"errors": ["The requested resource does not exist."]})
        with self.lock:
            self.threshold["currentTimeframeRequestCount"] += 1
            if self._move_at and self.threshold["currentTimeframeRequestCount"] > self._move_at[0]:
                self.zone, self._move_at = self._move_at[1], None
        if parts[1] != self.zone or not self._authorised(request):
            return Response(401, {"errors": ["Unauthorized: the credentials are not valid for this zone"]})
        entity = self._entity_name(parts[4])
        rest = parts[5:]
        if parts[4] == "thresholdinformation":
            return Response(200, dict(self.threshold))
        if entity is None:
            return Response(404, {"errors": [f"No entity named {parts[4]}"]})
        if rest[:1] == ["entityinformation"] and request.method == "GET":
            return self._entity_information(entity, rest[1:])
        if rest[:1] == ["query"] and entity in self.forbidden:
            # Autotask reports permission and business-rule failures as HTTP 500, not 403.
            return Response(500, {"errors": [self.forbidden[entity]]})
        if rest == ["query"] and request.method == "POST":
            return self._query(entity, request.json(), "POST")
        if rest == ["query"] and request.method == "GET":
            return self._query(entity, json.loads(request.param("search") or "{}"), "GET")
        if rest == ["query", "next"]:
            return self._next_page(entity, request)
        if rest == ["query", "count"]:
            body = request.json() if request.method == "POST" else json.loads(request.param("search") or "{}")
            try:
                self._check_fields(entity, body.get("filter") or [])
                matcher = _matcher(body.get("filter") or [])
            except ValueError as exc:
                return Response(500, {"errors": [str(exc)]})
            return Response(200, {"queryCount": sum(1 for r in list(self.data[entity].values()) if matcher(r))})
        if len(rest) == 1 and rest[0].isdigit() and request.method == "GET":
            record = self.data[entity].get(int(rest[0]))
            return Response(200, {"item": record})
        if request.method in ("PATCH", "POST") and entity in self.forbidden_writes:
            return Response(500, {"errors": [self.forbidden_writes[entity]]})
        if request.method == "PATCH" and not rest and entity == "Tickets":
            return self._update_ticket(request.json())
        if entity == "Tickets" and len(rest) == 2 and rest[0].isdigit() and rest[1] == "notes":
            if request.method == "POST":
                return self._create_note(request.json(), int(rest[0]))
        if entity == "TicketNotes" and not rest and request.method == "POST":
            return self._create_note(request.json(), None)
        return Response(404, {"errors": ["The requested resource does not exist."]})

    # --- writes: validated as Autotask does, refusals as HTTP 500 with the reason ----------

    def _update_ticket(self, body: Any) -> Response:
        """PATCH Tickets: the id in the body, only the fields to change."""
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            return Response(500, {"errors": ["An update must carry the id of the entity in its body."]})
        with self.lock:
            if self.before_write is not None:
                self.before_write(body["id"])
            ticket = self.data["Tickets"].get(body["id"])
            if ticket is None:
                return Response(500, {"errors": [f"Ticket with id {body['id']} does not exist."]})
            try:
                fields = {k: v for k, v in body.items() if k not in ("id", "userDefinedFields")}
                changes = self._checked_fields("Tickets", fields)
                self._check_assignment(changes, ticket)
                if "userDefinedFields" in body:
                    changes["userDefinedFields"] = self._merged_udfs(ticket, body["userDefinedFields"])
            except ValueError as exc:
                return Response(500, {"errors": [str(exc)]})
            self.edit("Tickets", body["id"], **changes)
        return Response(200, {"itemId": body["id"]})

    def _create_note(self, body: Any, parent: int | None) -> Response:
        if not isinstance(body, dict):
            return Response(500, {"errors": ["The body must be a TicketNote object."]})
        body = dict(body)
        if parent is not None:
            body.setdefault("ticketID", parent)
            if body["ticketID"] != parent:
                return Response(500, {"errors": ["ticketID does not match the parent ticket in the URL."]})
        try:
            note = self._checked_fields("TicketNotes", body, creating=True)
        except ValueError as exc:
            return Response(500, {"errors": [str(exc)]})
        with self.lock:
            if note["ticketID"] not in self.data["Tickets"]:
                return Response(500, {"errors": [f"Ticket with id {note['ticketID']} does not exist."]})
            note["id"] = max(self.data["TicketNotes"], default=7000) + 1
            note["createDateTime"] = note["lastActivityDate"] = at_time(self.now())
            self.put("TicketNotes", note)
        return Response(200, {"itemId": note["id"]})

    def _checked_fields(self, entity: str, values: dict, creating: bool = False) -> dict:
        """Field names (case-insensitive) known and writable, picklist values existing and active."""
        by_name = {f.name.lower(): f for f in FIELDS[entity]}
        checked = {}
        for key, value in values.items():
            field = by_name.get(str(key).lower())
            if field is None:
                raise ValueError(f"Unable to find field {key} in the {entity} entity.")
            if field.read_only:
                raise ValueError(f"Field {field.name} of the {entity} entity is read-only.")
            picklist = self.picklists.get(entity, {}).get(field.name)
            if picklist is not None and value is not None:
                match = next((p for p in picklist if p["value"] == str(value)), None)
                if match is None or not match["isActive"]:
                    raise ValueError(f"Value {value} does not exist for the {field.name} field of {entity}.")
            checked[field.name] = value
        if creating:
            missing = [
                f.name for f in FIELDS[entity] if f.required and not f.read_only and checked.get(f.name) in (None, "")
            ]
            if missing:
                raise ValueError(f"Required field(s) missing for {entity}: {', '.join(missing)}.")
        return checked

    def _merged_udfs(self, ticket: dict, items: Any) -> list[dict]:
        """A PATCH sets user-defined fields by name: [{"name": ..., "value": ...}]; unknown names are refused."""
        known = {f.name.lower(): f.name for f in UDFS.get("Tickets", [])}
        merged = {u["name"]: u.get("value") for u in ticket.get("userDefinedFields") or []}
        if not isinstance(items, list):
            raise ValueError("userDefinedFields must be a list of {name, value}.")
        for item in items:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or name.lower() not in known:
                raise ValueError(f"Unable to find user-defined field {name} in the Tickets entity.")
            merged[known[name.lower()]] = item.get("value")
        return [{"name": n, "value": v} for n, v in merged.items()]

    def _check_assignment(self, changes: dict, ticket: dict) -> None:
        """Autotask refuses a resource without a role the resource holds."""
        if changes.get("assignedResourceID") is None:
            if changes.get("assignedResourceRoleID") is not None:
                raise ValueError("assignedResourceRoleID needs an assignedResourceID.")
            return
        resource, role = changes["assignedResourceID"], changes.get("assignedResourceRoleID")
        if resource not in self.data["Resources"]:
            raise ValueError(f"Resource with id {resource} does not exist.")
        if role is None:
            raise ValueError("When assignedResourceID is set, assignedResourceRoleID is required.")
        held = {r["roleID"] for r in self.data["ResourceRoles"].values() if r["resourceID"] == resource}
        if role not in held:
            raise ValueError(f"Resource {resource} does not hold role {role}.")

    def _zone_information(self, request: Request) -> Response:
        if (request.param("user") or "").lower() != self.username.lower():
            return Response(500, {"errors": ["Zone information could not be determined"]})
        return Response(
            200, {"zoneName": f"Fake {self.zone}", "url": self.base_url(), "webUrl": self.web_url(), "ci": 4242}
        )

    def _authorised(self, request: Request) -> bool:
        h = request.headers
        return (
            h.get("apiintegrationcode") == self.integration_code
            and (h.get("username") or "").lower() == self.username.lower()
            and h.get("secret") == self.secret
        )

    def _entity_name(self, lowered: str) -> str | None:
        return next((name for name in ENTITIES if name.lower() == lowered), None)

    def _fields(self, entity: str) -> list[dict]:
        picklists = self.picklists.get(entity, {})
        return [field_info(f, picklists.get(f.name)) for f in FIELDS[entity]]

    def _entity_information(self, entity: str, rest: list[str]) -> Response:
        if not rest:
            return Response(200, entity_info(entity))
        if rest == ["fields"]:
            return Response(200, {"fields": self._fields(entity)})
        if rest == ["userdefinedfields"]:
            return Response(200, {"fields": [field_info(f, None) for f in UDFS.get(entity, [])]})
        return Response(404, {"errors": ["The requested resource does not exist."]})

    def _check_fields(self, entity: str, filters: list[dict]) -> None:
        """Every filter field must exist (case-insensitively); a UDF filter names a UDF."""
        known = {f.name.lower() for f in FIELDS[entity]}
        udfs = {f.name.lower() for f in UDFS.get(entity, [])}
        for item in filters:
            if not isinstance(item, dict):
                raise ValueError(f"A filter item must be an object, not {item!r}")
            if str(item.get("op", "")).lower() in ("and", "or"):
                self._check_fields(entity, item.get("items") or [])
                continue
            name = str(item.get("field") or "")
            if name.lower() not in (udfs if item.get("udf") else known):
                kind = "user-defined field" if item.get("udf") else "field"
                raise ValueError(f"Unable to find {kind} {name} in the {entity} entity.")

    def _query(self, entity: str, body: dict, method: str, after_index: int = 0) -> Response:
        max_records = body.get("MaxRecords", MAX_RECORDS)
        if not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS:
            return Response(500, {"errors": ["maxCountOfRecordsToReturn must be between 1 and 500"]})
        filters = body.get("filter")
        if not filters:
            return Response(500, {"errors": ["A query must have at least one filter"]})
        try:
            self._check_fields(entity, filters)
            matcher = _matcher(filters)
        except ValueError as exc:
            return Response(500, {"errors": [str(exc)]})
        ids = self.ids(entity)
        start = _id_walk_start(filters, ids)
        index = max(start, after_index)
        items: list[dict] = []
        table = self.data[entity]
        by_id = any(str(f.get("field")).lower() == "id" and f.get("op") in ("eq", "in") for f in filters)
        hidden = set() if by_id else {i for e, i in self.unlisted if e == entity}
        while index < len(ids) and len(items) < max_records:
            record = table.get(ids[index])
            index += 1
            if record is not None and record["id"] not in hidden and matcher(record):
                items.append(record)
        more = len(items) == max_records and _has_match(table, ids, index, matcher)
        next_url = None
        if more:
            token = f"p{next(PagingToken.counter)}"
            self.pages[token] = (entity, method, body, index)
            next_url = self.base_url() + f"V1.0/{entity}/query/next?paging=" + quote(json.dumps({"token": token}))
            if method == "GET":  # a GET query is continued by GET: the search travels in the URL
                next_url += "&search=" + quote(json.dumps(body))
        fields = body.get("IncludeFields")
        if fields:
            wanted = set(fields) | {"id"}
            items = [{k: v for k, v in r.items() if k in wanted} for r in items]
        payload = json.dumps(
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": max_records,
                    "prevPageUrl": None,
                    "nextPageUrl": next_url,
                },
            }
        )
        return ItemsResponse(200, raw=payload.encode(), items=len(items))

    def _next_page(self, entity: str, request: Request) -> Response:
        try:
            token = json.loads(request.param("paging") or "{}")["token"]
            saved_entity, method, body, index = self.pages[token]
        except (KeyError, ValueError, TypeError):
            return Response(404, {"errors": ["The paging token is not valid"]})
        if request.method != method:
            return Response(
                405, {"errors": [f"The requested resource does not support http method '{request.method}'."]}
            )
        sent = request.json() if method == "POST" else json.loads(request.param("search") or "null")
        if saved_entity != entity or sent != body:
            return Response(500, {"errors": ["A continued query must repeat the original query"]})
        return self._query(entity, body, method, after_index=index)


def _has_match(table: dict, ids: list[int], index: int, matcher) -> bool:
    """Is there another matching record after `index`? (stops at the first one)"""
    return any(matcher(r) for i in itertools.islice(ids, index, None) if (r := table.get(i)) is not None)


# --- filters ------------------------------------------------------------------------------


def _id_walk_start(filters: list[dict], ids: list[int]) -> int:
    """Where a top-level ``id gt/gte N`` lets the scan start (results are sorted by id)."""
    start = 0
    for item in filters:
        if item.get("field", "").lower() == "id" and item.get("op") in ("gt", "gte"):
            value = int(item["value"])
            position = bisect.bisect_right(ids, value) if item["op"] == "gt" else bisect.bisect_left(ids, value)
            start = max(start, position)
    return start


def _matcher(filters: list[dict]):
    tests = [_condition(item) for item in filters]
    return lambda record: all(test(record) for test in tests)


def _condition(item: dict):
    op = item.get("op")
    if op in ("and", "or"):
        parts = [_condition(sub) for sub in item.get("items") or []]
        if op == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    field = item.get("field")
    if not field:
        raise ValueError(f"filter item without a field: {item}")
    value = item.get("value")
    if item.get("udf"):
        name = field.lower()
        get = lambda r: next(  # noqa: E731
            (u.get("value") for u in r.get("userDefinedFields") or [] if str(u.get("name")).lower() == name), None
        )
    else:
        lowered = field.lower()
        get = lambda r: next((v for k, v in r.items() if k.lower() == lowered), None)  # noqa: E731
    compare = {
        "eq": lambda a, b: a is not None and _cmp(a, b) == 0,
        "noteq": lambda a, b: a is None or _cmp(a, b) != 0,
        "gt": lambda a, b: a is not None and _cmp(a, b) > 0,
        "gte": lambda a, b: a is not None and _cmp(a, b) >= 0,
        "lt": lambda a, b: a is not None and _cmp(a, b) < 0,
        "lte": lambda a, b: a is not None and _cmp(a, b) <= 0,
        "in": lambda a, b: a is not None and any(_cmp(a, x) == 0 for x in b),
        "notin": lambda a, b: a is None or all(_cmp(a, x) != 0 for x in b),
        "exist": lambda a, b: a not in (None, ""),
        "notexist": lambda a, b: a in (None, ""),
        "contains": lambda a, b: a is not None and str(b).lower() in str(a).lower(),
        "beginswith": lambda a, b: a is not None and str(a).lower().startswith(str(b).lower()),
        "endswith": lambda a, b: a is not None and str(a).lower().endswith(str(b).lower()),
    }.get(str(op).lower())
    if compare is None:
        raise ValueError(f"unknown filter operator {op!r}")
    if str(op).lower() in ("in", "notin") and not isinstance(value, list):
        raise ValueError(f"{op} needs a list value")
    return lambda r: compare(get(r), value)


def _cmp(a: Any, b: Any) -> int:
    """Compare like the API: numbers as numbers, times as instants, text case-insensitively."""
    if isinstance(a, bool) or isinstance(b, bool):
        a, b = str(a).lower(), str(b).lower()
    elif isinstance(a, (int, float)) or isinstance(b, (int, float)):
        try:
            a, b = float(a), float(b)
        except (TypeError, ValueError):
            a, b = str(a), str(b)
    else:
        ta, tb = _as_time(a), _as_time(b)
        if ta is not None and tb is not None:
            a, b = ta, tb
        else:
            a, b = str(a).lower(), str(b).lower()
    return (a > b) - (a < b)


def _as_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- a tenant's data ---------------------------------------------------------------------


def populate(
    fake: AutotaskFake,
    *,
    tickets: int = 60,
    time_entries: int = 150,
    companies: int = 6,
    resources: int = 5,
    opportunities: int = 8,
    projects: int = 4,
    contracts: int = 4,
    surveys: int = 10,
    base: datetime | None = None,
    notes: bool = True,
) -> None:
    """A deterministic tenant: every figure depends only on the arguments and `base`. With
    `notes`, each ticket has two notes (make_notes)."""
    base = base or (fake.now() - timedelta(days=40)).replace(microsecond=0)
    put = fake.put
    # Every Autotask tenant has the MSP itself as company 0; internal tickets point at it.
    put(
        "Companies",
        {
            "id": 0,
            "companyName": "Example MSP (owner)",
            "companyNumber": "0",
            "isActive": True,
            "companyType": 5,  # Owner
            "lastTrackedModifiedDateTime": at_time(base, 0),
        },
    )
    for i in range(1, companies + 1):
        put(
            "Companies",
            {
                "id": i,
                "companyName": f"Company {i} <b>[bold]</b>",
                "companyNumber": f"C{i:04}",
                "isActive": i % 7 != 0,
                "companyType": 1,  # Customer
                "lastTrackedModifiedDateTime": at_time(base, i),
            },
        )
    for i in range(1, resources + 1):
        put(
            "Resources",
            {
                "id": 100 + i,
                "firstName": f"Tech{i}",
                "lastName": "Smith",
                "email": f"tech{i}@example-msp.com",
                "isActive": True,
                "internalCost": 40.0 + i,
            },
        )
        put(
            "ResourceDailyAvailabilities",
            {
                "id": 100 + i,
                "resourceID": 100 + i,
                **{
                    f"{d}AvailableHours": (8.0 if d not in ("saturday", "sunday") else 0.0)
                    for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
                },
                "weeklyBillableHoursGoal": 30.0,
            },
        )
        put("ResourceRoles", {"id": 700 + i, "resourceID": 100 + i, "roleID": 29683400 + i % 2, "isActive": True})
    for i in range(1, 4):
        put("BillingCodes", {"id": 900 + i, "name": ["Remote support", "Onsite", "Admin"][i - 1], "isActive": True})
        put("Departments", {"id": 29682830 + i, "name": ["General", "Projects", "Managed Services"][i - 1]})
    for i in range(1, contracts + 1):
        put(
            "Contracts",
            {
                "id": 300 + i,
                "contractName": f"Managed services {i}",
                "contractNumber": f"K{i}",
                "companyID": 1 + i % companies,
                "contractType": 7,
                "contractPeriodType": "m",
                "status": 1,
                "startDate": at_time(base - timedelta(days=300), i),
                "endDate": at_time(base + timedelta(days=20 * i + 40), i),
                "contractCategory": 1 if i % 2 else 2,
            },
        )
        # One units row per 30-day billing period, past and future (Autotask keeps them all):
        # 10 + i seats at 60 a seat, 12 more seats from the current period.
        for period in range(-3, 3):
            start = (base + timedelta(days=40 + 30 * period)).replace(hour=0, minute=0, second=0)
            put(
                "ContractServiceUnits",
                {
                    "id": 3000 + 10 * i + period + 3,
                    "contractID": 300 + i,
                    "contractServiceID": 3100 + i,
                    "serviceID": 31,
                    "startDate": at_time(start, i),
                    "endDate": at_time(start + timedelta(days=29, hours=23, minutes=59, seconds=59), i),
                    "units": 10 + i + (12 if period >= 0 else 0),
                    "price": 60.0,
                    "cost": 20.0,
                },
            )
        put(
            "BillingItems",
            {
                "id": 8000 + i,
                "companyID": 1 + i % companies,
                "contractID": 300 + i,
                "ticketID": None,
                "billingItemType": 6,
                "itemDate": at_time(base, i),
                "postedDate": at_time(base + timedelta(days=1), i),
                "quantity": 1.0,
                "rate": 600.0,
                "extendedPrice": 600.0,
                "ourCost": 200.0,
                "invoiceID": 9000 + i,
                "description": "Managed services",
            },
        )
        put(
            "BillingItems",
            {
                "id": 8100 + i,
                "companyID": 1 + i % companies,
                "contractID": None,
                "ticketID": None,
                "billingItemType": 2,
                "itemDate": at_time(base + timedelta(days=2), i),
                "postedDate": at_time(base + timedelta(days=3), i),
                "quantity": 2.0,
                "rate": 450.0,
                "extendedPrice": 900.0,
                "ourCost": 700.0,
                "invoiceID": 9100 + i,
                "description": "Laptop",
            },
        )
    for i in range(1, projects + 1):
        put(
            "Projects",
            {
                "id": 400 + i,
                "projectName": f"Project {i}",
                "companyID": 1 + i % companies,
                "status": 2 if i % 3 else 5,
                "startDateTime": at_time(base - timedelta(days=30), i),
                "endDateTime": at_time(base + timedelta(days=30), i),
                "completedPercentage": 10 * i,
                "estimatedTime": 40.0,
                "actualHours": 10.0 * i,
                "projectType": 5,
                "department": None if i == 3 else 29682831 if i % 2 else 29682832,
                "lastActivityDateTime": at_time(base + timedelta(hours=i), i),
            },
        )
        put(
            "Tasks",
            {"id": 450 + i, "projectID": 400 + i, "title": f"Task {i}", "lastActivityDateTime": at_time(base, i)},
        )
    for c in range(1, companies + 1):  # two contacts per client: the tickets' requesters
        for k in (1, 2):
            put(
                "Contacts",
                {
                    "id": 800 + 2 * c + k,
                    "companyID": c,
                    "firstName": ["Ann", "Bob"][k - 1],
                    "lastName": f"Client{c}",
                    "emailAddress": f"{['ann', 'bob'][k - 1]}@client{c}.example",
                    "isActive": 1,
                    "lastActivityDate": at_time(base, c),
                },
            )
    statuses = [1, 8, 7, 5, 11, 5, 10, 5]
    for i in range(1, tickets + 1):
        put("Tickets", make_ticket(i, base, companies, resources, statuses[i % len(statuses)]))
        for note in make_notes(i, base, companies, resources) if notes else []:
            put("TicketNotes", note)
    for i in range(1, time_entries + 1):
        put("TimeEntries", make_time_entry(i, base, tickets, resources, projects))
    for i in range(1, opportunities + 1):
        put(
            "Opportunities",
            {
                "id": 500 + i,
                "title": f"Deal {i}",
                "companyID": 1 + i % companies,
                "ownerResourceID": 101,
                "stage": 1 + i % 4,
                "status": [1, 1, 1, 2, 3][i % 5],
                "amount": 1000.0 * i,
                "probability": 10 * (i % 10),
                "projectedCloseDate": at_time(base + timedelta(days=30), i),
                "closedDate": None,
                "lostDate": None,
                "createDate": at_time(base - timedelta(days=i), i),
                "lastActivity": at_time(base + timedelta(hours=i), i),
                "winReason": None,
                "lossReason": "Price" if i % 5 == 3 else None,
                "opportunityCategoryID": 1,
            },
        )
    for i in range(1, surveys + 1):
        put(
            "SurveyResults",
            {
                "id": 600 + i,
                "surveyID": 1,
                "ticketID": 1 + (i * 7) % max(tickets, 1),
                "companyID": 1 + i % companies,
                "completeDate": at_time(base + timedelta(days=i % 30), i),
                "surveyRating": 1 + i % 5,
            },
        )


def make_ticket(i: int, base: datetime, companies: int = 6, resources: int = 5, status: int = 1) -> dict:
    created = base + timedelta(minutes=7 * i)
    done = status == 5
    return {
        "id": i,
        "ticketNumber": f"T{created:%Y%m%d}.{i:04}",
        "title": f"Printer {i} on fire \x1b[31m[red]",
        "companyID": 0 if i % 10 == 0 else 1 + i % companies,  # every tenth is internal: company 0
        "status": status,
        "priority": 1 + i % 4,
        "queueID": [29682833, 29682969, 29683354][i % 3],
        "issueType": 1 + i % 3,
        "subIssueType": None,
        "ticketType": 1 + i % 2,
        "source": 2,
        "assignedResourceID": 101 + i % resources if i % 5 else None,
        "createDate": at_time(created, i),
        "firstResponseDueDateTime": at_time(created + timedelta(hours=1), i + 1),
        "firstResponseDateTime": at_time(created + timedelta(minutes=30), i + 2) if i % 4 else None,
        "resolvedDueDateTime": at_time(created + timedelta(hours=24), i),
        "resolvedDateTime": at_time(created + timedelta(hours=5), i) if done else None,
        "dueDateTime": at_time(created + timedelta(days=2), i),
        "completedDate": at_time(created + timedelta(hours=6), i + 1) if done else None,
        "lastActivityDate": at_time(created + timedelta(hours=6), i + 2),
        "serviceLevelAgreementID": 1 + i % 2,
        "serviceLevelAgreementHasBeenMet": None,
        "contractID": None,
        "projectID": None,
        "userDefinedFields": [{"name": "Escalated On", "value": None}],
        "description": f"Smoke from printer {i}.\r\nPlease send someone \x1b]52;c;aGk=\x07" if i % 3 else "",
        "contactID": None if i % 10 == 0 else 800 + 2 * (1 + i % companies) + 1 + i % 2,  # internal: nobody
    }


def make_notes(i: int, base: datetime, companies: int = 6, resources: int = 5) -> list[dict]:
    """Two notes on ticket i: the technician's internal one, and the customer's reply (publish 1)."""
    created = base + timedelta(minutes=7 * i)
    return [
        {
            "id": 20_000 + 2 * i,
            "ticketID": i,
            "title": "Diagnosis",
            "description": f"Checked printer {i}; toner \x1b[2J low.",
            "noteType": 1,
            "publish": 2,
            "creatorResourceID": 101 + i % resources,
            "createDateTime": at_time(created + timedelta(minutes=40), i),
            "lastActivityDate": at_time(created + timedelta(minutes=40), i),
        },
        {
            "id": 20_001 + 2 * i,
            "ticketID": i,
            "title": "Customer reply",
            "description": "Thanks, working now.",
            "noteType": 3,
            "publish": 1,
            "createdByContactID": 800 + 2 * (1 + i % companies) + 1 if i % 10 else None,
            "createDateTime": at_time(created + timedelta(hours=2), i),
            "lastActivityDate": at_time(created + timedelta(hours=2), i),
        },
    ]


def make_time_entry(i: int, base: datetime, tickets: int, resources: int = 5, projects: int = 4) -> dict:
    started = base + timedelta(minutes=11 * i)
    on_ticket = i % 6 != 0 and tickets > 0
    on_task = not on_ticket and i % 12 == 0 and projects > 0
    return {
        "id": 10_000 + i,
        "resourceID": 101 + i % resources,
        "ticketID": 1 + i % tickets if on_ticket else None,
        "taskID": 451 + i % projects if on_task else None,
        "dateWorked": at_time(started.replace(hour=0, minute=0, second=0), 2),
        "startDateTime": at_time(started, i),
        "endDateTime": at_time(started + timedelta(minutes=45), i),
        "hoursWorked": 0.75,
        "hoursToBill": 0.75,
        "isNonBillable": i % 4 == 0,
        "timeEntryType": 2,
        "billingCodeID": 901 + i % 3,
        "lastModifiedDateTime": at_time(started + timedelta(hours=1), i),
    }
