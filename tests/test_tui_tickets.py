"""kpi/tickets.py and kpi/status.py (the TUI's lists and freshness) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert
from test_tui_support import HOSTILE_COMPANY_PREFIX, NOW, OPEN_TICKETS, SYNCED_AT, fill, records, tui_config

from mspkpi_tui.kpi import status as sync_state
from mspkpi_tui.kpi import tickets as t
from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.sla import sla_figures
from mspkpi_tui.kpi.sla_buckets import SLA_BUCKETS
from mspkpi_tui.kpi.tickets import TicketQuery
from mspkpi_tui.store.engine import open_database
from mspkpi_tui.store.models import SyncRun as SyncRunRow
from mspkpi_tui.store.writer import SyncWriter


@pytest.fixture
def filled(engine):
    fill(engine)
    return engine


def numbers(engine, ids):
    return [r.number[-4:] for r in t.rows_by_id(engine, ids)]


def test_default_order_is_overdue_first_then_next_due_then_priority(filled):
    ids = t.queue_ids(filled, NOW, TicketQuery())
    assert len(ids) == OPEN_TICKETS
    # 0009 resolution due 2 days ago, 0003 a day ago; 0001 and 0017 both 2 h overdue:
    # 0001 is Critical (rank 1), so it comes first. Then 0002 (30 min overdue), then the
    # first future due times: 0008 (+20 min), 0004 (+30), 0013 (+40), 0018 (+45).
    assert numbers(filled, ids)[:9] == ["0009", "0003", "0001", "0017", "0002", "0008", "0004", "0013", "0018"]
    rows = t.rows_by_id(filled, ids)
    overdue = [r.countdown(NOW) < timedelta(0) for r in rows if r.next_due is not None]
    assert overdue == sorted(overdue, reverse=True)  # all the overdue ones before the rest
    assert rows[-1].next_due is None  # 0016 has no due time at all: last


def test_every_sort_lists_the_same_tickets_in_its_own_order(filled):
    default = t.queue_ids(filled, NOW, TicketQuery())
    query = TicketQuery()
    seen = []
    for _ in t.SORTS:
        ids = t.queue_ids(filled, NOW, query)
        assert sorted(ids) == sorted(default)
        rows = t.rows_by_id(filled, ids)
        if query.sort == "priority":
            assert [r.priority_rank for r in rows] == sorted(r.priority_rank for r in rows)
        if query.sort == "age":
            assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
        if query.sort == "assignee":
            assert rows[0].assignee is None
        if query.sort == "number":
            assert [r.number for r in rows] == sorted((r.number for r in rows), key=lambda n: (len(n), n))
        if query.sort == "title":
            assert [r.title.lower() for r in rows] == sorted(r.title.lower() for r in rows)
        if query.sort == "status":
            assert [r.status for r in rows] == sorted(r.status for r in rows)
        if query.sort == "queue":
            named = [r.queue for r in rows if r.queue is not None]
            assert named == sorted(named) and all(r.queue is None for r in rows[len(named) :])  # none last
        reversed_ids = t.queue_ids(filled, NOW, query.reversed())
        if query.sort in ("number", "age"):  # one key, no ties: reversing is the exact reverse
            assert reversed_ids == ids[::-1]
        seen.append(query.sort)
        query = query.next_sort()
    assert query.sort == "due" and seen == list(t.SORTS)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("castle", {"0003", "0008", "0012", "0017"}),  # company
        ("CASTLE vpn", {"0003"}),  # every word must match, case-insensitive
        ("alice", {"0002", "0006", "0011", "0017"}),  # assignee
        ("0004", {"0004"}),  # number
        ("[bold", {"0004", "0013"}),  # markup in a company name is just text to match
        ("100%", set()),  # LIKE wildcards are literal
        ("_", set()),
    ],
)
def test_filter_text_matches_number_title_company_assignee(filled, text, expected):
    assert set(numbers(filled, t.queue_ids(filled, NOW, TicketQuery(text=text)))) == expected


def test_facets_narrow_the_queue_and_count_values(filled):
    level2 = t.queue_ids(filled, NOW, TicketQuery().with_facet("queue", "Level 2"))
    assert set(numbers(filled, level2)) == {"0003", "0007", "0009", "0012", "0016"}
    unassigned = TicketQuery().with_facet("assignee", "unassigned")  # the one word for nobody
    assert set(numbers(filled, t.queue_ids(filled, NOW, unassigned))) == {"0001", "0008", "0013", "0016"}
    both = unassigned.with_facet("queue", "Level 2")
    assert numbers(filled, t.queue_ids(filled, NOW, both)) == ["0016"]
    assert both.with_facet("queue", None).facets == (("assignee", "unassigned"),)
    values = t.facet_values(filled)
    assert dict(values["queue"]) == {"Service Desk": 11, "Level 2": 5, "Onboarding": 2}
    assert dict(values["assignee"])["unassigned"] == 4 and t.NONE_LABEL not in dict(values["assignee"])
    companies = dict(values["company"])  # the company facet, beside queue, assignee, priority, status
    assert sum(companies.values()) == OPEN_TICKETS
    some = max(companies, key=lambda c: companies[c])
    assert len(t.queue_ids(filled, NOW, TicketQuery().with_facet("company", some))) == companies[some]
    assert sum(n for _, n in values["status"]) == OPEN_TICKETS


def test_rows_by_id_keeps_the_order_given_and_skips_missing(filled):
    ids = t.queue_ids(filled, NOW, TicketQuery())
    picked = [ids[5], ids[1], 999_999, ids[3]]
    assert [r.id for r in t.rows_by_id(filled, picked)] == [ids[5], ids[1], ids[3]]


def test_sla_lists_use_the_same_rules_as_the_figures(filled):
    config = tui_config()
    figures = sla_figures(filled, NOW, config)
    assert list(figures.bucket_counts()) == list(SLA_BUCKETS)  # one table: every bucket counted, in order
    for bucket, count in figures.bucket_counts().items():
        listed = t.sla_bucket(filled, NOW, config, bucket, limit=2)
        assert listed.total == count
        assert len(listed.rows) == min(2, listed.total)
    overdue = t.sla_bucket(filled, NOW, config, "first_response_overdue")
    assert [r.number[-4:] for r in overdue.rows] == ["0001", "0017"]


def test_open_escalated_matches_the_escalation_figure(filled):
    config = tui_config()
    listed = t.open_escalated(filled, NOW, config)
    assert listed.total == escalation_figures(filled, NOW, config).open == 3
    assert {r.number[-4:] for r in listed.rows} == {"0003", "0007", "0017"}


def test_ticket_detail_has_every_field_time_entries_and_events(filled):
    ticket_id = next(
        r.id for r in t.rows_by_id(filled, t.queue_ids(filled, NOW, TicketQuery())) if r.number.endswith("0002")
    )
    detail = t.ticket_detail(filled, ticket_id)
    fields = dict(detail.fields)
    assert fields["Company"] == "Brightwater Logistics"
    assert fields["Assignee"] == "Alice Nguyen"
    assert fields["PSA URL"] == "https://psa.example/tickets/1002"
    assert fields["Source"].startswith("demo #t2")
    assert [(e.resource, e.hours, e.billable) for e in detail.time_entries] == [("Alice Nguyen", 1.5, True)]
    assert [(e.field, e.new_value) for e in detail.events] == [("status", "New"), ("status", "In Progress")]
    assert t.ticket_detail(filled, 999_999) is None


def test_sync_status_ok_stale_failed_and_never(engine):
    config = tui_config(stale_after_minutes=60)
    never = sync_state.sync_status(engine, NOW, config)
    assert (never.state, never.has_tickets, never.last_ok_at) == ("never", False, None)
    fill(engine)
    ok = sync_state.sync_status(engine, NOW, config)
    assert (ok.state, ok.last_ok_at, ok.last_ok_source, ok.has_tickets) == ("ok", SYNCED_AT, "demo", True)
    stale = sync_state.sync_status(engine, NOW + timedelta(hours=3), config)
    assert stale.state == "stale" and "3 h" in stale.reason and stale.last_ok_at == SYNCED_AT
    with engine.begin() as conn:
        conn.execute(
            insert(SyncRunRow.__table__).values(
                source="autotask",
                mode="incremental",
                started_at=NOW - timedelta(minutes=5),
                finished_at=NOW - timedelta(minutes=4),
                status="failed",
                counts={},
                error="HTTP 401 from the API: check the credentials",
            )
        )
    failed = sync_state.sync_status(engine, NOW, config)
    assert failed.state == "failed" and "HTTP 401" in failed.reason
    assert failed.last_ok_at == SYNCED_AT  # the last good sync stays known


def test_change_watch_sees_another_connections_write(db_url):
    engine = open_database(db_url)
    fill(engine)
    watch = sync_state.ChangeWatch(engine)
    assert watch.changed()  # the first look
    assert not watch.changed()  # nothing written since
    other = open_database(db_url)  # another process's engine
    with SyncWriter(other, "demo", "file", clock=lambda: NOW) as run:
        run.store_page("tickets", [dict(records("tickets")[0], title="changed elsewhere")], ["x:1"])
    assert watch.changed()
    assert not watch.changed()
    watch.close()
    other.dispose()
    engine.dispose()


def test_change_watch_sqlite_sees_a_write_outside_any_sync_run(sqlite_url):
    engine = open_database(sqlite_url)
    fill(engine)
    watch = sync_state.ChangeWatch(engine)
    watch.changed()
    other = open_database(sqlite_url)
    with other.begin() as conn:
        conn.exec_driver_sql("UPDATE tickets SET title = 'edited' WHERE source_id = 't1'")
    assert watch.changed()
    watch.close()
    other.dispose()
    engine.dispose()


def test_hostile_company_is_stored_as_given(filled):
    rows = t.rows_by_id(filled, t.queue_ids(filled, NOW, TicketQuery(text="evil")))
    assert rows and all(r.company.startswith(HOSTILE_COMPANY_PREFIX) for r in rows)


def test_filter_typed_further_is_read_within_the_previous_result(filled):
    previous = t.queue_ids(filled, NOW, TicketQuery())
    for text in ["c", "ca", "cas", "castle", "castle v", "castle vpn"]:
        query = TicketQuery(text)
        full = t.queue_ids(filled, NOW, query)
        assert t.queue_ids(filled, NOW, query, within=previous) == full  # the same tickets, same order
        previous = full
    assert numbers(filled, previous) == ["0003"]
    # Ids outside the query's own matches are never added, and only what `within` holds is read.
    assert t.queue_ids(filled, NOW, TicketQuery("castle"), within=t.queue_ids(filled, NOW, TicketQuery("dental"))) == []


def test_which_queries_only_narrow_another():
    assert TicketQuery("cas").narrows(TicketQuery("ca"))
    assert TicketQuery("ca s").narrows(TicketQuery("ca"))
    assert not TicketQuery("ca").narrows(TicketQuery("cas"))  # deleting a character widens
    assert not TicketQuery("ca").narrows(TicketQuery("ca"))
    assert not TicketQuery("cas", sort="age").narrows(TicketQuery("ca"))
    assert not TicketQuery("cas").narrows(TicketQuery("ca", facets=(("queue", "Level 2"),)))
