"""The `mspkpi` commands: argument parsing and wiring only (typer).

mspkpi_tui.cli.main is the entry point; it builds this command tree only when a command (or
--help, or anything but the dashboard's global options) is given. Heavy modules (Textual,
pandas, the connectors) are imported inside the commands that need them, so `mspkpi --help`
and `mspkpi kpi` start fast.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from mspkpi_tui.cli import Context, _open_tui, _printable
from mspkpi_tui.cli_actions import register as register_triage
from mspkpi_tui.cli_rejects import register as register_rejects
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.safe_text import clean

app = typer.Typer(
    help="A terminal dashboard of service desk KPIs for managed service providers.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts name config tables like [autotask]: print them as written
    context_settings={"help_option_names": ["-h", "--help"]},
)
sync_app = typer.Typer(
    help="Bring the local database up to date from a PSA or an import folder.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Manage the local database.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(sync_app, name="sync")
app.add_typer(db_app, name="db")


def _ctx(typer_ctx: typer.Context) -> Context:
    return typer_ctx.find_root().obj


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (env MSPKPI_DB_URL). Default: a SQLite file in the user data dir.",
    ),
    config: str | None = typer.Option(
        None, "--config", metavar="PATH", help="TOML config file (env MSPKPI_CONFIG). Default: in the user config dir."
    ),
    now: str | None = typer.Option(
        None, "--now", metavar="TIME", help="Pin the clock to this ISO-8601 time (for reports and tests)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error (env MSPKPI_DEBUG=1)."),
    readonly: bool = typer.Option(
        False, "--readonly", help="Change nothing in the PSA: every triage action is refused."
    ),
) -> None:
    """With no command: open the dashboard on the configured database."""
    ctx.obj = Context(db=db, config_path=config, now_text=now, readonly=readonly)
    _ = ctx.obj.now  # reject a bad --now before doing anything
    if ctx.invoked_subcommand is None:
        _open_tui(ctx.obj)


@app.command()
def demo(
    ctx: typer.Context,
    no_tui: bool = typer.Option(False, "--no-tui", help="Only import the demo data; do not open the dashboard."),
) -> None:
    """Import the demo MSP into its own database (or the one --db names) and open the dashboard."""
    from mspkpi_tui.fixtures import demo_folder
    from mspkpi_tui.sources.file_import import import_folder

    context = _ctx(ctx)
    if not no_tui:
        from mspkpi_tui.terminal import require_terminal

        require_terminal("mspkpi demo --no-tui")
    engine = context.engine("demo.db")
    started = time.perf_counter()
    with demo_folder() as folder:  # inside the package: an installed wheel has it too
        summary = import_folder(engine, folder, now=context.now, on_reject=_print_reject)
    _print_summary(summary, time.perf_counter() - started)
    if summary.rejects:
        raise typer.Exit(1)
    if not no_tui:
        _open_tui(context, "demo.db")


@sync_app.command("file")
def sync_file(
    ctx: typer.Context, path: Path = typer.Argument(..., help="A folder of .jsonl files (see docs/import-format.md).")
) -> None:
    """Upsert a folder in the JSON Lines import format. Exits 1 when any record was rejected."""
    from mspkpi_tui.sources.file_import import import_folder

    context = _ctx(ctx)
    started = time.perf_counter()
    summary = import_folder(context.engine(), path, now=context.now, on_reject=_print_reject)
    _print_summary(summary, time.perf_counter() - started)
    if summary.rejects:
        raise typer.Exit(1)


def _sync_psa(ctx: typer.Context, name: str, full: bool, watch: bool, interval: float) -> None:
    from mspkpi_tui.cli_actions import send_queued_before_sync
    from mspkpi_tui.sources.connectors import run_sync

    context = _ctx(ctx)
    send_queued_before_sync(context, name, _echo_err)
    ok = run_sync(name, context.engine(), context.config, full=full, watch=watch, interval=interval, echo=_echo_err)
    if not ok:
        raise typer.Exit(1)


FULL_HELP = "A full pass: re-read everything and prune rows deleted in the PSA."
WATCH_HELP = "Keep syncing every --interval seconds until Ctrl-C (which finishes the current page)."


def _register_psa(name: str, help_text: str) -> None:
    """One `mspkpi sync NAME` command per PSA connector; they differ only in name and help."""

    def command(
        ctx: typer.Context,
        full: bool = typer.Option(False, "--full", help=FULL_HELP),
        watch: bool = typer.Option(False, "--watch", help=WATCH_HELP),
        interval: float = typer.Option(300.0, "--interval", min=1, help="Seconds between passes with --watch."),
    ) -> None:
        _sync_psa(ctx, name, full, watch, interval)

    sync_app.command(name, help=help_text)(command)


_register_psa(
    "autotask", "Sync from Autotask PSA (settings: [autotask] in the config, or MSPKPI_AUTOTASK_* variables)."
)
_register_psa(
    "connectwise", "Sync from ConnectWise PSA (settings: [connectwise] in the config, or MSPKPI_CW_* variables)."
)
_register_psa("halo", "Sync from HaloPSA (settings: [halo] in the config, or MSPKPI_HALO_* variables).")


register_triage(app)
register_rejects(app)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database or bring its schema to the newest revision."""
    from mspkpi_tui.store.engine import describe
    from mspkpi_tui.store.migrate import current_revision

    context = _ctx(ctx)
    engine = context.engine()
    typer.echo(clean(f"{describe(context.db_url())}: schema at revision {current_revision(engine)}"))


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@app.command()
def kpi(
    ctx: typer.Context,
    format: ReportFormat = typer.Option(
        ReportFormat.table, "--format", "-f", help="table (for people), json (for scripts), csv, markdown."
    ),
    section: str | None = typer.Option(
        None,
        "--section",
        "-s",
        help="Only this area: queue, sla, service, escalations, team, pipeline, contracts, projects, trends, clients.",
    ),
    days: int | None = typer.Option(
        None, "--days", help="The trends section's history window: 30 (the default), 90 or 365 days."
    ),
    by: str | None = typer.Option(
        None, "--by", help="The trends section's history periods: day (the default) or week."
    ),
) -> None:
    """Print every KPI figure."""
    from mspkpi_tui.kpi.report import check_history, check_section, compute_report
    from mspkpi_tui.output import render

    # A bad --section, --days or --by is refused before the database is opened.
    names = check_section(section)
    if (days is not None or by is not None) and "trends" not in names:
        raise MspkpiError("--days and --by choose the trends section's history: use them with --section trends")
    days, by = days or 30, by or "day"
    check_history(days, by)
    context = _ctx(ctx)
    report = compute_report(context.engine(create=False), context.now, context.config, names, days, by)
    typer.echo(render(report, format.value), nl=False)


