"""Writing triage actions back to ConnectWise Manage (the actions layer's Writer for this PSA).

- a field change is ``PATCH service/tickets/{id}`` with JSON Patch ``replace`` operations,
  one per changed field, references as ``{"id": ...}``; names become ids from the PSA's
  own lists (boards, the target board's statuses, priorities);
- a status belongs to a board: a move to another board carries a status of that board in
  the same patch (the one asked for, or the current status's namesake there), or is refused
  before anything is sent;
- a note is ``POST service/tickets/{id}/notes`` with ``internalAnalysisFlag: true`` and
  ``processNotifications: false``: internal, and no e-mail to anyone; ``[connectwise]
  member`` (an identifier) makes the note carry the lead as its member.
"""

from __future__ import annotations

from typing import Any

from mspkpi_tui.actions.errors import ActionError, Refused
from mspkpi_tui.actions.writer import RemoteTicket
from mspkpi_tui.errors import MaybeSent
from mspkpi_tui.sources.connectwise.client import CwClient, CwSettings, read_cw_settings
from mspkpi_tui.sources.connectwise.mapping import priority_ranks
from mspkpi_tui.sources.http import PsaHttpError

SOURCE = "connectwise"


class ConnectWiseWriter:
    source = SOURCE

    def __init__(self, settings: CwSettings, member: str | None):
        self.client = CwClient(settings)
        self.member = member
        self._priorities: list[dict] | None = None

    def close(self) -> None:
        self.client.close()

    # --- reading -------------------------------------------------------------------------

    def read_ticket(self, ticket_id: str) -> RemoteTicket:
        try:
            item = self.client.get_object(f"service/tickets/{int(ticket_id)}")
        except PsaHttpError as exc:
            if exc.status == 404:
                raise ActionError(f"ConnectWise has no ticket {ticket_id} any more") from None
            raise Refused(f"ConnectWise: {exc}") from None
        if not isinstance(item, dict):
            raise ActionError(f"ConnectWise answered something other than a ticket for {ticket_id}")
        board, status, priority = _ref(item, "board"), _ref(item, "status"), _ref(item, "priority")
        owner = _ref(item, "owner")
        closed = None
        if board.get("id") is not None and status.get("id") is not None:
            statuses = self._statuses(board["id"])
            closed = next((s.get("closedStatus") is True for s in statuses if s.get("id") == status["id"]), None)
        rank = priority_ranks(self._priority_list()).get(str(priority.get("id")))
        return RemoteTicket(
            values={
                "status": status.get("name"),
                "priority": priority.get("name"),
                "queue": board.get("name"),
                "assignee": None if owner.get("id") is None else str(owner["id"]),
            },
            is_closed=closed,
            priority_rank=rank,
        )

    # --- writing -------------------------------------------------------------------------

    def apply(self, ticket_id: str, changes: dict[str, str | None]) -> str:
        current = _psa(lambda: self.client.get_object(f"service/tickets/{int(ticket_id)}"))
        ops: list[dict[str, Any]] = []
        board_id = _ref(current, "board").get("id")
        if "queue" in changes:
            board_id = self._board_id(changes["queue"])
            ops.append(_replace("board", {"id": board_id}))
        if "status" in changes or "queue" in changes:
            wanted = changes.get("status") or _ref(current, "status").get("name")
            ops.append(_replace("status", {"id": self._status_id(board_id, wanted, moving="queue" in changes)}))
        if "priority" in changes:
            ops.append(_replace("priority", {"id": self._priority_id(changes["priority"])}))
        if "assignee" in changes:
            who = changes["assignee"]
            ops.append(_replace("owner", {"id": int(who)} if who else None))
        url = self.client.api_url(f"service/tickets/{int(ticket_id)}")
        _psa(lambda: self.client.http.request("PATCH", url, json=ops))
        return f"ConnectWise updated ticket {ticket_id} ({', '.join(op['path'] for op in ops)})"

    def add_note(self, ticket_id: str, text: str) -> str:
        body: dict[str, Any] = {
            "text": text,
            "internalAnalysisFlag": True,
            "detailDescriptionFlag": False,
            "resolutionFlag": False,
            "processNotifications": False,
        }
        if self.member:
            body["member"] = {"identifier": self.member}
        url = self.client.api_url(f"service/tickets/{int(ticket_id)}/notes")
        answer = _psa(lambda: self.client.http.request("POST", url, json=body, idempotent=False))
        note = answer.json() if answer.content else {}
        return f"ConnectWise added internal note {note.get('id', '')} to ticket {ticket_id}".replace("  ", " ")

    def has_note(self, ticket_id: str, text: str) -> bool:
        pages = _psa(lambda: list(self.client.pages(f"service/tickets/{int(ticket_id)}/notes")))
        return any(isinstance(n, dict) and n.get("text") == text for page in pages for n in page.records)

    # --- the PSA's lists -----------------------------------------------------------------

    def _board_id(self, name: str | None) -> int:
        boards = _psa(lambda: [b for page in self.client.pages("service/boards") for b in page.records])
        found = next((b["id"] for b in boards if _same(b.get("name"), name)), None)
        if found is None:
            raise Refused(
                f"ConnectWise has no board {name!r} (it has: {', '.join(str(b.get('name')) for b in boards)})"
            )
        return int(found)

    def _statuses(self, board_id: Any) -> list[dict]:
        return _psa(
            lambda: [s for page in self.client.pages(f"service/boards/{board_id}/statuses") for s in page.records]
        )

    def _status_id(self, board_id: Any, name: str | None, *, moving: bool) -> int:
        statuses = self._statuses(board_id)
        found = next((s["id"] for s in statuses if _same(s.get("name"), name)), None)
        if found is None:
            known = ", ".join(str(s.get("name")) for s in statuses)
            hint = "; a board move needs a status of the target board: give --status" if moving else ""
            raise Refused(f"status {name!r} is not a status of that ConnectWise board (it has: {known}){hint}")
        return int(found)

    def _priority_list(self) -> list[dict]:
        if self._priorities is None:
            self._priorities = _psa(
                lambda: [p for page in self.client.pages("service/priorities") for p in page.records]
            )
        return self._priorities

    def _priority_id(self, name: str | None) -> int:
        priorities = self._priority_list()
        found = next((p["id"] for p in priorities if _same(p.get("name"), name)), None)
        if found is None:
            known = ", ".join(str(p.get("name")) for p in priorities)
            raise Refused(f"ConnectWise has no priority {name!r} (it has: {known})")
        return int(found)


def _ref(record: Any, name: str) -> dict:
    value = record.get(name) if isinstance(record, dict) else None
    return value if isinstance(value, dict) else {}


def _replace(path: str, value: Any) -> dict:
    return {"op": "replace", "path": path, "value": value}


def _same(a: Any, b: Any) -> bool:
    return str(a or "").strip().casefold() == str(b or "").strip().casefold()


def _psa(call):
    """The PSA's refusal as Refused (one line, its own words); a lost answer passes through."""
    try:
        return call()
    except MaybeSent:
        raise
    except PsaHttpError as exc:
        raise Refused(f"ConnectWise: {exc}") from None


def writer_from_config(config, engine=None) -> ConnectWiseWriter:
    member = config.sources.get("connectwise", {}).get("member")
    return ConnectWiseWriter(read_cw_settings(config), None if member is None else str(member))
