"""Contract tests: clients written against the real PSA APIs, by people outside this project,
read the fake servers and get back exactly the records the fakes hold (issue 17).

- ConnectWise: ``pyconnectwise`` (typed models of the vendor's schema, page-number paging
  through the ``Link`` header, ``/count``, lower-case paths such as ``service/slas``).
- Autotask: ``atrest`` (a query by id through ``GET .../query?search=`` with the field
  spelt ``Id``). No maintained Python client reads whole entities, so paging is checked
  by raw requests shaped as the vendor documents it (tests/test_fake_autotask.py).

The clients are pointed at the fakes through their own URL settings; pyconnectwise
builds ``https://`` URLs, so a small subclass makes them ``http://`` to the loopback fake.
docs/sources.md lists which fake behaviours these clients back.
"""

from __future__ import annotations

import warnings

import pytest
from atrest.client import Client as AtrestClient
from fakes.autotask_server import AutotaskFake, populate
from fakes.connectwise_schema import without_nulls
from fakes.connectwise_server import ConnectWiseFake
from test_sync_connectwise import populate as populate_cw

# pyconnectwise's generated models use a pydantic v1 idiom that pydantic 2 warns about on import.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyconnectwise.models.manage  # noqa: F401
from pyconnectwise import ConnectWiseManageAPIClient  # noqa: E402
from pyconnectwise.endpoints.manage.ServiceSlasIdPrioritiesEndpoint import ServiceSlasIdPrioritiesEndpoint  # noqa: E402


class LoopbackManageClient(ConnectWiseManageAPIClient):
    """pyconnectwise, talking plain http to the fake on 127.0.0.1 (it hard-codes https)."""

    def _get_url(self) -> str:
        return f"http://{self.manage_url}/{self.codebase.strip('/')}/apis/3.0"

    def _try_get_codebase_from_api(self, manage_url: str, company_name: str, headers: dict[str, str]) -> str:
        return self._make_request(
            "GET", f"http://{manage_url}/login/companyinfo/{company_name}", headers=headers
        ).json()["Codebase"]


@pytest.fixture(scope="module")
def cw_fake():
    with ConnectWiseFake(max_page_size=7) as fake:  # 7 a page: every list spans pages
        populate_cw(fake)
        yield fake


@pytest.fixture(scope="module")
def cw(cw_fake):
    from fakes.connectwise_server import PRIVATE_KEY, PUBLIC_KEY

    host = cw_fake.site_url.removeprefix("http://")
    return LoopbackManageClient(cw_fake.company, host, cw_fake.client_id, PUBLIC_KEY, PRIVATE_KEY)


def served(fake: ConnectWiseFake, endpoint: str) -> list[dict]:
    """What the fake holds for a list, as ConnectWise would serialise it."""
    return [without_nulls(fake.data[endpoint][k]) for k in sorted(fake.data[endpoint])]


def test_pyconnectwise_discovers_the_codebase(cw, cw_fake):
    assert cw.codebase == cw_fake.codebase


def test_pyconnectwise_lists_every_ticket_through_every_page(cw, cw_fake):
    tickets = list(cw.service.tickets.paginated(1, 5).all())
    assert len(tickets) == len(cw_fake.data["service/tickets"]) > 5
    for model, record in zip(tickets, served(cw_fake, "service/tickets")):
        assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == record


def test_pyconnectwise_keeps_conditions_across_pages_and_counts(cw, cw_fake):
    condition = "board/id=1"
    wanted = [t for t in served(cw_fake, "service/tickets") if t["board"]["id"] == 1]
    listed = list(cw.service.tickets.paginated(1, 4, {"conditions": condition}).all())
    assert [t.id for t in listed] == [t["id"] for t in wanted]
    assert cw.service.tickets.count.get(params={"conditions": condition}).count == len(wanted)


def test_pyconnectwise_reads_one_ticket_and_leaves_unset_keys_unset(cw, cw_fake):
    ticket = cw.service.tickets.id(1013).get()
    assert ticket.summary == cw_fake.data["service/tickets"][1013]["summary"]
    assert ticket.owner is None and ticket.company.id == 1  # no owner key: unassigned


def test_pyconnectwise_parses_members_projects_and_reference_lists(cw, cw_fake):
    # These models refuse records without the fields the vendor's schema requires.
    members = list(cw.system.members.paginated(1, 10).all())
    assert [(m.id, m.identifier, m.inactive_flag) for m in members] == [
        (r["id"], r["identifier"], r["inactiveFlag"]) for r in served(cw_fake, "system/members")
    ]
    projects = list(cw.project.projects.paginated(1, 10).all())
    assert [(p.id, p.billing_method) for p in projects] == [(1, "ActualRates"), (2, "ActualRates"), (3, "ActualRates")]
    # pyconnectwise spells the path service/slas (the data lives at service/SLAs); it registers
    # no child for an SLA's priorities, so its own endpoint class is hung under the SLA.
    sla_priorities = ServiceSlasIdPrioritiesEndpoint(cw, parent_endpoint=cw.service.slas.id(1))
    assert [(p.id, p.respond_hours) for p in sla_priorities.get()] == [
        (r["id"], r["respondHours"]) for r in served(cw_fake, "service/SLAs/1/priorities")
    ]
    assert [p.color for p in cw.service.priorities.get()] == ["Gray"] * 4


# --- Autotask ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def at_fake():
    with AutotaskFake() as fake:
        populate(fake, tickets=12)
        yield fake


def test_atrest_reads_a_ticket_by_id(at_fake):
    client = AtrestClient(at_fake.base_url() + "V1.0", at_fake.integration_code, at_fake.username, at_fake.secret)
    for ticket_id in (1, 7, 10):
        answer = client.query_tickets(ticket_id)
        assert answer.json()["items"] == [at_fake.data["Tickets"][ticket_id]]
    assert client.query_tickets(999).json()["items"] == []


def test_atrest_is_refused_with_wrong_credentials(at_fake):
    from requests.exceptions import HTTPError

    client = AtrestClient(at_fake.base_url() + "V1.0", at_fake.integration_code, at_fake.username, "wrong")
    with pytest.raises(HTTPError, match="Invalid Autotask credentials"):
        client.query_tickets(1)
