"""The triage keys of a ticket list (their actions live in tui/triage.py, loaded on first use)."""

from textual.binding import Binding

TRIAGE_BINDINGS = [
    Binding("a", "triage('assign')", "Assign", show=False, id="triage-assign"),
    Binding("t", "triage('take')", "Take", show=False, id="triage-take"),
    Binding("S", "triage('status')", "Status", show=False, id="triage-status"),
    Binding("P", "triage('priority')", "Priority", show=False, id="triage-priority"),
    Binding("e", "triage('escalate')", "Escalate", show=False, id="triage-escalate"),
    Binding("n", "triage('note')", "Note", show=False, id="triage-note"),
    Binding("u", "triage('undo')", "Undo", show=False, id="triage-undo"),
]
