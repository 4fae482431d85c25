"""HTTP for the PSA connectors: one client with the retry policy production sync libraries use.

429, 5xx, timeouts and dropped connections are retried with exponential backoff
(1 s doubling to 10 s, honouring a numeric Retry-After); any other 4xx is final.
Credentials travel only over https, or plain http to a loopback address (the tests'
fake servers), and never appear in an error message.
"""

from __future__ import annotations

import ipaddress
import os
import time
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

    @classmethod
    def from_env(cls) -> RetryPolicy:
        return cls(scale=env_float(BACKOFF_SCALE_ENV, 1.0))

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), 60.0) * self.scale
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        return min(self.first_delay * 2**attempt, self.max_delay) * self.scale


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
    ):
        self.retry = retry or RetryPolicy.from_env()
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
                self.retry.sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
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


def _error_detail(response: httpx.Response) -> str:
    """The vendor's own message: Autotask {"errors": [...]}, ConnectWise {"message": ...}."""
    try:
        body = response.json()
    except ValueError:
        return ""
    messages: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list):
            messages += [e if isinstance(e, str) else str(e.get("message", e)) for e in body["errors"]]
        if isinstance(body.get("message"), str):
            messages.insert(0, body["message"])
    text = "; ".join(m for m in messages if m)[:300]
    return f": {text}" if text else ""
