"""Talking to HaloPSA: settings, OAuth2 client credentials, the rate budget, paging.

- auth: ``GET {url}/api/authinfo`` names the authorisation server (``auth_url``, and the
  tenant of a hosted instance); when it is missing (404) the server is ``{url}/auth``. A
  token comes from ``POST {auth}/token`` (form: ``grant_type=client_credentials``, the
  client id and secret, the scope), is renewed a minute before ``expires_in`` runs out,
  and once more after a 401 (a token revoked early).
- the budget: at most ``rate_limit`` requests per rolling 5 minutes (hosted Halo allows
  about 300 and answers 429 beyond); a 429 waits for Retry-After, or 30 s without it.
- paging: ``pageinate=true&page_size=100&page_no=N`` (Halo ignores paging without
  ``pageinate`` and caps pages at 100). A list ends with a short or empty page, or once
  ``record_count`` records came; an endpoint that ignores paging and repeats a page is
  noticed (the same ids again) and read once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

import httpx

from mspkpi_tui.errors import ConfigError, SyncError
from mspkpi_tui.sources.connectors import Setting, read_settings
from mspkpi_tui.sources.http import (
    ApiClient,
    AuthRefused,
    PsaHttpError,
    RateBudget,
    RetryPolicy,
    _error_detail,
    require_secure_url,
)

PAGE_SIZE = 100  # Halo's cap: it never sends more, whatever is asked
RATE_WINDOW = 300.0  # seconds: hosted Halo counts requests per rolling 5 minutes
DEFAULT_RATE_LIMIT = 280  # under the ~300 hosted Halo allows, leaving room for the web app's own calls
RATE_LIMITED_DELAY = 30.0  # a 429 without Retry-After: 5 s is not enough for Halo
STORE_BATCH = 1000  # records stored per transaction (10 of Halo's pages)
TOKEN_MARGIN = 60.0  # renew the token this long before it expires

SETTINGS = [
    Setting("url", "MSPKPI_HALO_URL"),
    Setting("client_id", "MSPKPI_HALO_CLIENT_ID"),
    Setting("client_secret", "MSPKPI_HALO_CLIENT_SECRET"),
    Setting("tenant", "MSPKPI_HALO_TENANT", required=False),
    Setting("scope", "MSPKPI_HALO_SCOPE", required=False, default="all"),
    Setting("timezone", "MSPKPI_HALO_TIMEZONE", required=False, default="UTC"),
    Setting("rate_limit", "MSPKPI_HALO_RATE_LIMIT", required=False, default=str(DEFAULT_RATE_LIMIT)),
    Setting("store_batch", "MSPKPI_HALO_STORE_BATCH", required=False, default=str(STORE_BATCH)),
]


@dataclass(frozen=True)
class HaloSettings:
    url: str  # the instance, e.g. https://contoso.halopsa.com
    client_id: str
    client_secret: str = field(repr=False)
    tenant: str | None = None  # hosted instances
    scope: str = "all"
    zone: tzinfo = UTC  # the instance's time zone: how its zone-less dates are read
    rate_limit: int = DEFAULT_RATE_LIMIT  # requests per 5 minutes; 0 = no budget (benchmarks, on-premises)
    store_batch: int = STORE_BATCH  # records per stored batch (the stop check's grain too)

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a traceback
        return f"HaloSettings(url={self.url!r}, client_id={self.client_id!r}, tenant={self.tenant!r})"


def read_halo_settings(config) -> HaloSettings:
    from mspkpi_tui.clock import get_zone

    values = read_settings(config, "halo", SETTINGS)
    url = str(values["url"]).strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    url = url.removesuffix("/api")  # the API root is {url}/api: accept either
    require_secure_url(url, "MSPKPI_HALO_URL")
    rate_limit = _whole(values["rate_limit"], "MSPKPI_HALO_RATE_LIMIT", 0)
    store_batch = _whole(values["store_batch"], "MSPKPI_HALO_STORE_BATCH", 1)
    return HaloSettings(
        url=url,
        client_id=str(values["client_id"]).strip(),
        client_secret=str(values["client_secret"]),
        tenant=str(values["tenant"]).strip() or None if values["tenant"] else None,
        scope=str(values["scope"] or "all").strip(),
        zone=get_zone(str(values["timezone"])),
        rate_limit=rate_limit,
        store_batch=store_batch,
    )


def _whole(value: Any, name: str, least: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} = {value!r}: expected a whole number") from None
    if number < least:
        raise ConfigError(f"{name} = {number}: expected {least} or more")
    return number


def format_time(moment: datetime, zone: tzinfo) -> str:
    """A filter time as Halo reads it: the instance's zone, without a zone suffix."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Page:
    records: list[Any]
    url: str  # the request that returned it, without secrets (for rejects)


