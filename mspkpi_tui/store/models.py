"""The store's tables.

Every imported row keeps ``source`` (e.g. "autotask", "connectwise", "demo") and
``source_id`` (the record's id in that source), unique together, so a re-import
upserts instead of duplicating. References between rows are local integer ids,
resolved from source ids when a record is ingested. All timestamps are aware UTC.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from mspkpi_tui.store import schema
from mspkpi_tui.store.types import UTCDateTime


class Base(SQLModel, registry=registry(metadata=schema.metadata)):
    """Every model's base: its tables join the Core tables of store/schema.py in one MetaData.

    The tables the dashboard's first screen reads are declared in schema.py (Core, cheap to
    import) and mapped here with `__table__`, each field naming its Core column (`sa_column`)."""


metadata = schema.metadata


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


class Company(Base, table=True):
    __table__ = schema.companies
    id: int | None = Field(default=None, sa_column=schema.companies.c.id)
    source: str = Field(sa_column=schema.companies.c.source)
    source_id: str = Field(sa_column=schema.companies.c.source_id)
    name: str = Field(sa_column=schema.companies.c.name)
    number: str | None = Field(default=None, sa_column=schema.companies.c.number)
    active: bool = Field(default=True, sa_column=schema.companies.c.active)


class Resource(Base, table=True):
    """A technician (Autotask resource, ConnectWise member)."""

    __table__ = schema.resources
    id: int | None = Field(default=None, sa_column=schema.resources.c.id)
    source: str = Field(sa_column=schema.resources.c.source)
    source_id: str = Field(sa_column=schema.resources.c.source_id)
    name: str = Field(sa_column=schema.resources.c.name)
    email: str | None = Field(default=None, sa_column=schema.resources.c.email)
    active: bool = Field(default=True, sa_column=schema.resources.c.active)
    weekly_hours: float = Field(default=40.0, sa_column=schema.resources.c.weekly_hours)
    hourly_cost: float | None = Field(default=None, sa_column=schema.resources.c.hourly_cost)


class Queue(Base, table=True):
    __table__ = schema.queues
    id: int | None = Field(default=None, sa_column=schema.queues.c.id)
    source: str = Field(sa_column=schema.queues.c.source)
    source_id: str = Field(sa_column=schema.queues.c.source_id)
    name: str = Field(sa_column=schema.queues.c.name)


class Ticket(Base, table=True):
    __table__ = schema.tickets
    id: int | None = Field(default=None, sa_column=schema.tickets.c.id)
    source: str = Field(sa_column=schema.tickets.c.source)
    source_id: str = Field(sa_column=schema.tickets.c.source_id)
    number: str = Field(sa_column=schema.tickets.c.number)
    title: str = Field(sa_column=schema.tickets.c.title)
    company_id: int | None = Field(default=None, sa_column=schema.tickets.c.company_id)
    queue_id: int | None = Field(default=None, sa_column=schema.tickets.c.queue_id)
    status: str = Field(sa_column=schema.tickets.c.status)
    is_closed: bool = Field(default=False, sa_column=schema.tickets.c.is_closed)
    priority: str = Field(sa_column=schema.tickets.c.priority)
    # 1 is the most urgent. Autotask's priority ids are not in urgency order.
    priority_rank: int = Field(default=99, sa_column=schema.tickets.c.priority_rank)
    issue_type: str | None = Field(default=None, sa_column=schema.tickets.c.issue_type)
    sub_issue_type: str | None = Field(default=None, sa_column=schema.tickets.c.sub_issue_type)
    assigned_resource_id: int | None = Field(default=None, sa_column=schema.tickets.c.assigned_resource_id)
    created_at: datetime = Field(sa_column=schema.tickets.c.created_at)
    first_response_due: datetime | None = Field(default=None, sa_column=schema.tickets.c.first_response_due)
    first_response_at: datetime | None = Field(default=None, sa_column=schema.tickets.c.first_response_at)
    resolution_due: datetime | None = Field(default=None, sa_column=schema.tickets.c.resolution_due)
    resolved_at: datetime | None = Field(default=None, sa_column=schema.tickets.c.resolved_at)
    completed_at: datetime | None = Field(default=None, sa_column=schema.tickets.c.completed_at)
    sla_name: str | None = Field(default=None, sa_column=schema.tickets.c.sla_name)
    escalation_level: int = Field(default=0, sa_column=schema.tickets.c.escalation_level)
    escalated_at: datetime | None = Field(default=None, sa_column=schema.tickets.c.escalated_at)
    last_activity_at: datetime | None = Field(default=None, sa_column=schema.tickets.c.last_activity_at)
    url: str | None = Field(default=None, sa_column=schema.tickets.c.url)
    # What the requester wrote (bounded: records.TEXT_LIMITS) and who they are (0017).
    description: str | None = Field(default=None, sa_column=schema.tickets.c.description)
    contact_name: str | None = Field(default=None, sa_column=schema.tickets.c.contact_name)
    # Rollup kept by the store's write paths in the same transaction as the time entries
    # (store/rollups/); first contact resolution reads it.
    time_entry_count: int = Field(default=0, sa_column=schema.tickets.c.time_entry_count)


# Ticket's partial indexes are declared here, not in schema.py: an Index with postgresql_where
# loads SQLAlchemy's PostgreSQL dialect (~30 ms), which the dashboard's first read on SQLite
# does not need. Built from the table's columns, they join schema.tickets.
_t = schema.tickets.c
# The Clients pane's open tickets by company, from the open ones only (0018).
Index(
    "ix_tickets_open_company",
    _t.is_closed,
    _t.company_id,
    sqlite_where=text("is_closed = 0"),
    postgresql_where=text("is_closed = false"),
)
# The open tickets (about 2% of all) with every column the queue, SLA and escalation
# figures read (and the TUI's ticket lists): those figures never touch the table itself.
Index(
    "ix_tickets_open_cover",
    _t.is_closed,  # leading, so the planner prefers it over ix_tickets_open without statistics
    _t.priority_rank,
    _t.priority,
    _t.status,
    _t.queue_id,
    _t.assigned_resource_id,
    _t.first_response_due,
    _t.first_response_at,
    _t.resolution_due,
    _t.resolved_at,
    _t.escalated_at,
    _t.escalation_level,
    _t.last_activity_at,
    _t.created_at,
    sqlite_where=text("is_closed = 0"),
    postgresql_where=text("is_closed = false"),
)


class TicketCompletionHour(Base, table=True):
    """Rollup kept by the store's write paths (store/rollups/): per UTC hour, the tickets
    completed in it and how many had fewer than 2 time entries (first contact resolution)."""

    __tablename__ = "ticket_completion_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    completed: int = 0
    first_touch: int = 0


class TicketResponseHour(Base, table=True):
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


class TicketFlowHour(Base, table=True):
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


class ResourceDayHours(Base, table=True):
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


class CompanySums(Base):
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


class RollupPendingTicket(Base, table=True):
    """A ticket whose time entries changed and whose rollups (time_entry_count, its completion
    hour) are not recounted yet. Written in the same transaction as the change, cleared by
    store/rollups/pending.py:flush_pending, so a sync killed in between is repaired by the next run."""

    __tablename__ = "rollup_pending_tickets"
    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class RollupPendingHour(Base, table=True):
    """A UTC hour of ticket_completion_hours / ticket_response_hours still to recount (as above)."""

    __tablename__ = "rollup_pending_hours"
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)


class RollupPendingDay(Base, table=True):
    """A UTC day of resource_day_hours still to recount (as above)."""

    __tablename__ = "rollup_pending_days"
    day: datetime = Field(sa_type=UTCDateTime, primary_key=True)


class TicketEvent(Base, table=True):
    """A transition of a ticket's status, queue, priority, assignee or escalation."""

    __table__ = schema.ticket_events
    id: int | None = Field(default=None, sa_column=schema.ticket_events.c.id)
    source: str = Field(sa_column=schema.ticket_events.c.source)
    source_id: str = Field(sa_column=schema.ticket_events.c.source_id)
    ticket_id: int = Field(sa_column=schema.ticket_events.c.ticket_id)
    at: datetime = Field(sa_column=schema.ticket_events.c.at)
    field: str = Field(sa_column=schema.ticket_events.c.field)  # status | queue | priority | assignee | escalation
    old_value: str | None = Field(default=None, sa_column=schema.ticket_events.c.old_value)
    new_value: str | None = Field(default=None, sa_column=schema.ticket_events.c.new_value)


