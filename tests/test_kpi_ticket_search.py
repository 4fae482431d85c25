"""The queue's in-memory filter (kpi.ticket_search) lists exactly what the SQL filter lists,
on SQLite and PostgreSQL: hostile text, CJK, LIKE wildcards and case folding included."""

from __future__ import annotations

import pytest
from hostile_corpus import texts
from test_kpi_builder import NOW, Data

from mspkpi_tui.kpi.ticket_search import matching, search_index
from mspkpi_tui.kpi.tickets import TicketQuery, queue_ids

# Titles that folding treats differently: non-ASCII capitals (SQLite's lower() leaves them,
# PostgreSQL's lowers them), ß, the dotted capital I, the Kelvin sign, a titlecase digraph,
# Greek final sigma, CJK and emoji, and the LIKE wildcards themselves.
TITLES = [
    "ÉCOLE Crème brûlée",
    "école crème",
    "Straße STRASSE",
    "İstanbul office",
    "K Kelvin k",
    "ǅemal ǆ",
    "ΟΔΟΣ οδος",
    "サーバー停止 東京オフィス",
    "打印机 不工作",
    "🔥 fire in the rack 🔥",
    "100% disk_full on C:\\",
    "50%_off \\escape",
    "Server down at HEAD office",
    "server room",
]
QUERIES = [
    "é",
    "É",
    "école",
    "ÉCOLE",
    "crème",
    "CRÈME",
    "ß",
    "strasse",
    "STRASSE",
    "straße",
    "i",
    "İ",
    "i̇",
    "istanbul",
    "k",
    "K",
    "K",
    "ǅ",
    "ǆ",
    "ǆemal",
    "σ",
    "ς",
    "Σ",
    "οδος",
    "ΟΔΟΣ",
    "サーバー",
    "東京",
    "打印机 工作",
    "🔥",
    "fire 🔥",
    "%",
    "_",
    "\\",
    "100%",
    "disk_",
    "50%_",
    "s",
    "se",
    "ser",
    "server",
    "SERVER",
    "server down",
    "head",
    "nobody",
    "Acme",
    "acme",
    "T1",
    "t1",
    "t",
    "alice",
    "ALICE",
    "o",
    "of off",
    "   ",
    "",
]


@pytest.fixture
def filled(engine):
    d = Data()
    d.add("companies", id="C1", name="Acme ÉTABLISSEMENT")
    d.add("companies", id="C2", name="東京商事")
    d.resource("R1", "Alice Ødegård")
    d.resource("R2", "ÅSA Nobody")
    hostile = texts(importable_only=True)
    for i, title in enumerate(TITLES + hostile):
        fields: dict = {"title": title, "priority_rank": 1 + i % 4}
        if i % 3 == 0:
            fields["company_id"] = "C1" if i % 2 else "C2"
        if i % 4 == 1:
            fields["assigned_resource_id"] = "R1" if i % 8 == 1 else "R2"
        if i % 5 == 2:
            fields["first_response_due"] = f"2026-11-23 {10 + i % 10:02d}:00"
        d.ticket(str(i + 1), **fields)
    d.closed("900", title="server closed ticket")
    d.store(engine)
    return engine, hostile


def words_from(hostile: list[str]) -> list[str]:
    """Every word of the hostile texts and its upper and lower case, as typed."""
    words = {w for text in hostile for w in text.split()}
    return sorted(words | {w.upper() for w in words} | {w.lower() for w in words} | {w[:2] for w in words})


@pytest.mark.parametrize("sort", ["due", "company", "assignee"])
def test_the_in_memory_filter_equals_the_sql_filter(filled, sort):
    engine, hostile = filled
    index = search_index(engine)
    base = queue_ids(engine, NOW, TicketQuery(sort=sort))
    assert set(index.texts) == set(base)  # every open ticket, no closed one
    checked = 0
    for text in QUERIES + words_from(hostile):
        query = TicketQuery(text=text, sort=sort)
        assert matching(index, base, text) == queue_ids(engine, NOW, query), repr(text)
        checked += 1
    assert checked > len(QUERIES)


def test_the_in_memory_filter_equals_the_sql_filter_within_a_facet(filled):
    engine, _ = filled
    index = search_index(engine)
    faceted = TicketQuery().with_facet("assignee", "unassigned")
    base = queue_ids(engine, NOW, faceted)
    for text in QUERIES:
        assert matching(index, base, text) == queue_ids(engine, NOW, faceted.__class__(text, faceted.facets)), text


def test_some_queries_match_and_others_do_not(filled):
    """The equality above is not vacuous: the filter finds some tickets and leaves out others."""
    engine, _ = filled
    index = search_index(engine)
    base = queue_ids(engine, NOW, TicketQuery())
    assert 0 < len(matching(index, base, "server")) < len(base)
    assert len(matching(index, base, "サーバー")) == 1
    assert matching(index, base, "100%") != matching(index, base, "%")
    assert matching(index, base, "zzzz-not-there") == []
    assert matching(index, base, "  ") == base
