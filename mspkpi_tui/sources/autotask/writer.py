"""Writing triage actions back to Autotask (the actions layer's Writer for this PSA).

- a field change is ``PATCH /V1.0/Tickets`` with the id in the body and only those fields;
  status, priority and queue labels become the tenant's picklist values (read, never
  assumed), and an assignment carries a role the resource holds (``ResourceRoles``), as
  Autotask requires;
- a note is ``POST /V1.0/Tickets/{id}/Notes``; ``noteType`` and ``publish`` come from the
  tenant's TicketNotes picklists, ``publish`` being the value whose label says internal:
  a note is never published to the customer by guessing a number;
- escalation by a user-defined field (``[escalation] udf``) sets that UDF, by name, to the
  time of the escalation (the text the sync reads back as the escalation time);
- ``[autotask] impersonate`` (a resource id or e-mail) sends ``ImpersonationResourceId``
  so Autotask records the lead as the author, not the API user.
"""

from __future__ import annotations

from typing import Any

from mspkpi_tui.actions.errors import ActionError, Refused
from mspkpi_tui.actions.writer import RemoteTicket
from mspkpi_tui.errors import MaybeSent
from mspkpi_tui.sources.autotask import SETTINGS, connector_from_config
from mspkpi_tui.sources.autotask.client import AutotaskClient
from mspkpi_tui.sources.autotask.mapping import Picklist, Picklists, udf_value
from mspkpi_tui.sources.connectors import read_settings
from mspkpi_tui.sources.http import PsaHttpError

SOURCE = "autotask"
TITLE_LENGTH = 250  # TicketNotes.title