class TicketNote(Base, table=True):
    """A note on a ticket as the PSA keeps it (Autotask TicketNotes, ConnectWise ticket notes,
    HaloPSA actions with a note), for the ticket detail. The body is bounded (records.TEXT_LIMITS):
    a longer one is stored cut, with a marker saying so. Goes with its ticket (store/deletes.py)."""

    __table__ = schema.ticket_notes
    id: int | None = Field(default=None, sa_column=schema.ticket_notes.c.id)
    source: str = Field(sa_column=schema.ticket_notes.c.source)
    source_id: str = Field(sa_column=schema.ticket_notes.c.source_id)
    ticket_id: int = Field(sa_column=schema.ticket_notes.c.ticket_id)
    created_at: datetime = Field(sa_column=schema.ticket_notes.c.created_at)
    author: str | None = Field(
        default=None, sa_column=schema.ticket_notes.c.author
    )  # a technician's or a contact's name, as the PSA names them
    kind: str | None = Field(
        default=None, sa_column=schema.ticket_notes.c.kind
    )  # the note's type or title (e.g. "Internal note", "Resolution")
    body: str = Field(sa_column=schema.ticket_notes.c.body)
    internal: bool = Field(default=False, sa_column=schema.ticket_notes.c.internal)  # hidden from the customer


