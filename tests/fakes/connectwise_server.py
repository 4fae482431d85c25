"""A fake ConnectWise Manage REST API on 127.0.0.1, faithful to ../shared/psa-api-notes.md.

- ``GET /login/companyinfo/{company}`` (no auth) -> ``{"Codebase": "v2025_1/", ...}``;
  an unknown company gets a ``null`` body. ``change_codebase()`` moves the API: the
  old prefix then answers 404 and companyinfo names the new one.
- everything else lives under ``/{codebase}apis/3.0/`` and needs
  ``Authorization: Basic base64(company+public:private)`` and a ``clientId`` header
  (else 401 with ConnectWise's ``{"code", "message"}`` error body).
- paths are case-insensitive (``service/slas`` and ``service/SLAs`` alike, any codebase case).
- lists are bare JSON arrays sorted by id; ``pageSize`` defaults to 25 and is capped at
  1000 (``max_page_size`` lowers the cap so small data sets span pages); with the
  ``pagination-type: forward-only`` header the ``Link`` header carries only
  ``rel="next"`` with ``pageId`` = the last id sent, and no ``Link`` on the last page;
  without it, ``page`` numbers, ``orderBy`` honoured, and a ``Link`` header built as
  ConnectWise builds it: first/prev/next/last, ``page=N`` always the last parameter.
  ``fields=id,board/name`` returns only those paths; ``{list}/count`` -> ``{"count": N}``.
- ``conditions``: field paths with ``/``, ``lastUpdated`` = ``_info/lastUpdated``,
  ``= != < <= > >=``, ``in (...)``, ``not in (...)``, ``contains``, ``like``, strings in
  double quotes, dates in brackets (read in ``server_zone`` when they carry no zone; an
  unencoded ``+00:00`` arrives as a space and gets HTTP 400, as on the real API), numbers,
  true/false/null, ``and``/``or`` and parentheses.
- records are served as ConnectWise serialises them: keys whose value is null are left
  out; members, projects and priorities get the required fields a test leaves out
  (``connectwise_schema``).
- the data lives in memory, keyed by endpoint path (``service/tickets``,
  ``service/boards/1/statuses`` ...); tests edit it with ``put``/``edit``/``delete``.
Faults (429 with Retry-After, 5xx bursts, slow answers) come from ``fakes.server`` and carry
ConnectWise's ``{"code", "message"}`` error body.
"""

from __future__ import annotations

import base64
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import unquote, urlencode

from fakes.connectwise_schema import fill_required, only_fields, without_nulls
from fakes.server import FakeServer, ItemsResponse, Request, Response

COMPANY = "contoso"
PUBLIC_KEY = "PubKey123"
PRIVATE_KEY = "Priv-Key/456!"
CLIENT_ID = "0f6a3f3e-1b7c-4a0e-9a43-6f2d1f5a0c11"
CODEBASE = "v2025_1/"
API = "apis/3.0/"
MAX_PAGE_SIZE = 1000


def cw_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConditionError(ValueError):
    pass


