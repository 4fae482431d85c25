"""Textual's own cost of a pane switch: the floor under issue 11's 30 ms goal.

A minimal Textual app in the same 120x40 pty harness as bench/tui_bench.py: a ContentSwitcher
of two full-screen DataTables (8 columns, `--rows` rows each) and a Footer; keys 1 and 2 show
one table or the other and focus it in one batch, as the dashboard's pane keys do. Variants:
`nofocus` (the focus is not moved), `static` (two full-screen Statics instead of DataTables),
`table` (the dashboard's own Line-API table, mspkpi_tui.tui.table.Table, instead of DataTables).
Per switch: the median wall time from the key to the last byte of the answer (tui_bench's
40 ms quiet rule), the process's CPU and its main (UI) thread's CPU per key, bytes per key.

    python -m bench.floor_bench --mode focus --rows 2000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.tui_bench import Terminal

FLOOR_APP = """
import sys
from textual.app import App
from textual.binding import Binding
from textual.widgets import ContentSwitcher, DataTable, Footer, Static

MODE, ROWS = sys.argv[1], int(sys.argv[2])


class Floor(App):
    BINDINGS = [Binding("1", "show('a')", "A"), Binding("2", "show('b')", "B"), Binding("q", "quit", "Quit")]

    def compose(self):
        with ContentSwitcher(initial="a"):
            for name in "ab":
                if MODE == "static":
                    lines = (("PANE-" + name.upper() if r == 0 else "") + f" {name}-{r} " * 12 for r in range(60))
                    yield Static("\\n".join(lines), id=name)
                elif MODE == "table":
                    from mspkpi_tui.tui.table import Table

                    yield Table(["marker", *(f"col{c}" for c in range(7))], id=name)
                else:
                    yield DataTable(id=name, cursor_type="row")
        yield Footer()

    def on_mount(self):
        if MODE == "static":
            return
        if MODE == "table":
            from rich.text import Text

            for name in "ab":
                rows = []
                for r in range(ROWS):
                    first = "PANE-" + name.upper() if r == 0 else name + str(r)
                    rows.append((str(r), (Text(first), *(Text(f"{name}-{r}-{c}-xxxxxxx") for c in range(7)))))
                self.query_one(f"#{name}").show_rows(rows)
            self.query_one("#a").focus()
            return
        for name in "ab":
            table = self.query_one(f"#{name}", DataTable)
            table.add_columns("marker", *(f"col{c}" for c in range(7)))
            for r in range(ROWS):
                first = "PANE-" + name.upper() if r == 0 else name + str(r)
                table.add_row(first, *(f"{name}-{r}-{c}-xxxxxxx" for c in range(7)))
        self.query_one("#a").focus()

    def action_show(self, name):
        with self.batch_update():
            self.query_one(ContentSwitcher).current = name
            if MODE == "focus":
                self.query_one(f"#{name}").focus()


Floor().run()
"""


def ui_thread_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor(mode: str, rows: int, switches: int = 20) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as app:
        app.write(FLOOR_APP)
    t = Terminal([sys.executable, app.name, mode, str(rows)])
    try:
        t.wait_for("PANE-A")
        time.sleep(1.0)
        t.quiet_after()
        cpu, ui, received = t.cpu_seconds(), ui_thread_cpu(t.proc.pid), t.received
        times = [t.press(key, f"PANE-{pane}") for _ in range(switches // 2) for key, pane in (("2", "B"), ("1", "A"))]
        n = len(times)
        return {
            "mode": mode,
            "rows": rows,
            "switch_ms": 1000 * statistics.median(times),
            "cpu_ms_per_key": 1000 * (t.cpu_seconds() - cpu) / n,
            "ui_cpu_ms_per_key": 1000 * (ui_thread_cpu(t.proc.pid) - ui) / n,
            "kb_per_key": (t.received - received) / n / 1024,
            "load": os.getloadavg()[0],
        }
    finally:
        t.close()
        os.unlink(app.name)


MODES = ("focus", "nofocus", "static", "table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[*MODES, "all"], default="focus")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args(argv)
    for mode in MODES if args.mode == "all" else (args.mode,):
        print(mode, floor(mode, args.rows), flush=True)
    return 0


if __name__ == "__main__":
    main()
