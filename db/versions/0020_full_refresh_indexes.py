"""Full refresh speed: ix_opportunities_status, ix_tickets_open_created

ix_opportunities_status: the pipeline figures read the open deals (their stages and days in
stage) and the deals won or lost this month. Without an index on status both passed over every
deal: on the 1M-ticket bench database (20,000 deals, 1,109 open) the pipeline area took 6.3 ms
CPU, with this index 2.6 ms (the open deals and this month's closed ones are index ranges).

ix_tickets_open_created: "open escalated now" reads only the escalation events since the oldest
open ticket was created; that minimum was a pass over the wide covering index of the open
tickets (~2 ms for 20,000), with this small partial index one step. Figures unchanged.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_opportunities_status", "opportunities", ["status", "closed_on"])
    op.create_index(
        "ix_tickets_open_created",
        "tickets",
        ["is_closed", "created_at"],
        sqlite_where=sa.text("is_closed = 0"),
        postgresql_where=sa.text("is_closed = false"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open_created", table_name="tickets")
    op.drop_index("ix_opportunities_status", table_name="opportunities")
