"""`mspkpi kpi --format table` follows the terminal's width ($COLUMNS) and wraps at words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-10T10:30:00Z"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """The demo, imported once for every width (~3 s each): the report only reads it."""
    folder = tmp_path_factory.mktemp("width")
    url = f"sqlite:///{folder / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
    env |= {"HOME": str(folder / "home"), "XDG_CONFIG_HOME": str(folder / "config")}
    env |= {"XDG_DATA_HOME": str(folder / "data"), "XDG_STATE_HOME": str(folder / "state")}
    command = [sys.executable, "-m", "mspkpi_tui", "--db", url, "--now", NOW, "demo", "--no-tui"]
    imported = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr
    return url


@pytest.mark.parametrize("columns", [50, 80, 132])
def test_the_table_report_follows_columns_and_wraps_rules_at_words(run_cli, demo_db, columns):
    rules = json.loads(run_cli("--db", demo_db, "--now", NOW, "kpi", "--format", "json").stdout)["rules"]
    result = run_cli("--db", demo_db, "--now", NOW, "kpi", "--format", "table", env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert any(len(line) > columns - 12 for line in lines)  # the width is used, not a fixed 80
    # Each rule, read back from its wrapped lines, is the rule word for word: no word was cut.
    text = "\n".join(lines) + "\n\n"
    shown = [" ".join(block.split("\n\n")[0].split()) for block in text.split("\nrule: ")[1:]]
    assert sorted(shown) == sorted(" ".join(rule.split()) for rule in rules.values())
