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
    # Fill it from the entries already stored. Frozen SQL, not the application's rollup code:
    # this revision must upgrade the same way whatever that code becomes. Driver SQL: no bind
    # parameters, so the ':00' of a time text is not taken for one.
    bind = op.get_bind()
    day = _DAY[bind.dialect.name] % "started_at"
    bind.exec_driver_sql(
        "INSERT INTO resource_day_hours "
        "(resource_id, day, hours, billable_hours, customer_facing_hours, entries) "
        f"SELECT resource_id, {day}, sum(hours), "
        "sum(CASE WHEN billable THEN hours ELSE 0.0 END), "
        "sum(CASE WHEN ticket_id IS NOT NULL OR project_id IS NOT NULL THEN hours ELSE 0.0 END), "
        f"count(*) FROM time_entries GROUP BY resource_id, {day}"
    )


# 00:00 UTC of a timestamp's day, in the stored form (naive UTC text on SQLite).
_DAY = {
    "sqlite": "(substr(%s, 1, 10) || ' 00:00:00.000000')",
    "postgresql": "(date_trunc('day', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}


def downgrade() -> None:
    op.drop_index("ix_timesheets_status", table_name="timesheets")
    op.drop_index("ix_time_entries_resource", table_name="time_entries")
    op.create_index("ix_time_entries_resource", "time_entries", ["resource_id", "started_at", "billable", "hours"])
    op.drop_index("ix_resource_day_hours_day", table_name="resource_day_hours")
    op.drop_table("resource_day_hours")
