"""The ticket detail: tickets' description and requester (contact name), and ticket_notes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:45:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact_name", sa.String(), nullable=True))
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", mspkpi_tui.store.types.UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", name="uq_ticket_notes_source"),
    )
    op.create_index("ix_ticket_notes_ticket", "ticket_notes", ["ticket_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_notes_ticket", table_name="ticket_notes")
    op.drop_table("ticket_notes")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("contact_name")
        batch_op.drop_column("description")
