"""The TUI benchmark: the real `mspkpi` in a real pseudo-terminal, on the benchmark database.

    .venv/bin/python -m bench.tui_bench [--db URL] [--idle-seconds 300] [--cycles 1000] [--write]

Measures
- process start to the first screen with data painted (the queue's summary line on the
  terminal), against a bare Textual app painting one Static, started the same way;
- keypress to repaint (median) for pane switch, a filter keystroke and a sort: from writing
  the key to the pty until the terminal output that answers it has gone quiet (the last byte
  before 40 ms of silence), so the whole repaint is counted, not only its first byte;
- resident memory after the first screen, and its growth over refresh cycles (in-process,
  headless: each cycle is a forced full re-read of every pane plus the repaint);
- idle CPU (utime+stime of the process) and bytes written to the terminal over a quiet period
  with automatic refresh on (every 5 s) and the live clock.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from bench.common import DEFAULT_URL, RESULTS_PATH, generated_now, machine_info

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
SIZE = (120, 40)
QUIET = 0.040
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("BARE-APP-READY")

Bare().run()
"""


class Terminal:
    """A child process on a pseudo-terminal of a fixed size; we are the terminal emulator."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", **(env or {})},
        )
        os.close(slave)
        self.received = 0

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            return b""
        self.received += len(data)
        return data

    def wait_for(self, marker: str, timeout: float = 60.0) -> float:
        """Seconds until `marker` is on screen (ANSI stripped), then until output goes quiet."""
        start = time.perf_counter()
        seen = b""
        deadline = start + timeout
        while time.perf_counter() < deadline:
            data = self.read(0.5)
            seen += data
            if marker.encode() in ANSI.sub(b"", seen):
                return self.quiet_after() - start
        raise TimeoutError(f"{marker!r} not painted within {timeout} s; last output: {ANSI.sub(b'', seen)[-300:]!r}")

    def quiet_after(self) -> float:
        last = time.perf_counter()
        while True:
            if self.read(QUIET):
                last = time.perf_counter()
            else:
                return last

    def press(self, keys: str, marker: str) -> float:
        self.quiet_after()
        start = time.perf_counter()
        os.write(self.master, keys.encode())
        seen = b""
        while time.perf_counter() - start < 60:
            seen += self.read(0.5)
            if marker.encode() in ANSI.sub(b"", seen):
                return self.quiet_after() - start
        raise TimeoutError(f"no repaint with {marker!r}; got {ANSI.sub(b'', seen)[-300:]!r}")

    def settle(self, at_least: float = 2.0, timeout: float = 30.0) -> float:
        """Wait until the app is idle (under 10 % of a core for a quarter of a second, after
        `at_least` seconds), reading its output meanwhile; returns the seconds waited. The
        keypress benches start here: the first read of the panes after the queue takes ~1-3 s
        on the 1M-ticket database, and keys pressed during it measured the read as well."""
        start = time.perf_counter()
        cpu = self.cpu_seconds()
        while time.perf_counter() - start < timeout:
            window = time.perf_counter()
            while time.perf_counter() - window < 0.25:
                self.read(0.05)
            used, cpu = self.cpu_seconds() - cpu, self.cpu_seconds()
            if used < 0.025 and time.perf_counter() - start >= at_least:
                break
        return time.perf_counter() - start

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        """q (mspkpi), ctrl+q (the bare app), SIGHUP, then SIGKILL: never leave a child
        spinning on a closed pty (SIGHUP is ignored when the benchmark runs under nohup)."""
        stops = [
            lambda: os.write(self.master, b"q"),
            lambda: os.write(self.master, b"\x11"),
            lambda: self.proc.send_signal(signal.SIGHUP),
            self.proc.kill,
        ]
        for stop in stops:
            if self.proc.poll() is not None:
                break
            stop()
            self._drain_until_exit(5)
        os.close(self.master)

    def _drain_until_exit(self, seconds: float) -> bool:
        """Keep reading while the app shuts down: its last writes must not block on a full pty."""
        deadline = time.perf_counter() + seconds
        while self.proc.poll() is None and time.perf_counter() < deadline:
            self.read(0.1)
        return self.proc.poll() is not None


def mspkpi(url: str, now: str | None, config: Path) -> list[str]:
    argv = [sys.executable, "-m", "mspkpi_tui", "--db", url, "--config", str(config)]
    return argv + (["--now", now] if now else [])


def compile_bytecode() -> None:
    """Write the bytecode of the mspkpi_tui that the child imports, as an install does (pip
    compiles a wheel's modules; an editable install writes them on its first run). Without it,
    under PYTHONDONTWRITEBYTECODE=1, every measured start compiled ~70 modules from source
    (~0.1 s), which no installed mspkpi does; the bare app's Textual is compiled already."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("mspkpi_tui")
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def startup(url: str, now: str, config: Path, runs: int = 3, bytecode: bool = True) -> dict:
    if bytecode:
        compile_bytecode()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as bare:
        bare.write(BARE_APP)
    app_times, bare_times = [], []
    for _ in range(runs):
        t = Terminal([sys.executable, bare.name])
        bare_times.append(t.wait_for("BARE-APP-READY"))
        t.close()
        t = Terminal(mspkpi(url, now, config))
        app_times.append(t.wait_for("Open "))  # the queue's summary: data painted
        t.close()
    os.unlink(bare.name)
    app, base = statistics.median(app_times), statistics.median(bare_times)
    return {"first_screen_s": app, "bare_s": base, "ratio": app / base, "runs": runs}


def keypresses(url: str, now: str, config: Path, repeats: int = 5) -> dict:
    from mspkpi_tui.kpi.tickets import SORTS

    t = Terminal(mspkpi(url, now, config))
    t.wait_for("Open ")
    t.settle()  # let the other panes finish their first read
    t.quiet_after()
    panes = [
        ("2", "First response overdue"),
        ("3", "Escalated in the last"),
        ("4", "Overdue timesheets"),  # the Team pane's first line (its tables are long)
        ("5", "Open opportunities by stage"),
        ("6", "First contact resolution"),
        ("1", "sort (s)"),
    ]
    switch = [t.press(key, marker) for _ in range(repeats) for key, marker in panes]
    sorts = list(SORTS)
    sort = [t.press("s", f"sort (s): {SORTS[sorts[(i + 1) % len(sorts)]]}") for i in range(len(sorts) * 2)]
    t.press("/", "filter: number, title")  # the box opens
    filter_times = []
    for word in ["acme", "smith", "server"]:
        for i in range(1, len(word) + 1):
            filter_times.append(t.press(word[i - 1], f"filter: {word[:i]}"))
        for _ in word:
            t.press("\x7f", "sort (s)")  # backspace
    t.close()
    return {
        "pane_switch_ms": 1000 * statistics.median(switch),
        "pane_switch_n": len(switch),
        "sort_ms": 1000 * statistics.median(sort),
        "sort_n": len(sort),
        "filter_ms": 1000 * statistics.median(filter_times),
        "filter_n": len(filter_times),
        "filter_max_ms": 1000 * max(filter_times),
    }


def idle(url: str, config: Path, seconds: float) -> dict:
    """The live clock (no --now): what a lead's screen does between syncs."""
    t = Terminal(mspkpi(url, None, config))
    t.wait_for("Open ")
    t.settle(at_least=5.0)
    t.quiet_after()
    cpu0, bytes0, rss0, start = t.cpu_seconds(), t.received, t.rss_mb(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t.read(1.0)
    elapsed = time.perf_counter() - start
    result = {
        "idle_s": elapsed,
        "cpu_pct": 100 * (t.cpu_seconds() - cpu0) / elapsed,
        "bytes": t.received - bytes0,
        "rss_mb": t.rss_mb(),
        "rss_start_mb": rss0,
    }
    t.close()
    return result


def refresh_cycles(url: str, now, cycles: int, budget_s: float) -> dict:
    """In-process (headless): forced full re-reads, RSS before and after."""
    from mspkpi_tui.config import Config, TuiSettings
    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.tui.app import MspkpiApp

    def rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        return float("nan")

    engine = open_database(url)
    app = MspkpiApp(engine, Config(tui=TuiSettings(refresh_seconds=0)), now=now)
    out: dict = {}

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            while app.reads < 1:
                await pilot.pause(0.05)
            for n in range(20):  # warm-up: caches, first-time layouts
                await one(pilot, n)
            out["rss_start_mb"] = rss()
            started = time.perf_counter()
            done = 0
            while done < cycles and time.perf_counter() - started < budget_s:
                await one(pilot, done)
                done += 1
            out["cycles"] = done
            out["cycle_s"] = (time.perf_counter() - started) / max(done, 1)
            out["rss_end_mb"] = rss()

    async def one(pilot, n: int) -> None:
        reads = app.reads
        app.check_for_changes(force=True)
        while app.reads == reads:
            await pilot.pause(0.002)
        await pilot.press("j" if n % 2 else "k")

    asyncio.run(run())
    engine.dispose()
    out["growth_pct"] = 100 * (out["rss_end_mb"] - out["rss_start_mb"]) / out["rss_start_mb"]
    return out


def markdown(url: str, tickets: str, start: dict, keys: dict, cycles: dict, idle_run: dict) -> str:
    m = machine_info()
    return f"""## TUI

`bench/tui_bench.py` runs the real `mspkpi` in a pseudo-terminal ({SIZE[0]}x{SIZE[1]}, xterm-256color) on {tickets}
(`{url}`), the clock pinned to the data's `now` except for the idle run. Machine: {m["nproc"]} cores, {m["cpu"]}, {m["ram"]};
Python {m["python"]}, SQLite {m["sqlite"]}. Other engineers' jobs shared the machine while it ran, so treat single
figures as upper bounds.

| measure | result | target |
|---|---:|---:|
| start to first screen with data painted (median of {start["runs"]}) | {start["first_screen_s"]:.2f} s | |
| same for a bare Textual app painting one Static | {start["bare_s"]:.2f} s | |
| ratio | {start["ratio"]:.1f}x | ≤ 2.5x |
| pane switch, key to repaint done (median of {keys["pane_switch_n"]}) | {keys["pane_switch_ms"]:.0f} ms | ≤ 30 ms |
| filter keystroke, key to table repainted (median of {keys["filter_n"]}; max {keys["filter_max_ms"]:.0f} ms) | {keys["filter_ms"]:.0f} ms | ≤ 30 ms |
| sort, key to table repainted (median of {keys["sort_n"]}) | {keys["sort_ms"]:.0f} ms | ≤ 50 ms |
| resident memory after the first screen (idle run) | {idle_run["rss_start_mb"]:.0f} MB | ≤ 200 MB |
| resident memory in-process before / after {cycles["cycles"]} forced full refresh cycles ({cycles["cycle_s"]:.2f} s each) | {cycles["rss_start_mb"]:.0f} → {cycles["rss_end_mb"]:.0f} MB ({cycles["growth_pct"]:+.1f} %) | ≤ 5 % |
| idle CPU, {idle_run["idle_s"]:.0f} s quiet, auto refresh every 5 s, live clock | {idle_run["cpu_pct"]:.2f} % of a core | < 1 % |
| bytes written to the terminal over those {idle_run["idle_s"]:.0f} s (Queue pane) | {idle_run["bytes"]:,} ({60 * idle_run["bytes"] / idle_run["idle_s"]:,.0f} per minute) | < 2 KB per minute |

"Repaint done" = from writing the key to the pty until the answering output has been followed by
{int(QUIET * 1000)} ms of silence (that silence is not counted). A refresh cycle re-reads every pane through the
KPI engine and repaints; the change check that runs every few seconds between syncs costs one small
query (sync_runs) plus `PRAGMA data_version`, and re-reads nothing.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL)
    parser.add_argument("--idle-seconds", type=float, default=300)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument(
        "--cycle-budget", type=float, default=900, help="stop the refresh cycles after this many seconds"
    )
    parser.add_argument("--skip-cycles", action="store_true", help="no in-process refresh cycles (memory growth)")
    parser.add_argument("--write", action="store_true", help="put the results under '## TUI' in bench/RESULTS.md")
    args = parser.parse_args()
    from sqlalchemy import func, select

    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.store.models import Ticket

    engine = open_database(args.db)
    now = generated_now(engine)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Ticket.__table__)).scalar()
        open_n = conn.execute(select(func.count()).where(Ticket.__table__.c.is_closed.is_(False))).scalar()
    engine.dispose()
    tickets = f"{total:,} tickets ({open_n:,} open)"
    now_text = now.isoformat() if now else None
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "config.toml"
        config.write_text("[tui]\nrefresh_seconds = 5\n")
        print(f"TUI benchmark on {tickets}", flush=True)
        start = startup(args.db, now_text, config)
        print("startup", start, flush=True)
        keys = keypresses(args.db, now_text, config)
        print("keys", keys, flush=True)
        idle_run = idle(args.db, config, args.idle_seconds)
        print("idle", idle_run, flush=True)
    cycles = (
        {
            "cycles": 0,
            "cycle_s": float("nan"),
            "rss_start_mb": float("nan"),
            "rss_end_mb": float("nan"),
            "growth_pct": float("nan"),
        }
        if args.skip_cycles
        else refresh_cycles(args.db, now, args.cycles, args.cycle_budget)
    )
    print("cycles", cycles, flush=True)
    text = markdown(args.db, tickets, start, keys, cycles, idle_run)
    print(text)
    if args.write:
        write_section(text)


def write_section(text: str) -> None:
    """Replace (or add) the '## TUI' section of RESULTS.md, leaving the others alone."""
    current = RESULTS_PATH.read_text(encoding="utf-8") if RESULTS_PATH.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## TUI\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(text, current) if pattern.search(current) else current.rstrip("\n") + "\n\n" + text
    RESULTS_PATH.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
