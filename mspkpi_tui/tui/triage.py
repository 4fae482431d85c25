"""Triage keys on a ticket list: pick a value, write a note, and send it in a worker.

The screens only collect what the lead wants; `send_in_worker` hands it to
mspkpi_tui.actions (log first, then send) on a thread, so the UI never waits on the
network. The result arrives as a notification and a refresh, so every pane shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from mspkpi_tui import actions
from mspkpi_tui.actions.choices import choices_for
from mspkpi_tui.actions.request import READONLY_MESSAGE
from mspkpi_tui.tui.triage_keys import TRIAGE_BINDINGS  # noqa: F401  (re-exported)

LAST_ACTION = "_triage_last_action"  # the app attribute holding this session's last done change


class PickerScreen(ModalScreen[str | None]):
    """A list of the PSA's values (or technicians), filtered as you type; Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, values: list[str], labels: dict[str, str] | None = None) -> None:
        super().__init__()
        self.title_text, self.values = title, values
        self.labels = labels or {}  # value -> what the list shows (the assign picker: name and load)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(self.title_text)
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(*[Option(self.labels.get(v, v), id=v) for v in self.values], id="picker-list")

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        wanted = event.value.casefold()
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self.labels.get(v, v), id=v) for v in self.values if wanted in v.casefold()])
        options.highlighted = 0 if options.option_count else None

    @on(Input.Submitted, "#picker-filter")
    def _pick_highlighted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class NoteScreen(ModalScreen[str | None]):
    """A multi-line internal note; Ctrl+S sends, Esc cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "Send note"), Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical(id="note"):
            yield Label(f"Internal note on {self.number} (never shown to the customer). Ctrl+S sends, Esc cancels.")
            yield TextArea(id="note-text")

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(text if text.strip() else None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def start(app: App, number: str, what: str, on_done: Callable[[], None]) -> None:
    """Ask for what is needed (a picker, a note) and send the action in a worker."""
    config = app.config  # type: ignore[attr-defined]
    if config.tui.readonly:
        app.notify(READONLY_MESSAGE, severity="warning")
        return
    if what == "undo":
        last = getattr(app, LAST_ACTION, None)
        if last is None:
            app.notify("nothing to undo in this session", severity="warning")
        else:
            send_in_worker(app, None, on_done, undo_of=last)
        return
    if what in ("take", "escalate"):
        request = actions.TicketRequest(number, assign="me" if what == "take" else None, escalate=what == "escalate")
        send_in_worker(app, request, on_done)
        return
    if what == "note":

        def noted(text: str | None) -> None:
            if text:
                send_in_worker(app, actions.TicketRequest(number, note=text), on_done)

        app.push_screen(NoteScreen(number), noted)
        return
    values = choices_for(app.engine, number, what)  # type: ignore[attr-defined]
    labels: dict[str, str] = {}
    if what == "assign":
        values, labels = by_dispatch(app, values)

    def chosen(value: str | None) -> None:
        if value:
            request = actions.TicketRequest(number)
            if what == "assign":
                request.assign = value
            elif what == "status":
                request.status = value
            else:
                request.priority = value
            send_in_worker(app, request, on_done)

    app.push_screen(PickerScreen(f"{what.capitalize()} {number}", values, labels), chosen)


def by_dispatch(app: App, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Technicians in the Dispatch now order (kpi/dispatch.py), each with their load beside the name."""
    from mspkpi_tui.kpi.dispatch import dispatch_now
    from mspkpi_tui.safe_text import clean

    team = dispatch_now(app.engine, app.now, app.config)  # type: ignore[attr-defined]
    rank = {t.name: n for n, t in enumerate(team)}
    ordered = sorted(names, key=lambda name: rank.get(name, len(rank)))
    labels = {
        t.name: clean(
            f"{t.name}  · {t.open_assigned} open, {t.at_risk} at risk, {t.hours_today:g}/{t.day_hours:g} h today"
            + (" · off today" if t.time_off_today else "")
        )
        for t in team
    }
    return ordered, labels


def send_in_worker(
    app: App, request: actions.TicketRequest | None, on_done: Callable[[], None], undo_of: int | None = None
) -> None:
    """Log and send on a thread; `undo_of` sends the inverse of that action instead of `request`."""
    engine, config = app.engine, app.config  # type: ignore[attr-defined]
    actor = config.me or "tui"

    def work() -> None:
        try:
            if undo_of is not None:
                entries = [actions.undo(engine, config, undo_of, readonly=False, actor=actor)]
            else:
                assert request is not None
                entries = actions.submit(engine, config, request, readonly=False, actor=actor)
            app.call_from_thread(app.notify, f"{entries[0].ticket_number}: sending…", timeout=2)
            outcomes = [actions.send(engine, config, entry.id) for entry in entries if entry.id is not None]
        except actions.ActionError as exc:
            app.call_from_thread(app.notify, str(exc), severity="error")
            return
        changes = [e.id for e, o in zip(entries, outcomes) if o.state == "done" and e.kind != "note"]
        if changes:
            setattr(app, LAST_ACTION, changes[-1])
        for outcome in outcomes:
            severity = "information" if outcome.state == "done" else "error"
            message = f"{outcome.ticket_number}: {outcome.state}: {outcome.message}"
            app.call_from_thread(app.notify, message, severity=severity, timeout=8)
        app.call_from_thread(on_done)

    app.run_worker(work, thread=True, group="triage", exit_on_error=False)
