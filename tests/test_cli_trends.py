"""`mspkpi kpi --section trends --days 30|90|365 --by day|week`: the history block takes the
asked window, on SQLite and PostgreSQL, checked against kpi.history and hand-counted totals."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.history import history
from mspkpi_tui.store.engine import open_database

ZONE = "Europe/London"  # the 90-day window crosses the end of summer time (25 Oct 2026)
START = datetime(2026, 6, 1, 9, 0)  # the previous 90-day window is covered too
NOW_NAIVE = NOW.replace(tzinfo=None)  # the dataset's times are naive UTC
EVERY = timedelta(hours=37)  # tickets at every hour of the day in turn, so some fall near midnight


def created_times() -> list[datetime]:
    times, t = [], START
    while t < NOW_NAIVE:
        times.append(t)
        t += EVERY
    return times


def dataset() -> Data:
    d = Data()
    d.resource("R", "Alice")
    for i, t in enumerate(created_times()):
        created = f"{t:%Y-%m-%d %H:%M}"
        done = t + timedelta(days=i % 9)
        if i % 3 == 0 or done >= NOW_NAIVE:  # every third ticket stays open
            d.ticket(str(i), created)
        else:
            d.closed(str(i), created, completed_at=f"{done:%Y-%m-%d %H:%M}", resolved_at=f"{done:%Y-%m-%d %H:%M}")
        d.entry("R", created, 1.5, billable=i % 2 == 0, ticket_id=str(i))
    return d


@pytest.fixture
def filled_url(db_url) -> str:
    engine = open_database(db_url)
    dataset().store(engine)
    engine.dispose()
    return db_url


@pytest.fixture
def config_file(tmp_path) -> str:
    path = tmp_path / "mspkpi.toml"
    path.write_text(f'timezone = "{ZONE}"\n', encoding="utf-8")
    return str(path)


def trends(run_cli, url: str, config_path: str, *options: str, fmt: str = "json", env=None):
    done = run_cli(
        "--db", url, "--config", config_path, "--now", "2026-11-23T12:00:00Z",
        "kpi", "--section", "trends", "--format", fmt, *options, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if fmt == "json" else done.stdout


def test_a_90_day_weekly_history_matches_kpi_history_and_the_hand_count(run_cli, filled_url, config_file):
    report = trends(run_cli, filled_url, config_file, "--days", "90", "--by", "week")
    got = report["trends"]["history"]
    engine = open_database(filled_url)
    try:
        expected = history(engine, NOW, config(ZONE), 90, "week").to_dict()
    finally:
        engine.dispose()
    assert got == expected
    # The window: 90 local days back from Monday 23 Nov reaches Wed 26 Aug; whole weeks from Mon 24 Aug.
    assert got["days"] == 90 and got["by"] == "week"
    assert got["periods"] == [(date(2026, 8, 24) + timedelta(weeks=i)).isoformat() for i in range(14)]
    # Hand count: the tickets created from local midnight of 24 Aug (23:00 UTC, summer time) to now.
    lo = datetime(2026, 8, 24, tzinfo=ZoneInfo(ZONE)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    in_window = [i for i, t in enumerate(created_times()) if lo <= t]
    assert sum(got["opened"]) == len(in_window) > 50
    billable = 1.5 * sum(1 for i in in_window if i % 2 == 0)
    assert sum(got["billable_hours"]) == pytest.approx(billable)
    assert sum(got["non_billable_hours"]) == pytest.approx(1.5 * len(in_window) - billable)
    assert len(got["backlog"]) == 14 and len(got["weeks"]) == 14
    open_now = sum(1 for i, t in enumerate(created_times()) if i % 3 == 0 or t + timedelta(days=i % 9) >= NOW_NAIVE)
    assert got["backlog"][-1] == open_now  # open at the last period's end (now)
    assert report["rules"]["trends"].count("the last 90 days by week") == 1
    # The rest of the section keeps its 30 days by day, and the keys do not change.
    assert len(report["trends"]["opened"]) == 31
    default = trends(run_cli, filled_url, config_file)
    assert list(default["trends"]) == list(report["trends"])
    assert list(default["trends"]["history"]) == list(got)
    assert default["trends"]["history"]["by"] == "day" and len(default["trends"]["history"]["periods"]) == 30


# 30 days back from Monday 23 Nov is Sunday 25 Oct, whose week starts on 19 Oct: six weeks.
@pytest.mark.parametrize("days, by, periods", [(365, "day", 365), (30, "week", 6)])
def test_the_other_windows(run_cli, filled_url, config_file, days, by, periods):
    got = trends(run_cli, filled_url, config_file, "--days", str(days), "--by", by)["trends"]["history"]
    assert (got["days"], got["by"], len(got["periods"]), len(got["opened"])) == (days, by, periods, periods)


def test_the_table_draws_the_asked_window_as_plain_plotext_text(run_cli, filled_url, config_file):
    out = trends(run_cli, filled_url, config_file, "--days", "90", "--by", "week", fmt="table", env={"COLUMNS": "100"})
    assert "\x1b" not in out  # not a terminal: no colour
    assert "Open backlog at week end 24 Aug–23 Nov" in out and "Billable hours per week 24 Aug–23 Nov" in out
    assert "┤" in out and any("\u2800" <= ch <= "\u28ff" for ch in out)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--section", "trends", "--days", "60"], "--days must be one of 30, 90, 365, not 60"),
        (["--section", "trends", "--by", "month"], "--by must be one of day, week, not 'month'"),
        (["--section", "sla", "--days", "90"], "--days and --by choose the trends section's history"),
    ],
)
def test_a_bad_window_is_refused_before_the_database_is_opened(run_cli, tmp_path, options, message):
    missing = f"sqlite:///{tmp_path / 'never.db'}"
    done = run_cli("--db", missing, "kpi", *options)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert not (tmp_path / "never.db").exists()


def _on_a_terminal(cli_env, url: str, config_path: str, env: dict[str, str]) -> str:
    """The table printed to a pseudo-terminal (what a lead running it by hand sees)."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    args = ["--db", url, "--config", config_path, "--now", "2026-11-23T12:00:00Z"]
    args += ["kpi", "--section", "trends", "--days", "90", "--by", "week"]
    child = subprocess.Popen(
        [sys.executable, "-m", "mspkpi_tui", *args],
        env={**cli_env, "COLUMNS": "100", **env},
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:  # read while it writes (a pty holds only a few KB)
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its end, all is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.wait(timeout=300) == 0
    return b"".join(chunks).decode()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_a_terminal_the_charts_are_coloured_unless_no_color(cli_env, filled_url, config_file):
    cli_env.pop("NO_COLOR", None)
    plain = _on_a_terminal(cli_env, filled_url, config_file, {"NO_COLOR": "1"})
    assert "Open backlog at week end 24 Aug–23 Nov" in plain and "\x1b[" not in plain
    coloured = _on_a_terminal(cli_env, filled_url, config_file, {})
    assert "Open backlog at week end" in coloured and "\x1b[" in coloured
