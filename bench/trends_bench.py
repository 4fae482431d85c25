"""The Trends benchmark: the long view's series, plotext builds and the Trends pane, in process.

    .venv/bin/python -m bench.trends_bench [--db URL] [--runs 3] [--cycles 200] [--write]

Measures (headless, in this process; not a timed test)
- kpi.history for 30 / 90 / 365 days by day and by week (median wall ms over --runs, after one
  warm-up that compiles the statements);
- one plotext build of a Trends chart at 58x11 and 78x11 (median ms);
- the Trends pane: key 7 until every chart shows the 30-day view, and p until the 90-day view
  shows (read + build + layout, measured on the app's own state, not on a pty);
- refresh cycles with the Trends pane on screen (forced full re-reads of unchanged data, each
  re-reading the long view): chart builds during them (0 expected) and RSS before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

from bench.common import DEFAULT_URL, RESULTS_PATH, generated_now, replace_section

SIZE = (120, 40)
VIEWS = ((30, "day"), (90, "day"), (365, "day"), (30, "week"), (90, "week"), (365, "week"))
MARK_START, MARK_END = "<!-- trends-bench:start -->", "<!-- trends-bench:end -->"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series_ms(engine, now, config, runs: int) -> dict[tuple[int, str], float]:
    from mspkpi_tui.kpi.history import history

    out = {}
    for days, by in VIEWS:
        history(engine, now, config, days, by)  # warm-up: compiled statements, page cache
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            history(engine, now, config, days, by)
            times.append((time.perf_counter() - started) * 1000)
        out[(days, by)] = statistics.median(times)
    return out


def build_ms() -> dict[str, float]:
    from mspkpi_tui import charts

    values = tuple(float(i % 17) for i in range(365))
    series = [charts.Series("previous", values[::-1], faint=True), charts.Series("open", values)]
    labels = [f"{i:03d}" for i in range(365)]
    out = {}
    for width in (58, 78):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            charts.line_chart("Backlog", labels, series, width, 11)
            times.append((time.perf_counter() - started) * 1000)
        out[f"{width}x11"] = statistics.median(times)
    return out


def pane(url: str, now, cycles: int) -> dict:
    from mspkpi_tui.config import Config, TuiSettings
    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.tui.app import MspkpiApp
    from mspkpi_tui.tui.charts import BUILT, Chart

    engine = open_database(url)
    app = MspkpiApp(engine, Config(tui=TuiSettings(refresh_seconds=0)), now=now)
    out: dict = {}

    async def until(pilot, condition) -> None:
        while not condition():
            await pilot.pause(0.002)

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.reads >= 1)
            await pilot.press("6")  # every other pane built and shown once
            await app.workers.wait_for_complete()
            await pilot.pause()
            trends = app.pane("trends")
            charts = list(trends.query(Chart))
            started = time.perf_counter()
            await pilot.press("7")
            await until(pilot, lambda: trends.shown_view == (30, "day") and all(c._built for c in charts))
            out["first_ms"] = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await pilot.press("p")
            await until(pilot, lambda: trends.shown_view == (90, "day") and all(c._built[0] == c.spec for c in charts))
            out["switch_ms"] = (time.perf_counter() - started) * 1000
            await app.workers.wait_for_complete()
            for _ in range(3):
                await pilot.pause()
            out["rss_start_mb"], builds, started = rss_mb(), BUILT.builds, time.perf_counter()
            for _ in range(cycles):
                reads, history_reads = app.reads, trends.reads
                app.check_for_changes(force=True)
                await until(pilot, lambda r=reads, h=history_reads: app.reads > r and trends.reads > h)
            out["cycle_ms"] = (time.perf_counter() - started) * 1000 / max(cycles, 1)
            out["cycles"], out["builds_during_cycles"], out["rss_end_mb"] = cycles, BUILT.builds - builds, rss_mb()

    asyncio.run(run())
    engine.dispose()
    return out


def tickets(url: str) -> str:
    from sqlalchemy import func, select

    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.store.models import Ticket

    engine = open_database(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
    engine.dispose()
    return f"{n:,}"


def markdown(url, command, n, series, builds, tui) -> str:
    load = f"{os.getloadavg()[0]:.1f}"
    lines = [
        f"Command: `{command}` on `{url}` ({n} tickets), load average {load} (2 cores shared with other work).",
        "",
        "| long view (kpi.history) | median ms |",
        "|---|---:|",
        *[f"| {days} days by {by} | {ms:,.0f} |" for (days, by), ms in series.items()],
        "",
        "| Trends pane (headless, in process) | |",
        "|---|---:|",
        *[f"| one plotext build, {size} | {ms:.1f} ms |" for size, ms in builds.items()],
        f"| key 7 until the 30-day view is drawn | {tui['first_ms']:,.0f} ms |",
        f"| p until the 90-day view is drawn | {tui['switch_ms']:,.0f} ms |",
        f"| full refresh cycle with the Trends pane shown (90 days) | {tui['cycle_ms']:,.0f} ms |",
        f"| chart builds over {tui['cycles']} refreshes of unchanged data | {tui['builds_during_cycles']} |",
        f"| RSS before / after those cycles | {tui['rss_start_mb']:.0f} / {tui['rss_end_mb']:.0f} MB |",
    ]
    return MARK_START + "\n" + "\n".join(lines) + "\n" + MARK_END


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trends_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--write", action="store_true", help=f"put the results into {RESULTS_PATH.name}")
    args = parser.parse_args(argv)
    command = "python -m bench.trends_bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    from mspkpi_tui.config import Config
    from mspkpi_tui.store.engine import open_database

    engine = open_database(args.db)
    now = generated_now(engine)
    series = series_ms(engine, now, Config(), args.runs)
    engine.dispose()
    text = markdown(args.db, command.strip(), tickets(args.db), series, build_ms(), pane(args.db, now, args.cycles))
    print(text)
    if args.write:
        replace_section(text, MARK_START, MARK_END, "Trends", RESULTS_PATH)
        print(f"written to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
