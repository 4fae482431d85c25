"""The queue's filter as you type, from memory (kpi.ticket_search), kept per data version.

Per data version (a new one with every refresh the queue receives) the cache keeps the open
tickets' search index and the ordered ids of the query without its text (its sort, facets,
view): a keystroke is then a substring scan of those ids (a few ms) plus the rows on screen,
where the SQL filter tested every open ticket's four texts with LIKE '%x%' (~45 ms). Both are
read in a worker on first use for a version (the filter box opening starts it) and dropped
when the data changes. Not a widget: filter workers fill it from their thread, under a lock.

The rows the keystrokes' workers read are kept too (per version, as the ids are): a keystroke
whose first screen of tickets was read already (typing on narrows the list, a backspace widens
it again) is answered on the UI thread at once (`answer_now`), with no worker and no read: the
box, the query line and the table change in one frame.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.kpi.ticket_search import Candidates, SearchIndex, candidates, matching_in, search_index
from mspkpi_tui.kpi.tickets import TicketQuery, TicketRow

ROWS_KEPT = 5000  # rows kept per data version for answer_now (beyond it, the cache starts again)


def without_text(query: TicketQuery) -> TicketQuery:
    return replace(query, text="")


class FilterCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self._index: SearchIndex | None = None
        self._bases: dict[TicketQuery, list[int]] = {}  # query without text -> its ordered ids
        self._candidates: dict[TicketQuery, Candidates] = {}  # the same ids beside their texts
        self._rows: dict[int, TicketRow] = {}  # rows read by the keystrokes' workers, this version

    def new_data(self, query: TicketQuery | None = None, ids: list[int] | None = None) -> None:
        """The queue received new data (UI thread): what was cached is from older data.
        The ids shown for a query without text are the base of the filters typed over it."""
        with self._lock:
            self.version += 1
            self._index = None
            self._bases = {}
            self._candidates = {}
            self._rows = {}
        if query is not None and ids is not None:
            self.shown(query, ids, self.version)

    def shown(self, query: TicketQuery, ids: list[int], version: int) -> None:
        """The table shows `ids` for `query` read at `version`: a base for the filters to come."""
        if not query.text.strip():
            with self._lock:
                if version == self.version and self._bases.get(query) != ids:
                    self._bases[query] = ids
                    self._candidates.pop(query, None)

    def index(self, engine: Engine, version: int) -> SearchIndex:
        """The search index of this version (read now if it is not cached)."""
        with self._lock:
            if self._index is not None and version == self.version:
                return self._index
        built = search_index(engine)
        with self._lock:
            if version == self.version:
                self._index = built
        return built

    def filtered(self, engine: Engine, now: datetime, query: TicketQuery, version: int) -> list[int]:
        """The ids the query lists, in its order: the SQL filter's answer, from memory."""
        base_query = without_text(query)
        with self._lock:
            current = version == self.version
            found = self._candidates.get(base_query) if current else None
            base = self._bases.get(base_query) if current else None
        if found is None:
            if base is None:
                base = ticket_lists.queue_ids(engine, now, base_query)
                self.shown(base_query, base, version)
            found = candidates(self.index(engine, version), base)
            with self._lock:
                if version == self.version:
                    self._candidates[base_query] = found
        return matching_in(found, query.text)

    def keep_rows(self, rows: list[TicketRow], version: int) -> None:
        """Rows a keystroke's worker read for `version`."""
        with self._lock:
            if version != self.version:
                return
            if len(self._rows) + len(rows) > ROWS_KEPT:
                self._rows = {}
            self._rows.update((row.id, row) for row in rows)

    def answer_now(
        self, query: TicketQuery, version: int, shown: int, wanted: int
    ) -> tuple[list[int], list[TicketRow]] | None:
        """The ids and the kept rows among the first `wanted` of them, when everything the first
        `shown` lines need is in memory already (else None: a worker reads what is missing)."""
        with self._lock:
            found = self._candidates.get(without_text(query)) if version == self.version else None
            if found is None:
                return None
            ids = matching_in(found, query.text)
            if any(i not in self._rows for i in ids[:shown]):
                return None
            return ids, [self._rows[i] for i in ids[:wanted] if i in self._rows]
