"""Trends: ticket_flow_hours rollup (opened, closed, backlog and aged series without a year's scan)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:10:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COUNTS = (
    "opened",
    "opened_counted",
    "lived_7d",
    "lived_14d",
    "lived_21d",
    "completed",
    "closes",
    "ended_7d",
    "ended_14d",
    "ended_21d",
)


def upgrade() -> None:
    op.create_table(
        "ticket_flow_hours",
        sa.Column("hour", mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS],
        sa.PrimaryKeyConstraint("hour"),
    )
    # Fill it from the rows already stored. Frozen SQL, not the application's rollup code: this
    # revision must upgrade the same way whatever that code becomes. Driver SQL: no bind
    # parameters, so the ':00' of a time text is not taken for one.
    bind = op.get_bind()
    dialect = bind.dialect.name
    closed, is_open = ("is_closed = 1", "is_closed = 0") if dialect == "sqlite" else ("is_closed", "NOT is_closed")
    seconds = _SECONDS[dialect] % ("completed_at", "created_at")

    def lived(days: int) -> str:
        return f"({is_open} OR (completed_at IS NOT NULL AND {seconds} > {days * 86400.0}))"

    def ones(condition: str) -> str:
        return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    created = _HOUR[dialect] % "created_at"
    completed = _HOUR[dialect] % "completed_at"
    halves = (
        (
            created,
            "created_at",
            [
                "count(*)",
                ones(f"NOT ({closed} AND completed_at IS NULL)"),
                *(ones(lived(k)) for k in (7, 14, 21)),
                "0",
                "0",
                "0",
                "0",
                "0",
            ],
        ),
        (
            completed,
            "completed_at",
            [
                "0",
                "0",
                "0",
                "0",
                "0",
                "count(*)",
                ones(closed),
                *(ones(f"{closed} AND {lived(k)}") for k in (7, 14, 21)),
            ],
        ),
    )
    parts = " UNION ALL ".join(
        f"SELECT {hour} AS hour, {', '.join(f'{m} AS {n}' for m, n in zip(measures, _COUNTS))} "
        f"FROM tickets WHERE {column} IS NOT NULL GROUP BY {hour}"
        for hour, column, measures in halves
    )
    bind.exec_driver_sql(
        f"INSERT INTO ticket_flow_hours (hour, {', '.join(_COUNTS)}) "
        f"SELECT hour, {', '.join(f'sum({n})' for n in _COUNTS)} FROM ({parts}) AS halves GROUP BY hour"
    )


# The start of a timestamp's UTC hour, in the stored form (naive UTC text on SQLite).
_HOUR = {
    "sqlite": "(substr(%s, 1, 13) || ':00:00.000000')",
    "postgresql": "(date_trunc('hour', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}
# Seconds from the second time to the first.
_SECONDS = {
    "sqlite": "((julianday(%s) - julianday(%s)) * 86400.0)",
    "postgresql": "EXTRACT(EPOCH FROM (%s - %s))",
}


def downgrade() -> None:
    op.drop_table("ticket_flow_hours")
