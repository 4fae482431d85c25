"""The store's tables.

Every imported row keeps ``source`` (e.g. "autotask", "connectwise", "demo") and
``source_id`` (the record's id in that source), unique together, so a re-import
upserts instead of duplicating. References between rows are local integer ids,
resolved from source ids when a record is ingested. All timestamps are aware UTC.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from mspkpi_tui.store.types import UTCDateTime


def utc_field(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed: SQLModel sets ``__table__`` on ``table=True`` classes
    but does not declare it, so this is the one place that says so to the type checker."""
    found = model.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table), f"{model.__name__} is not a table model"
    return found


def source_key(table: str) -> tuple:
    return (UniqueConstraint("source", "source_id", name=f"uq_{table}_source"),)


class Company(SQLModel, table=True):
    __tablename__ = "companies"
    __table_args__ = source_key("companies")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    name: str
    number: str | None = None
    active: bool = True


class Resource(SQLModel, table=True):
    """A technician (Autotask resource, ConnectWise member)."""

    __tablename__ = "resources"
    __table_args__ = source_key("resources")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    name: str
    email: str | None = None
    active: bool = True
    weekly_hours: float = 40.0
    hourly_cost: float | None = None


class Queue(SQLModel, table=True):
    __tablename__ = "queues"
    __table_args__ = source_key("queues")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    name: str


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = source_key("tickets") + (
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
        # The Clients pane's open tickets by company, from the open ones only (0018).
        Index(
            "ix_tickets_open_company",
            "is_closed",
            "company_id",
            sqlite_where=text("is_closed = 0"),
            postgresql_where=text("is_closed = false"),
        ),
        # The open tickets (about 2% of all) with every column the queue, SLA and escalation
        # figures read (and the TUI's ticket lists): those figures never touch the table itself.
        Index(
            "ix_tickets_open_cover",
            "is_closed",  # leading, so the planner prefers it over ix_tickets_open without statistics
            "priority_rank",
            "priority",
            "status",
            "queue_id",
            "assigned_resource_id",
            "first_response_due",
            "first_response_at",
            "resolution_due",
            "resolved_at",
            "escalated_at",
            "escalation_level",
            "last_activity_at",
            "created_at",
            sqlite_where=text("is_closed = 0"),
            postgresql_where=text("is_closed = false"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    number: str
    title: str
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    queue_id: int | None = Field(default=None, foreign_key="queues.id")
    status: str
    is_closed: bool = False
    priority: str
    # 1 is the most urgent. Autotask's priority ids are not in urgency order.
    priority_rank: int = 99
    issue_type: str | None = None
    sub_issue_type: str | None = None
    assigned_resource_id: int | None = Field(default=None, foreign_key="resources.id")
    created_at: datetime = utc_field(nullable=False)
    first_response_due: datetime | None = utc_field()
    first_response_at: datetime | None = utc_field()
    resolution_due: datetime | None = utc_field()
    resolved_at: datetime | None = utc_field()
    completed_at: datetime | None = utc_field()
    sla_name: str | None = None
    escalation_level: int = 0
    escalated_at: datetime | None = utc_field()
    last_activity_at: datetime | None = utc_field()
    url: str | None = None
    # What the requester wrote (bounded: records.TEXT_LIMITS) and who they are (0017).
    description: str | None = Field(default=None, sa_column=Column(Text))
    contact_name: str | None = None
    # Rollup kept by the store's write paths in the same transaction as the time entries
    # (store/rollups/); first contact resolution reads it.
    time_entry_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class TicketCompletionHour(SQLModel, table=True):
    """Rollup kept by the store's write paths (store/rollups/): per UTC hour, the tickets
    completed in it and how many had fewer than 2 time entries (first contact resolution)."""

    __tablename__ = "ticket_completion_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    completed: int = 0
    first_touch: int = 0


class TicketResponseHour(SQLModel, table=True):
    """Rollup kept by the store's write paths (store/rollups/): per UTC hour, the tickets
    first responded to in it and those resolved in it, with the sum of their times since
    creation and how many had a due time and met it (service times, SLA compliance)."""

    __tablename__ = "ticket_response_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    responded: int = 0
    response_seconds: float = 0.0
    responded_with_due: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolution_seconds: float = 0.0
    resolved_with_due: int = 0
    resolved_in_time: int = 0


class TicketFlowHour(SQLModel, table=True):
    """Rollup kept by the store's write paths (store/rollups/flow_hours.py): per UTC hour, the
    tickets created in it and those completed in it, as the Trends' long view counts them."""

    __tablename__ = "ticket_flow_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    opened: int = 0
    opened_counted: int = 0
    lived_7d: int = 0
    lived_14d: int = 0
    lived_21d: int = 0
    completed: int = 0
    closes: int = 0
    ended_7d: int = 0
    ended_14d: int = 0
    ended_21d: int = 0


class ResourceDayHours(SQLModel, table=True):
    """Rollup kept by the store's write paths (store/rollups/): one technician's time
    entries started in one UTC day, summed (team hours read it instead of the entries)."""

    __tablename__ = "resource_day_hours"
    # Team hours read a range of days for everyone: by day first, covering.
    __table_args__ = (
        Index("ix_resource_day_hours_day", "day", "resource_id", "hours", "billable_hours", "customer_facing_hours"),
    )
    resource_id: int = Field(foreign_key="resources.id", primary_key=True)
    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)  # 00:00 UTC
    hours: float = 0.0
    billable_hours: float = 0.0
    customer_facing_hours: float = 0.0  # on a ticket or a project
    entries: int = 0


class CompanySums(SQLModel):
    """What company_days and company_months hold for one company and one slot, summed."""

    opened: int = 0
    closed: int = 0
    first_touch: int = 0
    responded: int = 0
    response_seconds: float = 0.0
    responded_with_due: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolution_seconds: float = 0.0
    resolved_with_due: int = 0
    resolved_in_time: int = 0
    response_missed: int = 0
    resolution_missed: int = 0
    hours: float = 0.0
    billable_hours: float = 0.0
    ticket_hours: float = 0.0
    labour_cost: float = 0.0
    ticket_labour_cost: float = 0.0
    uncosted_hours: float = 0.0


class CompanyDay(CompanySums, table=True):
    """Rollup kept by the store's write paths (store/rollups/company_days.py): one company's
    tickets and time entries in one UTC day, summed (the Clients pane, a company page, the review)."""

    __tablename__ = "company_days"
    # Every company over a range of days (the pane, the review) is summed per company: keyed
    # company first and, on SQLite, WITHOUT ROWID, each company's days are stored together and
    # read already grouped, companies in id order (0019, no sort); the refresh's day ranges
    # through ix_company_days_day.
    __table_args__ = (
        PrimaryKeyConstraint("company_id", "day"),
        Index("ix_company_days_day", "day"),
        {"sqlite_with_rowid": False},
    )
    company_id: int = Field(primary_key=True)  # no foreign key: a derived row, recounted when its company goes
    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)  # 00:00 UTC


class CompanyMonth(CompanySums, table=True):
    """Rollup kept with company_days (store/rollups/company_days.py): one company's
    company_days rows in one UTC month, summed (a year for every company reads 12 rows each)."""

    __tablename__ = "company_months"
    __table_args__ = (  # as company_days: by company first (0019)
        PrimaryKeyConstraint("company_id", "month"),
        Index("ix_company_months_month", "month"),
        {"sqlite_with_rowid": False},
    )
    company_id: int = Field(primary_key=True)
    month: datetime = Field(sa_type=UTCDateTime, primary_key=True)  # the 1st, 00:00 UTC


class RollupPendingTicket(SQLModel, table=True):
    """A ticket whose time entries changed and whose rollups (time_entry_count, its completion
    hour) are not recounted yet. Written in the same transaction as the change, cleared by
    store/rollups/pending.py:flush_pending, so a sync killed in between is repaired by the next run."""

    __tablename__ = "rollup_pending_tickets"
    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class RollupPendingHour(SQLModel, table=True):
    """A UTC hour of ticket_completion_hours / ticket_response_hours still to recount (as above)."""

    __tablename__ = "rollup_pending_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)


class RollupPendingDay(SQLModel, table=True):
    """A UTC day of resource_day_hours still to recount (as above)."""

    __tablename__ = "rollup_pending_days"
    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)


