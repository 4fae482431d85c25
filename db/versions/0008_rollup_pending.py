"""Sync: keys of rollups still to recount (rollup_pending_tickets / _hours / _days), written in
the page's transaction so a killed sync's re-run repairs them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:10:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_pending_tickets",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_table(
        "rollup_pending_hours",
        sa.Column("hour", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    op.create_table(
        "rollup_pending_days",
        sa.Column("day", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("rollup_pending_days")
    op.drop_table("rollup_pending_hours")
    op.drop_table("rollup_pending_tickets")
