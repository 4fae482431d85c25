"""Data flows one way: the import-linter contracts in pyproject.toml hold."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([lint_imports], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken" in result.stdout
    for contract in ("The KPI engine has no presentation", "Layers: the CLI wires", "The one sanitiser"):
        assert contract in result.stdout


def test_the_report_path_does_not_import_textual():
    """`mspkpi kpi` in a cron job should not pay for the TUI."""
    code = "import sys, mspkpi_tui.cli, mspkpi_tui.kpi; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
