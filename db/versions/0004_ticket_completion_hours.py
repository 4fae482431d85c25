"""KPI engine: ticket_completion_hours rollup (first contact resolution without a YTD scan)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:30:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_completion_hours",
        sa.Column("hour", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("first_touch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    # Fill it (and re-count time_entry_count) from the rows already stored. Frozen SQL, not the
    # application's rollup code: this revision must upgrade the same way whatever that code becomes.
    # Driver SQL: no bind parameters, so the ':00' of a time text is not taken for one.
    bind = op.get_bind()
    hour = _HOUR[bind.dialect.name] % "completed_at"
    bind.exec_driver_sql(
        "UPDATE tickets SET time_entry_count = (SELECT count(*) FROM time_entries WHERE ticket_id = tickets.id)"
    )
    bind.exec_driver_sql(
        "INSERT INTO ticket_completion_hours (hour, completed, first_touch) "
        f"SELECT {hour}, count(*), sum(CASE WHEN time_entry_count <= 1 THEN 1 ELSE 0 END) "
        f"FROM tickets WHERE completed_at IS NOT NULL GROUP BY {hour}"
    )


# The start of a timestamp's UTC hour, in the stored form (naive UTC text on SQLite).
_HOUR = {
    "sqlite": "(substr(%s, 1, 13) || ':00:00.000000')",
    "postgresql": "(date_trunc('hour', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}


def downgrade() -> None:
    op.drop_table("ticket_completion_hours")
