"""The Trends benchmark: the long view's series, plotext builds and the Trends pane, in process.

    .venv/bin/python -m bench.trends_bench [--db URL] [--runs 3] [--cycles 200] [--write]

Measures (headless, in this process; not a timed test)
- kpi.history for 30 / 90 / 365 days by day and by week (median wall ms over --runs, after one
  warm-up that compiles the statements);
- one plotext build of a Trends chart at 58x11 and 78x11 (median ms);
- the Trends pane: key 7 until every chart shows the 30-day view, p right after it until the
  90-day view shows, and p after a quiet second until the 365-day view shows (read + build +
  layout + one screen refresh, on the app's own state, not on a pty; medians of --runs new
  apps), with the key handed over as the terminal driver does and, as measured before, with
  pilot.press (which also waits for the whole process to go idle);
- refresh cycles with the Trends pane on screen (forced full re-reads of unchanged data, each
  re-reading the long view): chart builds during them (0 expected) and RSS before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

from bench.common import DEFAULT_URL, RESULTS_PATH, generated_now, replace_section

SIZE = (120, 40)
RSS_CHECKPOINTS = {10, 20, 50, 100, 200, 500, 1000, 2000}
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


def rebuild_memory(cycles: int) -> dict:
    """plotext's memory over many rebuilds: every cycle builds the Trends pane's eight charts
    (365 points, three series each) with new values, as a range switch or new data would, at
    58x11, through the one figure charts.py clears before each build. RSS after 20 warm-up
    cycles and at the end."""
    from mspkpi_tui import charts

    labels = [f"{i:03d}" for i in range(365)]

    def cycle(n: int) -> None:
        for chart in range(8):
            lines = [  # daily-looking series (a slow wave and a weekly ripple), new values every cycle
                charts.Series(
                    name,
                    tuple(
                        round(60 + 20 * math.sin((i + n + 9 * k) / (15 + chart)) + (i + k) % 7, 1) for i in range(365)
                    ),
                    faint=k == 0,
                )
                for k, name in enumerate(("previous", "open", "closed"))
            ]
            charts.line_chart(f"chart {chart} cycle {n}", labels, lines, 58, 11)

    for n in range(20):
        cycle(n)
    start, started = rss_mb(), time.perf_counter()
    for n in range(cycles):
        cycle(20 + n)
    end = rss_mb()
    return {
        "cycles": cycles,
        "builds": cycles * 8,
        "build_ms": (time.perf_counter() - started) * 1000 / (cycles * 8),
        "rss_start_mb": start,
        "rss_end_mb": end,
        "growth_pct": 100 * (end - start) / start,
    }


def quiet_bytes(url: str, seconds: float) -> dict:
    """Bytes the app writes to its terminal (a pty, 120x40) in `seconds` of a quiet screen,
    live clock, refresh every 5 s (unchanged data), on the Queue pane and on the Trends pane."""
    import tempfile

    from bench.tui_bench import Terminal, mspkpi

    out = {}
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "config.toml"
        config.write_text("[tui]\nrefresh_seconds = 5\n")
        for key, marker, name in (("1", "Open ", "queue"), ("7", "Backlog at day end", "trends")):
            t = Terminal(mspkpi(url, None, config))
            try:
                t.wait_for("Open ", timeout=180)
                if key != "1":
                    t.press(key, marker)
                time.sleep(10)  # the first refreshes and the charts' builds settle
                t.quiet_after()
                before, started = t.received, time.perf_counter()
                while time.perf_counter() - started < seconds:
                    t.read(1.0)
                out[name] = t.received - before
            finally:
                t.close()
    out["seconds"] = seconds
    return out


def pane(url: str, now, cycles: int, keys: str = "post", warm: bool = False) -> dict:
    """The Trends pane in a headless app at 120x40. `keys="post"`: each key is handed to the
    app as the terminal driver hands it one, and the time runs until every chart shows the
    new view and the screen has refreshed once. `keys="pilot"`: the key is Textual's
    `pilot.press`, as this bench measured before: it returns only once the *process* has
    been idle (CPU time not advancing) or after 1 s, twice per key, so any work in the
    background (a read ahead) counts up to 2 s whether or not the view is drawn."""
    from textual import events

    from mspkpi_tui.config import Config, TuiSettings
    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.tui.app import MspkpiApp
    from mspkpi_tui.tui.charts import BUILT, Chart

    engine = open_database(url)
    gc.collect()  # the earlier apps' garbage goes before this app freezes what it holds
    app = MspkpiApp(engine, Config(tui=TuiSettings(refresh_seconds=0)), now=now)
    app.freeze_after_first_read = True  # as run_app's app does (gc.freeze after the first read)
    if not os.environ.get("BENCH_DEFAULT_ARENAS"):
        from mspkpi_tui.memory import limit_malloc_arenas

        limit_malloc_arenas()  # as run_app does before the app's threads (BENCH_DEFAULT_ARENAS=1: glibc's default)
    out: dict = {}
    if not warm:
        BUILT.clear()  # a new app in this process: its first paint builds every chart

    async def until(pilot, condition) -> None:
        while not condition():
            await pilot.pause(0.002)

    async def quiet(pilot, trends) -> None:
        """Every worker done and the pane's read-ahead finished (a user's second of quiet)."""
        for _ in range(2):
            await app.workers.wait_for_complete()
            await until(pilot, lambda: getattr(trends, "ahead_done", True))
            await pilot.pause()

    async def press(pilot, key: str, condition) -> float:
        started = time.perf_counter()
        if keys == "pilot":
            await pilot.press(key)
            await until(pilot, condition)
        else:
            event = events.Key(key, key)
            event.set_sender(app)
            app._driver.send_message(event)
            while not condition():
                await asyncio.sleep(0.001)
            refreshed = asyncio.Event()
            app.call_after_refresh(refreshed.set)
            await refreshed.wait()
        return (time.perf_counter() - started) * 1000

    def shows(trends, charts, view):
        """Every chart shows `view` at the size it has on screen (a chart drawn ahead while the
        pane was hidden counts once the pane is laid out with it at that size)."""
        return lambda: (
            trends.shown_view == view
            and all(c._built and c._built[0] == c.spec and c._built[1:] == tuple(c.content_size) for c in charts)
        )

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.reads >= 1)
            await pilot.press("6")  # every other pane built and shown once
            trends = app.pane("trends")
            await quiet(pilot, trends)
            charts = list(trends.query(Chart))
            out["first_ms"] = await press(pilot, "7", shows(trends, charts, (30, "day")))
            out["switch_ms"] = await press(pilot, "p", shows(trends, charts, (90, "day")))
            await quiet(pilot, trends)
            out["switch_quiet_ms"] = await press(pilot, "p", shows(trends, charts, (365, "day")))
            await quiet(pilot, trends)
            await pilot.press("p", "p")  # back to 90 days for the refresh cycles
            await until(pilot, shows(trends, charts, (90, "day")))
            await quiet(pilot, trends)
            for _ in range(3):
                await pilot.pause()
            if not cycles:
                return
            out["rss_start_mb"], builds, started = rss_mb(), BUILT.builds, time.perf_counter()
            out["rss_at_mb"] = {}  # RSS after 10, 20, 50, 100, 200, 500, 1,000 ... cycles
            # The same once every worker is done (the reload worker's alerts check, a read-ahead:
            # their memory in flight swung the first figure by +-5 MB), and the blocks Python's
            # allocator holds then (live Python objects: a leak of objects grows it).
            out["rss_quiet_at_mb"], out["blocks_at"], waited = {}, {}, 0.0
            for done in range(1, cycles + 1):
                reads, history_reads = app.reads, trends.reads
                app.check_for_changes(force=True)
                while not (app.reads > reads and trends.reads > history_reads):
                    await asyncio.sleep(0.002)  # not pilot.pause: it walks every widget, ~1 s CPU a cycle
                if done in RSS_CHECKPOINTS or done == cycles:
                    out["rss_at_mb"][done] = round(rss_mb(), 1)
                    paused = time.perf_counter()
                    await app.workers.wait_for_complete()
                    out["rss_quiet_at_mb"][done], out["blocks_at"][done] = round(rss_mb(), 1), sys.getallocatedblocks()
                    waited += time.perf_counter() - paused
            out["cycle_ms"] = (time.perf_counter() - started - waited) * 1000 / max(cycles, 1)
            await quiet(pilot, trends)
            out["cycles"], out["builds_during_cycles"], out["rss_end_mb"] = cycles, BUILT.builds - builds, rss_mb()

    try:
        asyncio.run(run())
    finally:
        gc.unfreeze()
    engine.dispose()
    return out


def panes(url: str, now, cycles: int, runs: int) -> dict:
    """pane() `runs` times each way (a new app each time: key 7 is the pane's first showing);
    medians. The refresh cycles run in the first posted-keys run only."""
    got: dict[str, list] = {}
    for n in range(runs):
        for keys in ("post", "pilot"):
            one = pane(url, now, cycles if (n == 0 and keys == "post") else 0, keys)
            print(keys, one, flush=True)
            for name, value in one.items():
                got.setdefault(f"{keys}:{name}", []).append(value)
    return {name: statistics.median(values) for name, values in got.items()}


def tickets(url: str) -> str:
    from sqlalchemy import func, select

    from mspkpi_tui.store.engine import open_database
    from mspkpi_tui.store.models import Ticket

    engine = open_database(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
    engine.dispose()
    return f"{n:,}"


def markdown(url, command, n, series, builds, tui, memory, quiet) -> str:
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
        f"| key 7 until the 30-day view is drawn (key as the terminal sends it) | {tui['post:first_ms']:,.0f} ms |",
        f"| p right after that until the 90-day view is drawn | {tui['post:switch_ms']:,.0f} ms |",
        f"| p after a quiet second until the 365-day view is drawn | {tui['post:switch_quiet_ms']:,.0f} ms |",
        f"| the same three with `pilot.press` (waits for an idle process, <= 2 x 1 s) | "
        f"{tui['pilot:first_ms']:,.0f} / {tui['pilot:switch_ms']:,.0f} / {tui['pilot:switch_quiet_ms']:,.0f} ms |",
        f"| full refresh cycle with the Trends pane shown (90 days) | {tui['post:cycle_ms']:,.0f} ms |",
        f"| chart builds over {tui['post:cycles']:.0f} refreshes of unchanged data | "
        f"{tui['post:builds_during_cycles']:.0f} |",
        f"| RSS before / after those cycles | {tui['post:rss_start_mb']:.0f} / {tui['post:rss_end_mb']:.0f} MB |",
        "",
        "| plotext memory (in process, one figure cleared before each build) | |",
        "|---|---:|",
        f"| rebuild cycles (8 charts of 365 points, new values each) | {memory['cycles']:,} ({memory['builds']:,} builds) |",
        f"| mean build | {memory['build_ms']:.1f} ms |",
        f"| RSS after 20 warm-up cycles / at the end | {memory['rss_start_mb']:.0f} / {memory['rss_end_mb']:.0f} MB "
        f"({memory['growth_pct']:+.1f} %) |",
        "",
        f"| bytes written to the terminal in {quiet['seconds']:.0f} s of a quiet screen (pty 120x40, live clock, "
        "refresh every 5 s) | bytes |",
        "|---|---:|",
        f"| Queue pane | {quiet['queue']:,} |",
        f"| Trends pane (charts on screen) | {quiet['trends']:,} |",
    ]
    return MARK_START + "\n" + "\n".join(lines) + "\n" + MARK_END


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trends_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--rebuilds", type=int, default=1000, help="plotext rebuild cycles for the memory measure")
    parser.add_argument("--quiet-seconds", type=float, default=60)
    parser.add_argument("--write", action="store_true", help=f"put the results into {RESULTS_PATH.name}")
    args = parser.parse_args(argv)
    command = "python -m bench.trends_bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    from mspkpi_tui.config import Config
    from mspkpi_tui.store.engine import open_database

    engine = open_database(args.db)
    now = generated_now(engine)
    series = series_ms(engine, now, Config(), args.runs)
    engine.dispose()
    tui = panes(args.db, now, args.cycles, args.runs)
    print("pane", tui, flush=True)
    memory = rebuild_memory(args.rebuilds)
    print("memory", memory, flush=True)
    quiet = quiet_bytes(args.db, args.quiet_seconds)
    print("quiet", quiet, flush=True)
    text = markdown(args.db, command.strip(), tickets(args.db), series, build_ms(), tui, memory, quiet)
    print(text)
    if args.write:
        replace_section(text, MARK_START, MARK_END, "Trends", RESULTS_PATH)
        print(f"written to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
