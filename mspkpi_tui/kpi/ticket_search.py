"""The queue's filter as you type, answered from memory.

The SQL filter (kpi.tickets._text_filter: every word in the number, title, company or
assignee, `lower(column) LIKE '%word%'`) cannot use an index, so the first letters typed test
every open ticket's four texts in the database (~45 ms on 20,000 open tickets, each keystroke).
Here the open tickets' four texts are read once, lowered *by the database* (so SQLite's
ASCII-only lower() and PostgreSQL's locale-aware one give exactly what the SQL filter compares),
and each keystroke is a Python substring test over them (a few ms for 20,000 tickets).

Why not SQLite FTS5 trigram: it is SQLite only (PostgreSQL would need pg_trgm, a second code
path to keep equal), it needs a migration and triggers kept in step by every writer, it
cannot match words of one or two letters (the keystrokes that are slow today), and its
case folding (Unicode) differs from SQLite's lower() LIKE, so its results would not equal
the SQL filter's.

Matching is the SQL filter's: the word lowered by Python (as `_like` lowers its pattern) is a
substring of one of the lowered columns. The four columns are joined by a newline; a word
(from str.split) never holds whitespace, so it cannot match across two columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

from sqlalchemy import Engine, func, select

from mspkpi_tui.kpi import rules
from mspkpi_tui.kpi.tickets import _assignee, _company, tickets

_SEARCHED = (tickets.c.number, tickets.c.title, _company.c.name, _assignee.c.name)


@dataclass(frozen=True)
class SearchIndex:
    """Each open ticket's searched texts, lowered by the database, joined by newlines."""

    texts: dict[int, str]


def search_index(engine: Engine) -> SearchIndex:
    """Read the open tickets' number, title, company and assignee, lowered (one query)."""
    joined = tickets.outerjoin(_company, _company.c.id == tickets.c.company_id).outerjoin(
        _assignee, _assignee.c.id == tickets.c.assigned_resource_id
    )
    stmt = select(tickets.c.id, *(func.lower(c) for c in _SEARCHED)).select_from(joined).where(rules.is_open())
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    # NULL (no company, nobody assigned) matches nothing, as lower(NULL) LIKE ... is not true.
    return SearchIndex({r[0]: "\n".join(value or "" for value in r[1:]) for r in rows})


def words_of(text: str) -> list[str]:
    """The filter's words, lowered as the SQL filter lowers its LIKE pattern."""
    return [word.lower() for word in text.split()]


@dataclass(frozen=True)
class Candidates:
    """Ordered ids (a query's list without its text) beside their texts: what keystrokes scan."""

    ids: list[int]
    texts: list[str]


def candidates(index: SearchIndex, ids: Sequence[int]) -> Candidates:
    kept = [i for i in ids if i in index.texts]
    return Candidates(kept, [index.texts[i] for i in kept])


def matching_in(found: Candidates, text: str) -> list[int]:
    """The candidates (in their order) whose texts hold every word of `text`. One list
    comprehension per word over aligned lists: ~2 ms for 20,000 tickets (a loop testing each
    ticket's words in turn took 10-30 ms)."""
    ids, texts = found.ids, found.texts
    for word in words_of(text):
        keep = [word in t for t in texts]
        ids, texts = list(compress(ids, keep)), list(compress(texts, keep))
    return list(ids)


def matching(index: SearchIndex, ids: Sequence[int], text: str) -> list[int]:
    """The ids (in the order given) whose texts hold every word of `text`."""
    return matching_in(candidates(index, ids), text)
