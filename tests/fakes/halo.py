"""A fake HaloPSA API on 127.0.0.1, faithful to ../shared/psa-api-notes.md (HaloPSA, "Writing back").

- auth: ``GET /api/authinfo`` -> ``{"auth_url", "tenant_id"}`` (``authinfo=False``: 404, the
  client must fall back to ``/auth``); ``POST /auth/token[?tenant=]`` with form fields
  ``grant_type=client_credentials, client_id, client_secret, scope`` -> ``{"access_token",
  "token_type", "expires_in"}`` (``token_lifetime`` seconds; ``revoke_tokens()`` ends them
  early); a bad client gets 401 ``{"error": "invalid_client", ...}``. Every ``/api/`` call
  other than authinfo needs a live ``Authorization: Bearer`` token, else 401.
- the rate limit: with ``rate_limit`` set, more than that many API requests in ``rate_window``
  seconds get 429 (with ``Retry-After`` when ``retry_after`` is set).
- lists: paged only with ``pageinate=true`` (``page_size`` capped at ``max_page_size``, 100
  like Halo, ``page_no`` from 1) -> ``{"record_count": N, key: [...]}`` with the key per
  entity (``tickets``, ``clients``, ``contracts``, ``actions``, ``feedback``, ``invoices``:
  posted invoices with their ``lines``; ``invoices_enabled=False`` answers 403); Status,
  Priority, Agent, Team and Timesheet answer a plain array, and Agent and Timesheet ignore
  paging (every page repeats the whole list). Sorted by id (actions by ticket, then id).
- ``lastupdatefromdate`` (zone-less = the instance's zone, ``instance_zone``) selects what
  changed since; ``deleted=true`` lists deleted tickets instead; ``ticket_id`` filters actions.
  ``Tickets`` lists projects and opportunities too unless ``tickets_include_projects=False``.
- action ids are unique per ticket only (each ticket's actions count from 1).
- dates are served as the test stored them (zone-less, ``Z``, offsets, 1900 sentinels).
- writes: ``POST /api/Tickets`` with an array of ``{"id", ...}`` (``status_id``,
  ``priority_id``, ``agent_id``, ``team``) updates; ``POST /api/Actions`` adds a note; the
  answer is an object or a list (``answer_as_list``); refusals in Halo's ``{ClassName,
  Message}`` shape.
- errors injected by tests carry one of Halo's shapes, by status: ``{ClassName, Message}``,
  ``{Message}``, ``{resultCode, errorMessage}`` or plain text.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs

from fakes.server import FakeServer, ItemsResponse, Request, Response

CLIENT_ID = "mspkpi-halo-client"
CLIENT_SECRET = "Halo-Secret/789!"
TENANT = "contoso"
MAX_PAGE_SIZE = 100
LIST_KEYS = {
    "tickets": "tickets",
    "projects": "tickets",
    "opportunities": "tickets",
    "client": "clients",
    "clientcontract": "contracts",
    "actions": "actions",
    "feedback": "feedback",
    "invoice": "invoices",
}
PLAIN = {"status", "priority", "agent", "team", "timesheet"}
IGNORES_PAGING = {"agent", "timesheet"}
DELETED = "__deleted__"  # marks a deleted ticket among the selected keys
WRITABLE = {"status_id": "status", "priority_id": "priority", "agent_id": "agent"}


def halo_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """How Halo usually writes a time: the instance's zone, no zone suffix."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def error_body(status: int) -> Any:
    """Halo's error shapes vary by status and endpoint: all of them show up here."""
    if status == 429:
        return "Too many requests. Please try again later."  # plain text
    if status == 500:
        return {"ClassName": "System.Exception", "Message": f"An unexpected error occurred (HTTP {status})"}
    if status == 502:
        return {"resultCode": status, "errorMessage": "Bad gateway"}
    return {"Message": f"The service is unavailable (HTTP {status})"}


