"""`mspkpi ticket` and `mspkpi actions`: triage from the command line, through mspkpi_tui.actions.

Every change is logged first and then sent at once; the exit status is 0 only when the PSA
confirmed every part, and each failure is one line naming the ticket and what failed.
"""

from __future__ import annotations

import getpass
import sys

import typer

actions_app = typer.Typer(
    help="The action log: what was sent to the PSA, what is queued, what failed.",
    invoke_without_command=True,
    rich_markup_mode=None,
)


def _context(ctx: typer.Context):
    return ctx.find_root().obj


def _actor(config) -> str:
    return config.me or getpass.getuser()


def ticket(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The ticket number, as the PSA shows it."),
    assign: str | None = typer.Option(
        None, "--assign", metavar="NAME|me", help="Assign to a technician (e-mail or name)."
    ),
    status: str | None = typer.Option(None, "--status", metavar="NAME", help="Set the status (the PSA's label)."),
    priority: str | None = typer.Option(None, "--priority", metavar="NAME", help="Set the priority."),
    queue: str | None = typer.Option(None, "--queue", metavar="NAME", help="Move to a queue (ConnectWise: board)."),
    escalate: bool = typer.Option(False, "--escalate", help="Apply the escalation the [escalation] config defines."),
    note: str | None = typer.Option(None, "--note", metavar="TEXT|-", help="Add an internal note ('-': read stdin)."),
) -> None:
    """Change a ticket in its PSA (safely: see docs/triage.md). Exit 0 when the PSA confirmed it."""
    from mspkpi_tui import actions

    context = _context(ctx)
    if note == "-":
        note = sys.stdin.read()
    request = actions.TicketRequest(number, assign, status, priority, queue, escalate, note)
    engine, config = context.engine(), context.config
    entries = actions.submit(engine, config, request, readonly=context.readonly, actor=_actor(config))
    outcomes = [actions.send(engine, config, _id(entry)) for entry in entries]
    _report(outcomes)


def _id(entry) -> int:
    assert entry.id is not None  # a logged row always has its id
    return int(entry.id)


def _report(outcomes) -> None:
    failed = False
    for outcome in outcomes:
        line = f"ticket {outcome.ticket_number} (action {outcome.action_id}): {outcome.state}: {outcome.message}"
        if outcome.state == "done":
            typer.echo(line)
        else:
            failed = True
            typer.echo(f"mspkpi: {line}", err=True)
    if failed:
        raise typer.Exit(1)


@actions_app.callback()
def actions_list(
    ctx: typer.Context,
    state: list[str] = typer.Option(
        [], "--state", help="Only these states (repeatable): queued, sending, done, conflict, failed, cancelled."
    ),
) -> None:
    """With no command: list the action log, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from mspkpi_tui.actions import list_actions

    context = _context(ctx)
    entries = list_actions(context.engine(), state or None)
    if not entries:
        typer.echo("no actions" + (f" in state {', '.join(state)}" if state else ""))
        return
    for e in entries:
        what = "note" if e.kind == "note" else ", ".join(f"{f} {e.seen.get(f)!s} -> {v!s}" for f, v in e.new.items())
        when = e.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{e.id:>5}  {e.state:<9} {e.ticket_number:<18} {e.kind:<8} {what}  [{e.actor}, {when}]")
        if e.answer:
            typer.echo(f"       {e.answer}")


@actions_app.command("retry")
def actions_retry(ctx: typer.Context, action_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Send a conflicted, failed or cancelled action again (after a conflict: over the PSA's new values)."""
    from mspkpi_tui import actions
    from mspkpi_tui.actions.outbox import get
    from mspkpi_tui.actions.request import READONLY_MESSAGE
    from mspkpi_tui.actions.sender import current_values

    context = _context(ctx)
    engine, config = context.engine(), context.config
    if context.readonly or config.tui.readonly:
        raise actions.ReadOnly(READONLY_MESSAGE)
    entry = get(engine, action_id)
    # After a conflict the lead re-applies knowingly: what the PSA has now becomes what was seen.
    seen = current_values(engine, config, action_id) if entry.state == "conflict" else None
    actions.retry(engine, action_id, seen)
    _report([actions.send(engine, config, action_id)])


@actions_app.command("undo")
def actions_undo(ctx: typer.Context, action_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Send the inverse of a done change (a conflict if the ticket changed since)."""
    from mspkpi_tui import actions

    context = _context(ctx)
    engine, config = context.engine(), context.config
    entry = actions.undo(engine, config, action_id, readonly=context.readonly, actor=_actor(config))
    _report([actions.send(engine, config, _id(entry))])


@actions_app.command("cancel")
def actions_cancel(ctx: typer.Context, action_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Drop a queued, conflicted or failed action: it will not be sent."""
    from mspkpi_tui.actions import cancel

    entry = cancel(_context(ctx).engine(), action_id)
    typer.echo(f"action {entry.id} on ticket {entry.ticket_number}: cancelled")


def send_queued_before_sync(context, source: str, echo) -> None:
    """`mspkpi sync NAME` first sends what is still queued for that PSA (none in read-only mode)."""
    from mspkpi_tui.actions import send_queued
    from mspkpi_tui.actions.outbox import pending_ids

    engine = context.engine()
    if context.readonly or context.config.tui.readonly:
        waiting = len(pending_ids(engine, source))
        if waiting:
            echo(f"read-only mode: {waiting} queued action(s) for {source} not sent")
        return
    for outcome in send_queued(engine, context.config, source):
        echo(f"ticket {outcome.ticket_number} (action {outcome.action_id}): {outcome.state}: {outcome.message}")


def register(app: typer.Typer) -> None:
    app.command("ticket")(ticket)
    app.add_typer(actions_app, name="actions")
