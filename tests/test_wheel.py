"""An installed (non-editable) wheel works on its own: `mspkpi demo --no-tui` finds the demo
data and the migrations inside the package, and `mspkpi kpi --format json` reads it back.

Slow (builds the wheel and a venv): `pytest -m slow`, and part of the full run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOT_SHIPPED = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "data", ".*cache")


def _run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_and_the_report(tmp_path):
    # Build from a copy, so the build leaves nothing in the working tree.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=NOT_SHIPPED)
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp_path / "dist", source, cwd=tmp_path
    )
    output = built.stdout + built.stderr
    assert "licen" not in output.casefold()  # no licence-table deprecation warning
    assert "BuildBackendWarning" not in output and "DeprecationWarning" not in output  # e.g. a package left out
    wheel = next((tmp_path / "dist").glob("mspkpi-*.whl"))

    # A fresh venv with our wheel alone; its dependencies come from the test venv's site-packages
    # (a path in a .pth file: that directory's own .pth files, the editable install among them, are not read).
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip()
    )
    (site / "test-venv-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    where = _run(python, "-c", "import mspkpi_tui; print(mspkpi_tui.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(site)), where  # the installed copy, not the working tree

    mspkpi = venv / "bin" / "mspkpi"
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = _run(mspkpi, "--db", db, "demo", "--no-tui", cwd=tmp_path)
    assert "tickets" in demo.stdout
    report = json.loads(_run(mspkpi, "--db", db, "kpi", "--format", "json", cwd=tmp_path).stdout)
    assert report["queue"]["open"] > 0 and report["team"]["resources"]
