"""The Autotask synchronizers: one declaration per entity, run by sources/synchronizer.py.

Order matters because references are resolved on store: queues (from the ticket
picklist), resources, companies, contracts, projects, tickets (+ their transitions),
deleted tickets, time entries, opportunities (+ stage history), surveys. A record that
names a row we do not have yet (created in the PSA while we were syncing) makes us
fetch that row by id first, so nothing is rejected for a race.

Entities with a modified field are read from their cursor; the others are read whole each
time. Ticket notes are read for the tickets this pass stored that are open or were active in
the last NOTES_WINDOW (an incremental pass: the changed tickets; a full pass: not the years of
closed tickets nobody opens), by ticket id in batches, after the tickets; a ticket's requester
is named from Contacts, looked up once per pass for the contacts its pages name. Deleted tickets come from DeletedTicketLogs; a full pass prunes instead (the loop
refuses, through the store's writer, to delete more than 90%).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mspkpi_tui.sources.autotask import mapping, prune_guard
from mspkpi_tui.sources.autotask.client import PAGE_SIZE, AutotaskClient
from mspkpi_tui.sources.synchronizer import Deletion, Reference, Step, Synchronizer, SyncPass
from mspkpi_tui.store import models
from mspkpi_tui.store.records import SPECS, RecordError, parse_datetime
from mspkpi_tui.store.writer import MAX_PRUNE_SHARE, PicklistEntry, SyncWriter

SOURCE = "autotask"
PICKLIST_ENTITIES = ["Tickets", "Projects", "Contracts", "Opportunities", "BillingItems"]
# The picklists triage actions are checked against (store: picklist_values), by entity and field.
TRIAGE_PICKLISTS = {
    ("Tickets", "status"): "status",
    ("Tickets", "priority"): "priority",
    ("Tickets", "queueID"): "queue",
    ("TicketNotes", "noteType"): "note_type",
    ("TicketNotes", "publish"): "note_publish",
}
TRACKED = ("status", "queue", "priority", "assignee", "escalation")
# A full pass reads the notes of the tickets that are open or were active this recently.
NOTES_WINDOW = timedelta(days=30)


def at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class LazyRaw:
    """The vendor JSON of each record, serialised only for the few that are rejected."""

    def __init__(self, raws: list[dict]):
        self.raws = raws

    def __getitem__(self, index: int) -> str:
        return json.dumps(self.raws[index], ensure_ascii=False, default=str)


class AutotaskReader:
    """Pages of an Autotask entity: ``{"op": "gte"}`` on the cursor field, in id order."""

    def __init__(self, client: AutotaskClient):
        self.client = client

    def pages(self, sync: Synchronizer, endpoint: str, cursor: str | None) -> Generator[list[dict], None, None]:
        filters = [{"op": "gte", "field": sync.cursor_field, "value": cursor}] if cursor else []
        yield from self.client.walk(endpoint, filters, page_size=sync.page_size)

    def records(self, page: list[Any]) -> list[Any]:
        return page

    def cursor_text(self, moment: datetime) -> str:
        return at_text(moment)


class AutotaskPass(SyncPass):
    """One Autotask pass: the declarations, and what their mappings share (picklists, lookups)."""

    def __init__(
        self,
        run: SyncWriter,
        client: AutotaskClient,
        rules: mapping.Rules,
        *,
        full: bool,
        now_fn: Callable[[], datetime],
        stop: threading.Event,
    ):
        super().__init__(run, full=full, now_fn=now_fn, stop=stop)
        self.run, self.client, self.rules = run, client, rules
        self.lists = mapping.Picklists({})
        self.availability: dict[str, dict] = {}
        self.resource_names: dict[str, str] = {}
        self.billing_codes: dict[str, str] = {}
        self.departments: dict[str, str] = {}
        self.task_projects: dict[str, str] = {}
        self.service_units: dict[str, list[dict]] = {}
        self.contact_names: dict[str, str] = {}  # Contacts id -> name, as looked up this pass
        self.note_lists = mapping.Picklists({})
        self.note_tickets: list[int] = []  # the tickets whose notes the notes step reads
        self.declared = self.steps()
        self.entities = {step.entity: step for step in self.declared if isinstance(step, Synchronizer)}

    # --- the declarations ----------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Every step of a pass, in the order references need (a full pass prunes in reverse)."""

        def entity(name: str, api: str, cursor_field: str | None, map_one: Callable[[dict], dict]) -> Synchronizer:
            return Synchronizer(name, api, cursor_field, PAGE_SIZE, lambda page: self._store(name, page, map_one))

        return [
            Reference("picklists and queues", self._read_picklists, entity="queues"),
            Reference("availability, billing codes and departments", self._read_lookups),
            entity("resources", "Resources", None, self._map_resource),
            entity("companies", "Companies", "lastTrackedModifiedDateTime", mapping.company),
            Reference("contract service units", self._read_service_units),
            entity("contracts", "Contracts", None, self._map_contract),
            entity("projects", "Projects", "lastActivityDateTime", self._map_project),
            entity("tickets", "Tickets", "lastActivityDate", self._map_ticket),
            Synchronizer(
                "deleted_tickets",
                "DeletedTicketLogs",
                "deletedDateTime",
                PAGE_SIZE,
                _no_store,
                Deletion.LOG,
                deletes="tickets",
                id_field="ticketID",
            ),
            Reference("ticket notes", self._read_notes),
            entity("time_entries", "TimeEntries", "lastModifiedDateTime", self._map_time_entry),
            entity("opportunities", "Opportunities", "lastActivity", self._map_opportunity),
            entity("survey_results", "SurveyResults", "completeDate", mapping.survey_result),
            entity("billing_items", "BillingItems", "postedDate", self._map_billing_item),
        ]

    def run_all(self) -> bool:
        """The whole pass; False when it stopped early because `stop` was set."""
        return self.execute(AutotaskReader(self.client), self.declared)

    # --- reference data --------------------------------------------------------------------

    def _read_picklists(self) -> None:
        fields = {api: self.client.fields(api) for api in PICKLIST_ENTITIES}
        self.lists = mapping.Picklists(fields)
        self._store_queues()
        fields["TicketNotes"] = self.client.fields("TicketNotes")
        self.note_lists = mapping.Picklists({"TicketNotes": fields["TicketNotes"]})
        self._store_triage_picklists(fields)

    def _store_triage_picklists(self, fields: dict[str, list[dict]]) -> None:
        """The tenant's ticket and note picklists, for the triage actions to check against."""
        for (api, name), field in TRIAGE_PICKLISTS.items():
            item = next((f for f in fields.get(api, []) if isinstance(f, dict) and f.get("name") == name), None)
            values = item.get("picklistValues") if item else None
            if isinstance(values, list):
                self.run.store_picklist(field, picklist_entries(values))

    def _read_lookups(self) -> None:
        self.availability = {str(a.get("resourceID")): a for a in self.client.fetch_all("ResourceDailyAvailabilities")}
        self.billing_codes = {
            str(c["id"]): str(c.get("name")) for c in self.client.fetch_all("BillingCodes") if "id" in c
        }
        self.departments = {str(d["id"]): str(d.get("name")) for d in self.client.fetch_all("Departments") if "id" in d}

    def _read_service_units(self) -> None:
        """The recurring contracts' units rows that have not ended (the covering one gives seats
        and the monthly value); past periods are not read."""
        since = self.now_fn() - timedelta(days=1)
        rows = self.client.fetch_all(
            "ContractServiceUnits", [{"op": "gte", "field": "endDate", "value": at_text(since)}]
        )
        self.service_units = {}
        for row in rows:
            self.service_units.setdefault(str(row.get("contractID")), []).append(row)

    # --- the deletion rule: what a full pass keeps ---------------------------------------

    def keep_on_prune(self, entity: str) -> set[str]:
        """What a full pass keeps: what it listed, what the PSA still has by id, what stored rows point at."""
        sync = self.entities.get(entity)
        find = (lambda ids: self.client.query_ids(str(sync.endpoint), "id", ids)) if sync else None
        present, pointed_at = prune_guard.keep_alive(
            self.run.engine, SOURCE, entity, self.seen[entity], find, MAX_PRUNE_SHARE
        )
        if pointed_at and self.run.summary is not None:
            shown = ", ".join(sorted(pointed_at)[:5]) + (" ..." if len(pointed_at) > 5 else "")
            self.run.summary.warnings.append(
                f"{entity}: kept {len(pointed_at)} row(s) Autotask no longer has, because stored records "
                f"still point at them ({shown})"
            )
        return self.seen[entity] | present | pointed_at

    # --- mappings that need what the pass has read (picklists, lookups) -------------------

    def _map_contract(self, raw: dict) -> dict:
        units = self.service_units.get(str(raw.get("id")), [])
        return mapping.contract(raw, self.lists, units, self.now_fn().date())

    def _map_billing_item(self, raw: dict) -> dict:
        return mapping.billing_item(raw, self.lists)

    def _map_project(self, raw: dict) -> dict:
        return mapping.project(raw, self.lists, self.rules, self.departments)

    def _map_opportunity(self, raw: dict) -> dict:
        return mapping.opportunity(raw, self.lists, self.rules)

    def _map_ticket(self, raw: dict) -> dict:
        # the zone may move mid-pass: the web URL is read per ticket
        return mapping.ticket(raw, self.lists, self.rules, self.client.web_url, self.contact_names)

    def _map_time_entry(self, raw: dict) -> dict:
        return mapping.time_entry(raw, self.billing_codes, self.task_projects)

    def _map_resource(self, raw: dict) -> dict:
        record = mapping.resource(raw, self.availability.get(str(raw.get("id"))))
        self.resource_names[str(raw.get("id"))] = record["name"] or ""
        return record

    # --- storing a page ---------------------------------------------------------------

    def _store(self, name: str, page: list[Any], map_one: Callable[[dict], dict]) -> None:
        api = self.entities[name].endpoint
        if name == "time_entries":
            self._learn_tasks(page)
        if name == "tickets":
            self._learn_contacts(page, "contactID")
        records, raws = [], []
        for raw in page:
            where = f"{api} id {raw.get('id') if isinstance(raw, dict) else '?'}"
            try:
                if not isinstance(raw, dict):
                    raise RecordError(f"a record must be a JSON object, not {type(raw).__name__}")
                records.append(map_one(raw))
                raws.append(raw)
            except RecordError as exc:
                self.run.reject(name, where, LazyRaw([raw])[0], str(exc))
        if not records:
            return
        self._fetch_missing_refs(name, records)
        if name == "tickets":
            self._ticket_transitions(records)
        if name == "opportunities":
            self._keep_stage_entry(records)
        self.run.store_page(name, records, lambda i: f"{api} id {raws[i].get('id')}", LazyRaw(raws))
        if name == "opportunities":
            self._record_stage_changes(records)
        if name == "tickets":
            self._want_notes(records)

    def _store_queues(self) -> None:
        labels = self.lists.get("Tickets", "queueID").labels
        records = [mapping.queue(value, label) for value, label in labels.items()]
        if records:
            self.run.store_page("queues", records, lambda i: f"Tickets queueID picklist value {records[i]['id']}")
            self.saw("queues", labels)

    # --- the tickets' requesters and notes --------------------------------------------------

    def _learn_contacts(self, page: list[Any], field: str) -> None:
        """Name the contacts a page refers to that this pass has not looked up yet (one query)."""
        wanted = {r[field] for r in page if isinstance(r, dict) and isinstance(r.get(field), int)}
        new = sorted(c for c in wanted if str(c) not in self.contact_names)
        if new:
            for item in self.client.query_ids("Contacts", "id", new):
                if isinstance(item, dict) and (name := mapping.contact_name(item)):
                    self.contact_names[str(item.get("id"))] = name

    def _want_notes(self, records: list[dict]) -> None:
        """Remember the stored tickets of a page whose notes the detail may be asked for."""
        since = self.now_fn() - NOTES_WINDOW
        for record in records:
            sid = str(record.get("id"))
            if not sid.isdigit() or self.run.ids.get("tickets", sid) is None:
                continue  # rejected
            if record.get("is_closed") is False or _since(record.get("last_activity_at"), since):
                self.note_tickets.append(int(sid))

    def _read_notes(self) -> None:
        """The notes of the tickets `_want_notes` kept, by ticket id in batches (paged by id)."""
        wanted = sorted(set(self.note_tickets))
        self.note_tickets = []
        for start in range(0, len(wanted), PAGE_SIZE):
            batch = wanted[start : start + PAGE_SIZE]
            for page in self.client.walk("TicketNotes", [{"op": "in", "field": "ticketID", "value": batch}]):
                self._store_notes(page)
            if self.stop.is_set():
                return  # the tickets' cursor has moved: their notes come with their next change

    def _store_notes(self, page: list[Any]) -> None:
        self._learn_contacts(page, "createdByContactID")
        records, raws = [], []
        for raw in page:
            try:
                if not isinstance(raw, dict):
                    raise RecordError(f"a record must be a JSON object, not {type(raw).__name__}")
                records.append(mapping.ticket_note(raw, self.note_lists, self.resource_names, self.contact_names))
                raws.append(raw)
            except RecordError as exc:  # this note only: its ticket is stored already
                where = f"TicketNotes id {raw.get('id') if isinstance(raw, dict) else '?'}"
                self.run.reject("ticket_notes", where, LazyRaw([raw])[0], str(exc))
        if records:
            self.run.store_page("ticket_notes", records, lambda i: f"TicketNotes id {raws[i].get('id')}", LazyRaw(raws))

    def _learn_tasks(self, page: list[Any]) -> None:
        """Time entries name a project task, not the project: look the page's new tasks up at once."""
        wanted = {r["taskID"] for r in page if isinstance(r, dict) and isinstance(r.get("taskID"), int)}
        new = sorted(t for t in wanted if str(t) not in self.task_projects)
        if new:
            for item in self.client.query_ids("Tasks", "id", new):
                self.task_projects[str(item.get("id"))] = str(item.get("projectID"))

    def _fetch_missing_refs(self, name: str, records: list[dict]) -> None:
        """Rows created in the PSA during this pass: fetch what a record names but we lack."""
        for spec in SPECS[name]:
            if spec.kind != "ref" or spec.ref not in self.entities or spec.ref == name:
                continue
            wanted = {str(r[spec.name]) for r in records if r.get(spec.name) is not None}
            self.run.ids.prefetch(spec.ref, wanted)
            missing = sorted(int(s) for s in wanted if s.isdigit() and self.run.ids.get(spec.ref, s) is None)
            if missing:
                sync = self.entities[spec.ref]
                found = self.client.query_ids(str(sync.endpoint), "id", missing)
                # present in the PSA: a full pass must not prune them
                self.saw(spec.ref, (str(r.get("id")) for r in found if isinstance(r, dict)))
                sync.store(found)

    # --- what the PSA does not keep: transitions and stage history ----------------------

    def _ticket_transitions(self, records: list[dict]) -> None:
        """Compare each ticket with what is stored; record changes as ticket events first,
        so a crash between the two writes repeats the same (idempotent) events."""
        self.run.ids.prefetch("tickets", [str(r["id"]) for r in records])
        known = [str(r["id"]) for r in records if self.run.ids.get("tickets", str(r["id"])) is not None]
        stored = self._stored_tickets(known) if known else {}
        queue_labels = self.lists.get("Tickets", "queueID").labels
        events = []
        for record in records:
            sid = str(record["id"])
            old = stored.get(sid)
            new = {
                "status": record.get("status"),
                "queue": queue_labels.get(str(record.get("queue_id"))) if record.get("queue_id") else None,
                "priority": record.get("priority"),
                "assignee": self.resource_names.get(str(record.get("assigned_resource_id")))
                if record.get("assigned_resource_id")
                else None,
                "escalation": str(record.get("escalation_level") or 0),
            }
            seen_at = record.get("last_activity_at") or at_text(self.now_fn())
            if old is None:
                if record["escalation_level"] and not record.get("escalated_at"):
                    record["escalated_at"] = seen_at
                continue
            for field in TRACKED:
                if (old[field] or None) != (new[field] or None):
                    events.append(
                        {
                            "id": f"{sid}:{field}:{seen_at}",
                            "ticket_id": sid,
                            "at": seen_at,
                            "field": field,
                            "old_value": old[field],
                            "new_value": new[field],
                        }
                    )
            if record["escalation_level"] and old["escalation"] != "0" and old["escalated_at"]:
                record["escalated_at"] = old["escalated_at"].isoformat()  # escalated before: keep when
            elif record["escalation_level"]:
                record["escalated_at"] = record.get("escalated_at") or seen_at
            elif old["escalated_at"]:
                record["escalated_at"] = old["escalated_at"].isoformat()  # de-escalated: it still was escalated
        if events:
            self.run.store_page(
                "ticket_events", events, lambda i: f"ticket {events[i]['ticket_id']} {events[i]['field']} change"
            )

    def _stored_tickets(self, source_ids: list[str]) -> dict[str, dict]:
        t, q, r = models.table(models.Ticket), models.table(models.Queue), models.table(models.Resource)
        query = (
            select(
                t.c.source_id,
                t.c.status,
                q.c.name.label("queue"),
                t.c.priority,
                r.c.name.label("assignee"),
                t.c.escalation_level,
                t.c.escalated_at,
            )
            .select_from(t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id))
            .where(t.c.source == SOURCE, t.c.source_id.in_(source_ids))
        )
        with self.run.engine.connect() as conn:
            return {
                row.source_id: {
                    "status": row.status,
                    "queue": row.queue,
                    "priority": row.priority,
                    "assignee": row.assignee,
                    "escalation": str(row.escalation_level or 0),
                    "escalated_at": row.escalated_at,
                }
                for row in conn.execute(query)
            }

    def _keep_stage_entry(self, records: list[dict]) -> None:
        """Autotask keeps no stage history: an unchanged stage keeps the time we first saw it."""
        self.run.ids.prefetch("opportunities", [str(r["id"]) for r in records])
        known = [str(r["id"]) for r in records if self.run.ids.get("opportunities", str(r["id"])) is not None]
        if not known:
            return
        o = models.table(models.Opportunity)
        with self.run.engine.connect() as conn:
            stored = {
                row.source_id: row
                for row in conn.execute(
                    select(o.c.source_id, o.c.stage, o.c.stage_entered_at).where(
                        o.c.source == SOURCE, o.c.source_id.in_(known)
                    )
                )
            }
        for record in records:
            old = stored.get(str(record["id"]))
            if old is not None and old.stage == record.get("stage") and old.stage_entered_at is not None:
                record["stage_entered_at"] = old.stage_entered_at.isoformat()
            elif old is not None:
                record["stage_entered_at"] = record.get("stage_entered_at") or at_text(self.now_fn())

    def _record_stage_changes(self, records: list[dict]) -> None:
        changes = []
        for record in records:
            sid = str(record["id"])
            entered = record.get("stage_entered_at")
            if self.run.ids.get("opportunities", sid) is None or not record.get("stage") or not entered:
                continue  # rejected, or nothing known about when
            try:
                key = parse_datetime(entered).strftime("%Y%m%dT%H%M%S")
            except RecordError:
                continue
            changes.append(
                {
                    "id": f"{sid}:{record['stage']}:{key}",
                    "opportunity_id": sid,
                    "stage": record["stage"],
                    "entered_at": entered,
                }
            )
        if changes:
            self.run.store_page(
                "opportunity_stage_changes", changes, lambda i: f"opportunity {changes[i]['opportunity_id']} stage"
            )


def picklist_entries(values: list[Any]) -> list[PicklistEntry]:
    """entityInformation picklist values as the store keeps them (labels, sort order, active)."""
    entries = []
    for v in values:
        if isinstance(v, dict) and v.get("value") not in (None, ""):
            value = str(v["value"])
            sort = v.get("sortOrder")
            entries.append(
                PicklistEntry(
                    value,
                    str(v.get("label") or value),
                    sort_order=int(sort) if isinstance(sort, int | float) else 0,
                    active=v.get("isActive") is not False,
                )
            )
    return entries


def _since(value: Any, moment: datetime) -> bool:
    """`value` is an ISO time at or after `moment` (False when it is no time at all)."""
    try:
        return isinstance(value, str) and parse_datetime(value) >= moment
    except RecordError:
        return False


def _no_store(_page: Any) -> None:
    """A deletion log stores nothing: the loop deletes the rows its pages name."""
