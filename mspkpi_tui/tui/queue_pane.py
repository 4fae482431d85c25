"""Pane 1, Queue: every open ticket, filter as you type, facets, sort, detail on Enter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input
from textual.worker import get_current_worker

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.kpi.queue import QueueFigures
from mspkpi_tui.kpi.tickets import SORTS, TicketQuery, TicketRow
from mspkpi_tui.kpi.views import AGED, CUSTOM, View, aged_step, all_views
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.filter_box import FilterBox
from mspkpi_tui.tui.focus import focus_now
from mspkpi_tui.tui.loader import QueueData, QueueRequest, ViewNote, load_queue_ids, load_view_note
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.queue_filter import FilterCache, without_text
from mspkpi_tui.tui.ticket_table import TableHeader, TicketTable
from mspkpi_tui.tui.triage_keys import TRIAGE_BINDINGS, TriageKeys, marks_of
from mspkpi_tui.tui.widgets import Figure

READ_AHEAD = 600  # rows a filter keystroke's worker reads (~7 ms on the 1M database, 160 rows ~3 ms)


def rows_wanted(height: int) -> int:
    """The rows read with a filter's answer: three screens and a margin (scrolling reads more)."""
    return 3 * max(height, 24) + 40


class QueuePane(TriageKeys, Pane, Vertical):
    pane_id = "queue"
    title = "Queue"

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("v", "reverse", "Reverse sort", show=False, id="reverse-sort"),
        Binding("f", "facets", "Facets", id="facets"),
        Binding("x", "clear", "All open tickets", show=False, id="clear-filter"),
        Binding("R", "view('R')", "View: at risk", show=False, id="view-at-risk"),
        Binding("N", "view('N')", "View: new / unassigned", show=False, id="view-new"),
        Binding("Z", "view('Z')", "View: stale", show=False, id="view-stale"),
        Binding("W", "view('W')", "View: waiting on customer", show=False, id="view-waiting"),
        Binding("A", "view('A')", "View: aged (again: 2, 3+ weeks)", show=False, id="view-aged"),
        Binding("escape", "close_filter", "Close filter", show=False, id="close-filter"),
        *TRIAGE_BINDINGS,
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ticket_query = TicketQuery()
        self.shown_query: TicketQuery | None = None  # the query the table shows (a re-query may be in flight)
        self.figures: QueueFigures | None = None
        self.note: ViewNote | None = None  # the figures beside the view shown
        self.filter_cache = FilterCache()  # the filter as you type, from memory (per data version)

    def compose(self) -> ComposeResult:
        yield Figure(id="queue-summary")
        yield FilterBox(
            self._text_typed,
            placeholder="filter: number, title, company, assignee (Enter keeps, Esc clears)",
            id="queue-filter",
            compact=True,
        )
        yield Figure(id="queue-query")
        yield TableHeader(lambda: self.table, id="queue-header")
        yield TicketTable(fetch=self._fetch_rows, clock=lambda: self.app.now, id="queue-table")

    def on_mount(self) -> None:
        filter_box = self.query_one("#queue-filter", Input)
        filter_box.cursor_blink = False
        filter_box.display = False
        self._show_query_line()

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def _fetch_rows(self, ids) -> list[TicketRow]:
        return ticket_lists.rows_by_id(self.app.engine, ids)

    # --- data from a refresh ------------------------------------------------------------

    def show_data(self, data: QueueData) -> None:
        self.filter_cache.new_data(data.query, data.ids)
        self.figures = data.figures
        self.query_one("#queue-summary", Figure).show(self._summary(data))
        if data.query == self.ticket_query:
            self.table.show(data.ids, data.rows, keep_id=self.table.current_id)
            self.shown_query = data.query
            self.note = data.note
        self._show_query_line()

    def _summary(self, data: QueueData) -> Text:
        f = data.figures
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Open {f.open:,}", style="bold")
        text.append(f" · unassigned {f.unassigned:,} │ ")
        text.append(" · ".join(f"{fmt.clean(k)} {v:,}" for k, v in f.by_priority.items()) or "no open tickets")
        text.append("\nQueues: ")
        text.append(" · ".join(f"{fmt.clean(k)} {v:,}" for k, v in f.by_queue.items()) or "none")
        return text

    def _show_query_line(self) -> None:
        total = self.figures.open if self.figures is not None else None
        shown = len(self.table.ids)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{shown:,} of {fmt.count(total)}" if self.ticket_query.is_filtered else f"{shown:,} open")
        view = self.ticket_query.view
        if view is not None:
            text.append(" · view: ")
            text.append(fmt.clean(view.name), style="bold")
            text.append(self._note_text())
        text.append(f" · sort (s): {SORTS[self.ticket_query.sort]}")
        if self.ticket_query.descending:
            text.append(", reversed (v)", style="bold")
        if self.ticket_query.text.strip():
            text.append(" · filter: ")
            text.append(fmt.clean(self.ticket_query.text), style="bold")
        for name, value in self.ticket_query.facets:
            text.append(f" · {name}: ")
            text.append(fmt.clean(value), style="bold")
        if self.ticket_query.is_filtered:
            text.append(" · x clears")
        marks = marks_of(self)
        if marks is not None and len(marks):
            text.append(f" · {len(marks)} marked (M clears)", style="bold")
        self.query_one("#queue-query", Figure).show(text)

    def _note_text(self) -> str:
        note = self.note
        if note is None:
            return ""
        if note.aged is not None:
            a = note.aged
            return f" · >1w {a.over_1w:,} · >2w {a.over_2w:,} · >3w {a.over_3w:,}"
        median = note.triage_median_seconds
        return f" · median triage {fmt.duration(timedelta(seconds=median)) if median is not None else 'n/a'}"

    @on(TicketTable.LayoutChanged)
    def _header(self, event: TicketTable.LayoutChanged) -> None:
        self.query_one("#queue-header", TableHeader).refresh()

    # --- changing the query -------------------------------------------------------------

    def request(self) -> QueueRequest:
        """What a refresh should read for this pane (on the UI thread: workers never touch widgets)."""
        table = self.table
        return QueueRequest(self.ticket_query, table.current_id, table.cursor, table.size.height)

    def set_query(self, query: TicketQuery) -> None:
        if query != self.ticket_query:
            typed = query.text.strip() and without_text(query) == without_text(self.ticket_query)
            self.ticket_query = query
            self._show_query_line()
            if typed:  # the filter text changed, nothing else: answered from memory
                height, version = self.table.size.height, self.filter_cache.version
                known = self.filter_cache.answer_now(query, version, height, rows_wanted(height))
                if known is not None:  # every line on screen read already: no worker, one frame
                    self.workers.cancel_group(self, "queue")  # an earlier keystroke's answer is stale
                    self._requeried(query, *known, self.note, version)
                else:
                    self.filter_typed(query, height, version)
            else:
                self.requery(query, self.table.size.height, self.filter_cache.version)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def requery(self, query: TicketQuery, height: int, version: int) -> None:
        """A newer query cancels this one (exclusive): its result is dropped, the newest always shows."""
        app = self.app
        ids, rows = load_queue_ids(app.engine, app.now, query, None, 0, max(height, 24))
        note = load_view_note(app.engine, app.now, app.config, query.view)
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._requeried, query, ids, rows, note, version)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def filter_typed(self, query: TicketQuery, height: int, version: int) -> None:
        """A keystroke in the filter: the ids from memory (FilterCache), the rows on screen from the database."""
        app = self.app
        ids = self.filter_cache.filtered(app.engine, app.now, query, version)
        # Read further than the table wants: the next letter narrows this list, and its first
        # screen is then usually among these rows (answered from memory: FilterCache.answer_now).
        rows = ticket_lists.rows_by_id(app.engine, ids[: max(rows_wanted(height), READ_AHEAD)])
        self.filter_cache.keep_rows(rows, version)
        rows = rows[: rows_wanted(height)]
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._requeried, query, ids, rows, self.note, version)

    @work(thread=True, group="queue-index", exit_on_error=False)
    def _warm_filter(self, query: TicketQuery, version: int) -> None:
        """The filter box opened: read the search index and the base list before the first letter."""
        self.filter_cache.filtered(self.app.engine, self.app.now, without_text(query), version)

    def _requeried(
        self, query: TicketQuery, ids: list[int], rows: list[TicketRow], note: ViewNote | None, version: int
    ) -> None:
        self.filter_cache.shown(query, ids, version)
        if query == self.ticket_query:
            self.table.show(ids, rows)
            self.shown_query = query
            self.note = note
            self.table.cursor = 0
            self._show_query_line()

    def repaint_marks(self) -> None:
        self.table.refresh()
        self._show_query_line()

    def move_down(self) -> None:
        self.table.action_cursor_down()

    def views(self) -> list[View]:
        return all_views(self.app.config)

    def action_view(self, key: str) -> None:
        """Show a triage view (kpi/views.py): a saved filter in place of the current one.
        The aged view steps on (1, 2, 3+ weeks) when its key is pressed again."""
        view = next((v for v in self.views() if v.key == key), None)
        if view is None:
            return
        current = self.ticket_query.view
        if view.kind == AGED and current is not None and current.kind == AGED:
            view = aged_step(current)
        box = self.query_one("#queue-filter", FilterBox)
        box.set_quietly(view.text)
        box.display = bool(view.text)
        self.note = None
        self.set_query(TicketQuery(view.text, view.facets, view.sort, view=view))
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        """The keys of the user's own views ([[views.custom]]: the config refuses a bound key)."""
        if isinstance(self.app.focused, Input) or event.character is None:
            return
        if any(v.key == event.character and v.kind == CUSTOM for v in self.views()):
            event.stop()
            self.action_view(event.character)

    def action_filter(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.display = True
        box.focus()
        self._warm_filter(self.ticket_query, self.filter_cache.version)

    def _text_typed(self, text: str) -> None:
        """The filter box's text changed: called by the box in the key's handler (not through
        Input.Changed, a frame later), so the box, the query line and the table change together."""
        self.set_query(replace(self.ticket_query, text=text))

    @on(Input.Submitted, "#queue-filter")
    def _submitted(self) -> None:
        box = self.query_one("#queue-filter", Input)
        box.display = bool(box.value.strip())
        self.table.focus()

    def action_close_filter(self) -> None:
        """Esc in the filter box: clear the text and go back to the table."""
        box = self.query_one("#queue-filter", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.table.focus()

    def action_sort(self) -> None:
        self.set_query(self.ticket_query.next_sort())

    def action_reverse(self) -> None:
        self.set_query(self.ticket_query.reversed())

    def action_clear(self) -> None:
        box = self.query_one("#queue-filter", FilterBox)
        box.set_quietly("")
        box.display = False
        self.note = None
        if self.ticket_query.view is None:
            self.set_query(TicketQuery(sort=self.ticket_query.sort, descending=self.ticket_query.descending))
        else:
            self.set_query(TicketQuery())

    def action_facets(self) -> None:
        from mspkpi_tui.tui.screens import FacetScreen

        self.app.push_screen(FacetScreen(self.ticket_query), self._facet_chosen)

    def _facet_chosen(self, choice: tuple[str, str | None] | None) -> None:
        if choice is not None:
            name, value = choice
            self.set_query(self.ticket_query.with_facet(name, value))

    # --- for the app -------------------------------------------------------------------------

    @classmethod
    def key_help(cls) -> list[tuple[str, list[BindingType], list[tuple[str, str]]]]:
        return [
            ("", [*cls.BINDINGS, *TicketTable.BINDINGS], []),
            ("Filter box", [], [("Enter", "Keep the filter and go back to the table"), ("Esc", "Clear the filter")]),
            ("Triage views", [], [("R N Z W A", "At risk, new, stale, waiting, aged; x: all open")]),
        ]

    def current_ticket(self) -> TicketRow | None:
        return self.table.current_row()

    def focus_main(self) -> None:
        focus_now(self.table)

    def tick(self) -> None:
        self.table.tick()