class Project(Base, table=True):
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


class Timesheet(Base, table=True):
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


class TimeEntry(Base, table=True):
    __table__ = schema.time_entries
    id: int | None = Field(default=None, sa_column=schema.time_entries.c.id)
    source: str = Field(sa_column=schema.time_entries.c.source)
    source_id: str = Field(sa_column=schema.time_entries.c.source_id)
    resource_id: int = Field(sa_column=schema.time_entries.c.resource_id)
    # A ticket or project entry is customer-facing; one with neither is internal/admin.
    ticket_id: int | None = Field(default=None, sa_column=schema.time_entries.c.ticket_id)
    project_id: int | None = Field(default=None, sa_column=schema.time_entries.c.project_id)
    timesheet_id: int | None = Field(default=None, sa_column=schema.time_entries.c.timesheet_id)
    started_at: datetime = Field(sa_column=schema.time_entries.c.started_at)
    hours: float = Field(sa_column=schema.time_entries.c.hours)
    billable: bool = Field(default=False, sa_column=schema.time_entries.c.billable)
    category: str | None = Field(
        default=None, sa_column=schema.time_entries.c.category
    )  # time code / work type, e.g. "Remote support", "Admin"


class Opportunity(Base, table=True):
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


class OpportunityStageChange(Base, table=True):
    """Stage history; Autotask keeps none, so the sync records what it observes."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = source_key("opportunity_stage_changes")
    id: int | None = Field(default=None, primary_key=True)
    source: str
    source_id: str
    opportunity_id: int = Field(foreign_key="opportunities.id", index=True)
    stage: str
    entered_at: datetime = utc_field(nullable=False)


class Contract(Base, table=True):
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


class SurveyResult(Base, table=True):
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


class BillingItem(Base, table=True):
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


class SyncRun(Base, table=True):
    __table__ = schema.sync_runs
    id: int | None = Field(default=None, sa_column=schema.sync_runs.c.id)
    source: str = Field(sa_column=schema.sync_runs.c.source)
    mode: str = Field(default="incremental", sa_column=schema.sync_runs.c.mode)  # incremental | full | file
    started_at: datetime = Field(sa_column=schema.sync_runs.c.started_at)
    finished_at: datetime | None = Field(default=None, sa_column=schema.sync_runs.c.finished_at)
    status: str = Field(default="running", sa_column=schema.sync_runs.c.status)  # running | ok | failed | interrupted
    counts: dict = Field(default_factory=dict, sa_column=schema.sync_runs.c.counts)
    rejected: int = Field(default=0, sa_column=schema.sync_runs.c.rejected)
    requests: int = Field(default=0, sa_column=schema.sync_runs.c.requests)
    error: str | None = Field(default=None, sa_column=schema.sync_runs.c.error)


class SyncCursor(Base, table=True):
    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("source", "entity", name="uq_sync_cursors_entity"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    entity: str
    cursor: str
    updated_at: datetime = utc_field(nullable=False)


class RejectedRecord(Base, table=True):
    """A record that could not be stored, kept raw with where it came from and why."""

    __table__ = schema.rejected_records
    id: int | None = Field(default=None, sa_column=schema.rejected_records.c.id)
    sync_run_id: int | None = Field(default=None, sa_column=schema.rejected_records.c.sync_run_id)
    source: str = Field(sa_column=schema.rejected_records.c.source)
    entity: str = Field(sa_column=schema.rejected_records.c.entity)
    location: str = Field(sa_column=schema.rejected_records.c.location)  # file:line, or the request that returned it
    raw: str = Field(sa_column=schema.rejected_records.c.raw)
    reason: str = Field(sa_column=schema.rejected_records.c.reason)
    created_at: datetime = Field(sa_column=schema.rejected_records.c.created_at)


class SyncLock(Base, table=True):
    """One row per source while a sync runs; the primary key makes the lock exclusive."""

    __table__ = schema.sync_locks
    name: str = Field(sa_column=schema.sync_locks.c.name)
    holder: str = Field(sa_column=schema.sync_locks.c.holder)  # host:pid
    acquired_at: datetime = Field(sa_column=schema.sync_locks.c.acquired_at)


class PicklistValue(Base, table=True):
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


class ActionLogEntry(Base, table=True):
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
