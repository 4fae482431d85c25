"""The real `mspkpi` command: help everywhere, and one clear line for every user error."""

import os

import pytest


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mspkpi: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo"],
        ["sync"],
        ["sync", "file"],
        ["sync", "autotask"],
        ["sync", "connectwise"],
        ["db"],
        ["db", "upgrade"],
        ["kpi"],
    ],
)
def test_help_everywhere(run_cli, args):
    result = run_cli(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_unreachable_database(run_cli):
    result = run_cli("--db", "postgresql://postgres@127.0.0.1:1/nothing", "db", "upgrade")
    assert_one_line_error(result, "cannot open database", "127.0.0.1:1")


def test_bad_database_url(run_cli):
    assert_one_line_error(run_cli("--db", "nonsense", "db", "upgrade"), "nonsense")
    assert_one_line_error(run_cli("--db", "mysqlx://h/db", "db", "upgrade"), "mysqlx")


def test_missing_sqlite_folder(run_cli, tmp_path):
    assert_one_line_error(run_cli("--db", f"sqlite:///{tmp_path}/no/such/dir.db", "db", "upgrade"), "does not exist")


def test_bad_now(run_cli):
    assert_one_line_error(run_cli("--now", "yesterday-ish", "db", "upgrade"), "--now", "ISO-8601")


def test_unreadable_and_invalid_config(run_cli, tmp_path):
    assert_one_line_error(run_cli("--config", str(tmp_path / "missing.toml"), "kpi"), "does not exist")
    bad = tmp_path / "bad.toml"
    bad.write_text("timezone = [unclosed\n")
    assert_one_line_error(run_cli("--config", str(bad), "kpi"), "not valid TOML")
    zone = tmp_path / "zone.toml"
    zone.write_text('timezone = "Mars/Olympus_Mons"\n')
    assert_one_line_error(run_cli("--config", str(zone), "kpi"), "unknown time zone")


def test_config_with_secrets_readable_by_others_is_refused(run_cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[autotask]\nusername = "api@example.com"\nsecret = "s3cret"\n')
    os.chmod(config, 0o644)
    result = run_cli("--config", str(config), "kpi")
    assert_one_line_error(result, "chmod 600")
    assert "s3cret" not in result.stderr + result.stdout


def test_db_upgrade_reports_the_revision(run_cli, empty_db_url):
    result = run_cli("--db", empty_db_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "schema at revision" in result.stdout


def test_env_var_names_the_database(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    result = run_cli("db", "upgrade", env={"MSPKPI_DB_URL": url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()


def test_default_database_lives_in_the_user_data_dir(run_cli, cli_env):
    result = run_cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert os.path.exists(os.path.join(cli_env["XDG_DATA_HOME"], "mspkpi", "mspkpi.db"))


def test_sync_file_of_a_missing_folder(run_cli, sqlite_url, tmp_path):
    assert_one_line_error(run_cli("--db", sqlite_url, "sync", "file", str(tmp_path / "nope")), "not a folder")
