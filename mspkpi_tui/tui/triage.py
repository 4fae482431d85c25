"""Triage keys on a ticket list: pick a value, write a note, and send it in a worker.

The screens only collect what the lead wants; `send_in_worker` hands it to
mspkpi_tui.actions (log first, then send) on a thread, so the UI never waits on the
network. The lists show the change at once as pending (tui/triage_keys.Pending); the
result arrives as one notification naming which tickets succeeded and which did not,
and a refresh, so every pane shows the PSA's answer.

An action applies to every marked ticket (space marks), each on its own: one ticket's
conflict or refusal does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from mspkpi_tui import actions
from mspkpi_tui.actions.choices import choices_for
from mspkpi_tui.actions.request import READONLY_MESSAGE
from mspkpi_tui.tui.triage_keys import TRIAGE_BINDINGS, repaint_all  # noqa: F401  (re-exported)

LAST_ACTION = "_triage_last_action"  # the app attribute holding this session's last done changes (ids)
FIELD_OF = {"assign": "assignee", "status": "status", "priority": "priority", "queue": "queue"}


class PickerScreen(ModalScreen[str | None]):
    """A list of the PSA's values (or technicians), filtered as you type; Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, values: list[str], labels: dict[str, str] | None = None) -> None:
        super().__init__()
        self.title_text, self.values = title, values
        self.labels = labels or {}  # value -> what the list shows (the assign picker: name and load)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(self.title_text, markup=False)
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

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical(id="note"):
            yield Label(
                f"Internal note on {self.label} (never shown to the customer). Ctrl+S sends, Esc cancels.",
                markup=False,
            )
            yield TextArea(id="note-text")

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(text if text.strip() else None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def _label(numbers: list[str]) -> str:
    return numbers[0] if len(numbers) == 1 else f"{len(numbers)} marked tickets"


def start(app: App, numbers: list[str], what: str, on_done: Callable[[], None]) -> None:
    """Ask for what is needed (a picker, a note) and send the action for each ticket in a worker."""
    config = app.config  # type: ignore[attr-defined]
    if config.tui.readonly:
        app.notify(READONLY_MESSAGE, severity="warning")
        return
    if what == "undo":
        last = getattr(app, LAST_ACTION, None)
        if not last:
            app.notify("nothing to undo in this session", severity="warning")
        else:
            send_in_worker(app, [], on_done, undo_of=list(last), verb="undo")
        return
    if what in ("take", "escalate"):
        requests = [
            actions.TicketRequest(n, assign="me" if what == "take" else None, escalate=what == "escalate")
            for n in numbers
        ]
        pending = {"assignee": str(config.me)} if what == "take" and config.me else {}
        send_in_worker(app, requests, on_done, verb=what, pending=pending)
        return
    if what == "note":

        def noted(text: str | None) -> None:
            if text:
                send_in_worker(app, [actions.TicketRequest(n, note=text) for n in numbers], on_done, verb="note")

        app.push_screen(NoteScreen(_label(numbers)), noted)
        return
    try:
        values = choices_for(app.engine, numbers[0], what)  # type: ignore[attr-defined]
    except actions.ActionError as exc:
        app.notify(str(exc), severity="error", markup=False)
        return
    title = {"queue": "Queue / board", "assign": "Assign"}.get(what, what.capitalize())
    labels: dict[str, str] = {}
    if what == "assign":
        values, labels = by_dispatch(app, values)

    def chosen(value: str | None) -> None:
        if not value:
            return
        if what == "queue" and _board_needs_status(app, numbers[0]):
            _ask_board_status(app, numbers, value, on_done)
            return
        requests = [_request(n, what, value) for n in numbers]
        send_in_worker(app, requests, on_done, verb=f"{title} {value}", pending={FIELD_OF[what]: value})

    app.push_screen(PickerScreen(f"{title}: {_label(numbers)}", values, labels), chosen)


def _request(number: str, what: str, value: str) -> actions.TicketRequest:
    request = actions.TicketRequest(number)
    setattr(request, what, value)  # assign, status, priority or queue: the request's own fields
    return request


def _board_needs_status(app: App, number: str) -> bool:
    """ConnectWise: a status belongs to a board, so a board move asks for one of the target's."""
    from mspkpi_tui.actions.picklists import scoped
    from mspkpi_tui.actions.request import find_ticket

    return scoped(find_ticket(app.engine, number).source, "status")  # type: ignore[attr-defined]


def _ask_board_status(app: App, numbers: list[str], board: str, on_done: Callable[[], None]) -> None:
    statuses = choices_for(app.engine, numbers[0], "status", board=board)  # type: ignore[attr-defined]

    def chosen(status: str | None) -> None:
        if status:
            requests = [actions.TicketRequest(n, queue=board, status=status) for n in numbers]
            verb = f"Board {board}, status {status}"
            send_in_worker(app, requests, on_done, verb=verb, pending={"queue": board, "status": status})

    app.push_screen(PickerScreen(f"Status on board {board}: {_label(numbers)}", statuses), chosen)


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
    app: App,
    requests: list[actions.TicketRequest],
    on_done: Callable[[], None],
    undo_of: list[int] | None = None,
    verb: str = "",
    pending: dict[str, str] | None = None,
) -> None:
    """Log and send on a thread, each ticket on its own; `undo_of` sends the inverses of those actions."""
    engine, config = app.engine, app.config  # type: ignore[attr-defined]
    actor = config.me or "tui"
    shown = getattr(app, "pending", None)
    numbers = [r.number for r in requests]
    if shown is not None and pending:
        for number in numbers:
            shown.add(number, pending)
        repaint_all(app)

    def one(request: actions.TicketRequest | None, undo_id: int | None) -> list[tuple[str, str, str, int | None]]:
        """(number, state, message, id of a done change) per action of one ticket."""
        try:
            if undo_id is not None:
                entries = [actions.undo(engine, config, undo_id, readonly=False, actor=actor)]
            else:
                assert request is not None
                entries = actions.submit(engine, config, request, readonly=False, actor=actor)
        except actions.ActionError as exc:
            number = request.number if request is not None else f"action {undo_id}"
            return [(number, "refused", str(exc), None)]
        results = []
        for entry in entries:
            assert entry.id is not None
            outcome = actions.send(engine, config, entry.id)
            done = entry.id if outcome.state == "done" and entry.kind != "note" else None
            results.append((outcome.ticket_number, outcome.state, outcome.message, done))
        return results

    def work() -> None:
        results = []
        jobs = [(None, i) for i in undo_of] if undo_of else [(r, None) for r in requests]
        for request, undo_id in jobs:
            results += one(request, undo_id)
        changes = [done for *_, done in results if done is not None]
        if changes:
            setattr(app, LAST_ACTION, changes)
        app.call_from_thread(_finished, app, numbers, results, verb, on_done)

    app.run_worker(work, thread=True, group="triage", exit_on_error=False)


def _finished(app: App, numbers: list[str], results: list, verb: str, on_done: Callable[[], None]) -> None:
    shown = getattr(app, "pending", None)
    if shown is not None:
        for number in numbers:
            shown.drop(number)
        repaint_all(app)
    app.notify(result_message(results, verb), severity=_severity(results), timeout=10, markup=False)
    on_done()


def result_message(results: list, verb: str) -> str:
    """One toast for the whole action: which tickets were done, and each failure with its reason."""
    if len(results) == 1:
        number, state, message, _ = results[0]
        return f"{number}: {state}: {message}"
    done = [number for number, state, *_ in results if state == "done"]
    lines = [f"{verb}: {len(done)} of {len(results)} done" + (f" ({', '.join(done)})" if done else "")]
    lines += [f"{number}: {state}: {message}" for number, state, message, _ in results if state != "done"]
    return " · ".join(lines)  # one line: toasts pass the sanitiser, which shows a newline as a symbol


def _severity(results: list) -> SeverityLevel:
    return "information" if all(state == "done" for _, state, *_ in results) else "error"
