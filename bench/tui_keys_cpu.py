"""`tui_bench.keypresses()`'s keys (18 pane switches, 20 sorts, 15 filter keystrokes) with the
app's CPU per key from /proc: the whole process and its main thread (Textual's UI loop), and
the bytes written per key. Wall times use tui_bench's rule (key to the last byte before 40 ms
of quiet). Run it as a file, from the tree to measure (the app is `python -m mspkpi_tui`,
which imports from the current directory first):

    cd <tree> && URL=sqlite:////abs/bench/data/large.db PYTHONPATH=<tree> \\
        python /path/to/bench/tui_keys_cpu.py <label>
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.tui_bench import Terminal, mspkpi
from mspkpi_tui.kpi.tickets import SORTS

PANES = [
    ("2", "First response overdue"),
    ("3", "Escalated in the last"),
    ("4", "Overdue timesheets"),
    ("5", "Open opportunities by stage"),
    ("6", "First contact resolution"),
    ("1", "sort (s)"),
]


def ui_cpu(t: Terminal) -> float:
    fields = Path(f"/proc/{t.proc.pid}/task/{t.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(label: str) -> None:
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "config.toml"
        config.write_text("[tui]\nrefresh_seconds = 5\n")
        t = Terminal(mspkpi(os.environ.get("URL", "sqlite:///bench/data/large.db"), None, config))
        t.wait_for("Open ")
        t.settle()
        t.quiet_after()
        cpu, sent, ui = t.cpu_seconds(), t.received, ui_cpu(t)
        switch = [t.press(key, marker) for _ in range(3) for key, marker in PANES]
        n = len(switch)
        sw_ui, sw_cpu, sw_kb = (ui_cpu(t) - ui) / n, (t.cpu_seconds() - cpu) / n, (t.received - sent) / n / 1024
        sorts = list(SORTS)
        sort = [t.press("s", f"sort (s): {SORTS[sorts[(i + 1) % len(sorts)]]}") for i in range(len(sorts) * 2)]
        t.press("/", "filter: number, title")
        typed: list[float] = []
        f_cpu = f_ui = 0.0
        f_sent = 0
        for word in ["acme", "smith", "server"]:
            for i in range(1, len(word) + 1):
                cpu, sent, ui = t.cpu_seconds(), t.received, ui_cpu(t)
                typed.append(t.press(word[i - 1], f"filter: {word[:i]}"))
                f_cpu += t.cpu_seconds() - cpu
                f_sent += t.received - sent
                f_ui += ui_cpu(t) - ui
            for _ in word:
                t.press("\x7f", "sort (s)")
        t.close()
    k = len(typed)
    print(
        f"{label:7} switch {1000 * statistics.median(switch):6.1f} ms cpu/key {1000 * sw_cpu:5.1f} "
        f"ui {1000 * sw_ui:5.1f} ms {sw_kb:5.1f} KB | sort {1000 * statistics.median(sort):5.1f} | "
        f"filter {1000 * statistics.median(typed):5.1f} ms cpu/key {1000 * f_cpu / k:5.1f} "
        f"ui {1000 * f_ui / k:5.1f} ms {f_sent / k / 1024:4.1f} KB | load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
