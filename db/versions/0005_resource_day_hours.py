"""KPI engine: resource_day_hours rollup (team hours without scanning two weeks of entries); timesheets by status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:40:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_day_hours",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("day", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("billable_hours", sa.Float(), nullable=False),
        sa.Column("customer_facing_hours", sa.Float(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"]),
        sa.PrimaryKeyConstraint("resource_id", "day"),
    )
    op.create_index(
        "ix_resource_day_hours_day",
        "resource_day_hours",
        ["day", "resource_id", "hours", "billable_hours", "customer_facing_hours"],
    )
    op.create_index("ix_timesheets_status", "timesheets", ["status", "period_end"])
    # The rollup recounts a day from the technician's entries: cover the facing columns too.
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.create_index(
        "ix_time_entries_resource",
        "time_entries",
        ["resource_id", "started_at", "billable", "hours", "ticket_id", "project_id"],
    )
    from mspkpi_tui.store import rollups

    rollups.rebuild_resource_days(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_timesheets_status", table_name="timesheets")
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.create_index("ix_time_entries_resource", "time_entries", ["resource_id", "started_at", "billable", "hours"])
    op.drop_index("ix_resource_day_hours_day", table_name="resource_day_hours")
    op.drop_table("resource_day_hours")
