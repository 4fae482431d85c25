"""`mspkpi kpi --format table` follows the terminal's width ($COLUMNS) and wraps at words."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('width') / 'demo.db'}"


@pytest.mark.parametrize("columns", [50, 80, 132])
def test_the_table_report_follows_columns_and_wraps_rules_at_words(run_cli, demo_db, columns):
    now = "2026-03-10T10:30:00Z"
    assert run_cli("--db", demo_db, "--now", now, "demo", "--no-tui").returncode == 0
    rules = json.loads(run_cli("--db", demo_db, "--now", now, "kpi", "--format", "json").stdout)["rules"]
    result = run_cli("--db", demo_db, "--now", now, "kpi", "--format", "table", env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert any(len(line) > columns - 12 for line in lines)  # the width is used, not a fixed 80
    # Each rule, read back from its wrapped lines, is the rule word for word: no word was cut.
    text = "\n".join(lines) + "\n\n"
    shown = [" ".join(block.split("\n\n")[0].split()) for block in text.split("\nrule: ")[1:]]
    assert sorted(shown) == sorted(" ".join(rule.split()) for rule in rules.values())