class ConnectWiseFake:
    """The fake API's state and behaviour; `server` is the real HTTP server serving it."""

    def __init__(
        self,
        *,
        company: str = COMPANY,
        public_key: str = PUBLIC_KEY,
        private_key: str = PRIVATE_KEY,
        client_id: str = CLIENT_ID,
        codebase: str = CODEBASE,
        max_page_size: int = MAX_PAGE_SIZE,
    ):
        self.company = company
        self.auth = "Basic " + base64.b64encode(f"{company}+{public_key}:{private_key}".encode()).decode()
        self.client_id = client_id
        self.codebase = codebase
        self.max_page_size = max_page_size
        self.data: dict[str, dict[int, dict]] = defaultdict(dict)
        self.objects: dict[str, Any] = {}  # single-object endpoints, e.g. an opportunity's forecast
        self.server_zone: tzinfo = UTC  # how a zone-less [datetime] in conditions is read
        self.forbidden_writes: str = ""  # set: every write is refused with HTTP 403 and this message
        self.notifications_sent = 0  # notes posted without processNotifications: false
        self.lock = threading.RLock()
        self.server = FakeServer(self.handle, error_body=error_body)
        # Headers and body go out in two writes; without TCP_NODELAY every answer waits
        # ~40 ms for the client's delayed ACK, which made each sync seconds slower.
        self.server._httpd.RequestHandlerClass.disable_nagle_algorithm = True

    def __enter__(self) -> ConnectWiseFake:
        self.server.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.stop()

    @property
    def site_url(self) -> str:
        return self.server.url

    def env(self, **overrides: str) -> dict[str, str]:
        """The MSPKPI_CW_* settings pointing at this fake (codebase left to discovery)."""
        env = {
            "MSPKPI_CW_SITE_URL": self.site_url,
            "MSPKPI_CW_COMPANY": self.company,
            "MSPKPI_CW_PUBLIC_KEY": PUBLIC_KEY,
            "MSPKPI_CW_PRIVATE_KEY": PRIVATE_KEY,
            "MSPKPI_CW_CLIENT_ID": self.client_id,
            "MSPKPI_HTTP_BACKOFF_SCALE": "0.01",
        }
        env.update(overrides)
        return env

    # --- editing the data -----------------------------------------------------------

    def put(self, endpoint: str, record: dict, *, at: datetime | None = None) -> dict:
        """Add or replace a record; its _info.lastUpdated becomes `at` (default: now)."""
        stamp = cw_time(at or datetime.now(UTC))
        with self.lock:
            info = record.setdefault("_info", {})
            info["lastUpdated"] = stamp
            info.setdefault("dateEntered", stamp)
            self.data[endpoint][int(record["id"])] = fill_required(endpoint, record)
        return record

    def edit(self, endpoint: str, record_id: int, *, at: datetime | None = None, **changes: Any) -> dict:
        with self.lock:
            record = self.data[endpoint][record_id]
            record.update(changes)
            return self.put(endpoint, record, at=at)

    def delete(self, endpoint: str, record_id: int) -> None:
        with self.lock:
            del self.data[endpoint][record_id]

    def change_codebase(self, codebase: str) -> None:
        """A ConnectWise release: the old API prefix answers 404 from now on."""
        self.codebase = codebase

    def list_requests(self, endpoint: str) -> list[Request]:
        """Requests for exactly this list endpoint (not its children), in order."""
        suffix = "/" + API + endpoint
        return [e.request for e in list(self.server.log) if e.request.path.lower().endswith(suffix.lower())]

    # --- serving ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        response = self._answer(request)
        if response.raw is None and response.status < 400:
            response.body = without_nulls(response.body)  # ConnectWise never sends a null-valued key
        return response

    def _answer(self, request: Request) -> Response:
        # Paths are case-insensitive on the real server: service/SLAs and service/slas alike.
        path = request.path.lower()
        if path.startswith("/login/companyinfo/"):
            return self._company_info(unquote(request.path.split("/", 3)[3]))
        prefix = f"/{self.codebase}{API}".lower()
        if not path.startswith(prefix):
            return Response(404, {"code": "NotFound", "message": "The requested resource was not found"})
        if request.headers.get("authorization") != self.auth:
            return Response(401, {"code": "Unauthorized", "message": "Authentication failed"})
        if request.headers.get("clientid") != self.client_id:
            return Response(401, {"code": "Unauthorized", "message": "A valid clientId is required"})
        wanted = path[len(prefix) :].strip("/")
        if request.method != "GET":
            with self.lock:
                return self._write(request, wanted)
        with self.lock:
            endpoint = self._endpoint(wanted)
            if endpoint in self.objects:
                return Response(200, self.objects[endpoint])
            forecast = re.fullmatch(r"sales/opportunities/(\d+)/forecast", wanted)
            if forecast and int(forecast[1]) in self.data["sales/opportunities"]:
                return Response(200, {"id": int(forecast[1]), "forecastItems": []})
            # An agreement's additions, a survey's questions and results exist (an empty list)
            # as long as the agreement or survey does.
            additions = re.fullmatch(r"finance/agreements/(\d+)/additions", wanted)
            survey_part = re.fullmatch(r"service/surveys/(\d+)/(?:questions|results)", wanted)
            # So do a ticket's notes (its detail description, internal analysis, resolution notes).
            notes = re.fullmatch(r"service/tickets/(\d+)/notes", wanted)
            if (
                endpoint in self.data
                or (additions and int(additions[1]) in self.data["finance/agreements"])
                or (survey_part and int(survey_part[1]) in self.data["service/surveys"])
                or (notes and int(notes[1]) in self.data["service/tickets"])
            ):
                return self._list(endpoint, request)
            counted = re.fullmatch(r"(.+)/count", wanted)
            if counted and self._endpoint(counted[1]) in self.data:
                return self._count(self._endpoint(counted[1]), request)
            single = re.fullmatch(r"(.+)/(\d+)", wanted)
            if single and int(single[2]) in self.data.get(self._endpoint(single[1]), {}):
                return Response(200, self.data[self._endpoint(single[1])][int(single[2])])
        return Response(404, {"code": "NotFound", "message": f"{wanted} was not found"})

    # --- writes: JSON Patch on a ticket, notes; refusals in ConnectWise's error shape ---------

    def _write(self, request: Request, wanted: str) -> Response:
        if self.forbidden_writes:
            return Response(403, {"code": "Forbidden", "message": self.forbidden_writes})
        ticket = re.fullmatch(r"service/tickets/(\d+)", wanted)
        if ticket and request.method == "PATCH":
            return self._patch_ticket(int(ticket[1]), request.json())
        notes = re.fullmatch(r"service/tickets/(\d+)/notes", wanted)
        if notes and request.method == "POST":
            return self._add_note(int(notes[1]), request.json())
        return Response(405, {"code": "MethodNotAllowed", "message": f"{request.method} is not supported on {wanted}"})

    def _patch_ticket(self, ticket_id: int, ops: Any) -> Response:
        ticket = self.data["service/tickets"].get(ticket_id)
        if ticket is None:
            return Response(404, {"code": "NotFound", "message": f"Ticket {ticket_id} was not found"})
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            return _object_error("ticket", "", "The body must be a JSON Patch array of operations")
        changes: dict[str, Any] = {}
        for op in ops:
            path = str(op.get("path", "")).strip("/")
            if op.get("op") not in ("replace", "add", "remove"):
                return _object_error("ticket", path, f"Unsupported patch operation {op.get('op')!r}")
            if path not in TICKET_REFS:
                return _object_error("ticket", path, f"Cannot patch {path!r}")
            value = op.get("value")
            if value is None:
                if path != "owner":
                    return _object_error("ticket", path, f"{path} is required")
                changes[path] = None
                continue
            found = self._reference(TICKET_REFS[path], value, changes.get("board", ticket.get("board")))
            if found is None:
                return _object_error("ticket", path, f"The {path} {value!r} is not valid")
            changes[path] = found
        board = changes.get("board", ticket.get("board")) or {}
        status = changes.get("status", ticket.get("status")) or {}
        if status.get("id") not in self.data.get(f"service/boards/{board.get('id')}/statuses", {}):
            return _object_error("ticket", "status", "The status is not valid for the board")
        for key, value in changes.items():
            if value is None:
                ticket.pop(key, None)
            else:
                ticket[key] = value
        self.put("service/tickets", ticket)
        return Response(200, ticket)

    def _reference(self, endpoint: str, value: Any, board: Any) -> dict | None:
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            return None
        if endpoint == "statuses":
            endpoint = f"service/boards/{(board or {}).get('id')}/statuses"
        record = self.data.get(endpoint, {}).get(value["id"])
        if record is None or record.get("inactiveFlag") is True:
            return None
        name = record.get("name") or " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)
        ref = {"id": record["id"], "name": name}
        if record.get("identifier"):
            ref["identifier"] = record["identifier"]
        return ref

    def _add_note(self, ticket_id: int, body: Any) -> Response:
        if ticket_id not in self.data["service/tickets"]:
            return Response(404, {"code": "NotFound", "message": f"Ticket {ticket_id} was not found"})
        if not isinstance(body, dict) or not str(body.get("text") or "").strip():
            return _object_error("ticketNote", "text", "text is required")
        if not any(body.get(flag) is True for flag in NOTE_FLAGS):
            return _object_error("ticketNote", "detailDescriptionFlag", "At least one of " + ", ".join(NOTE_FLAGS))
        endpoint = f"service/tickets/{ticket_id}/notes"
        note = {k: v for k, v in body.items() if k != "processNotifications"}
        note.update(
            id=max(self.data[endpoint], default=500) + 1,
            ticketId=ticket_id,
            dateCreated=cw_time(datetime.now(UTC)),
            createdBy="apiuser",  # the API member; real notes also name the member who wrote them
        )
        self.notifications_sent += body.get("processNotifications") is not False
        return Response(201, self.put(endpoint, note))

    def _endpoint(self, lowered: str) -> str:
        """The stored endpoint a lower-cased path names (itself when none)."""
        for name in (*self.objects, *self.data):
            if name.lower() == lowered:
                return name
        return lowered

    def _company_info(self, company: str) -> Response:
        if company.lower() != self.company.lower():
            return Response(200, raw=b"null")
        return Response(
            200,
            {
                "CompanyName": "Contoso MSP",
                "Codebase": self.codebase,
                "VersionCode": "v2025.1",
                "CompanyID": self.company,
                "IsCloud": True,
            },
        )

    def _matching(self, endpoint: str, request: Request) -> list[dict] | Response:
        """The records the request's conditions select, in id order (or a 400 saying why not)."""
        try:
            matches = parse_conditions(request.param("conditions") or "", self.server_zone)
        except ConditionError as exc:
            return _invalid(endpoint, "conditions", str(exc))
        rows = [self.data[endpoint][k] for k in sorted(self.data[endpoint])]
        return [r for r in rows if matches(r)]

    def _count(self, endpoint: str, request: Request) -> Response:
        rows = self._matching(endpoint, request)
        return rows if isinstance(rows, Response) else Response(200, {"count": len(rows)})

    def _list(self, endpoint: str, request: Request) -> Response:
        rows = self._matching(endpoint, request)
        if isinstance(rows, Response):
            return rows
        try:
            size = int(request.param("pageSize") or 25)
        except ValueError:
            return Response(400, {"code": "InvalidObject", "message": "pageSize must be a number"})
        size = max(1, min(size, self.max_page_size, MAX_PAGE_SIZE))
        host = request.headers.get("host", "127.0.0.1")
        base = f"http://{host}{request.path}"
        params = {k: v[0] for k, v in request.query.items()}
        headers = {}
        if request.headers.get("pagination-type", "").lower() == "forward-only":
            # Forward-only paging is always in id order (that is what makes it stable).
            after = int(request.param("pageId") or 0)
            rows = [r for r in rows if r["id"] > after]
            page, more = rows[:size], len(rows) > size
            if more:
                headers["Link"] = f'<{base}?{urlencode({**params, "pageId": page[-1]["id"]})}>; rel="next"'
        else:
            try:
                rows = _ordered(rows, request.param("orderBy"))
            except ConditionError as exc:
                return _invalid(endpoint, "orderBy", str(exc))
            number = max(1, int(request.param("page") or 1))
            page = rows[(number - 1) * size : number * size]
            last = max(1, -(-len(rows) // size))
            link = _page_links(base, params, number, last)
            if link:
                headers["Link"] = link
        fields = [f for f in (request.param("fields") or "").split(",") if f.strip()]
        if fields:
            page = [only_fields(r, fields) for r in page]
        return ItemsResponse(200, page, headers, items=len(page))


def _page_links(base: str, params: dict[str, str], number: int, last: int) -> str:
    """ConnectWise's Link header for page-number paging: first/prev/next/last, ``page`` always last."""
    query = urlencode({k: v for k, v in params.items() if k.lower() != "page"})
    url = f"{base}?{query}&page=" if query else f"{base}?page="
    links = []
    if number > 1:
        links += [f'<{url}1>; rel="first"', f'<{url}{min(number - 1, last)}>; rel="prev"']
    if number < last:
        links += [f'<{url}{number + 1}>; rel="next"', f'<{url}{last}>; rel="last"']
    return ", ".join(links)


def _ordered(rows: list[dict], order_by: str | None) -> list[dict]:
    """``orderBy=board/name asc, id desc``: a stable sort per key, last key first; nulls sort first."""
    if not order_by or not order_by.strip():
        return rows
    keys = []
    for part in order_by.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ConditionError(f"cannot order by {part.strip()!r}")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    for path, descending in reversed(keys):
        rows = sorted(rows, key=lambda r, p=path: _sort_key(_field(r, p)), reverse=descending)
    return rows


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value).lower())


