"""The plotext charts as text (mspkpi_tui.charts) and the report's trends charts through the real CLI."""

from __future__ import annotations

import io

from test_kpi_report import demo_db, small_dataset  # noqa: F401

from mspkpi_tui import charts


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert charts.colour_wanted(Terminal()) and not charts.colour_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not charts.colour_wanted(Terminal())


def test_line_chart_is_labelled_and_plain_without_colour():
    values = (3, None, 5, 1)
    text = charts.line_chart(
        "Opened per day 1 Mar–4 Mar: " + charts.summary(values),
        ["01 Mar", "02 Mar", "03 Mar", "04 Mar"],
        [charts.Series("opened", values), charts.Series("previous", (1, 1, 1, 1), faint=True)],
        60,
        10,
        color=False,
    )
    lines = text.splitlines()
    assert lines[0].strip() == "Opened per day 1 Mar–4 Mar: last 1 · min 1 · max 5"
    assert "\x1b" not in text and len(lines) == 10 and max(len(line) for line in lines) <= 60
    assert "01 Mar" in text and "04 Mar" in text and "opened" in text and "previous" in text
    coloured = charts.line_chart("t", ["a", "b"], [charts.Series("s", (1, 2))], 40, 8, color=True)
    assert "\x1b[" in coloured


def test_bars_read_largest_first_and_sum_what_does_not_fit():
    items = [("Software", 9), ("Hardware", 5), ("Network", 3), ("Email", 2), ("Other thing", 1)]
    lines = charts.bar_chart("By issue type", items, 40, 6, color=False).splitlines()
    assert lines[0].strip() == "By issue type"
    labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
    assert labels == ["Software 9", "Hardware 5", "Other 6"]  # 3 rows: the last sums the rest


def test_spark_is_one_frameless_row_of_the_given_width():
    line = charts.spark([0, 2, None, 8, 4], 12, color=False)
    assert len(line) == 12 and "\n" not in line and not set(line) & set("┌┐└┘│─")
    assert charts.summary([None, None]) == "no data" and charts.spark([None], 5) == "     "


def test_cli_trends_table_prints_plotext_charts_without_colour(run_cli, demo_db):
    result = run_cli(
        "--db", demo_db, "--now", "2026-11-23T12:00:00Z", "kpi", "--section", "trends", "--format", "table"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out  # not a terminal: no colour
    for title in ("Opened per day", "Open backlog at day end", "Open > 3 weeks at day end", "CSAT per week"):
        assert title in out, title
    assert "┤" in out and any("\u2800" <= ch <= "\u28ff" for ch in out)  # plotext's axes and braille lines
    assert max(len(line) for line in out.splitlines()) <= 80


# Charts at the sizes that made plotext's label order show (13 weekly labels in a narrow chart,
# where two labels would touch), a wide one, bars and a sparkline: one digest of all of them.
_DIGEST = """
import hashlib
from datetime import date, timedelta
from mspkpi_tui import charts
out = []
for n in (13, 30, 90):
    values = tuple(float((i * 7) % 17) for i in range(n))
    labels = [f"{date(2026, 1, 1) + timedelta(days=i):%d %b}" for i in range(n)]
    lines = [charts.Series("previous", values[::-1], faint=True), charts.Series("open", values)]
    for width in (36, 39, 42, 45, 58, 118):
        out.append(charts.line_chart("Backlog", labels, lines, width, 11))
out.append(charts.bar_chart("By age", [("< 1 week", 9), ("1-2 weeks", 4), ("3+ weeks", 2)], 40, 7))
out.append(charts.spark((1, 5, 2, None, 7), 20))
print(hashlib.sha256("\\n".join(out).encode()).hexdigest())
"""


def test_the_same_chart_is_the_same_text_whatever_the_hash_seed():
    """plotext orders explicit x ticks by string hash; charts.py writes them in order, so two
    processes with different PYTHONHASHSEED values draw the same text (a snapshot stays put)."""
    import os
    import subprocess
    import sys

    def digest(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "80", "LINES": "24"}
        done = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    first, second = digest("1"), digest("2")
    assert len(first) == 64 and first == second
