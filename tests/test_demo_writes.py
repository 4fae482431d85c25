"""`mspkpi demo` accepts every triage action: its simulated PSA (sources/demo_writer.py) sits
behind the same actions layer, log and checks as the real writers. Through the real CLI and the
dashboard (pilot), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mspkpi_tui.config import config_from_dict
from mspkpi_tui.store import models
from mspkpi_tui.store.engine import make_engine, open_database
from mspkpi_tui.tui.app import MspkpiApp
from mspkpi_tui.tui.ticket_table import TicketTable

NUMBER = "T43743"  # open, Waiting Vendor, Low, Projects & Onboarding


@pytest.fixture
def demo(run_cli, db_url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('me = "demo lead"\n[escalation]\nstatuses = ["Escalate"]\nqueues = ["Level 2"]\n')

    def run(*args: str, **kwargs):
        return run_cli("--db", db_url, "--config", str(config), *args, **kwargs)

    imported = run("demo", "--no-tui")
    assert imported.returncode == 0, imported.stderr
    return run


def ticket(url: str, number: str = NUMBER):
    engine = make_engine(url)
    t, q, r = models.Ticket.__table__, models.Queue.__table__, models.Resource.__table__
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    select(t.c.status, t.c.priority, t.c.priority_rank, t.c.is_closed, q.c.name.label("queue"))
                    .add_columns(r.c.name.label("who"))
                    .select_from(
                        t.outerjoin(q, q.c.id == t.c.queue_id).outerjoin(r, r.c.id == t.c.assigned_resource_id)
                    )
                    .where(t.c.number == number)
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()


def technician(url: str, not_named: str | None) -> str:
    engine = make_engine(url)
    r = models.Resource.__table__
    try:
        with engine.connect() as conn:
            names = conn.scalars(select(r.c.name).where(r.c.active.is_(True)).order_by(r.c.name)).all()
    finally:
        engine.dispose()
    return next(n for n in names if n != not_named)


def events(url: str, number: str = NUMBER) -> list[tuple[str, str | None, str | None]]:
    engine = make_engine(url)
    t, e = models.Ticket.__table__, models.TicketEvent.__table__
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(e.c.field, e.c.old_value, e.c.new_value)
                .select_from(e.join(t, t.c.id == e.c.ticket_id))
                .where(t.c.number == number, e.c.source_id.like("%:%:%"))
                .order_by(e.c.at, e.c.id)
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


def test_every_action_works_on_the_demo_with_the_same_log_and_checks(demo, db_url):
    done = demo("ticket", NUMBER, "--priority", "critical", "--status", "In Progress")
    assert done.returncode == 0, done.stderr
    assert "the demo PSA updated ticket" in done.stdout
    row = ticket(db_url)
    assert (row["status"], row["priority"], row["priority_rank"]) == ("In Progress", "Critical", 1)
    assert ("priority", "Low", "Critical") in events(db_url)
    # the demo's picklists are checked like a PSA's: before anything is queued
    refused = demo("ticket", NUMBER, "--status", "Parked")
    assert refused.returncode == 1
    assert "status 'Parked' is not a status of the demo PSA (it has: New, In Progress," in refused.stderr
    assert demo("ticket", NUMBER, "--queue", "level 2").returncode == 0
    assert ticket(db_url)["queue"] == "Level 2"
    me = demo("ticket", NUMBER, "--assign", "me")
    assert me.returncode == 1 and "no active technician 'demo lead' in demo" in me.stderr
    name = technician(db_url, not_named=ticket(db_url)["who"])
    assert demo("ticket", NUMBER, "--assign", name).returncode == 0
    assert ticket(db_url)["who"] == name
    assert demo("ticket", NUMBER, "--note", "Called the vendor.").returncode == 0
    escalated = demo("ticket", NUMBER, "--escalate")  # [escalation]: status Escalate (already on Level 2)
    assert escalated.returncode == 0, escalated.stderr
    assert ticket(db_url)["status"] == "Escalate"
    closed = demo("ticket", NUMBER, "--status", "complete")
    assert closed.returncode == 0, closed.stderr
    assert ticket(db_url)["is_closed"] is True
    log = demo("actions")
    assert log.returncode == 0
    states = [line.split()[:2] for line in log.stdout.splitlines() if line[:5].strip().isdigit()]
    assert states == [[str(i), "done"] for i in range(6, 0, -1)]
    undone = demo("actions", "undo", "6")  # the close, undone through the same checks
    assert undone.returncode == 0, undone.stderr
    row = ticket(db_url)
    assert (row["status"], row["is_closed"]) == ("Escalate", False)


@pytest.mark.anyio
async def test_the_dashboard_says_demo_and_a_key_changes_the_ticket(demo, db_url):
    engine = open_database(db_url)
    app = MspkpiApp(engine, config_from_dict({}))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(TicketTable)
        for _ in range(400):
            if table.current_row() is not None and app.sync is not None:
                break
            await pilot.pause(0.05)
        assert " demo  changes go to a simulated PSA" in app.query_one("#status").plain
        row = table.current_row()
        target = "Low" if row.priority != "Low" else "High"
        await pilot.press("P")
        await pilot.pause()
        await pilot.press(*target, "enter")
        for _ in range(400):
            if not len(app.pending):
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    assert ticket(db_url, row.number)["priority"] == target
