"""Time a full dashboard refresh and each KPI area on a generated database.

    .venv/bin/python -m bench.kpi_bench [--db URL] [--runs N] [--now ISO] [--write]

Each figure is the median (with min and max) of N timed runs after one warm-up run, on
one engine kept open as the TUI keeps it. The baseline is one plain
`SELECT count(*) FROM tickets`, timed the same way in the same run, so the ratio says how
a refresh compares with the cheapest full look at the tickets on this machine.
--write puts the table, the machine and the command into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from bench.common import DEFAULT_URL, RESULTS_PATH, generated_now, machine_info, replace_section
from mspkpi_tui.clock import parse_now, utcnow
from mspkpi_tui.config import Config
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.store.engine import describe, open_database

# Section name -> (module, function) of the KPI engine (see notes/kpi-contract.md).
AREAS: dict[str, tuple[str, str]] = {
    "queue": ("mspkpi_tui.kpi.queue", "queue_figures"),
    "sla": ("mspkpi_tui.kpi.sla", "sla_figures"),
    "service": ("mspkpi_tui.kpi.service", "service_figures"),
    "escalations": ("mspkpi_tui.kpi.escalations", "escalation_figures"),
    "team": ("mspkpi_tui.kpi.team", "team_figures"),
    "pipeline": ("mspkpi_tui.kpi.pipeline", "pipeline_figures"),
    "contracts": ("mspkpi_tui.kpi.contracts", "contract_figures"),
    "projects": ("mspkpi_tui.kpi.projects", "project_figures"),
    "trends": ("mspkpi_tui.kpi.trends", "trend_series"),
}
FULL_REFRESH = "full refresh"
BASELINE = "baseline: SELECT count(*) FROM tickets"
TARGET_FULL_MS = 150.0
TARGET_AREA_MS = 60.0
MARK_START = "<!-- kpi-bench:start -->"
MARK_END = "<!-- kpi-bench:end -->"


@dataclass
class Timing:
    name: str
    runs_ms: list[float]
    result: Any  # what the last run returned (so a caller can check a figure came out)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time (less hurt by a busy machine)

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_ms) if self.cpu_ms else float("nan")

    @property
    def low(self) -> float:
        return min(self.runs_ms)

    @property
    def high(self) -> float:
        return max(self.runs_ms)


def area_function(name: str) -> Callable:
    module, function = AREAS[name]
    return getattr(importlib.import_module(module), function)


def full_refresh(engine: Engine, now: datetime, config: Config) -> dict:
    from mspkpi_tui.kpi.report import compute_report

    return compute_report(engine, now, config)


def count_tickets(engine: Engine, now: datetime, config: Config) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()


def time_call(name: str, fn: Callable, engine: Engine, now: datetime, config: Config, runs: int) -> Timing:
    fn(engine, now, config)  # warm-up: compiles the statements, fills the caches
    samples, cpu, result = [], [], None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn(engine, now, config)
        samples.append((time.perf_counter() - started) * 1000.0)
        cpu.append((time.process_time() - cpu_started) * 1000.0)
    return Timing(name, samples, result, cpu)


def run_benchmark(url: str, runs: int = 5, now: datetime | None = None, config: Config | None = None) -> list[Timing]:
    """Baseline, full refresh and every area, in that order."""
    if runs < 1:
        raise MspkpiError(f"--runs must be at least 1, not {runs}")
    config = config or Config(timezone="UTC")
    engine = open_database(url)
    try:
        now = now or generated_now(engine) or utcnow()
        timings = [time_call(BASELINE, count_tickets, engine, now, config, runs)]
        timings.append(time_call(FULL_REFRESH, full_refresh, engine, now, config, runs))
        for name in AREAS:
            timings.append(time_call(name, area_function(name), engine, now, config, runs))
        return timings
    finally:
        engine.dispose()


def markdown_table(timings: list[Timing]) -> str:
    baseline = timings[0].median
    lines = [
        "| what | median ms | min ms | max ms | CPU ms (median) | x baseline | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for t in timings:
        target = TARGET_FULL_MS if t.name == FULL_REFRESH else None if t.name == BASELINE else TARGET_AREA_MS
        met = "" if target is None else ("yes" if t.median <= target else "**no**")
        ratio = f"{t.median / baseline:.1f}" if baseline > 0 else "-"
        lines.append(
            f"| {t.name} | {t.median:.1f} | {t.low:.1f} | {t.high:.1f} | {t.cpu_median:.1f} | {ratio} | {'' if target is None else f'<= {target:.0f}'} | {met} |"
        )
    return "\n".join(lines)


def database_summary(url: str) -> str:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            counts = {
                name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("tickets", "time_entries", "ticket_events", "resources", "companies", "opportunities")
            }
            open_tickets = conn.execute(text("SELECT count(*) FROM tickets WHERE is_closed = false")).scalar_one()
    finally:
        engine.dispose()
    return (
        f"{counts['tickets']:,} tickets ({open_tickets:,} open), {counts['time_entries']:,} time entries, "
        f"{counts['ticket_events']:,} ticket events, {counts['resources']:,} technicians, "
        f"{counts['companies']:,} companies, {counts['opportunities']:,} opportunities"
    )


def report_section(timings: list[Timing], url: str, runs: int, now: datetime, command: str, load: str = "") -> str:
    machine = machine_info()
    return "\n".join(
        [
            MARK_START,
            f"Measured {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} on {describe(url)} "
            f"(data's now {now.isoformat()}), {runs} timed runs after one warm-up.",
            "",
            f"- Data: {database_summary(url)}",
            f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram']} RAM, "
            f"Python {machine['python']}, SQLite {machine['sqlite']}, {machine['os']}",
            f"- Load average (1 min) before and after the run: {load or load_average()} (other engineers' work shares the machine)",
            f"- Command: `{command}`",
            "",
            markdown_table(timings),
            MARK_END,
        ]
    )


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def write_results(section: str, path=None) -> None:
    """Replace the previous benchmark section of RESULTS.md (or append one)."""
    replace_section(section, MARK_START, MARK_END, "The KPI benchmark", path or RESULTS_PATH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpi_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_URL, help=f"database URL (default {DEFAULT_URL})")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--now", help="the present, ISO-8601 (default: the generated data's now)")
    parser.add_argument("--write", action="store_true", help=f"put the results into {RESULTS_PATH.name}")
    args = parser.parse_args(argv)
    command = "python -m bench.kpi_bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    try:
        now = parse_now(args.now) if args.now else None
        load_before = load_average()
        timings = run_benchmark(args.db, args.runs, now)
        load = f"{load_before} / {load_average()}"
        if now is None:
            engine = open_database(args.db)
            now = generated_now(engine) or utcnow()
            engine.dispose()
    except MspkpiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(markdown_table(timings))
    if args.write:
        write_results(report_section(timings, args.db, args.runs, now, command.strip(), load))
        print(f"\nwritten to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
