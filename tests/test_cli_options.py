"""Global options (--db, --config, --now) stand anywhere on the command line."""

from __future__ import annotations

import json

from mspkpi_tui.cli import hoist_global_options


def test_global_options_are_moved_before_the_command():
    assert hoist_global_options(["kpi", "--db", "sqlite:///x.db", "-f", "json"]) == [
        "--db",
        "sqlite:///x.db",
        "kpi",
        "-f",
        "json",
    ]
    assert hoist_global_options(["sync", "file", "dir", "--now=2026-01-01T00:00:00Z"]) == [
        "--now=2026-01-01T00:00:00Z",
        "sync",
        "file",
        "dir",
    ]
    assert hoist_global_options(["sync", "file", "--", "--db"]) == ["sync", "file", "--", "--db"]  # after --: a file


def test_global_options_after_the_command_through_the_real_cli(run_cli, sqlite_url):
    upgraded = run_cli("db", "upgrade", "--db", sqlite_url)
    assert upgraded.returncode == 0, upgraded.stderr
    before = run_cli("--db", sqlite_url, "--now", "2026-11-23T12:00:00Z", "kpi", "-f", "json", "-s", "queue")
    after = run_cli("kpi", "-f", "json", "--now", "2026-11-23T12:00:00Z", "-s", "queue", f"--db={sqlite_url}")
    assert before.returncode == after.returncode == 0, after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(after.stdout)["as_of"] == "2026-11-23T12:00:00Z"


def test_only_the_global_options_take_the_dashboards_fast_path():
    """cli.dashboard_context: the plain forms of the global options open the dashboard without
    typer; anything else (a command, help, a value that looks like an option) goes to typer."""
    from mspkpi_tui.cli import dashboard_context

    context = dashboard_context(["--db", "sqlite:///a.db", "--config=c.toml", "--now", "2026-11-23T12:00:00Z"])
    assert context is not None
    assert (context.db, context.config_path, context.now_text, context.readonly) == (
        "sqlite:///a.db",
        "c.toml",
        "2026-11-23T12:00:00Z",
        False,
    )
    assert dashboard_context([]) is not None
    readonly = dashboard_context(["--debug", "--readonly", "--db", "a", "--db", "b"])
    assert readonly is not None and readonly.readonly and readonly.db == "b"  # the last one wins, as in click
    empty = dashboard_context(hoist_global_options(["--db"]))  # typer gets "" too: Context names the missing URL
    assert empty is not None and empty.db == ""
    for args in (["--help"], ["-h"], ["kpi"], ["--db", "a", "kpi"], ["--db", "--readonly"], ["--bogus"], ["--"]):
        assert dashboard_context(args) is None, args
    assert dashboard_context(["--readonly=yes"]) is None