class ReviewFormat(str, Enum):
    markdown = "markdown"
    html = "html"
    csv = "csv"


@app.command()
def review(
    ctx: typer.Context,
    company: str | None = typer.Argument(
        None, help="The company (its full name, or a part naming one company); or --company, or --all."
    ),
    company_option: str | None = typer.Option(None, "--company", help="The company, as the argument."),
    every: bool = typer.Option(False, "--all", help="Every active company: one file each into --out."),
    period: str | None = typer.Option(
        None,
        "--period",
        help="last-quarter (the default), this-quarter (to now), YYYY-Qn, or FROM..TO (local dates, inclusive).",
    ),
    quarter: str | None = typer.Option(None, "--quarter", help="The quarter, e.g. 2026-Q4: as --period 2026-Q4."),
    format: ReviewFormat = typer.Option(ReviewFormat.markdown, "--format", "-f", help="markdown, html or csv."),
    out: Path | None = typer.Option(None, "--out", help="A folder to write the review into (default: print it)."),
) -> None:
    """Write a company's quarterly business review (service by month against the MSP average)."""
    named = company if company_option is None else company_option
    if period is not None and quarter is not None:
        raise MspkpiError("give --period or --quarter (its older name), not both")
    span, option = (quarter, "--quarter") if quarter is not None else (period, "--period")
    if company is not None and company_option is not None:
        raise MspkpiError("name the company once: as the argument or with --company, not both")
    if every and named is not None:
        raise MspkpiError("give a company or --all, not both")
    if not every and named is None:
        raise MspkpiError("name a company (mspkpi review NAME) or give --all")
    if every and out is None:
        raise MspkpiError("--all writes one file per company: give a folder with --out DIR")
    from mspkpi_tui.kpi import review as reviews  # pandas: only this command loads it
    from mspkpi_tui.output.review_format import SUFFIXES, render_review, review_file_name

    context = _ctx(ctx)
    engine = context.engine(create=False)
    suffix = SUFFIXES[format.value]
    if not every:
        assert named is not None
        result = reviews.review(engine, context.now, context.config, named, span, option)
        text = render_review(result, format.value)
        if out is None:
            typer.echo(text, nl=False)
            return
        out.mkdir(parents=True, exist_ok=True)
        path = out / review_file_name(result.company, result.quarter, suffix, set())
        path.write_text(text, encoding="utf-8")
        typer.echo(clean(f"wrote {path}"))
        return
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)
    shared = reviews.quarter_frame(engine, context.now, context.config, span, None, option)  # MSP-wide, once
    taken: set[str] = set()
    listed = reviews.active_companies(engine)
    for company_id, name in listed:
        result = reviews.company_review(engine, context.now, context.config, company_id, name, shared)
        path = out / review_file_name(result.company, result.quarter, suffix, taken)
        path.write_text(render_review(result, format.value), encoding="utf-8")
    typer.echo(clean(f"wrote {len(listed)} reviews of {shared.label} into {out}"))


