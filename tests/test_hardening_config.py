"""Issue 10 section 4: configuration errors are found, named and refused; credentials never leak."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hardening import assert_one_line_error, rows, small_folder

from mspkpi_tui.store import models

HOSTILE = Path(__file__).parent / "data" / "hostile" / "config.jsonl"
CASES = [json.loads(line) for line in HOSTILE.read_text().splitlines()[1:]]
PASSWORD = "hunter2-secret"


@pytest.fixture
def database(run_cli, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'mspkpi.db'}"
    assert run_cli("--db", url, "db", "upgrade").returncode == 0
    return url


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_a_wrong_setting_is_one_line_naming_it(run_cli, tmp_path, database, case):
    config = write_config(tmp_path, case["toml"])
    result = run_cli("--config", str(config), "--db", database, "kpi")
    assert_one_line_error(result, str(config), *case["expect"])


def test_the_environment_overrides_the_file(run_cli, tmp_path, database):
    config = write_config(tmp_path, "[tui]\nrefresh_seconds = 30\n")
    result = run_cli("--config", str(config), "--db", database, "kpi", env={"MSPKPI_TUI__REFRESH_SECONDS": "-1"})
    assert_one_line_error(result, "[tui] refresh_seconds", "'-1'")
    result = run_cli("--config", str(config), "kpi", env={"MSPKPI_DB_URL": database, "MSPKPI_TIMEZONE": "Asia/Tokyo"})
    assert result.returncode == 0, result.stderr
    assert "(Asia/Tokyo)" in result.stdout


def test_a_good_config_is_accepted(run_cli, tmp_path, database):
    config = write_config(
        tmp_path,
        'week_start = "sunday"\n[escalation]\nstatuses = ["Escalate", "Tier 2"]\n'
        '[pipeline]\ntarget = 250000\ncheckin_days = [7, 14]\n[tui]\ntheme = "nord"\nkeymap = {refresh = "f5"}\n'
        '[autotask]\nusername = "api@example.com"\nclosed_statuses = ["5", "Complete"]\n',
    )
    result = run_cli("--config", str(config), "--db", database, "kpi")
    assert result.returncode == 0, result.stderr


def test_a_db_url_with_a_password_needs_mode_600(run_cli, tmp_path):
    config = write_config(tmp_path, f'db_url = "postgresql://app:{PASSWORD}@127.0.0.1:1/x"\n', mode=0o640)
    result = run_cli("--config", str(config), "kpi")
    assert_one_line_error(result, "holds secrets", "chmod 600")
    assert PASSWORD not in result.stderr + result.stdout


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_config_others_can_change_is_refused(run_cli, tmp_path, mode):
    config = write_config(tmp_path, "[tui]\nrefresh_seconds = 30\n", mode=mode)
    assert_one_line_error(run_cli("--config", str(config), "kpi"), "can be changed by other users", "chmod go-w")


def test_a_config_owned_by_another_user_is_refused(run_cli, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    config = write_config(tmp_path, "[tui]\nrefresh_seconds = 30\n", mode=0o644)
    tmp_path.chmod(0o755)
    os.chown(config, 65534, 65534)
    assert_one_line_error(run_cli("--config", str(config), "kpi"), "belongs to another user")


def test_a_postgresql_password_never_reaches_the_screen(run_cli):
    result = run_cli("--db", f"postgresql://app:{PASSWORD}@127.0.0.1:1/x", "kpi")
    assert_one_line_error(result, "app:***@127.0.0.1:1")
    assert PASSWORD not in result.stderr + result.stdout


@pytest.mark.parametrize("setting", ["MSPKPI_AUTOTASK_ZONE_URL", "MSPKPI_AUTOTASK_BASE_URL"])
def test_a_psa_password_in_a_url_is_never_printed_or_stored(run_cli, tmp_path, database, setting):
    env = {
        "MSPKPI_AUTOTASK_USERNAME": "api@example.com",
        "MSPKPI_AUTOTASK_SECRET": "s",
        "MSPKPI_AUTOTASK_INTEGRATION_CODE": "c",
        "MSPKPI_HTTP_BACKOFF_SCALE": "0.001",
        setting: f"https://api:{PASSWORD}@127.0.0.1:1/",
    }
    result = run_cli("--db", database, "sync", "autotask", env=env)
    assert_one_line_error(result, "api:***@127.0.0.1")
    assert PASSWORD not in result.stderr + result.stdout
    [(status, error)] = rows(database, models.SyncRun, "status", "error")
    assert status == "failed" and PASSWORD not in error and "api:***@" in error


def test_a_password_in_an_imported_reason_is_not_stored(run_cli, tmp_path, database):
    folder = small_folder(tmp_path / "in")
    with (folder / "companies.jsonl").open("a") as handle:
        handle.write(json.dumps({"id": "x", "name": "X", "active": f"https://u:{PASSWORD}@psa.example/"}) + "\n")
    result = run_cli("--db", database, "sync", "file", str(folder))
    assert result.returncode == 1
    assert PASSWORD not in result.stderr
    [(reason,)] = rows(database, models.RejectedRecord, "reason")
    assert PASSWORD not in reason


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--db", ""], "--db needs a database URL"),
        (["--db="], "--db needs a database URL"),
        (["--now", ""], "--now needs an ISO-8601 time"),
        (["--now", " "], "--now needs an ISO-8601 time"),
        (["--config", ""], "--config needs a file path"),
        (["--now", "0001-01-01T00:00:00Z"], "out of range"),
        (["--now", "9999-12-31T23:00:00-05:00"], "out of range"),
    ],
)
def test_empty_and_out_of_range_options_are_errors(run_cli, database, args, fragment):
    assert_one_line_error(run_cli(*args, "kpi"), fragment, status=2)
