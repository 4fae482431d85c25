"""Writing triage actions back to HaloPSA (the actions layer's Writer for this PSA).

- Halo has no PATCH: a field change is ``POST /api/Tickets`` with an array holding one
  object, the ticket's ``id`` and only the fields to change (``status_id``,
  ``priority_id``, ``agent_id``, ``team``); labels become ids from Halo's own lists
  (statuses; priorities, which are rows per SLA: the row of the ticket's SLA first), and a
  label Halo does not have is refused before anything is sent;
- a note is ``POST /api/Actions`` with ``hiddenfromuser: true`` and ``sendemail: false``:
  never shown to the customer, no e-mail; ``[halo] note_outcome`` names the action's
  outcome (default "Private Note");
- Halo answers a write with an object or a list of them: both are read.
"""

from __future__ import annotations

from typing import Any

from mspkpi_tui.actions.errors import ActionError, Refused
from mspkpi_tui.actions.writer import RemoteTicket
from mspkpi_tui.errors import MaybeSent
from mspkpi_tui.sources.halo import closed_types_of, mapping
from mspkpi_tui.sources.halo.client import HaloClient, HaloSettings, read_halo_settings
from mspkpi_tui.sources.halo.mapping import Catalog
from mspkpi_tui.sources.http import PsaHttpError

SOURCE = "halo"
NOTE_OUTCOME = "Private Note"


class HaloWriter:
    source = SOURCE

    def __init__(self, settings: HaloSettings, closed_types: set[int], outcome: str):
        self.client = HaloClient(settings)
        self.closed_types = closed_types
        self.outcome = outcome
        self._catalog: Catalog | None = None
        self._statuses: list[dict] = []
        self._priorities: list[dict] = []

    def close(self) -> None:
        self.client.close()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._statuses = _dicts(_psa(lambda: self.client.read_all("Status")))
            self._priorities = _dicts(_psa(lambda: self.client.read_all("Priority")))
            catalog = Catalog(zone=self.client.settings.zone)
            catalog.statuses = mapping.statuses(self._statuses, self.closed_types)
            catalog.priorities, catalog.priority_rank = mapping.priorities(self._priorities)
            self._catalog = catalog
        return self._catalog

    # --- reading -------------------------------------------------------------------------

    def _ticket(self, ticket_id: str) -> dict:
        try:
            item = self.client.get(f"Tickets/{int(ticket_id)}")
        except PsaHttpError as exc:
            if exc.status == 404:
                raise ActionError(f"Halo has no ticket {ticket_id} any more") from None
            raise Refused(f"Halo: {exc}") from None
        if not isinstance(item, dict) or item.get("id") is None:
            raise ActionError(f"Halo answered something other than a ticket for {ticket_id}")
        return item

    def read_ticket(self, ticket_id: str) -> RemoteTicket:
        item = self._ticket(ticket_id)
        status = self.catalog.status(item)
        priority, rank = self.catalog.priority(item)
        team = item.get("team")
        agent = mapping._id(item.get("agent_id"))
        return RemoteTicket(
            values={
                "status": status.name if status else None,
                "priority": priority,
                "queue": team if isinstance(team, str) and team.strip() else None,
                "assignee": agent,
            },
            is_closed=status.closed if status else None,
            priority_rank=rank,
        )

    # --- writing -------------------------------------------------------------------------

    def apply(self, ticket_id: str, changes: dict[str, str | None]) -> str:
        body: dict[str, Any] = {"id": int(ticket_id)}
        if "status" in changes:
            body["status_id"] = self._status_id(changes["status"])
        if "priority" in changes:
            body["priority_id"] = self._priority_id(changes["priority"], self._ticket(ticket_id).get("sla_id"))
        if "queue" in changes:
            body["team"] = self._team(changes["queue"])
        if "assignee" in changes:
            who = changes["assignee"]
            body["agent_id"] = int(who) if who else 0
        answer = _psa(lambda: self.client.post("Tickets", [body]))
        first = _first(answer)
        if first is not None and str(first.get("id")) != str(ticket_id):
            raise Refused(f"Halo answered the update of ticket {ticket_id} with another record ({first.get('id')})")
        sent = ", ".join(k for k in body if k != "id")
        return f"Halo updated ticket {ticket_id} ({sent})"

    def add_note(self, ticket_id: str, text: str) -> str:
        body = {
            "ticket_id": int(ticket_id),
            "outcome": self.outcome,
            "note": text,
            "hiddenfromuser": True,
            "sendemail": False,
        }
        answer = _psa(lambda: self.client.post("Actions", [body], idempotent=False))
        first = _first(answer) or {}
        return f"Halo added private note {first.get('id', '')} to ticket {ticket_id}".replace("  ", " ")

    def has_note(self, ticket_id: str, text: str) -> bool:
        actions = _psa(lambda: self.client.read_all("Actions", {"ticket_id": int(ticket_id)}, "actions"))
        return any(isinstance(a, dict) and _same_text(a.get("note"), text) for a in actions)

    # --- Halo's lists --------------------------------------------------------------------

    def _status_id(self, name: str | None) -> int:
        self.catalog  # noqa: B018 (reads the lists once)
        found = next((s["id"] for s in self._statuses if _same(s.get("name"), name)), None)
        if found is None:
            known = ", ".join(str(s.get("name")) for s in self._statuses)
            raise Refused(f"Halo has no status {name!r} (it has: {known})")
        return int(found)

    def _priority_id(self, name: str | None, sla_id: Any) -> int:
        self.catalog  # noqa: B018
        rows = [p for p in self._priorities if _same(p.get("name"), name)]
        rows.sort(key=lambda p: str(p.get("slaid")) != str(sla_id))  # the ticket's SLA first
        if not rows:
            known = ", ".join(sorted({str(p.get("name")) for p in self._priorities}))
            raise Refused(f"Halo has no priority {name!r} (it has: {known})")
        return int(rows[0].get("priorityid") or rows[0]["id"])

    def _team(self, name: str | None) -> str:
        teams = _dicts(_psa(lambda: self.client.read_all("Team", list_key="teams")))
        found = next((t.get("name") for t in teams if _same(t.get("name"), name)), None)
        if not isinstance(found, str):
            raise Refused(f"Halo has no team {name!r} (it has: {', '.join(str(t.get('name')) for t in teams)})")
        return found


def _dicts(records: list[Any]) -> list[dict]:
    return [r for r in records if isinstance(r, dict)]


def _first(answer: Any) -> dict | None:
    """Halo answers a write with the record, or a list holding it."""
    if isinstance(answer, list):
        answer = answer[0] if answer else None
    return answer if isinstance(answer, dict) else None


def _same(a: Any, b: Any) -> bool:
    return str(a or "").strip().casefold() == str(b or "").strip().casefold()


def _same_text(a: Any, b: str) -> bool:
    # Halo may store a note as HTML or with its line ends changed: compare the words.
    return isinstance(a, str) and " ".join(a.split()) == " ".join(b.split())


def _psa(call):
    """Halo's refusal as Refused (one line, its own words); a lost answer passes through."""
    try:
        return call()
    except MaybeSent:
        raise
    except PsaHttpError as exc:
        raise Refused(f"Halo: {exc}") from None


def writer_from_config(config, engine=None) -> HaloWriter:  # engine: only the demo writer needs it
    options = dict(config.sources.get("halo", {}))
    closed = closed_types_of(options)
    outcome = str(options.get("note_outcome") or NOTE_OUTCOME)
    return HaloWriter(read_halo_settings(config), closed, outcome)
