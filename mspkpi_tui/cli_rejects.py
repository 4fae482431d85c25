"""`mspkpi rejects`: the records the syncs and imports could not store, newest first, each
with where it came from and why (the status line says how many the last run rejected)."""

from __future__ import annotations

import typer

from mspkpi_tui.safe_text import clean


def rejects(
    ctx: typer.Context,
    source: str | None = typer.Option(None, "--source", metavar="S", help="Only this source (e.g. autotask, demo)."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, metavar="N", help="At most N, newest first."),
) -> None:
    """List rejected records with their reasons, newest first."""
    from mspkpi_tui.kpi.rejects import list_rejects

    context = ctx.find_root().obj
    found = list_rejects(context.engine(create=False), source=source or None, limit=limit)
    if not found:
        typer.echo("no rejected records" + (f" from {clean(source)}" if source else ""))
        return
    for r in found:
        line = f"{r.created_at:%Y-%m-%d %H:%M} {r.source} {r.entity} {r.location}: {r.reason}"
        typer.echo(clean(line))  # PSA text (the reason quotes it) never reaches the terminal raw


def register(app: typer.Typer) -> None:
    app.command("rejects")(rejects)
