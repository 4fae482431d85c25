"""Clients and profitability: contract seats and category, billing items, survey recommend
score and comment, tickets by company

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:45:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(), nullable=True))
    with op.batch_alter_table("survey_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recommend_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
    op.create_table(
        "billing_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("item_date", sa.Date(), nullable=False),
        sa.Column("item_type", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("extended_price", sa.Float(), nullable=False),
        sa.Column("our_cost", sa.Float(), nullable=True),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("posted_at", mspkpi_tui.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", name="uq_billing_items_source"),
    )
    op.create_index(
        "ix_billing_items_company",
        "billing_items",
        ["company_id", "item_date", "recurring", "extended_price", "our_cost"],
    )
    op.create_index("ix_billing_items_date", "billing_items", ["item_date", "company_id"])
    op.create_index("ix_tickets_company", "tickets", ["company_id", "created_at", "completed_at", "is_closed"])


def downgrade() -> None:
    op.drop_index("ix_tickets_company", table_name="tickets")
    op.drop_index("ix_billing_items_date", table_name="billing_items")
    op.drop_index("ix_billing_items_company", table_name="billing_items")
    op.drop_table("billing_items")
    with op.batch_alter_table("survey_results", schema=None) as batch_op:
        batch_op.drop_column("comment")
        batch_op.drop_column("recommend_score")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("category")
        batch_op.drop_column("seats")
