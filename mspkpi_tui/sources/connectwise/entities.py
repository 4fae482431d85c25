"""The ConnectWise synchronizers: one declaration per entity, run by sources/synchronizer.py.

Per entity: read the pages changed since its cursor (``lastUpdated>[cursor]``), or all
of them with ``--full``; store each page in one transaction; then, and only then,
move the cursor to the pass's start time minus an overlap, and on a full pass prune
what the source no longer returned. Reference lists (boards and their statuses,
priorities, SLAs, sales statuses and stages, surveys) are small and read whole.

Ticket notes have no list of their own: ``service/tickets/{id}/notes`` is read (paged) for
each ticket of a page that is open or was updated in the last NOTES_WINDOW, so an incremental
pass asks for the changed tickets' notes (one request each) and a full pass does not ask for
the years of closed tickets nobody opens. The oldest detail-description note is the ticket's
description (GET does not return initialDescription).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from mspkpi_tui.sources.connectwise import mapping
from mspkpi_tui.sources.connectwise.client import PAGE_SIZE, CwClient, Page, dump, format_time
from mspkpi_tui.sources.connectwise.mapping import Catalog, EscalationRule, MappingError, StoredTicket
from mspkpi_tui.sources.http import PsaHttpError
from mspkpi_tui.sources.synchronizer import Reference, Step, Synchronizer, SyncPass
from mspkpi_tui.store import models
from mspkpi_tui.store.writer import PicklistEntry, SyncWriter

CURSOR_FIELD = "lastUpdated"
NOTES_WINDOW = timedelta(days=30)  # a ticket closed and untouched for longer: its notes are not read


class CwReader:
    """Pages of a ConnectWise list: ``conditions=lastUpdated>[cursor]``, forward-only."""

    def __init__(self, client: CwClient):
        self.client = client

    def pages(self, sync: Synchronizer, endpoint: str, cursor: str | None) -> Generator[Page, None, None]:
        conditions = f"{sync.cursor_field}>[{cursor}]" if cursor else None
        yield from self.client.pages(endpoint, conditions, sync.page_size)

    def records(self, page: Page) -> list[Any]:
        return page.records

    def cursor_text(self, moment: datetime) -> str:
        return format_time(moment)


class Pass(SyncPass):
    """One ConnectWise pass: the declarations, and what their mappings share (the catalog)."""

    def __init__(
        self,
        run: SyncWriter,
        client: CwClient,
        *,
        full: bool,
        now_fn: Callable[[], datetime],
        stop: threading.Event,
        rule: EscalationRule,
        nps_question: str = "",
    ):
        super().__init__(run, full=full, now_fn=now_fn, stop=stop)
        self.run = run
        self.client = client
        self.rule = rule
        self.catalog = Catalog()
        self.nps_question = nps_question  # [clients] nps_question: text or id
        self.nps_questions: dict[str, mapping.NpsQuestion] = {}  # survey id -> its NPS question

    # --- the declarations ----------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Every step of a pass, in the order references need (a full pass prunes in reverse)."""

        def simple(entity: str, path: str, map_one: Callable[[Any], dict]) -> Synchronizer:
            return Synchronizer(entity, path, CURSOR_FIELD, PAGE_SIZE, self.simple_store(entity, map_one))

        return [
            simple("companies", "company/companies", mapping.company),
            simple("resources", "system/members", mapping.member),
            Reference("boards", self.read_boards, entity="queues"),
            Reference("catalog", self.read_catalog),
            simple("projects", "project/projects", mapping.project),
            Synchronizer("tickets", "service/tickets", CURSOR_FIELD, PAGE_SIZE, self.store_tickets),
            simple("timesheets", "time/sheets", mapping.timesheet),
            Synchronizer("time_entries", "time/entries", CURSOR_FIELD, PAGE_SIZE, self.store_time_entries),
            Synchronizer("opportunities", "sales/opportunities", CURSOR_FIELD, PAGE_SIZE, self.store_opportunities),
            Synchronizer("contracts", "finance/agreements", CURSOR_FIELD, PAGE_SIZE, self.store_agreements),
            # one list of results per survey, found when the step starts
            Synchronizer(
                "survey_results",
                self.survey_result_paths,
                CURSOR_FIELD,
                PAGE_SIZE,
                self.simple_store("survey_results", lambda r: mapping.survey_result(r, self.nps_questions)),
            ),
            simple("billing_items", "finance/invoices", mapping.invoice),
        ]

    def run_all(self) -> bool:
        """The whole pass; False when it stopped early because `stop` was set."""
        return self.execute(CwReader(self.client), self.steps())

    def survey_result_paths(self) -> list[str]:
        """Each survey's results; its questions are read first, to find the one NPS is read from."""
        surveys = [s for s in self.read_list("service/surveys") if _has_id(s)]
        for survey in surveys:
            questions = self.read_list(f"service/surveys/{survey['id']}/questions")
            found = mapping.nps_question(questions, self.nps_question)
            if found is not None:
                self.nps_questions[str(survey["id"])] = found
        return [f"service/surveys/{s['id']}/results" for s in surveys]

    def simple_store(self, entity: str, map_one: Callable[[Any], dict]) -> Callable[[Page], None]:
        def store(page: Page) -> None:
            records, locations, raws = self.map_page(entity, page, map_one)
            self.run.store_page(entity, records, locations, raws)

        return store

    def map_page(self, entity: str, page: Page, map_one: Callable[[Any], dict]):
        """Map a page; records that cannot even be mapped are rejected here with the vendor JSON."""
        records, locations, raws = [], [], []
        for record in page.records:
            location = _location(page, record)
            try:
                mapped = map_one(record)
            except MappingError as exc:
                self.run.reject(entity, location, dump(record), str(exc))
                continue
            records.append(mapped)
            locations.append(location)
            raws.append(dump(record))
        return records, locations, raws

    def read_list(self, path: str) -> list[Any]:
        records: list[Any] = []
        for page in self.client.pages(path):
            records.extend(page.records)
        return records

    # --- reference data ----------------------------------------------------------------

    def read_boards(self) -> None:
        """Boards are the queues; their statuses say which are closed. Read whole every run."""
        boards = self.read_list("service/boards")
        records, locations, raws = self.map_page("queues", Page(boards, "GET service/boards"), mapping.board)
        self.run.store_page("queues", records, locations, raws)
        statuses: list[PicklistEntry] = []
        for board in boards:
            if _has_id(board):
                listed = self.read_list(f"service/boards/{board['id']}/statuses")
                self.catalog.statuses.update(mapping.board_statuses(listed))
                statuses += _entries(listed, scope=str(board.get("name") or board["id"]))
        self.saw("queues", (str(b["id"]) for b in boards if _has_id(b)))
        # For triage: a status belongs to a board, so each board's statuses are kept under its name.
        self.run.store_picklist("queue", _entries(boards))
        self.run.store_picklist("status", statuses)

    def read_catalog(self) -> None:
        settings = self.client.settings
        self.catalog.web_root = mapping.web_root(settings.site_url, self.client.codebase, settings.company)
        priorities = self.read_list("service/priorities")
        self.catalog.priority_rank = mapping.priority_ranks(priorities)
        self.run.store_picklist("priority", _entries(priorities))
        for sla in self.read_list("service/SLAs"):
            # Wall-clock hours are right only for a 24x7 SLA; others rely on slaStatus.
            if _has_id(sla) and sla.get("basedOn") == "AllHours":
                hours = mapping.sla_priority_hours(self.read_list(f"service/SLAs/{sla['id']}/priorities"))
                self.catalog.sla_hours.update({(str(sla["id"]), p): h for p, h in hours.items()})
        self.catalog.opportunity_outcome = mapping.opportunity_outcomes(self.read_list("sales/opportunities/statuses"))
        self.catalog.stage_rank = mapping.stage_ranks(self.read_list("sales/stages"))

    # --- tickets: transitions and due times need the stored rows -------------------------

    def store_tickets(self, page: Page) -> None:
        stored = self.stored_tickets([str(r["id"]) for r in page.records if _has_id(r)])
        events: list[dict] = []
        notes: dict[str, list[Any]] = {}
        for record in page.records:
            if self.wants_notes(record):
                if self.stop.is_set():
                    # Ctrl-C: one request a ticket could outlast the stop's grace (a second),
                    # so the page is not stored; its cursor has not moved, the next pass reads it.
                    return
                notes[str(record["id"])] = self.ticket_notes(record["id"])

        def map_one(record: Any) -> dict:
            row, found = mapping.ticket(
                record, self.catalog, stored.get(str(record.get("id"))) if isinstance(record, dict) else None, self.rule
            )
            listed = notes.get(str(row.get("id")))
            if listed is not None and not record.get("initialDescription"):
                row["description"] = mapping.first_description(listed)
            events.extend(found)
            return row

        records, locations, raws = self.map_page("tickets", page, map_one)
        # Events first: if the process dies between the two transactions, the ticket
        # still differs from the stored row next time and the same events are upserted.
        if events:
            self.run.store_page("ticket_events", events, [f"{page.url} ticket {e['ticket_id']}" for e in events])
        self.run.store_page("tickets", records, locations, raws)
        self.store_notes(notes)

    # --- ticket notes: per ticket, for the tickets a lead may open ---------------------------

    def wants_notes(self, record: Any) -> bool:
        if not _has_id(record):
            return False
        if record.get("closedFlag") is not True:
            return True
        updated = mapping.last_updated(record)
        return updated is not None and updated >= self.now_fn() - NOTES_WINDOW

    def ticket_notes(self, ticket_id: Any) -> list[Any]:
        try:
            return self.read_list(f"service/tickets/{ticket_id}/notes")
        except PsaHttpError as exc:
            if exc.status == 404:
                return []  # deleted while we read: the next full pass prunes it
            raise

    def store_notes(self, notes: dict[str, list[Any]]) -> None:
        """The notes of the page's tickets that were stored (a rejected ticket's are not shown)."""
        for ticket_id, listed in notes.items():
            if not listed or self.run.ids.get("tickets", ticket_id) is None:
                continue
            page = Page(listed, f"GET service/tickets/{ticket_id}/notes")
            map_one = partial(mapping.ticket_note, ticket_id=ticket_id)
            records, locations, raws = self.map_page("ticket_notes", page, map_one)
            self.run.store_page("ticket_notes", records, locations, raws)

    def stored_tickets(self, ids: list[str]) -> dict[str, StoredTicket]:
        if not ids:
            return {}
        tickets, queues, resources = (
            models.table(models.Ticket),
            models.table(models.Queue),
            models.table(models.Resource),
        )
        query = (
            select(
                tickets.c.source_id,
                tickets.c.status,
                queues.c.source_id,
                queues.c.name,
                tickets.c.priority,
                resources.c.source_id,
                resources.c.name,
                tickets.c.first_response_due,
                tickets.c.resolution_due,
                tickets.c.escalated_at,
                tickets.c.description,
            )
            .select_from(
                tickets.outerjoin(queues, queues.c.id == tickets.c.queue_id).outerjoin(
                    resources, resources.c.id == tickets.c.assigned_resource_id
                )
            )
            .where(tickets.c.source == self.run.source, tickets.c.source_id.in_(ids))
        )
        with self.run.engine.connect() as conn:
            return {row[0]: StoredTicket(*list(row)[1:]) for row in conn.execute(query)}

    # --- time entries and the charges billable ones make ----------------------------------

    def store_time_entries(self, page: Page) -> None:
        """Time entries, then their charges as billing items ("time:{id}"); an entry that no
        longer bills (made non-billable, applied to an agreement) loses its charge."""
        self.simple_store("time_entries", mapping.time_entry)(page)
        charges, locations, silent = [], [], []
        for record in page.records:
            charge = mapping.time_charge(record)
            if charge is not None:
                charges.append(charge)
                locations.append(f"{_location(page, record)} (its charge)")
            elif _has_id(record):
                silent.append(f"{mapping.TIME_CHARGE_PREFIX}{record['id']}")
        if charges:
            self.run.store_page("billing_items", charges, locations)
            self.saw("billing_items", (c["id"] for c in charges))
        self.run.delete("billing_items", silent)

    # --- opportunities: amount from the forecast, stage history --------------------------

    def store_opportunities(self, page: Page) -> None:
        amounts = {str(r["id"]): self.forecast(r["id"]) for r in page.records if _has_id(r)}
        records, locations, raws = self.map_page(
            "opportunities", page, lambda r: mapping.opportunity(r, self.catalog, amounts.get(str(_obj_id(r))))
        )
        self.run.store_page("opportunities", records, locations, raws)
        changes = [c for c in (mapping.stage_change(r) for r in page.records if _has_id(r)) if c]
        if changes:
            self.run.store_page(
                "opportunity_stage_changes", changes, [f"{page.url} opportunity {c['opportunity_id']}" for c in changes]
            )

    def store_agreements(self, page: Page) -> None:
        """Agreements with their additions (one request per agreement: seats and recurring value)."""
        additions = {
            str(r["id"]): self.read_list(f"finance/agreements/{r['id']}/additions") for r in page.records if _has_id(r)
        }
        records, locations, raws = self.map_page(
            "contracts", page, lambda r: mapping.agreement(r, additions.get(str(_obj_id(r))))
        )
        self.run.store_page("contracts", records, locations, raws)

    def forecast(self, opportunity_id: Any) -> float | None:
        try:
            return mapping.forecast_amount(self.client.get_object(f"sales/opportunities/{opportunity_id}/forecast"))
        except PsaHttpError as exc:
            if exc.status == 404:
                return None  # deleted while we read: the next full pass prunes it
            raise


def _entries(records: list[Any], scope: str = "") -> list[PicklistEntry]:
    """ConnectWise reference records (boards, statuses, priorities) as picklist values."""
    entries = []
    for r in records:
        if _has_id(r) and r.get("name"):
            sort = r.get("sortOrder")
            entries.append(
                PicklistEntry(
                    str(r["id"]),
                    str(r["name"]),
                    scope=scope,
                    sort_order=int(sort) if isinstance(sort, int | float) else 0,
                    active=r.get("inactiveFlag") is not True and r.get("inactive") is not True,
                )
            )
    return entries


def _has_id(record: Any) -> bool:
    return isinstance(record, dict) and record.get("id") is not None


def _obj_id(record: Any) -> Any:
    return record.get("id") if isinstance(record, dict) else None


def _location(page: Page, record: Any) -> str:
    return f"{page.url} id={_obj_id(record)}"