class AutotaskWriter:
    source = SOURCE

    def __init__(
        self,
        settings: dict[str, Any],
        closed_statuses: set[str],
        impersonate: str | None,
        escalation_udf: str | None = None,
    ):
        self.client = AutotaskClient(settings)
        self.closed_statuses = closed_statuses
        self.escalation_udf = escalation_udf
        self.impersonate_setting = impersonate
        self._lists: Picklists | None = None
        self._notes: Picklists | None = None
        self._impersonate_id: int | None = None

    def close(self) -> None:
        self.client.close()

    # --- reading -------------------------------------------------------------------------

    @property
    def lists(self) -> Picklists:
        if self._lists is None:
            self._lists = Picklists({"Tickets": self.client.fields("Tickets")})
        return self._lists

    def read_ticket(self, ticket_id: str) -> RemoteTicket:
        raw = _psa(lambda: self.client.call("GET", f"Tickets/{int(ticket_id)}"))
        item = raw.get("item") if isinstance(raw, dict) else None
        if not isinstance(item, dict):
            raise ActionError(f"Autotask has no ticket with id {ticket_id} any more")
        status = _label(self.lists.get("Tickets", "status"), item.get("status"))
        priority = self.lists.get("Tickets", "priority")
        assignee = item.get("assignedResourceID")
        udf = udf_value(item, self.escalation_udf) if self.escalation_udf else None
        return RemoteTicket(
            values={
                "status": status,
                "priority": _label(priority, item.get("priority")),
                "queue": _label(self.lists.get("Tickets", "queueID"), item.get("queueID")),
                "assignee": None if assignee is None else str(assignee),
                "escalation": None if udf in (None, "") else str(udf),
            },
            is_closed=str(item.get("status")) in self.closed_statuses
            or (status or "").casefold() in self.closed_statuses,
            priority_rank=priority.rank(item.get("priority")),
        )

    # --- writing -------------------------------------------------------------------------

    def apply(self, ticket_id: str, changes: dict[str, str | None]) -> str:
        body: dict[str, Any] = {"id": int(ticket_id)}
        for field, api in (("status", "status"), ("priority", "priority"), ("queue", "queueID")):
            if field in changes:
                body[api] = self._value(api, changes[field])
        if "assignee" in changes:
            resource = changes["assignee"]
            body["assignedResourceID"] = int(resource) if resource else None
            body["assignedResourceRoleID"] = self._role_of(int(resource)) if resource else None
        if "escalation" in changes:  # [escalation] udf: a user-defined field, set by name
            if not self.escalation_udf:
                raise ActionError("[escalation] udf is not set: no escalation field to write")
            body["userDefinedFields"] = [{"name": self.escalation_udf, "value": changes["escalation"]}]
        answer = _psa(lambda: self.client.call("PATCH", "Tickets", json=body, headers=self._headers()))
        return f"Autotask updated ticket {answer.get('itemId', ticket_id) if isinstance(answer, dict) else ticket_id}"

    def add_note(self, ticket_id: str, text: str) -> str:
        notes = self._note_lists()
        body = {
            "ticketID": int(ticket_id),
            "title": (text.strip().splitlines() or ["Note"])[0][:TITLE_LENGTH],
            "description": text,
            "noteType": _int(_internal(notes.get("TicketNotes", "noteType"), required=False)),
            "publish": _int(_internal(notes.get("TicketNotes", "publish"), required=True)),
        }
        answer = _psa(
            lambda: self.client.call(
                "POST", f"Tickets/{int(ticket_id)}/Notes", json=body, headers=self._headers(), idempotent=False
            )
        )
        item = answer.get("itemId") if isinstance(answer, dict) else None
        return f"Autotask added internal note {item} to ticket {ticket_id}"

    def has_note(self, ticket_id: str, text: str) -> bool:
        notes = _psa(
            lambda: self.client.fetch_all("TicketNotes", [{"op": "eq", "field": "ticketID", "value": int(ticket_id)}])
        )
        return any(isinstance(n, dict) and n.get("description") == text for n in notes)

    # --- helpers -------------------------------------------------------------------------

    def _value(self, api_field: str, label: str | None) -> int | None:
        if label is None:
            return None
        picklist = self.lists.get("Tickets", api_field)
        for value, known in picklist.labels.items():
            if known.strip().casefold() == label.strip().casefold():
                return int(value)
        name = {"queueID": "queue"}.get(api_field, api_field)
        shown = ", ".join(picklist.labels.values())
        raise Refused(f"{name} {label!r} is not in this Autotask tenant's {name} picklist (it has: {shown})")

    def _role_of(self, resource_id: int) -> int:
        roles = _psa(
            lambda: self.client.fetch_all("ResourceRoles", [{"op": "eq", "field": "resourceID", "value": resource_id}])
        )
        active = [r for r in roles if isinstance(r, dict) and r.get("isActive", True) and r.get("roleID") is not None]
        if not active:
            raise Refused(f"resource {resource_id} holds no active role in Autotask, and an assignment needs one")
        return int(sorted(active, key=lambda r: r.get("id", 0))[0]["roleID"])

    def _note_lists(self) -> Picklists:
        if self._notes is None:
            self._notes = Picklists({"TicketNotes": self.client.fields("TicketNotes")})
        return self._notes

    def _headers(self) -> dict[str, str]:
        who = self._impersonation()
        return {"ImpersonationResourceId": str(who)} if who is not None else {}

    def _impersonation(self) -> int | None:
        setting = (self.impersonate_setting or "").strip()
        if not setting:
            return None
        if self._impersonate_id is None:
            if setting.isdigit():
                self._impersonate_id = int(setting)
            else:
                found = _psa(
                    lambda: self.client.fetch_all("Resources", [{"op": "eq", "field": "email", "value": setting}])
                )
                if not found:
                    raise ActionError(f"[autotask] impersonate names {setting!r}, which is no Autotask resource")
                self._impersonate_id = int(found[0]["id"])
        return self._impersonate_id


def _label(picklist: Picklist, value: Any) -> str | None:
    if value is None or value == "":
        return None
    return picklist.labels.get(str(value), str(value))


def _internal(picklist: Picklist, *, required: bool) -> str | None:
    """The active value whose label says internal; without one, publishing would be a guess."""
    for value, label in picklist.labels.items():
        if "internal" in label.casefold():
            return value
    if required:
        raise Refused(
            f"the tenant's TicketNotes {picklist.name} picklist has no internal value "
            f"({', '.join(picklist.labels.values()) or 'empty'}): refusing to post a note the customer might see"
        )
    return next(iter(picklist.labels), None)  # noteType does not decide visibility: the first by sort order


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _psa(call):
    """The PSA's refusal as Refused (one line, its own words); lost answers pass through."""
    try:
        return call()
    except MaybeSent:
        raise
    except PsaHttpError as exc:
        raise Refused(f"Autotask: {exc}") from None


def writer_from_config(config, engine=None) -> AutotaskWriter:
    settings = read_settings(config, "autotask", SETTINGS)
    table = config.sources.get("autotask", {})
    rules = connector_from_config(config).rules
    impersonate = table.get("impersonate")
    return AutotaskWriter(
        settings,
        rules.closed_ticket_statuses,
        None if impersonate is None else str(impersonate),
        rules.escalation_udf,
    )
