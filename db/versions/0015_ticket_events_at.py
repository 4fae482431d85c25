"""Triage views (kpi/views.py): ix_ticket_events_at, the ticket events since a time

The stale view lists the open tickets with no time entry or status change for N business
hours. It reads the tickets touched since the cutoff as two index ranges, the time entries
by start (ix_time_entries_week) and the status changes by time (this index), and
checks each open ticket against them: about a fifth of the CPU of looking up every open
ticket's last entry and last status change.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:00:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `at` first: led by `field`, SQLite (no statistics) took it for every "one ticket's first
    # event of a field" lookup and scanned a whole field's events per ticket.
    op.create_index("ix_ticket_events_at", "ticket_events", ["at", "field", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_at", table_name="ticket_events")
