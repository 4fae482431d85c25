"""HTTP for the PSA connectors: one client with the retry policy production sync libraries use.

429, 5xx, timeouts and dropped connections are retried with exponential backoff
(1 s doubling to 10 s, honouring a numeric Retry-After); any other 4xx is final. A PSA
whose rate limit punishes quick retries (HaloPSA) sets ``rate_limited_delay``: a 429 with
no Retry-After then waits at least that long; and a ``RateBudget`` keeps a client under a
number of requests per rolling window, waiting before it would go over.
Credentials travel only over https, or plain http to a loopback address (the tests'
fake servers), and never appear in an error message.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from mspkpi_tui.errors import MaybeSent, SyncError

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Test and benchmark knobs: multiply every backoff wait (0.01 makes the fault tests fast),
# and the per-request timeout in seconds. Unset in production.
BACKOFF_SCALE_ENV = "MSPKPI_HTTP_BACKOFF_SCALE"
TIMEOUT_ENV = "MSPKPI_HTTP_TIMEOUT"


class PsaHttpError(SyncError):
    """The PSA answered with an error we cannot retry past."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthRefused(PsaHttpError):
    """The PSA refused the credentials (401/403)."""


@dataclass
class RetryPolicy:
    attempts: int = 6
    first_delay: float = 1.0
    max_delay: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    scale: float = 1.0  # every wait is multiplied by this (MSPKPI_HTTP_BACKOFF_SCALE)
    # The least wait after a 429 that names no Retry-After (HaloPSA: 30 s; a 5 s retry is
    # refused again and prolongs the block). 0: the usual backoff.
    rate_limited_delay: float = 0.0

    @classmethod
    def from_env(cls, *, rate_limited_delay: float = 0.0) -> RetryPolicy:
        return cls(scale=env_float(BACKOFF_SCALE_ENV, 1.0), rate_limited_delay=rate_limited_delay)

    def delay(self, attempt: int, retry_after: str | None, status: int | None = None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), 60.0) * self.scale
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        backoff = min(self.first_delay * 2**attempt, self.max_delay)
        if status == 429:
            backoff = max(backoff, self.rate_limited_delay)
        return backoff * self.scale


class RateBudget:
    """At most `limit` requests in any rolling `window` seconds: `spend()` waits when the next
    request would go over (HaloPSA answers 429 beyond about 300 per 5 minutes)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window <= 0:
            raise ValueError("a rate budget needs a limit of at least 1 request and a window")
        self.limit = limit
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0  # seconds spent waiting for the budget (reported by benchmarks)
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def spend(self) -> None:
        with self._lock:
            now = self.clock()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) >= self.limit:
                wait = self._sent[0] + self.window - now
                if wait > 0:
                    self.waited += wait
                    self.sleep(wait)
                now = self.clock()
                self._sent.popleft()
            self._sent.append(now)


def env_float(name: str, default: float) -> float:
    """A positive number from the environment, or the default when unset or not a number."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def default_timeout() -> float:
    return env_float(TIMEOUT_ENV, 30.0)


def require_secure_url(url: str, setting: str) -> str:
    """Refuse plain http except to loopback, so credentials never cross a network in clear."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(f"{setting} must be an http(s) URL, not {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SyncError(
            f"{setting} uses plain http to {parts.hostname}; use https (plain http is allowed only to loopback)"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiClient:
    """A thin retrying wrapper over httpx.Client; counts every request it sends."""

    def __init__(
        self,
        headers: dict[str, str] | None = None,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        on_request: Callable[[], None] | None = None,
        is_final: Callable[[httpx.Response], bool] | None = None,
        budget: RateBudget | None = None,
    ):
        self.retry = retry or RetryPolicy.from_env()
        self.budget = budget
        # A vendor's way of saying that a 5xx is a refusal no retry can change (Autotask
        # reports missing permissions as HTTP 500): such an answer is raised at once.
        self.is_final = is_final
        timeout = timeout if timeout is not None else default_timeout()
        self.on_request = on_request
        self.requests = 0
        self._client = httpx.Client(headers=headers, auth=auth, timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        """Send with retries; returns a 2xx response or raises PsaHttpError/AuthRefused.

        With ``idempotent=False`` (a POST that creates) a lost answer is not retried but raised
        as MaybeSent; an error answer (429, 5xx) still is, since the PSA applied nothing then."""
        require_secure_url(url, "the PSA URL")
        last_problem = ""
        for attempt in range(self.retry.attempts):
            if self.budget is not None:
                self.budget.spend()
            self.requests += 1
            if self.on_request:
                self.on_request()
            try:
                response = self._client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if not idempotent and not isinstance(exc, httpx.ConnectError):
                    raise MaybeSent(f"no answer from {_host(url)} to {method} {urlsplit(url).path}") from None
                last_problem = f"{type(exc).__name__} talking to {_host(url)}"
                self.retry.sleep(self.retry.delay(attempt, None))
                continue
            if response.status_code < 400:
                return response
            retryable = response.status_code in RETRYABLE_STATUS and not (self.is_final and self.is_final(response))
            if retryable and attempt + 1 < self.retry.attempts:
                last_problem = f"HTTP {response.status_code} from {_host(url)}"
                self.retry.sleep(self.retry.delay(attempt, response.headers.get("Retry-After"), response.status_code))
                continue
            raise _error_for(response, url)
        raise PsaHttpError(f"gave up after {self.retry.attempts} attempts: {last_problem}")

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _error_for(response: httpx.Response, url: str) -> PsaHttpError:
    detail = _error_detail(response)
    where = f"{response.request.method} {urlsplit(url).path}"
    if response.status_code in (401, 403):
        return AuthRefused(
            f"the PSA refused the credentials (HTTP {response.status_code} on {where}){detail}", response.status_code
        )
    return PsaHttpError(f"HTTP {response.status_code} on {where}{detail}", response.status_code)


# Keys that carry the vendor's message, in the order they are shown: ConnectWise "message",
# HaloPSA "ClassName"+"Message", "errorMessage" (with "resultCode") or "error"/"error_description"
# (its OAuth server), Autotask "errors" (below).
MESSAGE_KEYS = ("message", "Message", "errorMessage", "error", "error_description")


def _error_detail(response: httpx.Response) -> str:
    """The vendor's own message, whichever shape it comes in, as one line (at most 300 characters)."""
    try:
        body = response.json()
    except ValueError:
        body = response.text.strip()  # plain text (HaloPSA, proxies); HTML is not a message
        if body.startswith("<"):
            body = ""
    messages: list[str] = []
    if isinstance(body, str):
        messages.append(body)
    elif isinstance(body, dict):
        messages += [str(body[k]) for k in MESSAGE_KEYS if isinstance(body.get(k), str | int) and body.get(k) != ""]
        if isinstance(body.get("ClassName"), str) and messages:
            messages[0] = f"{body['ClassName']}: {messages[0]}"
        if isinstance(body.get("errors"), list):
            messages += [e if isinstance(e, str) else str(e.get("message", e)) for e in body["errors"]]
    text = " ".join("; ".join(m for m in messages if m).split())[:300]
    return f": {text}" if text else ""
