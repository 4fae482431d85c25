"""The `mspkpi` entry point: the dashboard with no command, else the typer commands.

`mspkpi` alone (the global options at most) opens the dashboard without building the typer
command tree (mspkpi_tui.cli_commands): typer, its copy of click and the commands' modules
are ~50 ms of every start, and the dashboard is the command people start most. Anything else
(a command, --help, an option this fast path does not know, a missing value) goes through
typer, which gives every usage error and every help text.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.safe_text import clean

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mspkpi_tui.config import Config


@dataclass
class Context:
    """What the global options resolve to; the engine is opened (and migrated) on first use."""

    db: str | None
    config_path: str | None
    now_text: str | None
    readonly: bool = False  # --readonly: no triage action is sent or queued
    _engine: Engine | None = field(default=None, repr=False)
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from mspkpi_tui.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def now(self) -> datetime:
        from mspkpi_tui.clock import parse_now

        if self.now_text is not None and not self.now_text.strip():
            raise MspkpiError("--now needs an ISO-8601 time (e.g. 2026-11-23T09:30:00Z), not an empty value")
        return parse_now(self.now_text)

    @property
    def pinned_now(self) -> datetime | None:
        return self.now if self.now_text else None

    def db_url(self, default_name: str | None = None) -> str:
        from mspkpi_tui.store.engine import default_db_path, is_memory, resolve_db_url

        if self.db is not None and not self.db.strip():
            raise MspkpiError("--db needs a database URL (e.g. sqlite:///path/to/file.db), not an empty value")
        if default_name and not self.db:
            return f"sqlite:///{default_db_path(default_name)}"
        url = resolve_db_url(self.db, self.config.db_url)
        if is_memory(url):
            raise MspkpiError(f"{url!r} is an in-memory database that keeps nothing; name a file: sqlite:///path.db")
        return url

    def engine(self, default_name: str | None = None, *, create: bool = True) -> Engine:
        """`create`: demo, sync and db upgrade may make a new database; readers may not."""
        if self._engine is None:
            from mspkpi_tui.store.engine import open_database

            self._engine = open_database(self.db_url(default_name), create=create)
        return self._engine


def _open_tui(context: Context, default_name: str | None = None) -> None:
    from mspkpi_tui.terminal import require_terminal, watch_terminal

    require_terminal()
    watch_terminal()
    from mspkpi_tui.tui.app import run_app

    if context.readonly:
        context.config.tui.readonly = True  # the dashboard's triage keys refuse, as the CLI does
    run_app(context.engine(default_name, create=False), context.config, now=context.pinned_now)


def main() -> None:
    """Entry point: every error is one line on stderr naming what to fix; --debug shows the traceback.

    No cyclic garbage collection while the program starts: a start imports ~600 modules (and
    the dashboard reads its first screen), making hundreds of thousands of objects and freeing
    almost none, so every collection on the way walked them all for nothing (~11 % of the
    imports' time, bench/RESULTS.md). A command turns it on again once its modules are loaded;
    the dashboard after its first read (tui/app.py), when it freezes what start-up built."""
    gc.disable()
    try:
        _main()
    finally:
        gc.enable()


def _main() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from mspkpi_tui import terminal
    from mspkpi_tui.terminal import on_stop_signals, stop_status

    argv = sys.argv[1:]
    if "--debug" in argv:  # a flag of the whole program, wherever it stands
        argv = ["--debug", *(arg for arg in argv if arg != "--debug")]
        os.environ["MSPKPI_DEBUG"] = "1"
    debug = bool(os.environ.get("MSPKPI_DEBUG"))
    on_stop_signals()
    args = hoist_global_options(argv)
    try:
        dashboard = dashboard_context(args)
        if dashboard is not None:
            status = _run_dashboard(dashboard)
        else:
            from mspkpi_tui.cli_commands import app

            gc.enable()  # a sync can run for hours: its garbage is collected as it goes
            status = app(args=args, prog_name="mspkpi", standalone_mode=False)
    except MspkpiError as exc:
        if debug:
            raise
        _fail(str(exc), status=getattr(exc, "exit_status", None))
    except SQLAlchemyError as exc:
        if debug:
            raise
        _fail(f"database error: {_first_line(exc)}")
    except KeyboardInterrupt:
        sys.exit(stop_status())
    except EOFError:
        sys.exit(1)
    except Exception as exc:
        if _is_typer_exit(exc):
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if _is_typer_abort(exc):
            sys.exit(1)
        if terminal.received is not None and not debug:  # a stop signal broke whatever was running (even an import)
            sys.exit(stop_status())
        if _is_usage_error(exc):  # a mistyped flag or command, a bad value, a missing argument
            if type(exc).__name__ == "NoArgsIsHelpError" or debug:  # `mspkpi sync`: the help is the answer
                exc.show()  # type: ignore[attr-defined]
                sys.exit(exc.exit_code)  # type: ignore[attr-defined]
            _fail(_usage_line(exc), status=exc.exit_code)  # type: ignore[attr-defined]
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {_first_line(exc)} (run with --debug for the traceback)")
    if status == 130:  # typer's answer to KeyboardInterrupt, whichever signal raised it
        status = stop_status()
    sys.exit(status if isinstance(status, int) else 0)


def _is_usage_error(exc: Exception) -> bool:
    """Typer's own copy of click raises these (typer._click), so match by shape, not class."""
    return callable(getattr(exc, "format_message", None)) and hasattr(exc, "exit_code")


def _usage_line(exc) -> str:
    """Click's usage error as one line, with where to read more."""
    message = " ".join(exc.format_message().replace("Value error, ", "").split())
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "mspkpi"
    return f"{message} (see `{command} --help`)"


GLOBAL_OPTIONS = ("--db", "--config", "--now")
GLOBAL_FLAGS = ("--readonly",)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Let global options stand anywhere: `mspkpi demo --now T` means `mspkpi --now T demo`.

    Why not click's own mechanism: a click group parses its options only up to the subcommand's
    name and hands the rest to the subcommand (`allow_interspersed_args` is about positional
    arguments within one command, and groups turn it off on purpose), so an option of the
    callback after `demo` is "No such option". The alternative, declaring --db/--config/--now
    on every command and sub-command (sync file, sync autotask, db upgrade ...) and merging
    them with the callback's, repeats three options on eight commands to do what these few
    lines do once; tests/test_cli_options.py checks both positions.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    items = iter(argv)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS:
            hoisted.append(arg)
        elif name in GLOBAL_OPTIONS:
            hoisted.append(arg)
            if "=" not in arg:
                hoisted.append(next(items, ""))
        else:
            rest.append(arg)
    return hoisted + rest


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _printable(text: str) -> str:
    """Passwords in URLs hidden (mspkpi_tui.redact), then made safe by the one sanitiser."""
    from mspkpi_tui.redact import redact

    return clean(redact(text))


def _fail(message: str, status: int | None = None) -> None:
    import typer  # only on the way out: the dashboard's start does not load it

    typer.echo(f"mspkpi: error: {_printable(message)}", err=True)
    sys.exit(status if status is not None else 2 if message.startswith("--") else 1)


def _is_typer_exit(exc: BaseException) -> bool:
    """typer.Exit, only when typer is loaded (the dashboard's fast path never loads it)."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(exc, typer.Exit)


def _is_typer_abort(exc: BaseException) -> bool:
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(exc, typer.Abort)


GLOBAL_FLAGS_OF_MAIN = ("--debug", *GLOBAL_FLAGS)


def dashboard_context(args: list[str]) -> Context | None:
    """The Context of `mspkpi [global options]` (the dashboard), or None for anything else.

    `args` are hoisted (hoist_global_options). Only the plain forms are taken: `--db URL`,
    `--db=URL` (likewise --config, --now), --readonly, --debug; the last of a repeated option
    wins, as in click. A value that looks like an option, any other word (a command, --help,
    -h, a mistyped flag) and `--` leave it to typer, for the same parse, errors and help."""
    values: dict[str, str] = {}
    readonly = False
    items = iter(args)
    for arg in items:
        name, equals, value = arg.partition("=")
        if arg in GLOBAL_FLAGS_OF_MAIN:
            readonly = readonly or arg == "--readonly"
        elif name in GLOBAL_OPTIONS:
            if not equals:
                following = next(items, None)
                if following is None or following.startswith("-"):
                    return None
                value = following
            values[name] = value
        else:
            return None
    return Context(
        db=values.get("--db"), config_path=values.get("--config"), now_text=values.get("--now"), readonly=readonly
    )


def _run_dashboard(context: Context) -> int:
    """What the typer callback does with no command (cli_commands.main_callback), with typer's
    own handling of what escapes it (typer.core._main, standalone_mode=False)."""
    import errno

    try:
        _ = context.now  # reject a bad --now before doing anything
        _open_tui(context)
    except KeyboardInterrupt:
        return 130  # typer's answer, which main() turns into the signal's status
    except EOFError:
        print(file=sys.stderr)  # as typer: a new line, then exit status 1
        raise
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)
    return 0
