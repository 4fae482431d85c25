"""A real HTTP server on 127.0.0.1 for fake PSAs, with a request log and fault injection.

A fake PSA is a function ``app(request) -> Response``; ``FakeServer(app)`` serves it
from a background thread (stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive, like the
vendors). Tests queue faults ("the next 2 requests whose path contains /tickets get
a 429") and read ``server.log`` to see what the client asked for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # as sent, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # serialised as JSON unless `raw` is given
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    drop: bool = False  # close the connection instead of answering (see Fault.drop)

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass
class LoggedRequest:
    request: Request
    status: int
    seconds: float  # time the app spent producing the answer (server time)
    items: int | None = None  # how many records the answer carried, when the app says


@dataclass
class Fault:
    """Applies to the next `times` requests whose lower-cased path contains `match`."""

    match: str
    times: int
    response: Response | None = None  # answer this instead of the app
    delay: float = 0.0  # sleep first (a slow response, or one that times out)
    method: str | None = None
    after: int = 0  # let this many matching requests through untouched first
    # Apply the request, then close the connection without an answer: the client cannot
    # know whether a write happened (what a dropped connection does to a POST).
    drop: bool = False


class FakeServer:
    """Serve `app` on 127.0.0.1 from a thread; use as a context manager."""

    def __init__(self, app: Callable[[Request], Response], error_body: Callable[[int], Any] | None = None):
        self.app = app
        # The body an injected fault carries when the test gives none: the vendor's own shape
        # (a real PSA never answers a 429 or 503 with an empty body labelled JSON).
        self.error_body = error_body
        self.log: list[LoggedRequest] = []
        self.arrived: list[Request] = []  # every request as it arrives, before any fault delays it
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-psa", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # --- faults ---------------------------------------------------------------------

    def fail(
        self,
        match: str,
        status: int,
        times: int = 1,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """The next `times` matching requests (after `after` of them) get this status instead of an answer."""
        if body is None and self.error_body is not None:
            body = self.error_body(status)
        self.add_fault(Fault(match.lower(), times, Response(status, body, headers or {}), method=method, after=after))

    def slow(self, match: str, seconds: float, times: int = 1, method: str | None = None, after: int = 0) -> None:
        """The next `times` matching requests (after `after` of them) are answered normally, but `seconds` late."""
        self.add_fault(Fault(match.lower(), times, None, seconds, method=method, after=after))

    def drop_after_apply(self, match: str, times: int = 1, method: str | None = None, after: int = 0) -> None:
        """The next `times` matching requests are applied by the app, then the connection is closed unanswered."""
        self.add_fault(Fault(match.lower(), times, None, method=method, after=after, drop=True))

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, request: Request) -> Fault | None:
        path = request.path.lower()
        with self._lock:
            for fault in self._faults:
                if fault.match in path and (fault.method is None or fault.method == request.method):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- the log --------------------------------------------------------------------

    def requests_to(self, match: str, method: str | None = None) -> list[LoggedRequest]:
        match = match.lower()
        return [
            e
            for e in list(self.log)
            if match in e.request.path.lower() and (method is None or e.request.method == method)
        ]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def server_seconds(self) -> float:
        return sum(e.seconds for e in list(self.log))

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.arrived.append(request)
        fault = self._take_fault(request)
        if fault and fault.delay:
            time.sleep(fault.delay)
        started = time.perf_counter()
        if fault and fault.response is not None:
            response = fault.response
        else:
            try:
                response = self.app(request)
            except Exception as exc:  # a bug in the fake shows up as a 500 with the reason
                response = Response(500, {"errors": [f"fake server error: {type(exc).__name__}: {exc}"]})
        items = getattr(response, "items", None)
        with self._lock:
            self.log.append(LoggedRequest(request, response.status, time.perf_counter() - started, items))
        if fault and fault.drop:
            return Response(response.status, drop=True)
        return response


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client killed mid-request (the crash tests do that) is not news


def _handler_for(server: FakeServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY: without it, headers and body leave as two segments and the client's
        # delayed ACK adds ~40 ms to every answer (a loopback artifact no real PSA has).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response = server.handle(request)
            if response.drop:
                self.close_connection = True  # applied, but the client never hears back
                return
            payload = response.payload()
            try:
                self.send_response(response.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout, or killed)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *_args) -> None:
            pass  # the test reads server.log instead

    return Handler


@dataclass
class ItemsResponse(Response):
    """A Response that tells the log how many records it carried."""

    items: int | None = None