def _invalid(endpoint: str, parameter: str, message: str) -> Response:
    return Response(
        400,
        {
            "code": "InvalidObject",
            "message": f"{parameter}: {message}",
            "errors": [{"code": "InvalidCondition", "message": message, "resource": endpoint, "field": parameter}],
        },
    )


TICKET_REFS = {
    "board": "service/boards",
    "status": "statuses",
    "priority": "service/priorities",
    "owner": "system/members",
}
NOTE_FLAGS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


def _object_error(resource: str, field: str, message: str) -> Response:
    return Response(
        400,
        {
            "code": "InvalidObject",
            "message": f"{resource} object is invalid",
            "errors": [{"code": "InvalidField", "message": message, "resource": resource, "field": field}],
        },
    )


def error_body(status: int) -> dict:
    """ConnectWise's error shape for a refusal the tests inject (429, 5xx)."""
    if status == 429:
        return {"code": "TooManyRequests", "message": "Too many requests; retry after the given number of seconds"}
    return {"code": "UnexpectedServerError", "message": f"An unexpected error occurred (HTTP {status})"}


# --- the conditions grammar ------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<date>\[[^\]]*\])|(?P<op>>=|<=|!=|=|<|>)|(?P<punct>[(),])'
    r"|(?P<number>-?\d+(?:\.\d+)?(?![\w/]))|(?P<word>[A-Za-z_][\w/.]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ConditionError(f"cannot read {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match[kind]))
        pos = match.end()
    return tokens