class HaloAuth(httpx.Auth):
    """Bearer tokens from Halo's authorisation server, renewed before expiry and after a 401."""

    def __init__(self, settings: HaloSettings, http: Callable[[], ApiClient], clock: Callable[[], float]):
        self.settings = settings
        self.http = http  # the API client, for its retries and request count (token calls send no bearer)
        self.clock = clock
        self.auth_url: str | None = None
        self.tenant: str | None = settings.tenant
        self._token: str | None = None
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.extensions.get("halo_no_auth"):
            yield request
            return
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: one new token, one retry
            request.headers["Authorization"] = f"Bearer {self.token(renew=True)}"
            yield request

    def token(self, *, renew: bool = False) -> str:
        if renew or self._token is None or self.clock() >= self._expires - TOKEN_MARGIN:
            self._fetch_token()
        assert self._token is not None
        return self._token

    def discover(self) -> str:
        """Where tokens come from: authinfo's auth_url, or {url}/auth when it has none."""
        http = self.http()
        try:
            answer = http.request("GET", f"{self.settings.url}/api/authinfo", extensions={"halo_no_auth": True})
            info = answer.json()
        except PsaHttpError as exc:
            if exc.status not in (404, 405):
                raise
            info = None
        except ValueError:
            info = None
        auth_url = info.get("auth_url") if isinstance(info, dict) else None
        if isinstance(info, dict) and not self.tenant and info.get("tenant_id"):
            self.tenant = str(info["tenant_id"])
        self.auth_url = str(auth_url).rstrip("/") if auth_url else f"{self.settings.url}/auth"
        require_secure_url(self.auth_url, "Halo's auth_url")
        return self.auth_url

    def _fetch_token(self) -> None:
        auth_url = self.auth_url or self.discover()
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
            "scope": self.settings.scope,
        }
        params = {"tenant": self.tenant} if self.tenant else None
        try:
            answer = self.http().request(
                "POST", f"{auth_url}/token", data=form, params=params, extensions={"halo_no_auth": True}
            )
        except PsaHttpError as exc:
            if exc.status in (400, 401, 403):  # invalid_client and friends
                raise AuthRefused(
                    f"the PSA refused the credentials (HTTP {exc.status} from Halo's token endpoint"
                    f"{_detail_of(exc)}); check MSPKPI_HALO_CLIENT_ID and MSPKPI_HALO_CLIENT_SECRET",
                    exc.status,
                ) from None
            raise
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("access_token"):
            raise SyncError(f"Halo's token endpoint at {urlsplit(auth_url).netloc} answered without an access_token")
        self._token = str(body["access_token"])
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._expires = self.clock() + max(lifetime, 0.0)


def _detail_of(exc: PsaHttpError) -> str:
    text = str(exc)
    return text[text.index(": ") :] if ": " in text else ""


class HaloClient:
    """Reads lists and objects from one Halo instance, and sends writes."""

    def __init__(
        self,
        settings: HaloSettings,
        *,
        on_request: Callable[[], None] | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.auth = HaloAuth(settings, lambda: self.http, clock)
        budget = RateBudget(settings.rate_limit, RATE_WINDOW) if settings.rate_limit else None
        self.http = ApiClient(
            {"Accept": "application/json"},
            auth=self.auth,
            retry=retry or RetryPolicy.from_env(rate_limited_delay=RATE_LIMITED_DELAY),
            on_request=on_request,
            budget=budget,
        )

    def close(self) -> None:
        self.http.close()

    def api_url(self, path: str) -> str:
        return f"{self.settings.url}/api/{path.lstrip('/')}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return _json(self.http.get(self.api_url(path), params=params), path)

    def post(self, path: str, body: Any, *, idempotent: bool = True) -> Any:
        response = self.http.request("POST", self.api_url(path), json=body, idempotent=idempotent)
        if not response.content:
            return None
        return _json(response, path)

    def pages(self, path: str, params: dict[str, Any] | None = None, list_key: str | None = None) -> Iterator[Page]:
        """Every page of a list, each as soon as it arrives (see the module's notes on paging)."""
        query: dict[str, Any] = {**(params or {}), "pageinate": "true", "page_size": PAGE_SIZE}
        seen_pages: set[tuple[str, ...]] = set()
        served = 0
        number = 1
        while True:
            query["page_no"] = number
            response = self.http.get(self.api_url(path), params=query)
            body = _json(response, path)
            records, total = _records(body, list_key, path)
            signature = tuple(_record_key(r) for r in records)
            if records and signature in seen_pages:
                return  # the endpoint ignores paging: this page was served already
            seen_pages.add(signature)
            if records:
                yield Page(records, _describe(response.request.url))
            served += len(records)
            # record_count decides when it is there (a server may cap pages below what we ask);
            # without it, a short page is the last.
            if not records or (served >= total if total is not None else len(records) < PAGE_SIZE):
                return
            number += 1

    def read_all(self, path: str, params: dict[str, Any] | None = None, list_key: str | None = None) -> list[Any]:
        return [r for page in self.pages(path, params, list_key) for r in page.records]


def _records(body: Any, list_key: str | None, path: str) -> tuple[list[Any], int | None]:
    """The records of an answer (a plain array, or an object with its list key) and record_count."""
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        raise SyncError(f"Halo returned {type(body).__name__} instead of a list for {path}")
    total = body.get("record_count")
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    if list_key and isinstance(body.get(list_key), list):
        return body[list_key], total
    lists = [v for k, v in body.items() if isinstance(v, list)]
    if len(lists) == 1:  # a list key we did not expect; there is only one list, so it is the one
        return lists[0], total
    if not lists and total == 0:
        return [], 0
    raise SyncError(f"Halo's answer for {path} has no {list_key or 'list'} key")


def _record_key(record: Any) -> str:
    if isinstance(record, dict):
        return f"{record.get('ticket_id', '')}:{record.get('id')}"
    return repr(record)


def _json(response: httpx.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SyncError(f"Halo returned a body that is not JSON for {path}{_error_detail(response)}") from None


def _describe(url: httpx.URL) -> str:
    return f"GET {url.path}" + (f"?{url.query.decode()}" if url.query else "")


def dump(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)
