"""Trends (kpi/history.py): ix_tickets_created and ix_tickets_completed also cover completed_at / created_at and is_closed

The long view counts, per period, tickets created or completed in it that lived longer than
a week or are closed now (the backlog and the aged series): with both times and is_closed in
the index, each period is an index range that reads no table rows. The same names, widened:
every query that used the narrower index uses this one as well, and no extra index is written.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:30:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tickets_created", table_name="tickets")
    op.create_index("ix_tickets_created", "tickets", ["created_at", "completed_at", "is_closed"])
    op.drop_index("ix_tickets_completed", table_name="tickets")
    op.create_index("ix_tickets_completed", "tickets", ["completed_at", "created_at", "is_closed"])


def downgrade() -> None:
    op.drop_index("ix_tickets_completed", table_name="tickets")
    op.create_index("ix_tickets_completed", "tickets", ["completed_at"])
    op.drop_index("ix_tickets_created", table_name="tickets")
    op.create_index("ix_tickets_created", "tickets", ["created_at"])
