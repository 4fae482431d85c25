"""Talking to ConnectWise Manage: settings, codebase discovery, auth, forward-only paging.

The API root is ``{site}/{codebase}apis/3.0/``; the codebase comes from the setting or
from ``login/companyinfo/{company}`` (no auth), and is looked up again once after a 404
because it changes between releases. Lists are read with ``pagination-type:
forward-only``: each page's ``Link`` header names the next one (``pageId`` = the last
id seen), and no ``Link`` means the last page. The page size the server actually used
is never trusted as an end marker, and our own query (``conditions`` above all) is put
back on every next-page URL, because a known client bug lost it there.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from mspkpi_tui.errors import SyncError
from mspkpi_tui.sources.connectors import Setting, read_settings
from mspkpi_tui.sources.http import ApiClient, PsaHttpError, RetryPolicy, require_secure_url

PAGE_SIZE = 1000  # the API's maximum
API_PATH = "apis/3.0/"

SETTINGS = [
    Setting("site_url", "MSPKPI_CW_SITE_URL"),
    Setting("company", "MSPKPI_CW_COMPANY"),
    Setting("public_key", "MSPKPI_CW_PUBLIC_KEY"),
    Setting("private_key", "MSPKPI_CW_PRIVATE_KEY"),
    Setting("client_id", "MSPKPI_CW_CLIENT_ID"),
    Setting("codebase", "MSPKPI_CW_CODEBASE", required=False),
]


@dataclass(frozen=True)
class CwSettings:
    site_url: str  # e.g. https://api-na.myconnectwise.net
    company: str
    public_key: str
    private_key: str
    client_id: str
    codebase: str | None = None  # e.g. "v2025_1/"; None = discover

    def __repr__(self) -> str:  # never show the keys, even in a debugger or a traceback
        return f"CwSettings(site_url={self.site_url!r}, company={self.company!r}, codebase={self.codebase!r})"


def read_cw_settings(config) -> CwSettings:
    values = read_settings(config, "connectwise", SETTINGS)
    site = str(values["site_url"]).strip().rstrip("/")
    if "://" not in site:
        site = "https://" + site  # the usual form is a bare host: api-na.myconnectwise.net
    require_secure_url(site, "MSPKPI_CW_SITE_URL")
    return CwSettings(
        site_url=site,
        company=str(values["company"]).strip(),
        public_key=str(values["public_key"]),
        private_key=str(values["private_key"]),
        client_id=str(values["client_id"]).strip(),
        codebase=_normalise_codebase(values["codebase"]),
    )


def _normalise_codebase(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).strip().strip("/")
    return text + "/" if text else None


def format_time(moment: datetime) -> str:
    """UTC with a literal Z, as the conditions grammar wants: 2024-01-01T00:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Page:
    records: list[Any]
    url: str  # the request that returned it, without secrets (for rejects)


class CwClient:
    """Reads lists and objects from one ConnectWise company."""

    def __init__(
        self, settings: CwSettings, *, on_request: Callable[[], None] | None = None, retry: RetryPolicy | None = None
    ):
        self.settings = settings
        self.codebase = settings.codebase
        token = base64.b64encode(f"{settings.company}+{settings.public_key}:{settings.private_key}".encode()).decode()
        headers = {
            "Authorization": f"Basic {token}",
            "clientId": settings.client_id,
            "Accept": "application/json",
            "pagination-type": "forward-only",
        }
        # Backoff and timeout are the shared ones (MSPKPI_HTTP_BACKOFF_SCALE / _TIMEOUT tune them).
        self.http = ApiClient(headers, retry=retry, on_request=on_request)

    def close(self) -> None:
        self.http.close()

    # --- where the API lives -----------------------------------------------------

    def discover_codebase(self) -> str:
        url = f"{self.settings.site_url}/login/companyinfo/{quote(self.settings.company, safe='')}"
        response = self.http.get(url)
        try:
            info = response.json()
        except ValueError:
            raise SyncError(
                f"ConnectWise at {self.settings.site_url} answered companyinfo with something other than JSON"
            ) from None
        if not isinstance(info, dict) or not info.get("Codebase"):
            raise SyncError(
                f"ConnectWise at {self.settings.site_url} does not know company {self.settings.company!r} "
                "(check MSPKPI_CW_COMPANY and MSPKPI_CW_SITE_URL)"
            )
        codebase = _normalise_codebase(info["Codebase"])
        assert codebase is not None
        self.codebase = codebase
        return codebase

    def api_url(self, path: str) -> str:
        if self.codebase is None:
            self.discover_codebase()
        return f"{self.settings.site_url}/{self.codebase}{API_PATH}{path.lstrip('/')}"

    # --- requests ----------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None, url: str | None = None) -> httpx.Response:
        """GET an API path (or a next-page URL); after a 404, look the codebase up again once."""
        try:
            return self.http.get(url or self.api_url(path), params=params)
        except PsaHttpError as exc:
            if exc.status != 404:
                raise
            old = self.codebase
            if self.discover_codebase() == old:
                raise  # a genuine 404, not a release change
            if url is not None:
                url = url.replace(f"/{old}{API_PATH}", f"/{self.codebase}{API_PATH}", 1)
            return self.http.get(url or self.api_url(path), params=params)

    def get_object(self, path: str) -> Any:
        return _json(self._get(path), path)

    def pages(self, path: str, conditions: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """Every page of a list, in id order, each as soon as it arrives."""
        params: dict[str, Any] = {"pageSize": page_size}
        if conditions:
            params["conditions"] = conditions
        response = self._get(path, params)
        while True:
            body = _json(response, path)
            if not isinstance(body, list):
                raise SyncError(f"ConnectWise returned {type(body).__name__} instead of a list for {path}")
            yield Page(body, _describe(response.request.url))
            next_link = response.links.get("next", {}).get("url")
            if not next_link:
                return
            response = self._get(path, url=_with_params(next_link, params))


def _json(response: httpx.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SyncError(f"ConnectWise returned a body that is not JSON for {path}") from None


def _with_params(url: str, params: dict[str, Any]) -> str:
    """The next-page URL with our own query parameters put back (pageId etc. kept)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


def _describe(url: httpx.URL) -> str:
    return f"GET {url.path}" + (f"?{url.query.decode()}" if url.query else "")


def dump(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)
