"""Triage views (kpi/views.py): ix_time_entries_ticket also covers started_at

The stale view needs each open ticket's last time entry: with started_at in the index that
is one seek to the end of the ticket's range, not a read of every entry's row. The same
name, widened: every query that used the narrower index uses this one as well.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_time_entries_ticket", table_name="time_entries")
    op.create_index("ix_time_entries_ticket", "time_entries", ["ticket_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_time_entries_ticket", table_name="time_entries")
    op.create_index("ix_time_entries_ticket", "time_entries", ["ticket_id"])
