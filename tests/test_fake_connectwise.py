"""The fake ConnectWise server answers as the real API does where a client can tell (issue 17).

Raw HTTP against the fake, shaped as the API notes describe; each test pins one behaviour
a client relies on. The mapping half checks that every optional key may be absent, as it
is in real payloads. No database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fakes.connectwise_server import CODEBASE, ConnectWiseFake, cw_time

from mspkpi_tui.sources.connectwise import mapping

BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake():
    with ConnectWiseFake() as server:
        for i in range(1, 8):
            server.put(
                "service/tickets",
                {
                    "id": i,
                    "summary": f"Ticket {chr(ord('g') - i)}",
                    "board": {"id": 1 + i % 2, "name": "Desk" if i % 2 else "Projects"},
                    "owner": {"id": 3, "identifier": "ann"} if i % 3 else None,
                    "priority": {"id": 2, "name": "High", "sort": None},
                    "dateResolved": None,
                },
                at=BASE + timedelta(hours=i),
            )
        server.put("service/SLAs", {"id": 1, "name": "24x7", "basedOn": "AllHours"})
        server.put("system/members", {"id": 9, "firstName": "Eve"})
        server.put("project/projects", {"id": 4, "name": "Move", "company": {"id": 1}})
        yield server


@pytest.fixture
def api(fake):
    headers = {"Authorization": fake.auth, "clientId": fake.client_id}
    with httpx.Client(base_url=f"{fake.site_url}/{CODEBASE}apis/3.0/", headers=headers) as client:
        yield client
    fake.server.clear_faults()
    fake.server_zone = UTC


def test_null_valued_keys_are_left_out(api):
    unassigned = api.get("service/tickets/3").json()
    assert "owner" not in unassigned and "dateResolved" not in unassigned
    assert unassigned["priority"] == {"id": 2, "name": "High"}  # at every depth
    listed = api.get("service/tickets", params={"pageSize": 100}).json()
    assert all(None not in t.values() for t in listed) and sum("owner" in t for t in listed) == 5


@pytest.mark.parametrize("path", ["service/slas", "SERVICE/SLAs", "Service/Tickets/1", "service/tickets/count"])
def test_paths_are_case_insensitive(api, fake, path):
    assert api.get(path).status_code == 200
    upper = httpx.get(f"{fake.site_url}/{CODEBASE.upper()}apis/3.0/{path}", headers=api.headers)
    assert upper.status_code == 200


def links(response: httpx.Response) -> list[tuple[str, str]]:
    """The Link header as (url, rel) pairs, in the order sent."""
    pairs = []
    for part in response.headers.get("Link", "").split(", "):
        url, rel = part.split("; ")
        pairs.append((url.strip("<>"), rel.removeprefix("rel=").strip('"')))
    return pairs


def test_the_link_header_is_built_as_connectwise_builds_it(api):
    first = api.get("service/tickets", params={"page": 1, "pageSize": 3, "conditions": "id>0"})
    assert [rel for _url, rel in links(first)] == ["next", "last"]
    for (url, _rel), page in zip(links(first), (2, 3)):
        assert url.endswith(f"?pageSize=3&conditions=id%3E0&page={page}"), url  # page= always last
    middle = api.get("service/tickets", params={"page": 2, "pageSize": 3})
    assert [(url[-6:], rel) for url, rel in links(middle)] == [
        ("page=1", "first"),
        ("page=1", "prev"),
        ("page=3", "next"),
        ("page=3", "last"),
    ]
    last = api.get("service/tickets", params={"pageSize": 3, "page": 3})
    assert [rel for _url, rel in links(last)] == ["first", "prev"] and [t["id"] for t in last.json()] == [7]


def test_count_answers_with_the_number_of_matching_records(api):
    assert api.get("service/tickets/count").json() == {"count": 7}
    assert api.get("service/tickets/count", params={"conditions": "board/id=2"}).json() == {"count": 4}
    assert api.get("service/tickets/count", params={"conditions": "id>"}).status_code == 400


def test_order_by_and_fields_are_honoured(api):
    by_summary = api.get("service/tickets", params={"orderBy": "summary asc", "pageSize": 100}).json()
    assert [t["id"] for t in by_summary] == [7, 6, 5, 4, 3, 2, 1]
    two_keys = api.get("service/tickets", params={"orderBy": "board/name desc, id desc", "pageSize": 100}).json()
    assert [t["id"] for t in two_keys] == [6, 4, 2, 7, 5, 3, 1]
    slim = api.get("service/tickets", params={"fields": "id,board/name", "pageSize": 2}).json()
    assert slim == [{"id": 1, "board": {"name": "Desk"}}, {"id": 2, "board": {"name": "Projects"}}]
    assert api.get("service/tickets", params={"orderBy": "id sideways"}).status_code == 400


def test_a_datetime_without_a_zone_is_read_in_server_time(api, fake):
    fake.server_zone = timezone(timedelta(hours=-5))  # 08:00 there is 13:00 UTC
    later = api.get("service/tickets", params={"conditions": "lastUpdated>[2026-01-05T08:00:00]"})
    assert later.status_code == 200 and [t["id"] for t in later.json()] == [2, 3, 4, 5, 6, 7]
    assert (
        api.get("service/tickets", params={"conditions": "lastUpdated>[2026-01-05T08:00:00 00:00]"}).status_code == 400
    )


def test_members_and_projects_carry_the_fields_the_schema_requires(api):
    member = api.get("system/members/9").json()
    for name in ("identifier", "firstName", "lastName", "inactiveFlag", "dailyCapacity", "licenseClass"):
        assert name in member, name
    assert member["firstName"] == "Eve" and member["inactiveFlag"] is False
    project = api.get("project/projects/4").json()
    assert project["billingMethod"] == "ActualRates" and "estimatedStart" in project and "board" in project


@pytest.mark.parametrize("status", [429, 503])
def test_injected_refusals_carry_connectwises_error_body(api, fake, status):
    fake.server.fail("/service/tickets", status)
    answer = api.get("service/tickets")
    assert answer.status_code == status and {"code", "message"} <= answer.json().keys()


# --- the mapping reads every optional key by its absence ---------------------------------

MINIMAL = {"id": 5, "_info": {"lastUpdated": cw_time(BASE)}}


@pytest.mark.parametrize(
    "map_one",
    [
        mapping.company,
        mapping.member,
        mapping.board,
        mapping.project,
        mapping.timesheet,
        mapping.agreement,
        mapping.survey_result,
        lambda r: mapping.time_entry({**r, "chargeToType": "ChargeCode"}),
        lambda r: mapping.opportunity(r, mapping.Catalog(), None),
        lambda r: mapping.ticket(r, mapping.Catalog(), None, mapping.EscalationRule(set(), set()))[0],
    ],
)
def test_every_mapping_takes_a_record_with_only_an_id(map_one):
    record = map_one(dict(MINIMAL))
    assert record["id"] == 5
    assert all(record[k] is None for k in record if k.endswith("_id"))  # absent references: none


def test_lists_of_reference_data_take_records_with_keys_left_out():
    assert mapping.board_statuses([{"id": 1}]) == {"1": mapping.BoardStatus(name="", closed=False)}
    assert mapping.priority_ranks([{"id": 4}, {"id": 2, "sortOrder": 1}]) == {"2": 1, "4": 2}
    assert mapping.opportunity_outcomes([{"id": 3}]) == {"3": "open"}
    assert mapping.sla_priority_hours([{"id": 1}, {"id": 2, "priority": {"id": 7}}])["7"].respond is None
    assert mapping.forecast_amount({"id": 1}) == 0.0
    assert mapping.stage_change({"id": 1}) is None
