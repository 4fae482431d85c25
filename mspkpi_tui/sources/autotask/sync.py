"""One Autotask sync pass: entity by entity, page by page, through the SyncWriter.

Order matters because references are resolved on store: queues (from the ticket
picklist), resources, companies, contracts, projects, tickets (+ their transitions),
deleted tickets, time entries, opportunities (+ stage history), surveys. A record that
names a row we do not have yet (created in the PSA while we were syncing) makes us
fetch that row by id first, so nothing is rejected for a race.

Incremental entities keep a cursor = the start of their last finished pass minus
OVERLAP; upserts make the overlap harmless. Entities with no modified field are read
whole each time. A full pass reads everything and then prunes, in reverse dependency
order, what the PSA no longer has (the runner refuses to delete more than 90%).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mspkpi_tui.sources.autotask import mapping, prune_guard
from mspkpi_tui.sources.autotask.client import AutotaskClient
from mspkpi_tui.store import models
from mspkpi_tui.store.records import SPECS, RecordError, parse_datetime
from mspkpi_tui.store.writer import MAX_PRUNE_SHARE, SyncWriter

SOURCE = "autotask"
OVERLAP = timedelta(minutes=5)
PICKLIST_ENTITIES = ["Tickets", "Projects", "Contracts", "Opportunities"]


@dataclass
class Entity:
    name: str  # ours, e.g. "time_entries"
    api: str  # Autotask's, e.g. "TimeEntries"
    modified: str | None  # the field an incremental pass filters on; None = read whole each time


ENTITIES = {
    e.name: e
    for e in [
        Entity("resources", "Resources", None),
        Entity("companies", "Companies", "lastTrackedModifiedDateTime"),
        Entity("contracts", "Contracts", None),
        Entity("projects", "Projects", "lastActivityDateTime"),
        Entity("tickets", "Tickets", "lastActivityDate"),
        Entity("time_entries", "TimeEntries", "lastModifiedDateTime"),
        Entity("opportunities", "Opportunities", "lastActivity"),
        Entity("survey_results", "SurveyResults", "completeDate"),
    ]
}
PRUNE_ORDER = [
    "survey_results",
    "opportunities",
    "time_entries",
    "tickets",
    "projects",
    "contracts",
    "companies",
    "resources",
    "queues",
]
TRACKED = ("status", "queue", "priority", "assignee", "escalation")


def at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class LazyRaw:
    """The vendor JSON of each record, serialised only for the few that are rejected."""

    def __init__(self, raws: list[dict]):
        self.raws = raws

    def __getitem__(self, index: int) -> str:
        return json.dumps(self.raws[index], ensure_ascii=False, default=str)


class AutotaskPass:
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
        self.run, self.client, self.rules = run, client, rules
        self.full, self.now_fn, self.stop = full, now_fn, stop
        self.lists = mapping.Picklists({})
        self.availability: dict[str, dict] = {}
        self.resource_names: dict[str, str] = {}
        self.billing_codes: dict[str, str] = {}
        self.task_projects: dict[str, str] = {}
        self.seen: dict[str, set[str]] = {}

    # --- the pass ---------------------------------------------------------------------

    def run_all(self) -> bool:
        """The whole pass; False when it stopped early because `stop` was set."""
        self.lists = mapping.Picklists({api: self.client.fields(api) for api in PICKLIST_ENTITIES})
        self._store_queues()
        self.availability = {str(a.get("resourceID")): a for a in self.client.fetch_all("ResourceDailyAvailabilities")}
        self.billing_codes = {
            str(c["id"]): str(c.get("name")) for c in self.client.fetch_all("BillingCodes") if "id" in c
        }
        for name in ("resources", "companies", "contracts", "projects", "tickets"):
            if not self._entity_pass(ENTITIES[name]):
                return False
        if not self._deleted_tickets():
            return False
        for name in ("time_entries", "opportunities", "survey_results"):
            if not self._entity_pass(ENTITIES[name]):
                return False
        if self.full:
            for name in PRUNE_ORDER:
                if name in self.seen:
                    self.run.prune(name, self._keep_on_prune(name))
        return True

    def _keep_on_prune(self, name: str) -> set[str]:
        """What a full pass keeps: what it listed, what the PSA still has by id, what stored rows point at."""
        entity = ENTITIES.get(name)
        find = (lambda ids: self.client.query_ids(entity.api, "id", ids)) if entity else None
        present, pointed_at = prune_guard.keep_alive(
            self.run.engine, SOURCE, name, self.seen[name], find, MAX_PRUNE_SHARE
        )
        if pointed_at and self.run.summary is not None:
            shown = ", ".join(sorted(pointed_at)[:5]) + (" ..." if len(pointed_at) > 5 else "")
            self.run.summary.warnings.append(
                f"{name}: kept {len(pointed_at)} row(s) Autotask no longer has, because stored records "
                f"still point at them ({shown})"
            )
        return self.seen[name] | present | pointed_at

    def _entity_pass(self, entity: Entity) -> bool:
        """Read one entity (incrementally when it can); False when stopped before the end."""
        cursor = None if self.full or not entity.modified else self.run.get_cursor(entity.name)
        started = self.now_fn()
        filters = [{"op": "gte", "field": entity.modified, "value": cursor}] if cursor else []
        reads_all = not filters
        seen = self.seen.setdefault(entity.name, set()) if reads_all and self.full else None
        for page in self.client.walk(entity.api, filters, self.stop):
            if seen is not None:
                seen.update(str(r["id"]) for r in page if isinstance(r, dict) and r.get("id") is not None)
            self._store(entity, page)
        if self.stop.is_set():
            return False
        if entity.modified:
            self.run.set_cursor(entity.name, at_text(started - OVERLAP))
        return True

    def _deleted_tickets(self) -> bool:
        # From the start of the run: a ticket deleted while the tickets were being read counts.
        started = self.run.started_at or self.now_fn()
        cursor = None if self.full else self.run.get_cursor("deleted_tickets")
        if cursor:  # a full pass prunes instead; it only moves the cursor
            for page in self.client.walk(
                "DeletedTicketLogs", [{"op": "gte", "field": "deletedDateTime", "value": cursor}], self.stop
            ):
                gone = [str(r["ticketID"]) for r in page if isinstance(r, dict) and r.get("ticketID") is not None]
                self.run.delete("tickets", gone)
            if self.stop.is_set():
                return False
        self.run.set_cursor("deleted_tickets", at_text(started - OVERLAP))
        return True

    # --- storing a page ---------------------------------------------------------------

    def _store(self, entity: Entity, page: list[Any]) -> None:
        if entity.name == "time_entries":
            self._learn_tasks(page)
        records, raws = [], []
        for raw in page:
            where = f"{entity.api} id {raw.get('id') if isinstance(raw, dict) else '?'}"
            try:
                if not isinstance(raw, dict):
                    raise RecordError(f"a record must be a JSON object, not {type(raw).__name__}")
                records.append(self._map(entity.name, raw))
                raws.append(raw)
            except RecordError as exc:
                self.run.reject(entity.name, where, LazyRaw([raw])[0], str(exc))
        if not records:
            return
        self._fetch_missing_refs(entity.name, records)
        if entity.name == "tickets":
            self._ticket_transitions(records)
        if entity.name == "opportunities":
            self._keep_stage_entry(records)
        self.run.store_page(entity.name, records, lambda i: f"{entity.api} id {raws[i].get('id')}", LazyRaw(raws))  # type: ignore[arg-type]
        if entity.name == "opportunities":
            self._record_stage_changes(records)

    def _map(self, name: str, raw: dict) -> dict:
        if name == "tickets":
            return mapping.ticket(raw, self.lists, self.rules, self.client.web_url)  # the zone may move mid-pass
        if name == "time_entries":
            return mapping.time_entry(raw, self.billing_codes, self.task_projects)
        if name == "resources":
            record = mapping.resource(raw, self.availability.get(str(raw.get("id"))))
            self.resource_names[str(raw.get("id"))] = record["name"] or ""
            return record
        if name == "companies":
            return mapping.company(raw)
        if name == "projects":
            return mapping.project(raw, self.lists, self.rules)
        if name == "contracts":
            return mapping.contract(raw, self.lists)
        if name == "opportunities":
            return mapping.opportunity(raw, self.lists, self.rules)
        return mapping.survey_result(raw)

    def _store_queues(self) -> None:
        labels = self.lists.get("Tickets", "queueID").labels
        records = [mapping.queue(value, label) for value, label in labels.items()]
        if records:
            self.run.store_page("queues", records, lambda i: f"Tickets queueID picklist value {records[i]['id']}")
            self.seen["queues"] = set(labels)

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
            if spec.kind != "ref" or spec.ref not in ENTITIES or spec.ref == name:
                continue
            wanted = {str(r[spec.name]) for r in records if r.get(spec.name) is not None}
            self.run.ids.prefetch(spec.ref, wanted)
            missing = sorted(int(s) for s in wanted if s.isdigit() and self.run.ids.get(spec.ref, s) is None)
            if missing:
                found = self.client.query_ids(ENTITIES[spec.ref].api, "id", missing)
                if self.full:  # present in the PSA: a full pass must not prune them
                    self.seen.setdefault(spec.ref, set()).update(str(r.get("id")) for r in found if isinstance(r, dict))
                self._store(ENTITIES[spec.ref], found)

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
        t, q, r = (m.__table__ for m in (models.Ticket, models.Queue, models.Resource))  # type: ignore[attr-defined]
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
        o = models.Opportunity.__table__  # type: ignore[attr-defined]
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
