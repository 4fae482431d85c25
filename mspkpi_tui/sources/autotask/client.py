"""Talking to the Autotask REST API: zone discovery, the three auth headers, id-walk queries,
picklists, and staying under the tenant's shared request budget.

The id-walk (``id gte 0``, then ``id gt lastMaxId`` until a page comes back short) is
the vendor's own advice: it never stops at 500 rows, as clients following ``nextPageUrl``
with GET have. Pages are fetched one ahead of the caller from a helper thread, so the
network and the database work overlap while no endpoint sees more than one of our
requests at a time (Autotask allows 3 per integration code and endpoint).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mspkpi_tui.errors import SyncError
from mspkpi_tui.sources.http import (
    BACKOFF_SCALE_ENV,
    ApiClient,
    AuthRefused,
    PsaHttpError,
    env_float,
    require_secure_url,
)

PAGE_SIZE = 500  # Autotask's maximum; more is an HTTP 500
DEFAULT_ZONE_URL = "https://webservices.autotask.net/"
THRESHOLD_EVERY = 200  # requests between two looks at ThresholdInformation
PREFETCH_PAGES = 2


@dataclass
class Zone:
    api_url: str  # the REST root, ending in /ATServicesRest/
    web_url: str | None


class Throttle:
    """Slows our requests as the tenant's hourly usage (all integrations together) climbs."""

    # (share of the hourly threshold used, pause before each request in seconds)
    STEPS = [(0.95, 5.0), (0.85, 1.0), (0.7, 0.25), (0.5, 0.05)]

    def __init__(self, sleep: Callable[[float], None] = time.sleep, scale: float = 1.0):
        self.sleep = sleep
        self.scale = scale
        self.usage = 0.0

    def update(self, info: dict) -> None:
        try:
            self.usage = float(info["currentTimeframeRequestCount"]) / float(info["externalRequestThreshold"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            self.usage = 0.0

    def pause(self) -> float:
        for share, seconds in self.STEPS:
            if self.usage >= share:
                return seconds * self.scale
        return 0.0

    def wait(self) -> None:
        seconds = self.pause()
        if seconds:
            self.sleep(seconds)


class AutotaskClient:
    def __init__(self, settings: dict[str, Any], on_request: Callable[[], None] | None = None):
        self.username = settings["username"]
        self.zone_lookup_url = require_secure_url(
            settings.get("zone_url") or DEFAULT_ZONE_URL, "MSPKPI_AUTOTASK_ZONE_URL"
        )
        self.fixed_base = settings.get("base_url")
        self.web_url_setting = settings.get("web_url")
        if self.fixed_base:
            require_secure_url(self.fixed_base, "MSPKPI_AUTOTASK_BASE_URL")
        if self.web_url_setting:
            require_secure_url(self.web_url_setting, "MSPKPI_AUTOTASK_WEB_URL")
        headers = {
            "ApiIntegrationCode": settings["integration_code"],
            "UserName": settings["username"],
            "Secret": settings["secret"],
            "Content-Type": "application/json",
        }
        self._count_lock = threading.Lock()
        self._on_request = on_request
        self.http = ApiClient(headers, on_request=self._counted, is_final=is_refusal)
        self.throttle = Throttle(scale=env_float(BACKOFF_SCALE_ENV, 1.0))
        self._zone: Zone | None = Zone(_with_slash(self.fixed_base), self.web_url_setting) if self.fixed_base else None
        self._since_threshold = 0

    def close(self) -> None:
        self.http.close()

    def _counted(self) -> None:
        with self._count_lock:
            self._since_threshold += 1
            if self._on_request:
                self._on_request()

    # --- zone ---------------------------------------------------------------------------

    @property
    def zone(self) -> Zone:
        if self._zone is None:
            self._zone = self._discover()
        return self._zone

    @property
    def web_url(self) -> str | None:
        return self.web_url_setting or self.zone.web_url

    def _discover(self) -> Zone:
        url = _with_slash(self.zone_lookup_url) + "atservicesrest/v1.0/zoneInformation?user=" + quote(self.username)
        try:
            body = self.http.get(url).json()
        except PsaHttpError as exc:
            if exc.status == 500 or "HTTP 500" in str(exc):
                raise AuthRefused(
                    "the PSA refused the credentials: Autotask's zoneInformation knows no such API user "
                    "(check MSPKPI_AUTOTASK_USERNAME)",
                    exc.status,
                ) from None
            raise
        except ValueError:
            raise SyncError("Autotask's zoneInformation answer is not JSON") from None
        api_url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(api_url, str) or not api_url:
            raise SyncError("Autotask's zoneInformation answer names no API URL")
        require_secure_url(api_url, "the zone URL Autotask returned")
        return Zone(_with_slash(api_url), body.get("webUrl") or None)

    # --- requests -----------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call under V1.0/; after a 401 the zone is looked up again, once (tenants move)."""
        self._look_at_threshold()
        self.throttle.wait()
        try:
            return self.http.request(method, self.zone.api_url + "V1.0/" + path, **kwargs).json()
        except AuthRefused:
            if self.fixed_base:
                raise
            self._zone = self._discover()
            return self.http.request(method, self.zone.api_url + "V1.0/" + path, **kwargs).json()

    def _look_at_threshold(self) -> None:
        with self._count_lock:
            due = self._since_threshold >= THRESHOLD_EVERY or self._since_threshold == 0
            if due:
                self._since_threshold = 1
        if due:
            info = self.http.get(self.zone.api_url + "V1.0/ThresholdInformation").json()
            self.throttle.update(info if isinstance(info, dict) else {})

    def fields(self, entity: str) -> list[dict]:
        body = self.call("GET", f"{entity}/entityInformation/fields")
        return body.get("fields") or [] if isinstance(body, dict) else []

    def query_page(self, entity: str, filters: list[dict], max_records: int = PAGE_SIZE) -> list[dict]:
        body = self.call("POST", f"{entity}/query", json={"MaxRecords": max_records, "filter": filters})
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SyncError(f"Autotask's answer to the {entity} query has no items list")
        return items

    def walk(
        self, entity: str, filters: list[dict], stop: threading.Event | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[list[dict]]:
        """Every matching record, page by page in id order, fetched one page ahead."""
        pages: queue.Queue = queue.Queue(maxsize=PREFETCH_PAGES)
        halt = threading.Event()

        def produce() -> None:
            # From the lowest id, 0 included: the MSP's own "zero company" has id 0.
            last_id: int | None = None
            try:
                while not halt.is_set():
                    start = {"op": "gte", "field": "id", "value": 0} if last_id is None else _after(last_id)
                    page = self.query_page(entity, [start, *filters], page_size)
                    _put(pages, halt, page)
                    ids = [r["id"] for r in page if isinstance(r, dict) and isinstance(r.get("id"), int)]
                    if len(page) < page_size or not ids:
                        break
                    if last_id is not None and max(ids) <= last_id:
                        raise SyncError(f"Autotask returned {entity} out of id order; stopping rather than looping")
                    last_id = max(ids)
            except BaseException as exc:  # handed to the consumer, which raises it
                _put(pages, halt, exc)
                return
            _put(pages, halt, None)

        worker = threading.Thread(target=produce, name=f"autotask-{entity}", daemon=True)
        worker.start()
        try:
            while True:
                item = pages.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
                if stop is not None and stop.is_set():
                    return
        finally:
            halt.set()
            while worker.is_alive():  # unblock a producer waiting on a full queue
                try:
                    pages.get(timeout=0.05)
                except queue.Empty:
                    pass

    def fetch_all(self, entity: str, filters: list[dict] | None = None) -> list[dict]:
        return [r for page in self.walk(entity, filters or []) for r in page]

    def query_ids(self, entity: str, field: str, values: list[int]) -> list[dict]:
        """Records whose `field` is one of `values` (batched to keep the body small)."""
        found: list[dict] = []
        for start in range(0, len(values), PAGE_SIZE):
            batch = values[start : start + PAGE_SIZE]
            found += self.query_page(entity, [{"op": "in", "field": field, "value": batch}])
        return found


def is_refusal(response: httpx.Response) -> bool:
    """Autotask answers a missing permission with HTTP 500 and the reason: retrying cannot help."""
    if response.status_code != 500:
        return False
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return False
    return isinstance(errors, list) and any("permission" in str(e).lower() for e in errors)


def _after(last_id: int) -> dict:
    return {"op": "gt", "field": "id", "value": last_id}


def _put(pages: queue.Queue, halt: threading.Event, item: Any) -> None:
    while not halt.is_set():
        try:
            pages.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
