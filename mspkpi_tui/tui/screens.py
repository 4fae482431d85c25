"""The screens over the panes: ticket detail, help, facet picker, and the empty database."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from mspkpi_tui.kpi import tickets as ticket_lists
from mspkpi_tui.kpi.tickets import FACETS, TicketDetail, TicketQuery, TicketRow
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.footer import KeyBar
from mspkpi_tui.tui.status_line import StatusLine
from mspkpi_tui.tui.widgets import Figure, Table

if TYPE_CHECKING:
    from mspkpi_tui.tui.app import MspkpiApp


class DetailScreen(Screen):
    """One ticket: every field, the PSA URL (a jump host has no browser), the description, the
    last notes and time entries with their authors (newest first), and the events."""

    if TYPE_CHECKING:
        app: MspkpiApp  # for the type checker: engine, config, now of the mspkpi app

    BINDINGS = [
        Binding("escape", "close", "Close", id="close-detail"),
        Binding("j,down", "scroll('down')", "Scroll down", show=False, id="detail-down"),
        Binding("k,up", "scroll('up')", "Scroll up", show=False, id="detail-up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="detail-top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="detail-bottom"),
        Binding("pageup", "scroll('pageup')", "Page up", show=False, id="detail-page-up"),
        Binding("pagedown", "scroll('pagedown')", "Page down", show=False, id="detail-page-down"),
    ]

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.detail: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        yield Figure(id="detail-title")
        with VerticalScroll(id="detail-body"):
            # What a lead reads first fits the first screen at 80x24: who, when, what was said.
            yield Figure(id="detail-glance")
            yield Figure(id="detail-description-title", classes="section")
            yield Figure(id="detail-description")
            yield Figure(id="detail-notes-title", classes="section")
            yield Figure(id="detail-notes")
            yield Figure(id="detail-fields-title", classes="section")
            yield Figure(id="detail-fields")
            yield Figure(id="detail-entries-title", classes="section")
            yield Table(("Started", "Technician", "Hours", "Billable", "Category"), id="detail-entries")
            yield Figure(id="detail-events-title", classes="section")
            yield Table(("When", "Field", "From", "To"), id="detail-events")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.show_status_on(self)
        self.query_one("#detail-body").focus()
        self.reload()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def reload(self) -> None:
        detail = ticket_lists.ticket_detail(self.app.engine, self.ticket_id)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, detail)

    def _show(self, detail: TicketDetail | None) -> None:
        self.detail = detail
        zone = self.app.config.zone
        if detail is None:
            self.query_one("#detail-title", Figure).show(
                Text("This ticket is no longer in the database (deleted at the source).", style="bold")
            )
            return
        row = detail.row
        title = Text(no_wrap=True, overflow="ellipsis", style="bold")
        title.append(fmt.clean(row.number))
        title.append("  ")
        title.append(fmt.clean(row.title))
        self.query_one("#detail-title", Figure).show(title)
        glance = field_lines([(label, value) for label, value in detail.fields if label in GLANCE])
        countdown, overdue = fmt.countdown(row.countdown(self.app.now))
        glance.append(f"\n{'Next due in:':<20}", style="bold")
        glance.append(countdown + ("  OVERDUE" if overdue else ""), style="bold" if overdue else "")
        self.query_one("#detail-glance", Figure).show(glance)
        self.query_one("#detail-fields-title", Figure).show(Text("Every field", style="bold"))
        self.query_one("#detail-fields", Figure).show(field_lines(detail.fields))
        self.query_one("#detail-description-title", Figure).show(Text("Description", style="bold"))
        self.query_one("#detail-description", Figure).show(
            fmt.paragraphs(detail.description, DESCRIPTION_LINES, DESCRIPTION_CHARS)
            if detail.description and detail.description.strip()
            else Text("(none stored)", style="dim")
        )
        shown = len(detail.notes)
        more = f", the last {shown} shown" if detail.notes_total > shown else ""
        self.query_one("#detail-notes-title", Figure).show(
            Text(f"Notes: {detail.notes_total}{more} · newest first", style="bold")
        )
        self.query_one("#detail-notes", Figure).show(notes_text(detail, zone))
        self.query_one("#detail-entries-title", Figure).show(
            Text(
                f"Time entries: {len(detail.time_entries)} ({fmt.hours(detail.hours)} h) · newest first",
                style="bold",
            )
        )
        self.query_one("#detail-entries", Table).show_rows(
            [
                (
                    i,
                    (
                        Text(fmt.stamp(e.started_at, zone)),
                        fmt.plain(e.resource or ""),
                        Text(fmt.hours(e.hours), justify="right"),
                        Text("yes" if e.billable else "no"),
                        fmt.plain(e.category or ""),
                    ),
                )
                for i, e in enumerate(detail.time_entries)
            ]
        )
        self.query_one("#detail-events-title", Figure).show(Text(f"Events: {len(detail.events)}", style="bold"))
        self.query_one("#detail-events", Table).show_rows(
            [
                (
                    i,
                    (
                        Text(fmt.stamp(e.at, zone)),
                        fmt.plain(e.field),
                        fmt.plain(e.old_value or ""),
                        fmt.plain(e.new_value or ""),
                    ),
                )
                for i, e in enumerate(detail.events)
            ]
        )

    def action_scroll(self, direction: str) -> None:
        scroll(self.query_one("#detail-body", VerticalScroll), direction)

    def action_close(self) -> None:
        self.dismiss()

    def current_ticket(self) -> TicketRow | None:
        return self.detail.row if self.detail else None


# The fields shown above the description (all of them are listed again below the notes).
GLANCE = ("Company", "Requester", "Assignee", "Status", "Priority", "Queue")


def field_lines(fields: list[tuple[str, str]]) -> Text:
    """'Label:   value' lines, the labels aligned; values sanitised."""
    text = Text()
    for i, (label, value) in enumerate(fields):
        if i:
            text.append("\n")
        text.append(f"{label + ':':<20}", style="bold")
        text.append(fmt.clean(value))
    return text


DESCRIPTION_LINES, DESCRIPTION_CHARS = 15, 1500  # the detail's share of a description
NOTE_LINES, NOTE_CHARS = 6, 600  # and of each note: enough to follow the thread at 80x24


def notes_text(detail: TicketDetail, zone: tzinfo) -> Text:
    """The notes as a block to read: per note a line with when, who and what kind, then its
    body indented and bounded; every PSA string sanitised (safe_text, via tui.text)."""
    if not detail.notes:
        return Text("(none stored)", style="dim")
    text = Text()
    for i, note in enumerate(detail.notes):
        if i:
            text.append("\n\n")
        text.append(fmt.stamp(note.created_at, zone), style="bold")
        text.append("  ")
        text.append(fmt.clean(note.author) if note.author else "(author unknown)", style="bold")
        if note.kind:
            text.append(" · " + fmt.clean(note.kind))
        if note.internal:
            text.append(" · internal", style="italic")
        text.append("\n  ")
        text.append_text(indent(fmt.paragraphs(note.body, NOTE_LINES, NOTE_CHARS), "  "))
    return text


def indent(text: Text, prefix: str) -> Text:
    """Every line of `text` after its first starts with `prefix` too (Text.pad_left pads the first only)."""
    lines = text.split("\n", include_separator=False)
    out = Text()
    for i, line in enumerate(lines):
        if i:
            out.append("\n" + prefix)
        out.append_text(line)
    return out


def scroll(view: VerticalScroll, direction: str) -> None:
    """The list keys on a scrolled view (the detail, the help): a line, a page, either end."""
    if direction in ("down", "up"):
        view.scroll_relative(y=1 if direction == "down" else -1, animate=False)
    elif direction == "home":
        view.scroll_home(animate=False)
    elif direction == "end":
        view.scroll_end(animate=False)
    elif direction == "pageup":
        view.scroll_page_up(animate=False)
    else:
        view.scroll_page_down(animate=False)


class HelpScreen(ModalScreen):
    """Every key, generated from the bindings (with the config's keymap applied)."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close-help"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
        Binding("j,down", "scroll('down')", "Scroll down", show=False, id="help-down"),
        Binding("k,up", "scroll('up')", "Scroll up", show=False, id="help-up"),
        Binding("g,home", "scroll('home')", "Top", show=False, id="help-top"),
        Binding("G,end", "scroll('end')", "Bottom", show=False, id="help-bottom"),
        Binding("pageup", "scroll('pageup')", "Page up", show=False, id="help-page-up"),
        Binding("pagedown", "scroll('pagedown')", "Page down", show=False, id="help-page-down"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 84; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys (Esc closes; remap them with [tui.keymap] in the config, by binding id)\n", style="bold")
        keys_width = max(8, min(22, self.app.size.width // 4))  # narrow terminals keep room for the words
        for title, rows in self.sections:
            text.append(f"\n{title}\n", style="bold underline")
            for keys, description in rows:
                text.append(f"  {keys:<{keys_width}}", style="bold")
                text.append(f"{description}\n")
        with VerticalScroll(id="help-body"):
            yield Figure(text, id="help-text")

    def action_scroll(self, direction: str) -> None:
        scroll(self.query_one("#help-body", VerticalScroll), direction)


class FacetScreen(ModalScreen):
    """Pick one value of a facet (queue, assignee, company, priority, status), or clear one."""

    if TYPE_CHECKING:
        app: MspkpiApp  # for the type checker: engine, config, now of the mspkpi app

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close-facets"),
        Binding("j", "move('cursor_down')", "Down", show=False, id="facets-down"),
        Binding("k", "move('cursor_up')", "Up", show=False, id="facets-up"),
        Binding("g", "move('first')", "First", show=False, id="facets-first"),
        Binding("G", "move('last')", "Last", show=False, id="facets-last"),
        Binding("pageup", "move('page_up')", "Page up", show=False, priority=True, id="facets-page-up"),
        Binding("pagedown", "move('page_down')", "Page down", show=False, priority=True, id="facets-page-down"),
    ]
    DEFAULT_CSS = """
    FacetScreen { align: center middle; }
    FacetScreen > Vertical { width: 90%; max-width: 70; height: 90%; border: round $accent; background: $surface; }
    """

    def __init__(self, query: TicketQuery) -> None:
        super().__init__()
        self.ticket_query = query

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Figure(Text("Facets: Enter picks, Esc closes", style="bold"))
            yield OptionList(id="facet-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        values = ticket_lists.facet_values(self.app.engine)
        self.app.call_from_thread(self._fill, values)

    def _fill(self, values: dict[str, list[tuple[str, int]]]) -> None:
        options: list[Option | None] = []
        for name in FACETS:
            chosen = self.ticket_query.facet(name)
            options.append(Option(Text(f"{name.title()}", style="bold"), disabled=True))
            options.append(Option(Text(f"  any {name}" + ("  (current)" if chosen is None else "")), id=f"{name}\0"))
            for value, n in values.get(name, []):
                label = Text("  ")
                label.append(fmt.clean(value))
                label.append(f"  {n:,}" + ("  (current)" if value == chosen else ""), style="dim")
                options.append(Option(label, id=f"{name}\0{value}"))
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        option_list.add_options(options)
        option_list.highlighted = 1

    def action_move(self, action: str) -> None:
        """j/k/g/G/PageUp/PageDown beside the OptionList's own arrows and Home/End. A page up
        that lands on the first heading (not an option) leaves nothing highlighted in Textual's
        OptionList: the first option is highlighted then, so the cursor is never lost."""
        options = self.query_one(OptionList)
        getattr(options, f"action_{action}")()
        if options.highlighted is None:
            options.action_first()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        name, _, value = (event.option.id or "").partition("\0")
        self.dismiss((name, value or None))


class EmptyScreen(Screen):
    """Shown instead of empty tables while the database holds no tickets."""

    if TYPE_CHECKING:
        app: MspkpiApp  # for the type checker: engine, config, now of the mspkpi app

    BINDINGS = [
        Binding("q", "app.quit", "Quit", id="empty-quit"),
        Binding("r", "app.refresh", "Check again", id="empty-refresh"),
    ]

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("No tickets in the database yet.\n\n", style="bold")
        text.append("Database: ")
        text.append(fmt.clean(self.where))
        text.append("\n\nFill it with one of:\n\n")
        for command, what in [
            ("mspkpi demo", "import the demo MSP (its own database) and open it"),
            ("mspkpi sync file FOLDER", "import a folder of .jsonl files (docs/import-format.md)"),
            ("mspkpi sync autotask", "sync from Autotask ([autotask] in the config)"),
            ("mspkpi sync connectwise", "sync from ConnectWise ([connectwise] in the config)"),
        ]:
            text.append(f"  {command:<26}", style="bold")
            text.append(f"{what}\n")
        text.append(
            "\nRun the sync in another terminal; this screen switches to the dashboard by itself when data arrives."
        )
        with VerticalScroll(id="empty-body"):
            yield Figure(text, id="empty-text")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.show_status_on(self)
