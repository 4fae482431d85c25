"""KPI engine: ix_ticket_events_ticket covers field and values (per-ticket escalation and priority lookups read no table rows)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:30:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ticket_events_ticket", table_name="ticket_events")
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "at", "field", "new_value", "old_value"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_ticket", table_name="ticket_events")
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "at"])
