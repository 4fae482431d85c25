"""Sync benchmark: `mspkpi sync autotask` from the fake Autotask server on loopback into SQLite.

1. A first sync of --tickets tickets and --time-entries time entries (default 200,000 and
   1,000,000): records per second end to end (the real CLI in a subprocess, from start to
   exit), and the ratio to a plain sqlite3 `executemany` insert of the same rows into an
   empty database with the same schema, measured in the same run. Target >= 20,000/s.
2. An incremental pass over --changed tickets (default 1,000) changed on the server, in a
   database of --incremental-tickets tickets (default 1,000,000). Target <= 2 s plus the
   time the server spent answering (the fake scans its whole tenant for a filter).

    python -m bench.sync_bench [--write]          # --write updates the Sync section of RESULTS.md
    python -m bench.sync_bench --tickets 20000 --time-entries 100000 --incremental-tickets 100000
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fake server lives with the tests

from fakes.autotask_server import AutotaskFake, at_time, make_ticket, make_time_entry, populate  # noqa: E402

from bench.common import RESULTS_PATH, machine_info, replace_section  # noqa: E402

MARK_START = "<!-- sync-bench:start -->"
MARK_END = "<!-- sync-bench:end -->"
TARGET_RATE = 20_000
TARGET_INCREMENTAL_S = 2.0
STATUSES = [1, 8, 7, 5, 11, 5, 10, 5]


@dataclass
class SyncTiming:
    seconds: float  # wall clock of the CLI process
    cpu_seconds: float  # CPU the CLI process used (the machine may be shared: wall > CPU)
    server_seconds: float  # time the fake spent producing answers
    requests: int
    output: str


def build_fake(tickets: int, time_entries: int) -> AutotaskFake:
    fake = AutotaskFake()
    # Everything happened before now (tickets 7 min apart, time entries 11 min apart), so an
    # incremental pass finds only what the benchmark changes.
    span = timedelta(minutes=max(7 * tickets, 11 * time_entries), days=2)
    base = (datetime.now(UTC) - span).replace(microsecond=0)
    populate(
        fake,
        tickets=0,
        time_entries=0,
        companies=50,
        resources=25,
        opportunities=20,
        projects=10,
        contracts=20,
        surveys=0,
        base=base,
    )
    table = fake.data["Tickets"]
    for i in range(1, tickets + 1):
        table[i] = make_ticket(i, base, 50, 25, STATUSES[i % len(STATUSES)])
    entries = fake.data["TimeEntries"]
    for i in range(1, time_entries + 1):
        record = make_time_entry(i, base, tickets, 25, 10)
        entries[record["id"]] = record
    fake._sorted_ids.clear()
    return fake


def run_sync(url: str, fake: AutotaskFake, *args: str) -> SyncTiming:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
    env.update(fake.env())
    fake.server.clear_log()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mspkpi_tui", "--db", url, "sync", "autotask", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sync failed ({done.returncode}): {done.stderr.strip()}")
    return SyncTiming(
        seconds, _children_cpu() - cpu_before, fake.server.server_seconds(), len(fake.server.log), done.stderr.strip()
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def executemany_seconds(synced_db: Path, tables: list[str]) -> float:
    """Insert the rows the sync stored into an empty copy of the schema with plain executemany."""
    fresh = synced_db.with_name("executemany.db")
    fresh.unlink(missing_ok=True)
    source = sqlite3.connect(synced_db)
    schema = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL"
        )
    ]
    data = {t: source.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    widths = {t: len(source.execute(f"SELECT * FROM {t} LIMIT 0").description) for t in tables}
    source.close()
    target = sqlite3.connect(fresh)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    for sql in schema:
        target.execute(sql)
    target.commit()
    target.execute("PRAGMA foreign_keys=OFF")
    started = time.perf_counter()
    for table in tables:
        marks = ", ".join("?" * widths[table])
        target.executemany(f"INSERT INTO {table} VALUES ({marks})", data[table])
    target.commit()
    seconds = time.perf_counter() - started
    target.close()
    fresh.unlink(missing_ok=True)
    return seconds


def first_sync(workdir: Path, tickets: int, time_entries: int) -> dict:
    print(f"building a tenant of {tickets:,} tickets and {time_entries:,} time entries ...", flush=True)
    fake = build_fake(tickets, time_entries)
    db = workdir / "first.db"
    with fake:
        print("first sync ...", flush=True)
        timing = run_sync(f"sqlite:///{db}", fake)
    records = tickets + time_entries
    print(f"  {timing.seconds:.1f} s, {records / timing.seconds:,.0f} records/s; executemany baseline ...", flush=True)
    baseline = executemany_seconds(db, ["tickets", "time_entries"])
    del fake
    gc.collect()
    return {"records": records, "timing": timing, "baseline": baseline}


def incremental(workdir: Path, tickets: int, changed: int) -> dict:
    print(f"building a tenant of {tickets:,} tickets ...", flush=True)
    fake = build_fake(tickets, 1000)
    db = workdir / "incremental.db"
    with fake:
        print("filling the database (first sync) ...", flush=True)
        fill = run_sync(f"sqlite:///{db}", fake)
        print(f"  {fill.seconds:.1f} s; changing {changed:,} tickets ...", flush=True)
        step = max(tickets // changed, 1)
        now = fake.now()
        for n, ticket_id in enumerate(range(step, tickets + 1, step)[:changed]):
            fake.data["Tickets"][ticket_id].update(status=8 if n % 2 else 11, lastActivityDate=at_time(now, n))
        timing = run_sync(f"sqlite:///{db}", fake)
        fetched = sum(e.items or 0 for e in fake.server.requests_to("/tickets/query"))
    print(f"  incremental: {timing.seconds:.2f} s, of which server {timing.server_seconds:.2f} s", flush=True)
    return {"tickets": tickets, "changed": changed, "fetched": fetched, "fill": fill, "timing": timing}


def report(first: dict, inc: dict, command: str) -> str:
    info = machine_info()
    t = first["timing"]
    rate = first["records"] / t.seconds
    ratio = t.seconds / first["baseline"]
    i = inc["timing"]
    client = i.seconds - i.server_seconds
    return "\n".join(
        [
            MARK_START,
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{command}`.",
            f"Machine: {', '.join(f'{k} {v}' for k, v in info.items())}.",
            "",
            "| what | figure | target | met |",
            "|---|---:|---:|:-:|",
            f"| first sync: {first['records']:,} records (tickets + time entries), wall clock of `mspkpi sync autotask` | {t.seconds:.1f} s | | |",
            f"| first sync: records per second end to end | {rate:,.0f} | >= {TARGET_RATE:,} | {'yes' if rate >= TARGET_RATE else '**no**'} |",
            f"| first sync: CPU time of the sync process (records per CPU second) | {t.cpu_seconds:.1f} s ({first['records'] / t.cpu_seconds:,.0f}/s) | | |",
            f"| first sync: time the fake server spent answering ({t.requests:,} requests) | {t.server_seconds:.1f} s | | |",
            f"| plain sqlite3 executemany of the same rows into an empty schema | {first['baseline']:.1f} s | | |",
            f"| sync time / executemany time | {ratio:.1f}x | | |",
            f"| incremental: {inc['changed']:,} changed tickets in a {inc['tickets']:,}-ticket database, wall clock | {i.seconds:.2f} s | | |",
            f"| incremental: CPU time of the sync process | {i.cpu_seconds:.2f} s | | |",
            f"| incremental: of which the fake server (scanning {inc['tickets']:,} tickets per query, {i.requests} requests) | {i.server_seconds:.2f} s | | |",
            f"| incremental: wall clock minus server time | {client:.2f} s | <= {TARGET_INCREMENTAL_S:g} s | {'yes' if client <= TARGET_INCREMENTAL_S else '**no**'} |",
            f"| load average during the run (2 cores shared with other work) | {os.getloadavg()[0]:.1f} | | |",
            f"| (filling that database: first sync of {inc['tickets']:,} tickets) | {inc['fill'].seconds:.1f} s | | |",
            "",
            f"Tickets fetched by the incremental pass: {inc['fetched']:,} (the changed ones plus the overlap window).",
            "The wall clock includes starting Python and opening (migrating) the database, about 1 s here.",
            MARK_END,
        ]
    )


def write_results(section: str) -> None:
    replace_section(section, MARK_START, MARK_END, "Sync")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--time-entries", type=int, default=1_000_000)
    parser.add_argument("--incremental-tickets", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--write", action="store_true", help=f"put the figures into {RESULTS_PATH.name} (section Sync)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mspkpi-sync-bench-") as tmp:
        workdir = Path(tmp)
        first = first_sync(workdir, args.tickets, args.time_entries)
        inc = incremental(workdir, args.incremental_tickets, args.changed)
    command = "python -m bench.sync_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    section = report(first, inc, command.strip())
    print(section)
    if args.write:
        write_results(section)
        print(f"\nwritten to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
