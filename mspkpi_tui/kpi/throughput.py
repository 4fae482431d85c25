"""Tickets opened / closed in a window: the one count the service figures and the escalation
rate share (kpi/service.py, kpi/escalations.py).

Its own module, on the Core tables only: escalations is imported by the dashboard's first read
(kpi/tickets.py), which must not load SQLModel (store/models.py, tests/test_tui_process.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from mspkpi_tui.kpi.common import Refresh
from mspkpi_tui.kpi.rules import at, tickets


def count_in(column, start: datetime, end: datetime):
    """Tickets whose `column` (created_at: opened, completed_at: closed) is in [start, end]: an index range."""
    return select(func.count()).select_from(tickets).where(column >= at(start), column <= at(end))


def opened_in(conn, start: datetime, end: datetime, refresh: Refresh | None = None) -> int:
    """Tickets opened (created) in [start, end]. The service figures and the escalation rate
    both count them over the last 30 days; within one report refresh they are read once."""
    if refresh is None:
        return conn.execute(count_in(tickets.c.created_at, start, end)).scalar_one()
    return refresh.once(("opened_in", start, end), lambda: opened_in(conn, start, end))
