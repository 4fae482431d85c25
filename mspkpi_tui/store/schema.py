"""The tables the dashboard's first screen reads, in SQLAlchemy Core.

The dashboard's first read (the sync status and the Queue pane, kpi/status.py, kpi/queue.py,
kpi/tickets.py) runs before its first paint. Declared here in Core, these tables cost a few
milliseconds to build; as SQLModel classes they cost the import of SQLModel, pydantic's model
building and SQLAlchemy's ORM (~0.15-0.2 s of CPU of every start, measured on the 1M-ticket
database; bench/RESULTS.md, "Start-up, third round"). store/models.py maps its classes of these
tables onto these same Table objects (one definition, one Table per table, one MetaData), and
declares every other table; tests/test_migrations.py compares the whole metadata with the
migrations. Everything the first screen imports reads these tables through this module, never
through store/models.py (tests/test_tui_process.py checks that the start loads no SQLModel).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mspkpi_tui.store.types import UTCDateTime

metadata = MetaData()  # every table of the store: models.py declares the rest on it

companies = Table(
    "companies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("name", String, nullable=False),
    Column("number", String),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("source", "source_id", name="uq_companies_source"),
)

resources = Table(
    "resources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("name", String, nullable=False),
    Column("email", String),
    Column("active", Boolean, nullable=False, default=True),
    Column("weekly_hours", Float, nullable=False, default=40.0),
    Column("hourly_cost", Float),
    UniqueConstraint("source", "source_id", name="uq_resources_source"),
)

queues = Table(
    "queues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("name", String, nullable=False),
    UniqueConstraint("source", "source_id", name="uq_queues_source"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("number", String, nullable=False),
    Column("title", String, nullable=False),
    Column("company_id", Integer, ForeignKey("companies.id")),
    Column("queue_id", Integer, ForeignKey("queues.id")),
    Column("status", String, nullable=False),
    Column("is_closed", Boolean, nullable=False, default=False),
    Column("priority", String, nullable=False),
    Column("priority_rank", Integer, nullable=False, default=99),
    Column("issue_type", String),
    Column("sub_issue_type", String),
    Column("assigned_resource_id", Integer, ForeignKey("resources.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("first_response_due", UTCDateTime),
    Column("first_response_at", UTCDateTime),
    Column("resolution_due", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("sla_name", String),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("escalated_at", UTCDateTime),
    Column("last_activity_at", UTCDateTime),
    Column("url", String),
    Column("description", Text),  # what the requester wrote (bounded: records.TEXT_LIMITS), 0017
    Column("contact_name", String),
    # Rollup kept by the store's write paths in the same transaction as the time entries
    # (store/rollups/); first contact resolution reads it.
    Column("time_entry_count", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("source", "source_id", name="uq_tickets_source"),
    Index("ix_tickets_open", "is_closed", "priority_rank"),
    # Both times and is_closed: the Trends' backlog and aged series read no table rows (0009).
    Index("ix_tickets_created", "created_at", "completed_at", "is_closed"),
    Index("ix_tickets_completed", "completed_at", "created_at", "is_closed"),
    # KPI engine: covering indexes so each 30d / YTD figure is an index range scan.
    Index("ix_tickets_completed_touch", "completed_at", "time_entry_count"),
    Index("ix_tickets_first_response", "first_response_at", "first_response_due", "created_at"),
    Index("ix_tickets_resolved", "resolved_at", "resolution_due", "created_at"),
    Index("ix_tickets_first_response_due", "first_response_due", "first_response_at"),
    Index("ix_tickets_resolution_due", "resolution_due", "resolved_at"),
    Index("ix_tickets_escalated", "escalated_at"),
    # Per-company figures (kpi/clients.py): one company's tickets by time, covering (0014).
    Index("ix_tickets_company", "company_id", "created_at", "completed_at", "is_closed"),
    # Clients' reactive tickets: the tickets of the non-reactive issue types opened in a period (0016).
    Index("ix_tickets_issue_created", "issue_type", "created_at", "company_id"),
    Index("ix_tickets_number", "number"),  # triage actions find their ticket by number (0011)
    # The partial indexes (ix_tickets_open_company, ix_tickets_open_cover) are in models.py.
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("field", String, nullable=False),
    Column("old_value", String),
    Column("new_value", String),
    UniqueConstraint("source", "source_id", name="uq_ticket_events_source"),
    # One ticket's events in time order; covering (field, values) for the KPI engine's
    # per-ticket lookups (first escalation event, priority when escalated).
    Index("ix_ticket_events_ticket", "ticket_id", "at", "field", "new_value", "old_value"),
    # KPI engine (covering): escalations by the value entered, reopens by the value left.
    Index("ix_ticket_events_new_value", "field", "new_value", "at", "ticket_id"),
    Index("ix_ticket_events_old_value", "field", "old_value", "at", "ticket_id", "new_value"),
    # Triage views: the status changes since a time (the stale view, 0015).
    Index("ix_ticket_events_at", "at", "field", "ticket_id"),
)

ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("author", String),
    Column("kind", String),
    Column("body", Text, nullable=False),
    Column("internal", Boolean, nullable=False, default=False),
    UniqueConstraint("source", "source_id", name="uq_ticket_notes_source"),
    Index("ix_ticket_notes_ticket", "ticket_id", "created_at"),  # one ticket's last notes, newest first
)

time_entries = Table(
    "time_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("source_id", String, nullable=False),
    Column("resource_id", Integer, ForeignKey("resources.id"), nullable=False),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    Column("project_id", Integer, ForeignKey("projects.id")),
    Column("timesheet_id", Integer, ForeignKey("timesheets.id")),
    Column("started_at", UTCDateTime, nullable=False),
    Column("hours", Float, nullable=False),
    Column("billable", Boolean, nullable=False, default=False),
    Column("category", String),
    UniqueConstraint("source", "source_id", name="uq_time_entries_source"),
    Index("ix_time_entries_started", "started_at"),
    Index("ix_time_entries_ticket", "ticket_id", "started_at"),  # widened in 0012
    Index("ix_time_entries_project", "project_id", "started_at"),  # a company's project hours (0016)
    # KPI engine: team hours by week (covering) and one technician's period.
    Index("ix_time_entries_week", "started_at", "resource_id", "billable", "hours", "ticket_id", "project_id"),
    Index("ix_time_entries_resource", "resource_id", "started_at", "billable", "hours", "ticket_id", "project_id"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("mode", String, nullable=False, default="incremental"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String, nullable=False, default="running"),
    Column("counts", JSON, nullable=False),
    Column("rejected", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("error", Text),
)

rejected_records = Table(
    "rejected_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sync_run_id", Integer, ForeignKey("sync_runs.id"), index=True),
    Column("source", String, nullable=False),
    Column("entity", String, nullable=False),
    Column("location", String, nullable=False),
    Column("raw", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sync_locks = Table(
    "sync_locks",
    metadata,
    Column("name", String, primary_key=True),
    Column("holder", String, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
)
