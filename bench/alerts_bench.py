"""Time each triage view's query and one evaluation of every alert rule (issue 14).

    .venv/bin/python -m bench.alerts_bench [--db URL] [--runs N] [--now ISO] [--idle SECONDS] [--write]

Each figure is the median (with min) of N timed runs after one warm-up, on one engine kept
open as the dashboard keeps it; wall time and this process's CPU time (less hurt by a busy
machine). The baseline, timed the same way in the same run, is the queue's unfiltered id list
(what the Queue pane reads on every refresh). Targets: each view <= 50 ms, every alert rule
evaluated <= 20 ms.

--idle SECONDS runs the dashboard headless on the database with alerts on and a 15 s refresh
for that long after its first read, and reports its CPU share and what it wrote to the
terminal (bells, notifications) after the first announcements.
--write puts the table, the machine and the command into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bench.common import DEFAULT_URL, RESULTS_PATH, generated_now, machine_info, replace_section
from mspkpi_tui.clock import parse_now, utcnow
from mspkpi_tui.config import Config
from mspkpi_tui.kpi import alerts, views
from mspkpi_tui.kpi.tickets import TicketQuery, queue_ids
from mspkpi_tui.store.engine import open_database

TARGET_VIEW_MS = 50.0
TARGET_ALERTS_MS = 20.0
MARK_START = "<!-- alerts-bench:start -->"
MARK_END = "<!-- alerts-bench:end -->"


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float], Any]:
    fn()  # warm-up
    wall: list[float] = []
    cpu: list[float] = []
    result = None
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu, result


def measure(
    engine: Engine, now: datetime, config: Config, runs: int
) -> list[tuple[str, list[float], list[float], str]]:
    rows = []

    def add(name: str, fn: Callable[[], Any], size: Callable[[Any], str]) -> None:
        wall, cpu, result = timed(fn, runs)
        rows.append((name, wall, cpu, size(result)))

    add("baseline: the queue's ids, unfiltered", lambda: queue_ids(engine, now, TicketQuery()), lambda r: f"{len(r):,}")

    def ids_of(query: TicketQuery) -> Callable[[], list[int]]:
        return lambda: queue_ids(engine, now, query)

    for view in views.built_in(config):
        add(f"view {view.key}: {view.name}", ids_of(TicketQuery(sort=view.sort, view=view)), lambda r: f"{len(r):,}")
    add(
        "view N: median triage time",
        lambda: views.median_triage_seconds(engine, now, config),
        lambda r: f"{r / 3600:.1f} h" if r else "-",
    )
    add("view A: counts > 1/2/3 weeks", lambda: views.aged_counts(engine, now), lambda r: "3 counts")
    add(
        "every alert rule, one evaluation",
        lambda: alerts.evaluate(engine, now, config),
        lambda r: ", ".join(f"{f.rule} {len(f.tickets) or f.level}" for f in r),
    )
    state = alerts.Announcer()
    state.step(alerts.evaluate(engine, now, config), now, config, engine)

    def evaluate_and_step() -> list:
        return state.step(alerts.evaluate(engine, now, config), now, config, engine)

    add("evaluation + announcer step (nothing new)", evaluate_and_step, lambda r: f"{len(r)} announced")
    return rows


def idle(url: str, now: datetime, seconds: float) -> tuple[float, int]:
    """CPU share of the headless dashboard with alerts on, after its first read, and the bytes
    it wrote to the terminal after the first announcements."""
    import tempfile

    from mspkpi_tui.config import TuiSettings
    from mspkpi_tui.tui.app import MspkpiApp

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="mspkpi-bench-state-")  # a fresh alert state
    config = Config(tui=TuiSettings(refresh_seconds=15))
    engine = open_database(url)
    app = MspkpiApp(engine, config, now=now)
    written: list[str] = []
    app.terminal_write = written.append
    result: dict[str, float] = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.reads < 1 or app._alerts is None:  # the first read and the first evaluation
                await pilot.pause(0.2)
            await pilot.pause(2.0)
            first = len("".join(written))
            c0, w0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            result["cpu"] = (time.process_time() - c0) / (time.perf_counter() - w0) * 100
            result["bytes"] = len("".join(written)) - first

    asyncio.run(run())
    engine.dispose()
    return result["cpu"], int(result["bytes"])


def table(rows: list[tuple[str, list[float], list[float], str]]) -> str:
    lines = ["| query | median ms | min ms | CPU median ms | result |", "|---|---:|---:|---:|---|"]
    for name, wall, cpu, size in rows:
        lines.append(
            f"| {name} | {statistics.median(wall):,.1f} | {min(wall):,.1f} | {statistics.median(cpu):,.1f} | {size} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--now")
    parser.add_argument("--idle", type=float, default=0.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    engine = open_database(args.db)
    now = parse_now(args.now) if args.now else (generated_now(engine) or utcnow())
    config = Config(timezone="UTC")
    rows = measure(engine, now, config, args.runs)
    engine.dispose()
    out = [table(rows)]
    if args.idle:
        cpu, written = idle(args.db, now, args.idle)
        out.append(
            f"\nIdle dashboard with alerts on (15 s refresh, {args.idle:.0f} s after the first read): "
            f"CPU {cpu:.2f} % of one core; {written} bytes written to the terminal after the first announcements."
        )
    text = "\n".join(out)
    print(text)
    if args.write:
        command = "python -m bench.alerts_bench " + shlex.join(sys.argv[1:] if argv is None else argv)
        load = os.getloadavg()[0]
        info = machine_info()
        header = (
            f"Command: `{command}` at now = {now:%Y-%m-%d %H:%M} UTC, load average {load:.1f} "
            f"({info['nproc']} cores shared with other work). Targets: views <= {TARGET_VIEW_MS:g} ms, "
            f"alert rules <= {TARGET_ALERTS_MS:g} ms per evaluation."
        )
        section = f"{MARK_START}\n{header}\n\n{text}\n{MARK_END}"
        replace_section(section, MARK_START, MARK_END, "Triage views and alerts (bench/alerts_bench.py)", RESULTS_PATH)


if __name__ == "__main__":
    main()