class TicketEvent(SQLModel, table=True):
    """A transition of a ticket's status, queue, priority, assignee or escalation."""

    __tablename__ = "ticket_events"
    __table_args__ = source_key("ticket_events") + (
        # One ticket's events in time order; covering (field, values) for the KPI engine's
        # per-ticket lookups (first escalation event, priority when escalated).
        Index("ix_ticket_events_ticket", "ticket_id", "at", "field", "new_value", "old_value"),
        # KPI engine (covering): escalations by the value entered, reopens by the value left.
        Index("ix_ticket_events_new_value", "field", "new_value", "at", "ticket_id"),
        Index("ix_ticket_events_old_value", "field", "old_value", "at", "ticket_id", "new_value"),
        # Triage views: the status changes since a time (the stale view, 0015).
        Index("ix_ticket_events_at", "at", "field", "ticket_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    ticket_id: int = Field(foreign_key="tickets.id")
    at: datetime = utc_field(nullable=False)
    field: str  # status | queue | priority | assignee | escalation
    old_value: str | None = None
    new_value: str | None = None


class TicketNote(SQLModel, table=True):
    """A note on a ticket as the PSA keeps it (Autotask TicketNotes, ConnectWise ticket notes,
    HaloPSA actions with a note), for the ticket detail. The body is bounded (records.TEXT_LIMITS):
    a longer one is stored cut, with a marker saying so. Goes with its ticket (store/deletes.py)."""

    __tablename__ = "ticket_notes"
    __table_args__ = source_key("ticket_notes") + (
        # the detail reads one ticket's last notes, newest first
        Index("ix_ticket_notes_ticket", "ticket_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    ticket_id: int = Field(foreign_key="tickets.id")
    created_at: datetime = utc_field(nullable=False)
    author: str | None = None  # a technician's or a contact's name, as the PSA names them
    kind: str | None = None  # the note's type or title (e.g. "Internal note", "Resolution")
    body: str = Field(sa_column=Column(Text, nullable=False))
    internal: bool = False  # hidden from the customer


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = source_key("projects")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    name: str
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    status: str
    is_closed: bool = False
    category: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    estimated_hours: float | None = None
    actual_hours: float | None = None
    percent_complete: float | None = None


class Timesheet(SQLModel, table=True):
    __tablename__ = "timesheets"
    __table_args__ = source_key("timesheets") + (
        Index("ix_timesheets_status", "status", "period_end"),
    )  # overdue timesheets
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    resource_id: int = Field(foreign_key="resources.id")
    period_start: date
    period_end: date
    status: str  # Open, Submitted, Approved, Rejected, ...
    deadline: datetime | None = utc_field()
    submitted_at: datetime | None = utc_field()


class TimeEntry(SQLModel, table=True):
    __tablename__ = "time_entries"
    __table_args__ = source_key("time_entries") + (
        Index("ix_time_entries_started", "started_at"),
        Index("ix_time_entries_ticket", "ticket_id", "started_at"),  # widened in 0012
        Index("ix_time_entries_project", "project_id", "started_at"),  # a company's project hours (0016)
        # KPI engine: team hours by week (covering) and one technician's period.
        Index("ix_time_entries_week", "started_at", "resource_id", "billable", "hours", "ticket_id", "project_id"),
        Index("ix_time_entries_resource", "resource_id", "started_at", "billable", "hours", "ticket_id", "project_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    resource_id: int = Field(foreign_key="resources.id")
    # A ticket or project entry is customer-facing; one with neither is internal/admin.
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    project_id: int | None = Field(default=None, foreign_key="projects.id")
    timesheet_id: int | None = Field(default=None, foreign_key="timesheets.id")
    started_at: datetime = utc_field(nullable=False)
    hours: float
    billable: bool = False
    category: str | None = None  # time code / work type, e.g. "Remote support", "Admin"


class Opportunity(SQLModel, table=True):
    __tablename__ = "opportunities"
    __table_args__ = source_key("opportunities")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    title: str
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    owner_resource_id: int | None = Field(default=None, foreign_key="resources.id")
    stage: str
    stage_rank: int = 0  # the source's stage order
    stage_entered_at: datetime | None = utc_field()
    status: str = "open"  # open | won | lost
    amount: float = 0.0
    probability: float | None = None
    expected_close: date | None = None
    closed_on: date | None = None
    win_reason: str | None = None
    loss_reason: str | None = None
    category: str | None = None
    created_at: datetime | None = utc_field()


class OpportunityStageChange(SQLModel, table=True):
    """Stage history; Autotask keeps none, so the sync records what it observes."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = source_key("opportunity_stage_changes")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    opportunity_id: int = Field(foreign_key="opportunities.id", index=True)
    stage: str
    entered_at: datetime = utc_field(nullable=False)


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"
    __table_args__ = source_key("contracts")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    name: str
    number: str | None = None
    type: str | None = None
    period_type: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    status: str = "Active"
    monthly_value: float | None = None
    # Seats (users or devices) the recurring contract covers, and its category
    # ("Managed services", "Block hours", ...): per-seat figures and the MRR split (0014).
    seats: float | None = None
    category: str | None = None


class SurveyResult(SQLModel, table=True):
    __tablename__ = "survey_results"
    __table_args__ = source_key("survey_results")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    completed_at: datetime = utc_field(nullable=False, index=True)
    rating: float
    # A 0-10 "would you recommend" answer where the survey has one (NPS), and the comment (0014).
    recommend_score: float | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text))


class BillingItem(SQLModel, table=True):
    """A posted charge to a company (Autotask BillingItems, ConnectWise invoice lines): invoiced
    revenue and what it cost us. ``recurring`` marks a recurring contract period's charge,
    which the contract's monthly value already counts (kpi/money.py counts it once)."""

    __tablename__ = "billing_items"
    __table_args__ = source_key("billing_items") + (
        Index("ix_billing_items_company", "company_id", "item_date", "recurring", "extended_price", "our_cost"),
        Index("ix_billing_items_date", "item_date", "company_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    company_id: int = Field(foreign_key="companies.id")
    contract_id: int | None = Field(default=None, foreign_key="contracts.id")
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    item_date: date
    item_type: str | None = None
    description: str | None = None
    quantity: float | None = None
    extended_price: float
    our_cost: float | None = None
    recurring: bool = False
    posted_at: datetime | None = utc_field()


# --- sync bookkeeping -------------------------------------------------------


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_runs"
    id: int | None = Field(default=None, primary_key=True)
    source: str
    mode: str = "incremental"  # incremental | full | file
    started_at: datetime = utc_field(nullable=False)
    finished_at: datetime | None = utc_field()
    status: str = "running"  # running | ok | failed | interrupted
    counts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rejected: int = 0
    requests: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class SyncCursor(SQLModel, table=True):
    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("source", "entity", name="uq_sync_cursors_entity"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    entity: str
    cursor: str
    updated_at: datetime = utc_field(nullable=False)


class RejectedRecord(SQLModel, table=True):
    """A record that could not be stored, kept raw with where it came from and why."""

    __tablename__ = "rejected_records"
    id: int | None = Field(default=None, primary_key=True)
    sync_run_id: int | None = Field(default=None, foreign_key="sync_runs.id", index=True)
    source: str
    entity: str
    location: str  # file:line, or the request that returned it
    raw: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field(nullable=False)


class SyncLock(SQLModel, table=True):
    """One row per source while a sync runs; the primary key makes the lock exclusive."""

    __tablename__ = "sync_locks"
    name: str = Field(primary_key=True)
    holder: str  # host:pid
    acquired_at: datetime = utc_field(nullable=False)


class PicklistValue(SQLModel, table=True):
    """One value of a PSA picklist as the last sync read it: what triage actions are checked
    against (never hard-coded values). `field` is status, priority, queue, note_type or
    note_publish; `scope` is "" for a tenant-wide list, or the ConnectWise board (by name)
    whose statuses these are. `value` is the PSA's id, `label` what the lead sees."""

    __tablename__ = "picklist_values"
    __table_args__ = (UniqueConstraint("source", "field", "scope", "value", name="uq_picklist_values"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    field: str
    scope: str = ""
    value: str
    label: str
    sort_order: int = 0
    active: bool = True
    updated_at: datetime = utc_field(nullable=False)


# Tables a sync source fills, in the order references need them.
ENTITY_TABLES: dict[str, type[SQLModel]] = {
    "companies": Company,
    "resources": Resource,
    "queues": Queue,
    "projects": Project,
    "tickets": Ticket,
    "ticket_events": TicketEvent,
    "ticket_notes": TicketNote,
    "timesheets": Timesheet,
    "time_entries": TimeEntry,
    "opportunities": Opportunity,
    "opportunity_stage_changes": OpportunityStageChange,
    "contracts": Contract,
    "survey_results": SurveyResult,
    "billing_items": BillingItem,
}


# --- triage actions (mspkpi_tui/actions) -------------------------------------------------


class ActionLogEntry(SQLModel, table=True):
    """One triage action, stored before it is sent (an outbox): a restart finds what is still
    queued, and the values the lead saw are kept so the sender can refuse to overwrite a change
    made in the PSA meanwhile. State: queued -> sending -> done | conflict | failed | cancelled."""

    __tablename__ = "action_log"
    __table_args__ = (Index("ix_action_log_state", "state", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str  # the PSA the ticket lives in ("autotask", "connectwise")
    ticket_source_id: str
    ticket_number: str
    kind: str  # update | escalate | note | undo
    seen: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # field -> value the lead saw
    new: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # field -> value to set
    note: str | None = Field(default=None, sa_column=Column(Text))
    actor: str
    created_at: datetime = utc_field(nullable=False)
    updated_at: datetime = utc_field(nullable=False)
    state: str = "queued"
    attempts: int = 0  # sends begun; a note with attempts > 0 is looked for before it is sent again
    answer: str | None = Field(default=None, sa_column=Column(Text))  # the PSA's answer, or why not sent
