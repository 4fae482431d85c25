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
    # Fill it (and re-count time_entry_count) from the rows already stored.
    from mspkpi_tui.store import rollups

    rollups.rebuild_ticket_rollups(op.get_bind())


def downgrade() -> None:
    op.drop_table("ticket_completion_hours")