def parse_conditions(text: str, zone: tzinfo = UTC):
    """A predicate over records for a conditions string (empty: everything).

    A ``[datetime]`` without a zone is read in the server's zone, as ConnectWise does."""
    if not text.strip():
        return lambda _record: True
    parser = _Parser(_tokens(text), zone)
    predicate = parser.either()
    if parser.pos != len(parser.tokens):
        raise ConditionError(f"unexpected {parser.tokens[parser.pos][1]!r}")
    return predicate


class _Parser:
    def __init__(self, tokens, zone: tzinfo):
        self.tokens = tokens
        self.zone = zone
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def either(self):
        parts = [self.both()]
        while self.keyword("or"):
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def both(self):
        parts = [self.atom()]
        while self.keyword("and"):
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def atom(self):
        token = self.take()
        if token == ("punct", "("):
            inner = self.either()
            if self.take() != ("punct", ")"):
                raise ConditionError("missing )")
            return inner
        if token[0] != "word":
            raise ConditionError(f"expected a field name, not {token[1]!r}")
        path = token[1]
        negate = self.keyword("not")
        if self.keyword("in"):
            values = self.value_list()
            return lambda r: (_field(r, path) in values) != negate
        if negate:
            raise ConditionError("'not' must be followed by 'in'")
        if self.keyword("contains"):
            needle = self.value()
            return lambda r: isinstance(_field(r, path), str) and str(needle).lower() in _field(r, path).lower()
        if self.keyword("like"):
            pattern = re.compile("^" + re.escape(str(self.value())).replace("\\*", ".*").replace("%", ".*") + "$", re.I)
            return lambda r: isinstance(_field(r, path), str) and bool(pattern.match(_field(r, path)))
        kind, op = self.take()
        if kind != "op":
            raise ConditionError(f"expected an operator after {path}, not {op!r}")
        value = self.value()
        return lambda r: _compare(_field(r, path), op, value)

    def value_list(self) -> list[Any]:
        if self.take() != ("punct", "("):
            raise ConditionError("in must be followed by (")
        values = [self.value()]
        while True:
            token = self.take()
            if token == ("punct", ")"):
                return values
            if token != ("punct", ","):
                raise ConditionError("expected , or ) in a list")
            values.append(self.value())

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace('\\"', '"')
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "date":
            return _parse_date(text[1:-1], self.zone)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise ConditionError(f"expected a value, not {text!r}")


def _parse_date(text: str, zone: tzinfo) -> datetime:
    if " " in text.strip():  # an unencoded "+00:00" arrives as " 00:00"
        raise ConditionError(f"[{text}] is not a date")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConditionError(f"[{text}] is not a date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _field(record: dict, path: str) -> Any:
    if path.lower() in ("lastupdated", "dateentered"):
        path = "_info/" + path
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(expected, datetime):
        if not isinstance(actual, str):
            return False
        try:
            actual = datetime.fromisoformat(actual.replace("Z", "+00:00"))
        except ValueError:
            return False
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    if actual is None or expected is None:
        return False
    try:
        return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]
    except TypeError:
        return False
