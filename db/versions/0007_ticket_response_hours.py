"""KPI engine: ticket_response_hours rollup (30-day service times and SLA compliance without reading ~70,000 tickets)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:40:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_response_hours",
        sa.Column("hour", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("response_seconds", sa.Float(), nullable=False),
        sa.Column("responded_with_due", sa.Integer(), nullable=False),
        sa.Column("responded_in_time", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("resolution_seconds", sa.Float(), nullable=False),
        sa.Column("resolved_with_due", sa.Integer(), nullable=False),
        sa.Column("resolved_in_time", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    # Existing rows: count them once (later writes keep the rollup current).
    from mspkpi_tui.store import rollups

    rollups.rebuild_response_hours(op.get_bind())


def downgrade() -> None:
    op.drop_table("ticket_response_hours")
