"""KPI engine: time_entry_count rollup on tickets and the indexes the figures read through

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("time_entry_count", sa.Integer(), server_default="0", nullable=False))
    # Existing rows: count their time entries once (later writes keep it current).
    op.execute(
        "UPDATE tickets SET time_entry_count = "
        "(SELECT count(*) FROM time_entries WHERE time_entries.ticket_id = tickets.id)"
    )
    op.create_index("ix_tickets_completed_touch", "tickets", ["completed_at", "time_entry_count"])
    op.create_index("ix_tickets_first_response", "tickets", ["first_response_at", "first_response_due", "created_at"])
    op.create_index("ix_tickets_resolved", "tickets", ["resolved_at", "resolution_due", "created_at"])
    op.create_index("ix_tickets_first_response_due", "tickets", ["first_response_due", "first_response_at"])
    op.create_index("ix_tickets_resolution_due", "tickets", ["resolution_due", "resolved_at"])
    op.create_index("ix_tickets_escalated", "tickets", ["escalated_at"])
    op.create_index("ix_ticket_events_field", "ticket_events", ["field", "at"])
    op.create_index(
        "ix_time_entries_week",
        "time_entries",
        ["started_at", "resource_id", "billable", "hours", "ticket_id", "project_id"],
    )
    op.create_index("ix_time_entries_resource", "time_entries", ["resource_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.drop_index("ix_time_entries_week", table_name="time_entries")
    op.drop_index("ix_ticket_events_field", table_name="ticket_events")
    for name in (
        "ix_tickets_escalated",
        "ix_tickets_resolution_due",
        "ix_tickets_first_response_due",
        "ix_tickets_resolved",
        "ix_tickets_first_response",
        "ix_tickets_completed_touch",
    ):
        op.drop_index(name, table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("time_entry_count")
