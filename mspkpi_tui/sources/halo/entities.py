"""The HaloPSA synchronizers: one declaration per entity, run by sources/synchronizer.py.

Tickets, actions, projects and opportunities are read from their cursor with
``lastupdatefromdate`` (the instance's local time, minus the shared overlap); clients,
agents, teams, contracts, timesheets and feedback are read whole. Deleted tickets come from
``Tickets?deleted=true`` from the same cursor; a full pass also prunes, with the store's
90 % guard. Actions are keyed by (ticket, action): Halo numbers them per ticket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select

from mspkpi_tui.sources.halo import mapping
from mspkpi_tui.sources.halo.client import HaloClient, Page, dump, format_time
from mspkpi_tui.sources.halo.mapping import Catalog, MappingError
from mspkpi_tui.sources.http import PsaHttpError
from mspkpi_tui.sources.synchronizer import Deletion, Reference, Step, Synchronizer, SyncPass
from mspkpi_tui.store import models
from mspkpi_tui.store.writer import SyncWriter

CURSOR = "lastupdatefromdate"  # Halo's last-update window parameter
PAGE_SIZE = 100
# The list key of each paged endpoint (others answer a plain array).
LIST_KEYS = {
    "Tickets": "tickets",
    "Projects": "tickets",
    "Opportunities": "tickets",
    "Client": "clients",
    "ClientContract": "contracts",
    "Actions": "actions",
    "Feedback": "feedback",
    "Invoice": "invoices",
    "Team": "teams",
}
TRACKED = ("status", "queue", "priority", "assignee")


class HaloReader:
    """Pages of a Halo list: ``pageinate``d, from ``lastupdatefromdate`` when there is a cursor.

    Halo sends at most 100 records a page; the loop stores (and checks for a stop) per batch
    of about `batch` records, so the cost of a transaction is spread over more rows."""

    def __init__(self, client: HaloClient, batch: int):
        self.client = client
        self.batch = max(batch, 1)

    def pages(self, sync: Synchronizer, endpoint: str, cursor: str | None) -> Generator[Page, None, None]:
        path, _, query = endpoint.partition("?")
        params: dict[str, Any] = dict(parse_qsl(query))
        if cursor and sync.cursor_field:
            params[sync.cursor_field] = cursor
        pending: list[Page] = []
        for page in self.client.pages(path, params, LIST_KEYS.get(path)):
            pending.append(page)
            if sum(len(p.records) for p in pending) >= self.batch:
                yield _merged(pending)
                pending = []
        if pending:
            yield _merged(pending)

    def records(self, page: Page) -> list[Any]:
        return page.records

    def cursor_text(self, moment: datetime) -> str:
        return format_time(moment, self.client.settings.zone)


class EscalationRule:
    def __init__(self, statuses: set[str], queues: set[str]):
        self.statuses = {s.casefold() for s in statuses}
        self.queues = {q.casefold() for q in queues}

    def applies(self, status: Any, queue: Any) -> bool:
        return (isinstance(status, str) and status.casefold() in self.statuses) or (
            isinstance(queue, str) and queue.casefold() in self.queues
        )


class Pass(SyncPass):
    """One Halo pass: the declarations, and the catalog their mappings share."""

    def __init__(
        self,
        run: SyncWriter,
        client: HaloClient,
        *,
        full: bool,
        now_fn: Callable[[], datetime],
        stop: threading.Event,
        catalog: Catalog,
        closed_types: set[int],
        rule: EscalationRule,
        batch: int = 1000,
    ):
        super().__init__(run, full=full, now_fn=now_fn, stop=stop)
        self.batch = batch
        self.run = run
        self.client = client
        self.catalog = catalog
        self.closed_types = closed_types
        self.rule = rule
        self.teams: list[dict] = []  # the Team list as read this pass (for the queue picklist)

    # --- the declarations ----------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Every step of a pass, in the order references need (a full pass prunes in reverse)."""

        def whole(entity: str, path: str, map_one: Callable[[Any], dict]) -> Synchronizer:
            return Synchronizer(entity, path, None, PAGE_SIZE, self.simple_store(entity, map_one))

        def changed(entity: str, path: str, store: Callable[[Page], None], **more: Any) -> Synchronizer:
            return Synchronizer(entity, path, CURSOR, PAGE_SIZE, store, **more)

        cat = self.catalog
        return [
            whole("companies", "Client", mapping.client),
            whole("resources", "Agent", mapping.agent),
            Synchronizer(  # tickets name their team: the name is the queue's source id
                "queues", "Team", None, PAGE_SIZE, self.store_teams, key=mapping.team_key
            ),
            Reference("catalog", self.read_catalog),
            changed("projects", "Projects", self.simple_store("projects", lambda r: mapping.project(r, cat))),
            changed(
                "opportunities",
                "Opportunities",
                self.simple_store("opportunities", lambda r: mapping.opportunity(r, cat)),
            ),
            changed("tickets", "Tickets", self.store_tickets),
            # deleted tickets (and their actions), listed since the cursor
            Synchronizer(
                "deleted_tickets", "Tickets?deleted=true", CURSOR, PAGE_SIZE, _nothing, Deletion.LOG, "tickets"
            ),
            whole("timesheets", "Timesheet", lambda r: mapping.timesheet(r, cat)),
            changed("time_entries", "Actions", self.store_actions, key=mapping.action_key),
            whole("contracts", "ClientContract", lambda r: mapping.contract(r, cat)),
            Synchronizer("survey_results", self.feedback_paths, None, PAGE_SIZE, self.store_feedback),
            # posted invoices with their lines: billed revenue and our cost (read whole)
            Synchronizer(
                "billing_items", self.invoice_paths, None, PAGE_SIZE, self.simple_store("billing_items", self.invoice)
            ),
        ]

    def run_all(self) -> bool:
        return self.execute(HaloReader(self.client, self.batch), self.steps())

    def store_teams(self, page: Page) -> None:
        self.teams += [t for t in page.records if isinstance(t, dict)]
        self.simple_store("queues", mapping.team)(page)

    def read_catalog(self) -> None:
        statuses, priorities = self.client.read_all("Status"), self.client.read_all("Priority")
        self.catalog.statuses = mapping.statuses(statuses, self.closed_types)
        self.catalog.priorities, self.catalog.priority_rank = mapping.priorities(priorities)
        # What triage actions are checked against (mspkpi_tui/actions/picklists.py).
        self.run.store_picklist("status", mapping.picklist(statuses))
        self.run.store_picklist("queue", mapping.picklist(self.teams))
        self.run.store_picklist("priority", mapping.priority_picklist(priorities, self.catalog.priority_rank))

    def feedback_paths(self) -> list[str]:
        """Feedback, where the tenant exposes it."""
        return ["Feedback"] if self.readable("Feedback", "survey_results") else []

    def invoice_paths(self) -> list[str]:
        """Posted invoices with their lines, where the API user may read them."""
        return ["Invoice?posted=true&includelines=true"] if self.readable("Invoice", "billing_items") else []

    def readable(self, endpoint: str, entity: str) -> bool:
        """Whether the API user may read `endpoint`: a 403 or 404 means the tenant does not
        expose it, so nothing is listed and nothing of `entity` is pruned."""
        try:
            self.client.get(endpoint, {"pageinate": "true", "page_size": 1, "page_no": 1})
        except PsaHttpError as exc:
            if exc.status in (403, 404):
                self.seen.pop(entity, None)
                return False
            raise
        return True

    def invoice(self, record: Any) -> dict:
        return mapping.invoice(record, self.catalog)

    # --- storing ---------------------------------------------------------------------------

    def simple_store(self, entity: str, map_one: Callable[[Any], dict]) -> Callable[[Page], None]:
        def store(page: Page) -> None:
            self.run.store_page(entity, *self.map_page(entity, page.records, page, map_one))

        return store

    def map_page(self, entity: str, records: list[Any], page: Page, map_one: Callable[[Any], dict]):
        """Map records; one that cannot even be mapped is rejected here with the vendor JSON."""
        mapped, kept = [], []
        for record in records:
            try:
                row = map_one(record)
            except MappingError as exc:
                self.run.reject(entity, _location(page, record), dump(record), str(exc))
                continue
            mapped.append(row)
            kept.append(record)
        return mapped, lambda i: _location(page, kept[i]), LazyDump(kept)

    def store_feedback(self, page: Page) -> None:
        self.simple_store("survey_results", lambda r: mapping.feedback(r, self.catalog))(page)

    def store_actions(self, page: Page) -> None:
        timed = [r for r in page.records if not isinstance(r, dict) or mapping.logs_time(r)]
        if timed:
            mapped = self.map_page("time_entries", timed, page, lambda r: mapping.action_time_entry(r, self.catalog))
            self.run.store_page("time_entries", *mapped)
        self.store_notes(page)

    def store_notes(self, page: Page) -> None:
        """The page's actions with a note, as the tickets' notes: no extra request (the actions are
        read anyway, from the cursor, so only changed ones). Actions of a ticket that is not stored
        (a project's or an opportunity's, or a rejected ticket's) are not notes of a ticket we show."""
        noted = [r for r in page.records if mapping.has_note(r)]
        ids = {str(r.get("ticket_id")) for r in noted}
        self.run.ids.prefetch("tickets", ids)
        ours = [r for r in noted if self.run.ids.get("tickets", str(r.get("ticket_id"))) is not None]
        if ours:
            mapped = self.map_page("ticket_notes", ours, page, lambda r: mapping.action_note(r, self.catalog))
            self.run.store_page("ticket_notes", *mapped)

    def store_tickets(self, page: Page) -> None:
        """Tickets that are not projects or opportunities (whether /api/Tickets lists those is
        not settled: the ids stored from their own lists are left out), with their transitions."""
        ids = [str(r["id"]) for r in page.records if isinstance(r, dict) and r.get("id") is not None]
        other = self._stored_ids("projects", ids) | self._stored_ids("opportunities", ids)
        records = [r for r in page.records if not (isinstance(r, dict) and str(r.get("id")) in other)]
        if other and self.full:
            self.seen.get("tickets", set()).difference_update(other)
        rows, locations, raws = self.map_page("tickets", records, page, lambda r: mapping.ticket(r, self.catalog))
        self._transitions(rows)
        self.run.store_page("tickets", rows, locations, raws)

    def _stored_ids(self, entity: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        table = models.table(models.Project if entity == "projects" else models.Opportunity)
        with self.run.engine.connect() as conn:
            found = conn.execute(
                select(table.c.source_id).where(table.c.source == self.run.source, table.c.source_id.in_(ids))
            )
            return set(found.scalars())

    def _transitions(self, rows: list[dict]) -> None:
        """Compare each ticket with the stored row; changes become ticket events, stored first
        so a crash between the two writes repeats the same (idempotent) events."""
        stored = self._stored_tickets([str(r["id"]) for r in rows if r.get("id") is not None])
        names = self._resource_names({str(r["assigned_resource_id"]) for r in rows if r.get("assigned_resource_id")})
        events = []
        for row in rows:
            sid = str(row.get("id"))
            escalated = self.rule.applies(row.get("status"), row.get("queue_id"))
            row["escalation_level"] = 1 if escalated else 0
            old = stored.get(sid)
            at = row.get("last_activity_at") or self.now_fn().isoformat()
            if old is None:
                row["escalated_at"] = at if escalated else None
                continue
            row["escalated_at"] = (
                old["escalated_at"].isoformat() if old["escalated_at"] else (at if escalated else None)
            )
            new = {"status": row.get("status"), "queue": row.get("queue_id"), "priority": row.get("priority")}
            agent = row.get("assigned_resource_id")
            new["assignee"] = names.get(str(agent), str(agent)) if agent else None
            for name in TRACKED:
                if (old[name] or None) != (new[name] or None):
                    events.append(
                        {
                            "id": f"{sid}:{name}:{at}",
                            "ticket_id": sid,
                            "at": at,
                            "field": name,
                            "old_value": old[name],
                            "new_value": new[name],
                        }
                    )
            if escalated and not old["escalated_at"]:
                events.append(
                    {
                        "id": f"{sid}:escalation:{at}",
                        "ticket_id": sid,
                        "at": at,
                        "field": "escalation",
                        "new_value": "escalated",
                    }
                )
        if events:
            self.run.store_page(
                "ticket_events", events, lambda i: f"ticket {events[i]['ticket_id']} {events[i]['field']}"
            )

    def _stored_tickets(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        t, q, r = models.table(models.Ticket), models.table(models.Queue), models.table(models.Resource)
        query = (
            select(
                t.c.source_id,
                t.c.status,
                q.c.source_id.label("queue"),
                t.c.priority,
                r.c.name.label("assignee"),
                t.c.escalated_at,
            )
            .select_from(t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id))
            .where(t.c.source == self.run.source, t.c.source_id.in_(ids))
        )
        with self.run.engine.connect() as conn:
            return {row.source_id: dict(row._mapping) for row in conn.execute(query)}

    def _resource_names(self, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        r = models.table(models.Resource)
        with self.run.engine.connect() as conn:
            found = conn.execute(
                select(r.c.source_id, r.c.name).where(r.c.source == self.run.source, r.c.source_id.in_(sorted(ids)))
            )
            return {row.source_id: row.name for row in found}


def _location(page: Page, record: Any) -> str:
    return f"{page.url} id={record.get('id') if isinstance(record, dict) else None}"


def _merged(pages: list[Page]) -> Page:
    if len(pages) == 1:
        return pages[0]
    url = pages[0].url + f" (and the next {len(pages) - 1} pages)"
    return Page([r for p in pages for r in p.records], url)


class LazyDump:
    """The vendor JSON of each record, serialised only for the few that are rejected."""

    def __init__(self, records: list[Any]):
        self.records = records

    def __getitem__(self, index: int) -> str:
        return dump(self.records[index])


def _nothing(_page: Any) -> None:
    pass  # a deletion log's pages are applied by the loop itself
