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
    # Existing rows: count them once (later writes keep the rollup current). Frozen SQL, not the
    # application's rollup code: this revision must upgrade the same way whatever that code becomes.
    # Driver SQL: no bind parameters, so the ':00' of a time text is not taken for one.
    bind = op.get_bind()
    dialect = bind.dialect.name
    halves = []
    for done, due, first in (
        ("first_response_at", "first_response_due", True),
        ("resolved_at", "resolution_due", False),
    ):
        seconds = f"coalesce(sum({_EPOCH[dialect] % done} - {_EPOCH[dialect] % 'created_at'}), 0.0)"
        sums = ["count(*)", seconds, f"count({due})", f"sum(CASE WHEN {done} <= {due} THEN 1 ELSE 0 END)"]
        values = [
            _HOUR[dialect] % done,
            *(sums if first else ["0", "0.0", "0", "0"]),
            *(["0", "0.0", "0", "0"] if first else sums),
        ]
        named = ", ".join(f"{value} AS {name}" for value, name in zip(values, _COLUMNS))
        halves.append(f"SELECT {named} FROM tickets WHERE {done} IS NOT NULL GROUP BY {_HOUR[dialect] % done}")
    bind.exec_driver_sql(
        f"INSERT INTO ticket_response_hours ({', '.join(_COLUMNS)}) "
        f"SELECT hour, {', '.join(f'sum({c})' for c in _COLUMNS[1:])} "
        f"FROM ({' UNION ALL '.join(halves)}) AS halves GROUP BY hour"
    )


_COLUMNS = [
    "hour",
    "responded",
    "response_seconds",
    "responded_with_due",
    "responded_in_time",
    "resolved",
    "resolution_seconds",
    "resolved_with_due",
    "resolved_in_time",
]
# The start of a timestamp's UTC hour, in the stored form (naive UTC text on SQLite).
_HOUR = {
    "sqlite": "(substr(%s, 1, 13) || ':00:00.000000')",
    "postgresql": "(date_trunc('hour', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}
# Seconds since 1970 of a timestamp, as a float.
_EPOCH = {
    "sqlite": "((julianday(%s) - 2440587.5) * 86400.0)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM %s) AS DOUBLE PRECISION)",
}


def downgrade() -> None:
    op.drop_table("ticket_response_hours")
