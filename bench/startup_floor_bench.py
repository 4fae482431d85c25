"""The floor under issue 11's start-up goal (first data at most 2.5x a bare Textual app's paint).

Three apps painting one Static in the same pty harness as `tui_bench.startup`, alternately:
- `bare`: tui_bench's bare Textual app;
- `libraries`: the same after importing SQLAlchemy and pydantic-settings, the libraries the
  dashboard needs before its first read (the engine, the config);
- `modules`: the same after importing every module of ours the dashboard's first screen
  imports (the config, the loader, the app), without reading or building anything.
Each is printed as its median time to paint and as a multiple of the bare app's.

    python -m bench.startup_floor_bench [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.tui_bench import BARE_APP, Terminal

IMPORTS = {
    "bare": "",
    "libraries": "import sqlalchemy, pydantic_settings\n",
    "modules": "import mspkpi_tui.config, mspkpi_tui.tui.loader, mspkpi_tui.tui.app\n",
}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args(argv).runs
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    with tempfile.TemporaryDirectory() as folder:
        scripts = {}
        for name, imports in IMPORTS.items():
            scripts[name] = Path(folder) / f"{name}.py"
            scripts[name].write_text(imports + BARE_APP)
        for _ in range(runs):
            for name, script in scripts.items():
                terminal = Terminal([sys.executable, str(script)])
                times[name].append(terminal.wait_for("BARE-APP-READY"))
                terminal.close()
    medians = {name: statistics.median(found) for name, found in times.items()}
    for name, median in medians.items():
        print(f"{name:10} {median:.3f} s  {median / medians['bare']:.2f}x the bare app")
    return medians


if __name__ == "__main__":
    main()
