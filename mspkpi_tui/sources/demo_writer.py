"""The demo's simulated PSA: `mspkpi demo` lets a newcomer try every triage action with no PSA.

The PSA's tickets are the demo rows in the database, and its picklists are the ones shipped
with the demo data (fixtures/demo/picklists.json, stored by the import like a PSA's). It is a
Writer like the Autotask and ConnectWise ones, so an action goes through the same actions
layer, log and checks: compare-before-write against the ticket as "the PSA" has it, only the
changed fields, at most one note. A change is stored through the store's door, as a PSA
change confirmed by a re-read would be. Notes are kept in the action log itself (the demo has
no notes table): a note is "on the ticket" once its action is done.
"""

from __future__ import annotations

import json
from functools import cache

from sqlalchemy import Engine, exists, select

from mspkpi_tui.actions.errors import ActionError, Refused
from mspkpi_tui.actions.writer import RemoteTicket
from mspkpi_tui.clock import utcnow
from mspkpi_tui.fixtures import demo_folder
from mspkpi_tui.store.models import ActionLogEntry, Queue, Resource, Ticket, table
from mspkpi_tui.store.writer import store_confirmed_change

SOURCE = "demo"


@cache
def demo_lists() -> dict:
    """The simulated PSA's lists: statuses (and which close a ticket), priorities by urgency, queues."""
    with demo_folder() as folder:
        return json.loads((folder / "picklists.json").read_text(encoding="utf-8"))


class DemoWriter:
    source = SOURCE

    def __init__(self, engine: Engine):
        self.engine = engine

    def close(self) -> None:
        pass

    def read_ticket(self, ticket_id: str) -> RemoteTicket:
        t, q, r = table(Ticket), table(Queue), table(Resource)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.status, t.c.priority, q.c.name, r.c.source_id)
                .select_from(t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id))
                .where(t.c.source == SOURCE, t.c.source_id == ticket_id)
            ).first()
        if row is None:
            raise ActionError(f"the demo PSA has no ticket {ticket_id}")
        status, priority, queue, assignee = row
        return RemoteTicket(
            values={"status": status, "priority": priority, "queue": queue, "assignee": assignee},
            is_closed=_closes(status),
            priority_rank=_rank(priority),
        )

    def apply(self, ticket_id: str, changes: dict[str, str | None]) -> str:
        lists = demo_lists()
        for field, known in (("status", lists["status"]), ("priority", lists["priority"]), ("queue", lists["queue"])):
            value = changes.get(field)
            if field in changes and not any(_same(value, k) for k in known):
                raise Refused(f"the demo PSA has no {field} {value!r} (it has: {', '.join(known)})")
        current = self.read_ticket(ticket_id)
        values = {**current.values, **changes}
        store_confirmed_change(
            self.engine,
            SOURCE,
            ticket_id,
            values,
            at=utcnow(),
            is_closed=_closes(values.get("status")),
            priority_rank=_rank(values.get("priority")),
        )
        return f"the demo PSA updated ticket {ticket_id} ({', '.join(changes)})"

    def add_note(self, ticket_id: str, text: str) -> str:
        return f"the demo PSA added an internal note to ticket {ticket_id}"

    def has_note(self, ticket_id: str, text: str) -> bool:
        log = table(ActionLogEntry)
        with self.engine.connect() as conn:
            return bool(
                conn.scalar(
                    select(
                        exists().where(
                            log.c.source == SOURCE,
                            log.c.ticket_source_id == ticket_id,
                            log.c.kind == "note",
                            log.c.state == "done",
                            log.c.note == text,
                        )
                    )
                )
            )


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _closes(status: str | None) -> bool:
    return any(_same(status, s) for s in demo_lists()["closed_status"])


def _rank(priority: str | None) -> int | None:
    ranks = {p.casefold(): i for i, p in enumerate(demo_lists()["priority"], start=1)}
    return ranks.get((priority or "").strip().casefold())


def writer_from_config(config, engine: Engine) -> DemoWriter:
    return DemoWriter(engine)
