"""The fake HaloPSA server behaves as ../shared/psa-api-notes.md says the real one does,
and the Halo client reads it as it must (paging, tokens, repeated pages, error shapes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fakes.halo import CLIENT_ID, CLIENT_SECRET, TENANT, HaloFake, halo_time

from mspkpi_tui.sources.halo.client import HaloClient, HaloSettings
from mspkpi_tui.sources.http import AuthRefused, PsaHttpError, RetryPolicy

BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with HaloFake() as server:
        for i in range(1, 251):
            server.put("Tickets", {"id": i, "summary": f"t{i}"}, at=BASE + timedelta(minutes=i))
        for ticket in (1, 2):
            for action in (1, 2, 3):
                server.put("Actions", {"id": action, "ticket_id": ticket, "note": f"{ticket}/{action}"})
        yield server


def token(fake: HaloFake) -> str:
    answer = httpx.post(
        f"{fake.url}/auth/token",
        params={"tenant": TENANT},
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "all",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def get(fake: HaloFake, path: str, **params):
    return httpx.get(f"{fake.url}/api/{path}", params=params, headers={"Authorization": f"Bearer {token(fake)}"})


def client(fake: HaloFake, **settings) -> HaloClient:
    values = {
        "url": fake.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "tenant": TENANT,
        "rate_limit": 0,
    }
    return HaloClient(HaloSettings(**{**values, **settings}), retry=RetryPolicy(scale=0.001, rate_limited_delay=30))


def test_authinfo_and_tokens(fake):
    info = httpx.get(f"{fake.url}/api/authinfo").json()
    assert info == {"auth_url": f"{fake.url}/auth", "tenant_id": TENANT}
    bad = httpx.post(
        f"{fake.url}/auth/token",
        params={"tenant": TENANT},
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "wrong", "scope": "all"},
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert httpx.get(f"{fake.url}/api/Tickets").status_code == 401, "no token, no data"
    assert get(fake, "Tickets").status_code == 200
    fake.revoke_tokens()
    assert httpx.get(f"{fake.url}/api/Tickets", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_paging_needs_pageinate_and_is_capped_at_100(fake):
    whole = get(fake, "Tickets").json()
    assert whole["record_count"] == 250 and len(whole["tickets"]) == 250, "without pageinate: no paging"
    page = get(fake, "Tickets", pageinate="true", page_size=500, page_no=2).json()
    assert page["record_count"] == 250 and [t["id"] for t in page["tickets"]] == list(range(101, 201))
    assert isinstance(get(fake, "Status", pageinate="true").json(), list), "some lists are plain arrays"


def test_lastupdatefromdate_deleted_and_per_ticket_action_ids(fake):
    since = halo_time(BASE + timedelta(minutes=240))
    assert [t["id"] for t in get(fake, "Tickets", lastupdatefromdate=since).json()["tickets"]] == list(range(240, 251))
    fake.delete_ticket(7, at=BASE + timedelta(days=1))
    deleted = get(fake, "Tickets", deleted="true", lastupdatefromdate=halo_time(BASE)).json()["tickets"]
    assert [t["id"] for t in deleted] == [7]
    actions = get(fake, "Actions").json()["actions"]
    assert [(a["ticket_id"], a["id"]) for a in actions] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert [a["id"] for a in get(fake, "Actions", ticket_id=2).json()["actions"]] == [1, 2, 3]


def test_the_client_reads_every_page_and_stops_on_a_repeated_one(fake):
    halo = client(fake)
    try:
        ids = [t["id"] for t in halo.read_all("Tickets", list_key="tickets")]
        assert ids == list(range(1, 251)) and len(fake.list_requests("Tickets")) == 3
        # Timesheet ignores paging: every page is the whole list. Read once, not forever.
        for i in range(1, 151):
            fake.put("Timesheet", {"id": i, "agent_id": 1, "date": "2026-01-05T00:00:00"})
        assert len(halo.read_all("Timesheet")) == 150
        assert len(fake.list_requests("Timesheet")) == 2, "page 2 repeated page 1: the end"
        assert fake.tokens_issued == 1
    finally:
        halo.close()


def test_the_client_renews_an_expired_or_revoked_token_once(fake):
    fake.token_lifetime = 30  # under the minute's margin: every call renews it first
    halo = client(fake)
    try:
        halo.get("Status")
        halo.get("Status")
        assert fake.tokens_issued == 2
        fake.token_lifetime = 3600
        halo.get("Status")
        fake.revoke_tokens()
        halo.get("Status")  # 401, a new token, the same request again
        assert fake.tokens_issued == 4 and [e.status for e in fake.server.log].count(401) == 1
    finally:
        halo.close()


def test_authinfo_missing_falls_back_to_auth(fake):
    fake.authinfo = False
    halo = client(fake)
    try:
        assert halo.get("Status") == []
        assert halo.auth.auth_url == f"{fake.url}/auth"
    finally:
        halo.close()


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (500, "System.Exception: An unexpected error occurred (HTTP 500)"),
        (502, "Bad gateway"),
        (503, "The service is unavailable (HTTP 503)"),
        (429, "Too many requests. Please try again later."),
    ],
)
def test_error_shapes_are_shown_in_one_line(fake, status, shown):
    fake.server.fail("/api/status", status, times=10)
    halo = client(fake)
    try:
        with pytest.raises(PsaHttpError) as caught:
            halo.get("Status")
    finally:
        halo.close()
    assert shown in str(caught.value) and "\n" not in str(caught.value)


def test_refused_credentials_are_one_line_without_the_secret(fake):
    halo = client(fake, client_secret="not-it")
    try:
        with pytest.raises(AuthRefused) as caught:
            halo.get("Status")
    finally:
        halo.close()
    assert "invalid_client" in str(caught.value) and "not-it" not in str(caught.value)


def test_rate_limit_answers_429_with_or_without_retry_after(fake):
    fake.rate_limit, fake.retry_after = 2, None
    assert [get(fake, "Status").status_code for _ in range(3)] == [200, 200, 429]
    fake.retry_after = "12"
    limited = get(fake, "Status")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "12"
    assert limited.text == "Too many requests. Please try again later."


def test_writes_update_tickets_and_add_hidden_notes(fake):
    fake.put("Status", {"id": 2, "name": "In Progress"})
    headers = {"Authorization": f"Bearer {token(fake)}"}
    done = httpx.post(f"{fake.url}/api/Tickets", json=[{"id": 3, "status_id": 2}], headers=headers)
    assert done.status_code == 201 and done.json()[0]["status_id"] == 2
    refused = httpx.post(f"{fake.url}/api/Tickets", json=[{"id": 3, "status_id": 99}], headers=headers)
    assert refused.status_code == 400 and refused.json()["ClassName"] == "HaloValidationException"
    fake.answer_as_list = False
    note = {"ticket_id": 1, "outcome": "Private Note", "note": "hi", "hiddenfromuser": True, "sendemail": False}
    added = httpx.post(f"{fake.url}/api/Actions", json=note, headers=headers).json()
    assert added["id"] == 4 and added["ticket_id"] == 1, "the next id on that ticket"
    assert fake.emails_sent == 0 and fake.visible_notes == 0
