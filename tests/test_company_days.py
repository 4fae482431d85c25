"""The company_days rollup (the Clients pane, a company page, the review): equal to a recount
from the base rows, worked out in Python as its invariant states, after syncs through the
real writer (inserts, updates, a ticket and a project moving company, a technician's cost
changing, time entries moving, a reopen, a triage close), deletes, prunes, a company's
delete and a rebuild; and the window sums exact at partial days. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mspkpi_tui.store import models, rollups
from mspkpi_tui.store.rollups import company_days as company_days_module
from mspkpi_tui.store.rollups.company_days import (
    COMPANY_COLUMNS,
    base_rows,
    company_days,
    company_months,
    company_sums,
)
from mspkpi_tui.store.ticket_update import store_ticket_state
from mspkpi_tui.store.writer import SyncWriter

T = models.table(models.Ticket)
E = models.table(models.TimeEntry)
P = models.table(models.Project)
R = models.table(models.Resource)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(text: str | None) -> str | None:
    return utc(text).isoformat() if text else None


def ticket(sid, company, created, completed=None, responded=None, response_due=None, resolution_due=None, **kw):
    return {
        "id": sid,
        "number": sid,
        "title": sid,
        "company_id": company,
        "status": "Complete" if completed else "New",
        "is_closed": bool(completed),
        "priority": "P2",
        "created_at": iso(created),
        "completed_at": iso(completed),
        "resolved_at": iso(completed),
        "first_response_at": iso(responded),
        "first_response_due": iso(response_due),
        "resolution_due": iso(resolution_due),
        **kw,
    }


def entry(sid, resource, started, hours, ticket_id=None, project_id=None, billable=True) -> dict:
    return {
        "id": sid,
        "resource_id": resource,
        "ticket_id": ticket_id,
        "project_id": project_id,
        "started_at": iso(started),
        "hours": hours,
        "billable": billable,
    }


def store(engine, mode: str = "incremental", **pages: list[dict]) -> None:
    with SyncWriter(engine, "t", mode) as run:
        for entity, records in pages.items():
            run.store_page(entity, records, [f"{entity}:{i}" for i in range(len(records))])
        assert not run.summary.rejects, run.summary.rejects


def day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def stored(engine) -> dict:
    """company_days by (company, day), and company_months by ("month", company, month)."""
    with engine.connect() as conn:
        rows = conn.execute(select(company_days)).mappings().all()
        months = conn.execute(select(company_months)).mappings().all()
    out = {(r["company_id"], r["day"]): tuple(round(r[n], 3) for n in COMPANY_COLUMNS) for r in rows}
    out |= {("month", r["company_id"], r["month"]): tuple(round(r[n], 3) for n in COMPANY_COLUMNS) for r in months}
    return out


def recount(engine, span: tuple[datetime, datetime] | None = None) -> dict:
    """The invariant as stated, worked out in Python from the tickets and time entries; with a
    span, the sums per company over the times in [start, stop) instead."""
    with engine.connect() as conn:
        tickets = conn.execute(select(T)).mappings().all()
        entries = conn.execute(select(E)).mappings().all()
        project_company = dict(conn.execute(select(P.c.id, P.c.company_id)).all())
        cost = dict(conn.execute(select(R.c.id, R.c.hourly_cost)).all())
    n_entries = Counter(e["ticket_id"] for e in entries)
    ticket_company = {t["id"]: t["company_id"] for t in tickets}
    out: dict = {}

    def add(company, moment, **values):
        if company is None or moment is None or (span and not span[0] <= moment < span[1]):
            return
        row = out.setdefault(company if span else (company, day(moment)), dict.fromkeys(COMPANY_COLUMNS, 0.0))
        for name, value in values.items():
            row[name] += value

    for t in tickets:
        c = t["company_id"]
        add(c, t["created_at"], opened=1)
        add(c, t["completed_at"], closed=1, first_touch=int(n_entries[t["id"]] <= 1))
        for done, due, names in (
            ("first_response_at", "first_response_due", ("responded", "response_seconds", "responded_with_due")),
            ("resolved_at", "resolution_due", ("resolved", "resolution_seconds", "resolved_with_due")),
        ):
            if t[done] is not None:
                met = t[due] is not None and t[done] <= t[due]
                values = (1, (t[done] - t["created_at"]).total_seconds(), int(t[due] is not None))
                add(c, t[done], **dict(zip(names, values)), **{names[0].replace("ed", "ed_in_time", 1): int(met)})
            else:
                add(c, t[due], **{"response_missed" if done == "first_response_at" else "resolution_missed": 1})
    for e in entries:
        on_ticket = e["ticket_id"] is not None
        company = ticket_company.get(e["ticket_id"]) if on_ticket else project_company.get(e["project_id"])
        h, rate = e["hours"], cost[e["resource_id"]]
        labour = h * rate if rate is not None else 0.0
        add(
            company,
            e["started_at"],
            hours=h,
            billable_hours=h if e["billable"] else 0.0,
            ticket_hours=h if on_ticket else 0.0,
            labour_cost=labour,
            ticket_labour_cost=labour if on_ticket else 0.0,
            uncosted_hours=h if rate is None else 0.0,
        )
    if not span:  # the months: their days summed
        for (company, start), row in list(out.items()):
            month = out.setdefault(("month", company, start.replace(day=1)), dict.fromkeys(COMPANY_COLUMNS, 0.0))
            for name in COMPANY_COLUMNS:
                month[name] += row[name]
    return {key: tuple(round(row[n], 3) for n in COMPANY_COLUMNS) for key, row in out.items()}


def company_ids(engine) -> dict[str, int]:
    c = models.table(models.Company)
    with engine.connect() as conn:
        return dict(conn.execute(select(c.c.source_id, c.c.id)).all())


def seed(engine) -> None:
    store(
        engine,
        companies=[{"id": "K1", "name": "Acme"}, {"id": "K2", "name": "Beta"}, {"id": "K3", "name": "Gamma"}],
        resources=[{"id": "R1", "name": "Alice", "hourly_cost": 50.0}, {"id": "R2", "name": "Bob"}],
        projects=[{"id": "P1", "name": "Move", "company_id": "K2", "status": "Active"}],
        tickets=[
            ticket("A", "K1", "2026-11-02 08:00", "2026-11-02 10:15", "2026-11-02 09:00", "2026-11-02 08:30"),
            ticket("B", "K1", "2026-11-02 23:30", "2026-11-03 01:30", resolution_due="2026-11-03 02:00"),
            ticket("C", "K2", "2026-11-01 22:00", response_due="2026-11-02 01:00", resolution_due="2026-11-04 00:00"),
            ticket("D", None, "2026-11-02 09:00", "2026-11-02 11:00"),  # no company: counts nowhere
            ticket("F", "K1", "2026-10-14 10:00", "2026-10-16 10:00", "2026-10-14 11:00"),
        ],
        time_entries=[
            entry("E1", "R1", "2026-11-04 09:00", 1.0, "A"),
            entry("E2", "R2", "2026-11-03 00:30", 2.0, "B"),  # Bob has no hourly cost
            entry("E3", "R1", "2026-11-03 09:00", 0.5, "B", billable=False),
            entry("E4", "R1", "2026-11-02 14:00", 3.0, project_id="P1"),
            entry("E5", "R1", "2026-11-02 15:00", 1.5, "D"),
            entry("E7", "R1", "2026-09-30 23:00", 2.0, project_id="P1"),  # September, and an October ticket
            entry("E8", "R1", "2026-10-15 09:00", 1.0, "F"),
        ],
    )


def test_company_days_follow_every_write_path(engine):
    seed(engine)
    k = company_ids(engine)
    assert stored(engine) == recount(engine)
    row = dict(zip(COMPANY_COLUMNS, stored(engine)[(k["K1"], utc("2026-11-02 00:00"))]))
    assert (row["opened"], row["closed"], row["first_touch"], row["responded"]) == (2, 1, 1, 1)
    assert (row["response_seconds"], row["responded_in_time"], row["hours"], row["labour_cost"]) == (3600, 0, 0, 0)
    k2 = dict(zip(COMPANY_COLUMNS, stored(engine)[(k["K2"], utc("2026-11-02 00:00"))]))
    assert (k2["response_missed"], k2["hours"], k2["ticket_hours"], k2["labour_cost"]) == (1, 3, 0, 150)

    # Updates, one sync each, so no other change marks the days they move: Bob gets a cost
    # (E2, 3 Nov), P1 moves to K1 (E4, 2 Nov), A moves to K3 (E1 on 4 Nov), E5 moves from D
    # to C, B is reopened (completion cleared), C is answered late.
    store(engine, resources=[{"id": "R2", "name": "Bob", "hourly_cost": 40.0}])
    assert stored(engine) == recount(engine)
    store(engine, projects=[{"id": "P1", "name": "Move", "company_id": "K1", "status": "Active"}])
    assert stored(engine) == recount(engine)
    store(
        engine,
        tickets=[ticket("A", "K3", "2026-11-02 08:00", "2026-11-02 10:15", "2026-11-02 09:00", "2026-11-02 08:30")],
    )
    assert stored(engine) == recount(engine)
    assert (k["K3"], utc("2026-11-04 00:00")) in stored(engine)
    store(
        engine,
        tickets=[
            ticket("B", "K1", "2026-11-02 23:30", resolution_due="2026-11-03 02:00"),
            ticket("C", "K2", "2026-11-01 22:00", None, "2026-11-02 03:00", "2026-11-02 01:00", "2026-11-04 00:00"),
        ],
        time_entries=[entry("E5", "R1", "2026-11-04 15:00", 1.5, "C")],
    )
    assert stored(engine) == recount(engine)

    # A second entry on A: no longer first touch (time_entry_count flips at the flush).
    store(engine, time_entries=[entry("E6", "R2", "2026-11-05 10:00", 0.25, "A")])
    assert stored(engine) == recount(engine)
    assert dict(zip(COMPANY_COLUMNS, stored(engine)[(k["K3"], utc("2026-11-02 00:00"))]))["first_touch"] == 0

    # A close stored by a triage action, deletes, a prune, a company's delete.
    store_ticket_state(
        engine, "t", "C", {"status": "Complete", "priority": "P2"}, at=utc("2026-11-06 08:00"), is_closed=True
    )
    assert stored(engine) == recount(engine)
    with SyncWriter(engine, "t") as run:
        run.delete("time_entries", ["E3"])
        run.delete("tickets", ["A"])
    assert stored(engine) == recount(engine)
    with SyncWriter(engine, "t", "full") as run:
        run.prune("time_entries", {"E2", "E5", "E6", "E7", "E8"})  # E1 went with A; E4 is gone from the source
    assert stored(engine) == recount(engine)
    with SyncWriter(engine, "t") as run:
        run.delete("companies", ["K2"])  # C loses its company
    assert stored(engine) == recount(engine)
    assert not any(k["K2"] in key for key in stored(engine))

    with engine.begin() as conn:  # as a bulk loader would leave it
        conn.execute(company_days.delete())
        conn.execute(company_months.delete())
    with engine.begin() as conn:
        rollups.rebuild(conn)
    assert stored(engine) == recount(engine) != {}


def test_window_sums_are_exact_at_partial_days(engine):
    """Whole days from the rollup, the ends from the base rows: any [start, stop) equals a
    recount of just that window, for every company and for one."""
    seed(engine)
    k = company_ids(engine)
    bounds = [
        utc("2026-09-30 12:00"),
        utc("2026-10-01 00:00"),
        utc("2026-10-14 10:30"),
        utc("2026-11-01 00:00"),
        utc("2026-11-02 08:30"),
        utc("2026-11-02 23:45"),
        utc("2026-11-03 01:00"),
    ]
    bounds += [utc("2026-11-04 00:00"), utc("2026-11-02 09:00") + timedelta(microseconds=1), utc("2026-11-06 00:00")]
    checked = 0
    with engine.connect() as conn:
        for start in bounds:
            for stop in bounds:
                if start >= stop:
                    continue
                expected = recount(engine, (start, stop))
                every = {
                    c: tuple(round(row[n], 3) for n in COMPANY_COLUMNS)
                    for c, row in company_sums(conn, start, stop).items()
                }
                assert every == expected, (start, stop)
                one = company_sums(conn, start, stop, k["K1"])
                assert set(one) <= {k["K1"]}
                assert (k["K1"] in one) == (k["K1"] in expected)
                checked += bool(expected)
    assert checked > 10


def test_a_days_first_part_is_read_from_its_stored_row_when_nothing_later_is_summed(engine):
    """[midnight, now) of a day with nothing summed stamped after now (today, usually) is the
    day's stored row less the missed due times after now; with anything after now (a pinned
    now in the past) or a write awaiting its recount, it is counted from the base rows. Both
    equal a recount; the stored path equal to the base rows' exactly."""
    store(
        engine,
        companies=[{"id": "K1", "name": "Acme"}, {"id": "K2", "name": "Beta"}, {"id": "K3", "name": "Gamma"}],
        resources=[{"id": "R1", "name": "Alice", "hourly_cost": 50.0}, {"id": "R2", "name": "Bob"}],
        projects=[{"id": "P1", "name": "Move", "company_id": "K3", "status": "Active"}],
        tickets=[
            ticket("A", "K1", "2026-11-10 08:00", "2026-11-10 10:00", "2026-11-10 09:00", "2026-11-10 08:30"),
            ticket("D", "K1", "2026-11-09 08:00", resolution_due="2026-11-10 09:00"),  # missed before now
            ticket("B", "K2", "2026-11-09 20:00", response_due="2026-11-10 18:00", resolution_due="2026-11-10 20:00"),
            ticket("C", "K3", "2026-11-09 21:00", response_due="2026-11-10 17:00"),  # due after now only
        ],
        time_entries=[
            entry("E1", "R1", "2026-11-10 09:30", 1.25, "A"),
            entry("E2", "R2", "2026-11-10 10:00", 0.5, "A"),
            entry("E3", "R1", "2026-11-10 07:00", 0.0, project_id="P1"),  # no hours: K3 still has a row
            entry("E4", "R1", "2026-11-09 16:00", 2.0, "B"),
        ],
    )
    k = company_ids(engine)
    day, now, end = utc("2026-11-10 00:00"), utc("2026-11-10 12:00"), utc("2026-11-11 00:00")

    def check(settled: bool) -> None:
        with engine.connect() as conn:
            assert company_days_module.settled(conn, now, end) is settled
            for start in (day, utc("2026-11-08 13:00"), utc("2026-11-09 00:00")):
                expected = recount(engine, (start, now))
                every = company_sums(conn, start, now)
                assert {c: tuple(round(row[n], 3) for n in COMPANY_COLUMNS) for c, row in every.items()} == expected
                for company in k.values():
                    one = company_sums(conn, start, now, company)
                    assert one == {c: row for c, row in every.items() if c == company}

    check(settled=True)
    with engine.connect() as conn:
        stored_rows = company_days_module._stored_day(conn, day, now, None)
        assert stored_rows == base_rows(conn, (day, now))  # exactly, floats too
        assert (k["K2"], day) not in stored_rows and (k["K3"], day) in stored_rows
    with engine.begin() as conn:  # a stored day without its rows (a rollup not rebuilt): the base rows
        conn.execute(company_days.delete().where(company_days.c.day == day))
        assert company_days_module._stored_day(conn, day, now, None) is None
        assert {
            c: tuple(round(row[n], 3) for n in COMPANY_COLUMNS) for c, row in company_sums(conn, day, now).items()
        } == recount(engine, (day, now))
        conn.rollback()
    with engine.begin() as conn:  # a write whose recount is pending: the base rows
        conn.execute(models.table(models.RollupPendingDay).insert().values(day=day))
        assert not company_days_module.settled(conn, now, end)
        conn.rollback()
    store(engine, tickets=[ticket("L", "K1", "2026-11-10 15:00")])  # stamped after now: the base rows
    check(settled=False)
