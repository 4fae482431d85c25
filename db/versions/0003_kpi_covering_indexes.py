"""KPI engine: a partial covering index of the open tickets; ticket_events indexes by value

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_COLUMNS = [
    "is_closed",
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
]


def upgrade() -> None:
    op.create_index(
        "ix_tickets_open_cover",
        "tickets",
        OPEN_COLUMNS,
        sqlite_where=sa.text("is_closed = 0"),
        postgresql_where=sa.text("is_closed = false"),
    )
    op.drop_index("ix_ticket_events_field", table_name="ticket_events")
    op.create_index("ix_ticket_events_new_value", "ticket_events", ["field", "new_value", "at", "ticket_id"])
    op.create_index(
        "ix_ticket_events_old_value", "ticket_events", ["field", "old_value", "at", "ticket_id", "new_value"]
    )
    # One technician's period (overdue timesheets) read from the index alone.
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.create_index("ix_time_entries_resource", "time_entries", ["resource_id", "started_at", "billable", "hours"])


def downgrade() -> None:
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.create_index("ix_time_entries_resource", "time_entries", ["resource_id", "started_at"])
    op.drop_index("ix_ticket_events_old_value", table_name="ticket_events")
    op.drop_index("ix_ticket_events_new_value", table_name="ticket_events")
    op.create_index("ix_ticket_events_field", "ticket_events", ["field", "at"])
    op.drop_index("ix_tickets_open_cover", table_name="tickets")
