"""The fake Autotask server answers as the real API does where a client can tell (issue 17).

Raw HTTP against the fake, shaped as docs/sources.md and the API notes describe; each
test pins one behaviour that the connectors (or a user's client) rely on. No database.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from fakes.autotask_schema import FIELDS
from fakes.autotask_server import AutotaskFake, populate


@pytest.fixture(scope="module")
def fake():
    with AutotaskFake() as server:
        populate(server, tickets=23)
        yield server


@pytest.fixture
def api(fake):
    headers = {"ApiIntegrationCode": fake.integration_code, "UserName": fake.username, "Secret": fake.secret}
    with httpx.Client(base_url=fake.base_url() + "V1.0/", headers=headers) as client:
        yield client
    fake.server.clear_faults()
    fake.forbidden.clear()


def query(api, entity: str, *filters: dict, max_records: int = 500) -> httpx.Response:
    return api.post(f"{entity}/query", json={"MaxRecords": max_records, "filter": list(filters)})


def test_an_unknown_filter_field_is_a_500_with_the_errors_array(api):
    misspelt = query(api, "Tickets", {"op": "gt", "field": "lastActivityDat", "value": "2020-01-01T00:00:00Z"})
    assert misspelt.status_code == 500
    assert misspelt.json()["errors"] == ["Unable to find field lastActivityDat in the Tickets entity."]
    nested = query(
        api,
        "Tickets",
        {"op": "or", "items": [{"op": "eq", "field": "status", "value": 1}, {"op": "exist", "field": "x"}]},
    )
    assert nested.status_code == 500 and "field x" in nested.json()["errors"][0]
    counted = api.post("Tickets/query/count", json={"filter": [{"op": "exist", "field": "nope"}]})
    assert counted.status_code == 500 and counted.json()["errors"]


def test_filter_fields_are_matched_case_insensitively(api, fake):
    mixed = query(
        api, "Tickets", {"op": "eq", "field": "ID", "value": "5"}, {"op": "gte", "field": "CompanyId", "value": 0}
    )
    assert mixed.status_code == 200 and [t["id"] for t in mixed.json()["items"]] == [5]
    # Validated, not merely matched: a name that differs by more than case is refused.
    near_miss = query(
        api, "Tickets", {"op": "eq", "field": "ID", "value": "5"}, {"op": "gte", "field": "CompanyIds", "value": 0}
    )
    assert near_miss.status_code == 500 and "CompanyIds" in near_miss.json()["errors"][0]


def test_a_udf_filter_must_say_udf_and_name_a_udf(api, fake):
    fake.data["Tickets"][3]["userDefinedFields"] = [{"name": "Escalated On", "value": "2026-01-05T10:00:00"}]
    try:
        found = query(api, "Tickets", {"op": "exist", "field": "escalated on", "udf": True})
        assert found.status_code == 200 and [t["id"] for t in found.json()["items"]] == [3]
        assert query(api, "Tickets", {"op": "exist", "field": "Escalated On"}).status_code == 500  # no "udf": true
        assert query(api, "Tickets", {"op": "exist", "field": "status", "udf": True}).status_code == 500
    finally:
        fake.data["Tickets"][3]["userDefinedFields"] = [{"name": "Escalated On", "value": None}]


def test_entity_fields_carry_real_data_types_and_flags(api):
    fields = {f["name"]: f for f in api.get("Tickets/entityInformation/fields").json()["fields"]}
    for field in fields.values():
        assert {"length", "isReadOnly", "isRequired", "isQueryable", "picklistParentValueField"} <= field.keys()
    assert (fields["id"]["dataType"], fields["id"]["isReadOnly"], fields["id"]["isRequired"]) == ("long", True, True)
    assert fields["createDate"]["dataType"] == "datetime" and fields["createDate"]["isReadOnly"]
    assert fields["companyID"]["dataType"] == "integer" and fields["companyID"]["isRequired"]
    assert fields["title"]["dataType"] == "string" and fields["title"]["length"] == 255
    assert fields["serviceLevelAgreementHasBeenMet"]["dataType"] == "boolean"
    assert fields["status"]["isPickList"] and fields["status"]["dataType"] == "integer"
    assert fields["subIssueType"]["picklistParentValueField"] == "issueType"
    hours = {f["name"]: f for f in api.get("TimeEntries/entityInformation/fields").json()["fields"]}["hoursWorked"]
    assert hours["dataType"] == "decimal"


def test_entity_information_and_user_defined_fields_are_served(api):
    info = api.get("Tickets/entityInformation")
    assert info.status_code == 200 and info.json()["info"]["canQuery"] and info.json()["info"]["hasUserDefinedFields"]
    udfs = api.get("Tickets/entityInformation/userDefinedFields")
    assert udfs.status_code == 200 and [f["name"] for f in udfs.json()["fields"]] == ["Escalated On"]
    assert api.get("Companies/entityInformation/userDefinedFields").json() == {"fields": []}


def test_a_get_query_is_continued_by_get_through_every_page(api, fake):
    search = {"MaxRecords": 10, "filter": [{"op": "gte", "field": "id", "value": 0}]}
    page = api.get("Tickets/query?search=" + quote(json.dumps(search))).json()
    ids = [t["id"] for t in page["items"]]
    while page["pageDetails"]["nextPageUrl"]:
        answer = httpx.get(page["pageDetails"]["nextPageUrl"], headers=api.headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        ids += [t["id"] for t in page["items"]]
    assert ids == sorted(fake.data["Tickets"])


def test_a_post_query_is_continued_by_post_and_a_page_can_be_fetched_again(api, fake):
    body = {"MaxRecords": 10, "filter": [{"op": "gte", "field": "id", "value": 0}]}
    first = api.post("Tickets/query", json=body).json()
    next_url = first["pageDetails"]["nextPageUrl"]
    assert httpx.get(next_url, headers=api.headers).status_code == 405
    fake.server.fail("/tickets/query/next", 503)
    assert httpx.post(next_url, json=body, headers=api.headers).status_code == 503
    again = httpx.post(next_url, json=body, headers=api.headers)  # the retry after the 5xx
    assert again.status_code == 200 and [t["id"] for t in again.json()["items"]] == list(range(11, 21))
    twice = httpx.post(next_url, json=body, headers=api.headers)
    assert twice.json()["items"] == again.json()["items"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_refusals_carry_autotasks_error_body(api, fake, status):
    fake.server.fail("/tickets/query", status)
    answer = query(api, "Tickets", {"op": "gte", "field": "id", "value": 0})
    assert answer.status_code == status
    errors = answer.json()["errors"]
    assert isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)


def test_permission_failures_are_a_500_with_the_message(api, fake):
    fake.forbidden["Opportunities"] = (
        "The logged in Resource does not have the adequate permissions to query Opportunity"
    )
    refused = query(api, "Opportunities", {"op": "gte", "field": "id", "value": 0})
    assert refused.status_code == 500 and "adequate permissions" in refused.json()["errors"][0]
    assert query(api, "Tickets", {"op": "gte", "field": "id", "value": 0}).status_code == 200


def test_every_field_the_fake_serves_is_declared(fake):
    for entity, table in fake.data.items():
        declared = {f.name for f in FIELDS[entity]} | {"userDefinedFields"}
        for record in table.values():
            assert set(record) <= declared, (entity, set(record) - declared)