class AlertFormat(str, Enum):
    text = "text"
    json = "json"


ALERTS_FIRING = 3  # `mspkpi alerts` exit status when a condition fires (0: none; 1: an error)


@app.command()
def alerts(
    ctx: typer.Context,
    format: AlertFormat = typer.Option(AlertFormat.text, "--format", "-f", help="text (one line each) or json."),
) -> None:
    """Print the alert conditions firing now ([alerts] rules not off); exit 3 when any fires, 0 when none."""
    import json

    from mspkpi_tui.kpi.alerts import evaluate, firing_lines

    context = _ctx(ctx)
    engine = context.engine(create=False)
    now = context.now
    lines = firing_lines(engine, now, evaluate(engine, now, context.config))
    if format is AlertFormat.json:
        found = [{"rule": rule, "message": clean(message)} for rule, message in lines]
        typer.echo(json.dumps({"now": now.isoformat(), "firing": found}, indent=2))
    elif not lines:
        typer.echo("no alert fires")
    for rule, message in lines if format is AlertFormat.text else []:
        typer.echo(clean(f"{rule}: {message}"))
    raise typer.Exit(ALERTS_FIRING if lines else 0)


def _print_reject(reject: Any) -> None:  # sources' Reject (its module moves to store/)
    _echo_err(f"rejected {reject.entity} at {reject.location}: {reject.reason}")


def _print_summary(summary: Any, seconds: float) -> None:
    stored = ", ".join(f"{n} {entity}" for entity, n in summary.counts.items()) or "nothing"
    typer.echo(clean(f"stored {stored} from {summary.source} in {seconds:.1f} s"))
    for warning in summary.warnings:
        _echo_err(f"warning: {warning}")
    if summary.rejects:
        _echo_err(
            f"{len(summary.rejects)} record(s) rejected; they are kept in the rejected_records table with the reason"
        )


def _echo_err(message: str) -> None:
    """Every line for stderr, whatever it quotes (a PSA's error text, a file name): made safe, one line."""
    typer.echo(_printable(message), err=True)
