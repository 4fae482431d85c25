"""The triage keys of a ticket list, and the marks they act on (their screens and sending
live in tui/triage.py, loaded on first use).

Marks and pending changes belong to the app, not to one list: a ticket marked in the Queue
is marked in the SLA list too, and an action applies to every marked ticket.
"""

from __future__ import annotations

from textual.binding import Binding

from mspkpi_tui.kpi.tickets import TicketRow

TRIAGE_BINDINGS = [
    Binding("a", "triage('assign')", "Assign", show=False, id="triage-assign"),
    Binding("t", "triage('take')", "Take", show=False, id="triage-take"),
    Binding("S", "triage('status')", "Status", show=False, id="triage-status"),
    Binding("P", "triage('priority')", "Priority", show=False, id="triage-priority"),
    Binding("Q", "triage('queue')", "Queue / board", show=False, id="triage-queue"),
    Binding("e", "triage('escalate')", "Escalate", show=False, id="triage-escalate"),
    Binding("n", "triage('note')", "Note", show=False, id="triage-note"),
    Binding("u", "triage('undo')", "Undo", show=False, id="triage-undo"),
    Binding("space", "mark", "Mark / unmark (bulk)", show=False, id="triage-mark"),
    Binding("M", "clear_marks", "Clear marks", show=False, id="triage-clear-marks"),
]
MARK = "*"  # drawn before a marked ticket's number
PENDING = "…"  # drawn after a value the PSA has not confirmed yet


class Marks:
    """The marked tickets (id -> number), in the order they were marked."""

    def __init__(self) -> None:
        self._marked: dict[int, str] = {}

    def toggle(self, ticket: TicketRow) -> bool:
        """Mark or unmark; True when the ticket is marked now."""
        if self._marked.pop(ticket.id, None) is None:
            self._marked[ticket.id] = ticket.number
            return True
        return False

    def clear(self) -> None:
        self._marked.clear()

    def numbers(self) -> list[str]:
        return list(self._marked.values())

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._marked

    def __len__(self) -> int:
        return len(self._marked)


class Pending:
    """Changes sent but not yet confirmed, by ticket number: the lists show them at once."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, str]] = {}

    def add(self, number: str, values: dict[str, str]) -> None:
        self._values.setdefault(number, {}).update(values)

    def drop(self, number: str) -> None:
        self._values.pop(number, None)

    def of(self, number: str) -> dict[str, str]:
        return self._values.get(number, {})

    def __len__(self) -> int:
        return len(self._values)


def marks_of(widget) -> Marks | None:
    return getattr(widget.app, "marks", None)


def pending_of(widget) -> Pending | None:
    return getattr(widget.app, "pending", None)


class TriageKeys:
    """Mixed into a pane that lists tickets: the triage keys act on the marked tickets, or on
    the ticket under the cursor when none is marked."""

    def current_ticket(self) -> TicketRow | None:
        return None  # the pane's own

    def repaint_marks(self) -> None:
        """The marks or pending changes changed: redraw the rows (from memory)."""

    def move_down(self) -> None:
        """After a mark, the cursor goes to the next row (mark several with space, space ...)."""

    def action_mark(self) -> None:
        marks = marks_of(self)  # type: ignore[arg-type]
        row = self.current_ticket()
        if marks is None or row is None:
            return
        marks.toggle(row)
        repaint_all(self.app)  # type: ignore[attr-defined]
        self.move_down()

    def action_clear_marks(self) -> None:
        marks = marks_of(self)  # type: ignore[arg-type]
        if marks is not None and len(marks):
            marks.clear()
            repaint_all(self.app)  # type: ignore[attr-defined]
            self.app.notify("marks cleared", timeout=2)  # type: ignore[attr-defined]

    def action_triage(self, what: str) -> None:
        """Act on the marked tickets, or the one under the cursor (tui/triage.py)."""
        from mspkpi_tui.tui import triage

        marks = marks_of(self)  # type: ignore[arg-type]
        numbers = marks.numbers() if marks is not None and len(marks) else []
        if not numbers and what != "undo":
            row = self.current_ticket()
            if row is None:
                self.app.notify("no ticket under the cursor", severity="warning")  # type: ignore[attr-defined]
                return
            numbers = [row.number]
        triage.start(self.app, numbers, what, self.app.action_refresh)  # type: ignore[attr-defined]


def repaint_all(app) -> None:
    """Every mounted ticket list redraws its marks and pending values: the pane on screen at
    once, the others after the screen has been refreshed (a list rebuilds its rows, which
    would delay the change the lead is looking at)."""
    screen = app.screen
    if isinstance(screen, TriageKeys):  # a screen listing tickets (the company page) is on top
        screen.repaint_marks()
    active = app.active_pane_id
    for pane in app.mounted_panes():
        if isinstance(pane, TriageKeys):
            if pane.pane_id == active:  # type: ignore[attr-defined]
                pane.repaint_marks()
            else:
                app.call_after_refresh(pane.repaint_marks)