class HaloFake:
    """The fake API's state and behaviour; `server` is the real HTTP server serving it."""

    def __init__(
        self,
        *,
        max_page_size: int = MAX_PAGE_SIZE,
        tenant: str | None = TENANT,
        authinfo: bool = True,
        token_lifetime: float = 3600,
        instance_zone: tzinfo = UTC,
        tickets_include_projects: bool = True,
        answer_as_list: bool = True,
    ):
        self.max_page_size = max_page_size
        self.tenant = tenant
        self.authinfo = authinfo
        self.token_lifetime = token_lifetime
        self.instance_zone = instance_zone
        self.tickets_include_projects = tickets_include_projects
        self.answer_as_list = answer_as_list
        self.rate_limit: int | None = None
        self.rate_window = 300.0
        self.retry_after: str | None = None
        self.feedback_enabled = True
        self.invoices_enabled = True  # False: the API user may not read invoices (403)
        self.data: dict[str, dict[Any, Any]] = defaultdict(dict)  # lower-cased entity -> key -> record
        self.updated: dict[str, dict[Any, datetime]] = defaultdict(dict)
        self.deleted: dict[int, datetime] = {}  # ticket id -> when
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.tokens_issued = 0
        self.emails_sent = 0  # notes posted without sendemail: false
        self.visible_notes = 0  # notes posted without hiddenfromuser: true
        self._recent: deque[float] = deque()
        self._sorted: dict[str, list[Any]] = {}  # entity -> its keys in list order (benchmarks page a million rows)
        self.lock = threading.RLock()
        self.server = FakeServer(self.handle, error_body=error_body)

    def __enter__(self) -> HaloFake:
        self.server.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            "MSPKPI_HALO_URL": self.url,
            "MSPKPI_HALO_CLIENT_ID": CLIENT_ID,
            "MSPKPI_HALO_CLIENT_SECRET": CLIENT_SECRET,
            "MSPKPI_HTTP_BACKOFF_SCALE": "0.01",
        }
        if self.tenant:
            env["MSPKPI_HALO_TENANT"] = self.tenant
        env.update(overrides)
        return env

    # --- editing the data -----------------------------------------------------------

    def put(self, entity: str, record: Any, *, at: datetime | None = None, key: Any = None) -> Any:
        """Add or replace a record (actions are keyed by (ticket_id, id)); `at` is its last update."""
        entity = entity.lower()
        if key is None:
            key = (record["ticket_id"], record["id"]) if entity == "actions" else record["id"]
        with self.lock:
            if key not in self.data[entity]:
                self._sorted.pop(entity, None)
            self.data[entity][key] = record
            self.updated[entity][key] = at or datetime.now(UTC)
        return record

    def edit(self, entity: str, key: Any, *, at: datetime | None = None, **changes: Any) -> Any:
        with self.lock:
            record = self.data[entity.lower()][key]
            record.update(changes)
            return self.put(entity, record, at=at, key=key)

    def delete_ticket(self, ticket_id: int, *, at: datetime | None = None) -> None:
        with self.lock:
            for entity in ("tickets", "projects", "opportunities"):
                self.data[entity].pop(ticket_id, None)
            for key in [k for k in self.data["actions"] if k[0] == ticket_id]:
                del self.data["actions"][key]
            self._sorted.clear()
            self.deleted[ticket_id] = at or datetime.now(UTC)

    def delete(self, entity: str, key: Any) -> None:
        with self.lock:
            del self.data[entity.lower()][key]
            self._sorted.pop(entity.lower(), None)

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def list_requests(self, entity: str) -> list[Request]:
        return [e.request for e in list(self.server.log) if e.request.path.lower() == f"/api/{entity.lower()}"]

    # --- serving ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.lower().rstrip("/")
        with self.lock:
            if path == "/api/authinfo":
                if not self.authinfo:
                    return Response(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
                return Response(200, {"auth_url": f"{self.url}/auth", "tenant_id": self.tenant or ""})
            if path == "/auth/token" and request.method == "POST":
                return self._token(request)
            if not path.startswith("/api/"):
                return Response(404, {"Message": f"No HTTP resource was found that matches {request.path}"})
            limited = self._rate_limited()
            if limited:
                return limited
            if not self._authorised(request):
                return Response(401, {"Message": "Authorization has been denied for this request."})
            entity = path[len("/api/") :]
            if request.method == "POST":
                return self._write(entity, request)
            single = entity.rsplit("/", 1)
            if len(single) == 2 and single[1].isdigit():
                record = self.data.get(single[0], {}).get(int(single[1]))
                if record is None:
                    return Response(404, {"ClassName": "HaloNotFoundException", "Message": f"{single[0]} not found"})
                return Response(200, record)
            if entity == "feedback" and not self.feedback_enabled:
                return Response(403, {"ClassName": "HaloPermissionException", "Message": "Feedback is not enabled"})
            if entity == "invoice" and not self.invoices_enabled:
                return Response(403, {"ClassName": "HaloPermissionException", "Message": "No access to invoices"})
            if entity in LIST_KEYS or entity in PLAIN:
                return self._list(entity, request)
        return Response(404, {"Message": f"No HTTP resource was found that matches {request.path}"})

    def _rate_limited(self) -> Response | None:
        if not self.rate_limit:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= self.rate_window:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return Response(429, raw=b"Too many requests. Please try again later.", headers=headers)
        self._recent.append(now)
        return None

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return Response(400, {"error": "invalid_request", "error_description": "form body expected"})
        if self.tenant and request.param("tenant") != self.tenant:
            return Response(400, {"error": "invalid_request", "error_description": "unknown tenant"})
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        if form.get("scope") not in ("all", "all:standard", "read:tickets edit:tickets"):
            return Response(400, {"error": "invalid_scope"})
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + self.token_lifetime
        self.tokens_issued += 1
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        expiry = self.tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    # --- lists ------------------------------------------------------------------------

    def _selected(self, entity: str, request: Request) -> list[tuple[Any, str]] | list[Any] | Response:
        """The (key, entity) pairs a request selects in list order; with no filter on a single
        list, just its sorted keys (benchmarks page through a million rows)."""
        since = request.param("lastupdatefromdate")
        moment = None
        if since:
            try:
                moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                return Response(400, {"ClassName": "HaloValidationException", "Message": f"bad date {since!r}"})
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.instance_zone)
        if entity == "tickets" and request.param("deleted") == "true":
            return [(tid, DELETED) for tid, when in sorted(self.deleted.items()) if moment is None or when >= moment]
        sources = [entity]
        if entity == "tickets" and self.tickets_include_projects:
            sources += ["projects", "opportunities"]
        ticket = request.param("ticket_id")
        if entity == "invoice":
            # posted=true lists posted invoices only; includelines=false would leave the lines out
            # (the fake always sends them: the connector asks for them)
            posted = request.param("posted") == "true"
            return [k for k in self._keys(entity) if not posted or self.data[entity][k].get("posted") is True]
        if len(sources) == 1 and moment is None and not ticket:
            return self._keys(entity)
        keyed = [(k, e) for e in sources for k in self._keys(e)]
        if len(sources) > 1:
            keyed.sort(key=lambda pair: _order(pair[0]))
        if moment is not None:
            keyed = [(k, e) for k, e in keyed if self.updated[e][k] >= moment]
        if entity == "actions" and ticket:
            keyed = [(k, e) for k, e in keyed if str(k[0]) == ticket]
        return keyed

    def _keys(self, entity: str) -> list[Any]:
        if entity not in self._sorted:
            self._sorted[entity] = sorted(self.data.get(entity, {}), key=_order)
        return self._sorted[entity]

    def _list(self, entity: str, request: Request) -> Response:
        selected = self._selected(entity, request)
        if isinstance(selected, Response):
            return selected
        total = len(selected)
        if request.param("pageinate") == "true" and entity not in IGNORES_PAGING:
            size = max(1, min(int(request.param("page_size") or 50), self.max_page_size))
            number = max(1, int(request.param("page_no") or 1))
            selected = selected[(number - 1) * size : number * size]
        rows = [self._record(item, entity) for item in selected]
        if entity in PLAIN:
            return ItemsResponse(200, rows, items=len(rows))
        return ItemsResponse(200, {"record_count": total, LIST_KEYS[entity]: rows}, items=len(rows))

    def _record(self, item: Any, entity: str) -> Any:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
            key, entity = item
            if entity == DELETED:
                return {"id": key, "summary": "(deleted)", "deleted": True}
            return self.data[entity][key]
        return self.data[entity][item]

    # --- writes -------------------------------------------------------------------------

    def _write(self, entity: str, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return Response(400, raw=b"The request body is not valid JSON", headers={"Content-Type": "text/plain"})
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) for i in items):
            return _invalid("The request must be an object or an array of objects")
        if entity == "tickets":
            answers = []
            for item in items:
                answer = self._update_ticket(item)
                if isinstance(answer, Response):
                    return answer
                answers.append(answer)
        elif entity == "actions":
            answers = []
            for item in items:
                answer = self._add_action(item)
                if isinstance(answer, Response):
                    return answer
                answers.append(answer)
        else:
            return Response(405, {"Message": f"POST is not supported on {entity}"})
        return Response(201, answers if self.answer_as_list else answers[0])

    def _update_ticket(self, item: dict) -> dict | Response:
        ticket = self.data["tickets"].get(item.get("id"))
        if ticket is None:
            return _invalid(f"Ticket {item.get('id')!r} does not exist")
        changes: dict[str, Any] = {}
        for name, value in item.items():
            if name == "id":
                continue
            if name in WRITABLE:
                if value in (None, 0, -1) and name == "agent_id":
                    changes["agent_id"] = 0
                    continue
                if value not in self._ids(WRITABLE[name]):
                    return _invalid(f"{name} {value!r} is not valid")
                changes["priorityid" if name == "priority_id" else name] = value
            elif name == "team":
                if value not in {t.get("name") for t in self.data["team"].values()}:
                    return _invalid(f"Team {value!r} does not exist")
                changes["team"] = value
            else:
                return _invalid(f"Cannot update {name!r} here")
        ticket.update(changes)
        self.put("tickets", ticket)
        return ticket

    def _ids(self, entity: str) -> set[Any]:
        if entity == "priority":
            return {p.get("priorityid") for p in self.data["priority"].values()}
        return set(self.data[entity])

    def _add_action(self, item: dict) -> dict | Response:
        tid = item.get("ticket_id")
        if tid not in self.data["tickets"]:
            return _invalid(f"Ticket {tid!r} does not exist")
        if not str(item.get("note") or "").strip():
            return _invalid("A note is required")
        self.emails_sent += item.get("sendemail") is not False
        self.visible_notes += item.get("hiddenfromuser") is not True
        number = 1 + max((k[1] for k in self.data["actions"] if k[0] == tid), default=0)
        action = {
            "id": number,
            "ticket_id": tid,
            "outcome": item.get("outcome") or "Note",
            "note": item["note"],
            "who": "API user",  # Halo names the author; the API user here
            "hiddenfromuser": item.get("hiddenfromuser") is True,
            "datetime": halo_time(datetime.now(UTC), self.instance_zone),
            "timetaken": 0,
        }
        return self.put("actions", action)


def _order(key: Any) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _invalid(message: str) -> Response:
    return Response(400, {"ClassName": "HaloValidationException", "Message": message})
