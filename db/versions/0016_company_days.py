"""Clients: company_days and company_months rollups, ix_time_entries_project, ix_tickets_issue_created

The Clients pane, a company page and the review sum a company's whole UTC months and days
from company_months and company_days (store/rollups/company_days.py states their invariant)
instead of grouping a period's tickets and time entries. ix_time_entries_project finds a company's project hours
without a range of every entry; ix_tickets_issue_created counts the tickets of the
non-reactive issue types opened in a period.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:40:00
"""

import sqlalchemy as sa
from alembic import op

import mspkpi_tui.store.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_COUNTS = (
    "opened",
    "closed",
    "first_touch",
    "responded",
    "response_seconds",
    "responded_with_due",
    "responded_in_time",
    "resolved",
    "resolution_seconds",
    "resolved_with_due",
    "resolved_in_time",
    "response_missed",
    "resolution_missed",
    "hours",
    "billable_hours",
    "ticket_hours",
    "labour_cost",
    "ticket_labour_cost",
    "uncosted_hours",
)
_FLOATS = {
    "response_seconds",
    "resolution_seconds",
    "hours",
    "billable_hours",
    "ticket_hours",
    "labour_cost",
    "ticket_labour_cost",
    "uncosted_hours",
}


def upgrade() -> None:
    for table, key in (("company_days", "day"), ("company_months", "month")):
        op.create_table(
            table,
            sa.Column("company_id", sa.Integer(), nullable=False),
            sa.Column(key, mspkpi_tui.store.types.UTCDateTime(timezone=True), nullable=False),
            *[sa.Column(name, sa.Float() if name in _FLOATS else sa.Integer(), nullable=False) for name in _COUNTS],
            sa.PrimaryKeyConstraint("company_id", key),
        )
        op.create_index(f"ix_{table}_{key}", table, [key])
    op.create_index("ix_time_entries_project", "time_entries", ["project_id", "started_at"])
    op.create_index("ix_tickets_issue_created", "tickets", ["issue_type", "created_at", "company_id"])
    _fill(op.get_bind())


def _fill(bind) -> None:
    """Fill it from the rows already stored. Frozen SQL, not the application's rollup code: this
    revision must upgrade the same way whatever that code becomes. Driver SQL: no bind
    parameters, so the ':00' of a time text is not taken for one."""
    dialect = bind.dialect.name
    day = _DAY[dialect]
    seconds = _SECONDS[dialect]
    billable = "billable = 1" if dialect == "sqlite" else "billable"

    def ticket_half(column: str, measures: dict[str, str], where: str = "") -> str:
        cells = ", ".join(f"{measures.get(n, '0')} AS {n}" for n in _COUNTS)
        return (
            f"SELECT company_id, {day % column} AS day, {cells} FROM tickets "
            f"WHERE {column} IS NOT NULL AND company_id IS NOT NULL {where} GROUP BY company_id, {day % column}"
        )

    def timing(done: str, due: str, names: tuple[str, str, str, str]) -> dict[str, str]:
        return {
            names[0]: "count(*)",
            names[1]: f"coalesce(sum({seconds % (done, 'created_at')}), 0.0)",
            names[2]: f"count({due})",
            names[3]: f"coalesce(sum(CASE WHEN {done} <= {due} THEN 1 ELSE 0 END), 0)",
        }

    def hour_half(owner: str, join: str, where: str, on_tickets: bool) -> str:
        hours = "coalesce(sum(e.hours), 0.0)"
        labour = "coalesce(sum(e.hours * r.hourly_cost), 0.0)"
        measures = {
            "hours": hours,
            "billable_hours": f"coalesce(sum(CASE WHEN e.{billable} THEN e.hours ELSE 0.0 END), 0.0)",
            "ticket_hours": hours if on_tickets else "0.0",
            "labour_cost": labour,
            "ticket_labour_cost": labour if on_tickets else "0.0",
            "uncosted_hours": "coalesce(sum(CASE WHEN r.hourly_cost IS NULL THEN e.hours ELSE 0.0 END), 0.0)",
        }
        cells = ", ".join(f"{measures.get(n, '0')} AS {n}" for n in _COUNTS)
        started = day % "e.started_at"
        return (
            f"SELECT {owner} AS company_id, {started} AS day, {cells} FROM time_entries e {join} "
            f"JOIN resources r ON r.id = e.resource_id WHERE {owner} IS NOT NULL {where} GROUP BY {owner}, {started}"
        )

    parts = [
        ticket_half("created_at", {"opened": "count(*)"}),
        ticket_half(
            "completed_at",
            {
                "closed": "count(*)",
                "first_touch": "coalesce(sum(CASE WHEN time_entry_count <= 1 THEN 1 ELSE 0 END), 0)",
            },
        ),
        ticket_half(
            "first_response_at",
            timing(
                "first_response_at",
                "first_response_due",
                ("responded", "response_seconds", "responded_with_due", "responded_in_time"),
            ),
        ),
        ticket_half(
            "resolved_at",
            timing(
                "resolved_at",
                "resolution_due",
                ("resolved", "resolution_seconds", "resolved_with_due", "resolved_in_time"),
            ),
        ),
        ticket_half("first_response_due", {"response_missed": "count(*)"}, "AND first_response_at IS NULL"),
        ticket_half("resolution_due", {"resolution_missed": "count(*)"}, "AND resolved_at IS NULL"),
        hour_half("t.company_id", "JOIN tickets t ON t.id = e.ticket_id", "", True),
        hour_half("p.company_id", "JOIN projects p ON p.id = e.project_id", "AND e.ticket_id IS NULL", False),
    ]
    bind.exec_driver_sql(
        f"INSERT INTO company_days (company_id, day, {', '.join(_COUNTS)}) "
        f"SELECT company_id, day, {', '.join(f'sum({n})' for n in _COUNTS)} "
        f"FROM ({' UNION ALL '.join(parts)}) AS halves GROUP BY company_id, day"
    )
    month = _MONTH[dialect] % "day"
    bind.exec_driver_sql(
        f"INSERT INTO company_months (company_id, month, {', '.join(_COUNTS)}) "
        f"SELECT company_id, {month}, {', '.join(f'sum({n})' for n in _COUNTS)} "
        f"FROM company_days GROUP BY company_id, {month}"
    )


# 00:00 UTC of a timestamp's day, in the stored form (naive UTC text on SQLite).
_DAY = {
    "sqlite": "(substr(%s, 1, 10) || ' 00:00:00.000000')",
    "postgresql": "(date_trunc('day', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}
# 00:00 UTC of the first day of a timestamp's month, in the stored form.
_MONTH = {
    "sqlite": "(substr(%s, 1, 7) || '-01 00:00:00.000000')",
    "postgresql": "(date_trunc('month', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
}
# Seconds from the second time to the first.
_SECONDS = {
    "sqlite": "((julianday(%s) - julianday(%s)) * 86400.0)",
    "postgresql": "EXTRACT(EPOCH FROM (%s - %s))",
}


def downgrade() -> None:
    op.drop_index("ix_tickets_issue_created", table_name="tickets")
    op.drop_index("ix_time_entries_project", table_name="time_entries")
    for table, key in (("company_months", "month"), ("company_days", "day")):
        op.drop_index(f"ix_{table}_{key}", table_name=table)
        op.drop_table(table)
