"""Issue 10 section 6: every error is one line on stderr naming what to fix; --debug shows the traceback."""

from __future__ import annotations

import pytest
from hardening import assert_one_line_error


@pytest.fixture
def database(run_cli, db_url) -> str:
    assert run_cli("--db", db_url, "db", "upgrade").returncode == 0
    return db_url


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["kpi", "--fromat", "json"], ["No such option: --fromat", "--format", "mspkpi kpi --help"]),
        (["--dbb", "x", "kpi"], ["No such option: --dbb", "mspkpi --help"]),
        (["kpy"], ["No such command 'kpy'", "Did you mean 'kpi'", "mspkpi --help"]),
        (["sync", "fiel", "x"], ["No such command 'fiel'", "mspkpi sync --help"]),
        (["kpi", "--format", "xml"], ["'xml' is not one of", "'json'", "mspkpi kpi --help"]),
        (["sync", "file"], ["Missing argument", "mspkpi sync file --help"]),
        (["kpi", "--format"], ["--format", "requires an argument"]),
        (["sync", "autotask", "--interval", "0"], ["--interval", "greater than or equal to 1", "sync autotask --help"]),
    ],
    ids=[
        "mistyped-flag",
        "mistyped-global",
        "unknown-command",
        "unknown-subcommand",
        "bad-format",
        "missing-arg",
        "flag-without-value",
        "out-of-range",
    ],
)
def test_a_usage_error_is_one_line(run_cli, args, fragments):
    assert_one_line_error(run_cli(*args), *fragments, status=2)


def test_a_file_that_is_not_a_database_is_one_line(run_cli, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    assert_one_line_error(run_cli("--db", f"sqlite:///{path}", "kpi"), str(path), "not a database")
    assert path.read_text().startswith("these are my notes")


@pytest.mark.parametrize("keep", [100, 4096, 20000])
def test_a_truncated_database_is_one_line(run_cli, tmp_path, keep):
    whole = tmp_path / "whole.db"
    assert run_cli("--db", f"sqlite:///{whole}", "db", "upgrade").returncode == 0
    cut = tmp_path / "cut.db"
    cut.write_bytes(whole.read_bytes()[:keep])
    result = run_cli("--db", f"sqlite:///{cut}", "kpi")
    assert_one_line_error(result, str(cut))


def test_an_unknown_theme_is_one_line(run_cli, tmp_path, database):
    config = tmp_path / "config.toml"
    config.write_text('[tui]\ntheme = "solarised"\n')
    config.chmod(0o600)
    assert_one_line_error(run_cli("--config", str(config), "--db", database, "kpi"), "theme", "'solarised'")


@pytest.mark.parametrize("how", [["--debug", "kpi"], ["kpi", "--debug"]], ids=["before", "after"])
def test_debug_shows_the_traceback(run_cli, tmp_path, how):
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 200)
    result = run_cli("--db", f"sqlite:///{path}", *how)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "not a database" in result.stderr


def test_the_debug_variable_shows_the_traceback(run_cli):
    result = run_cli("kpi", "--fromat", "json", env={"MSPKPI_DEBUG": "1"})
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Usage:" in result.stderr
    missing = run_cli("--db", "sqlite:///nowhere/at/all.db", "kpi", env={"MSPKPI_DEBUG": "1"})
    assert "Traceback" in missing.stderr and "DatabaseError" in missing.stderr
