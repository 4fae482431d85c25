"""Halo sync benchmark: `mspkpi sync halo` from the fake HaloPSA server on loopback into SQLite.

1. A first sync of --tickets tickets and --actions actions with time (time entries), the
   rate budget off (MSPKPI_HALO_RATE_LIMIT=0; hosted Halo would allow 300 requests per
   5 minutes, i.e. 30,000 records in 5 minutes at 100 a page). Records per CPU second of the
   sync process (the fake server shares the machine, so the wall clock mixes in its time),
   median of --runs runs, with a plain sqlite3 executemany of the same rows measured in the
   same run as the baseline. Target >= 20,000 records per CPU second.
2. An incremental pass over --changed tickets changed on the server, in the database the
   first sync filled: wall clock minus the time the server spent answering, median of
   --runs passes. Target <= 2 s.

    python -m bench.halo_bench [--write]          # --write updates the Halo section of RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fake server lives with the tests

from fakes.halo import HaloFake, halo_time  # noqa: E402

from bench.common import RESULTS_PATH, machine_info, replace_section  # noqa: E402
from bench.sync_bench import executemany_seconds  # noqa: E402

MARK_START = "<!-- halo-bench:start -->"
MARK_END = "<!-- halo-bench:end -->"
TARGET_RATE = 20_000
TARGET_INCREMENTAL_S = 2.0


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float
    server_seconds: float
    requests: int


def build_fake(tickets: int, actions: int) -> HaloFake:
    fake = HaloFake()
    base = (datetime.now(UTC) - timedelta(days=400)).replace(microsecond=0)
    old = base - timedelta(days=1)
    for i in range(1, 51):
        fake.put("Client", {"id": i, "name": f"Client {i}"}, at=old)
    for i in range(1, 26):
        fake.put("Agent", {"id": i, "name": f"Agent {i}", "email": f"a{i}@msp.example"}, at=old)
    for i, name in enumerate(["Service Desk", "Escalations", "Projects"], start=1):
        fake.put("Team", {"id": i, "name": name}, at=old)
    for sid, name, kind in [(1, "New", 1), (2, "In Progress", 2), (3, "Waiting", 3), (9, "Closed", 4)]:
        fake.put("Status", {"id": sid, "name": name, "type": kind}, at=old)
    for pid in range(1, 5):
        fake.put("Priority", {"id": pid, "slaid": 1, "priorityid": pid, "name": f"P{pid}"}, at=old)
    teams = ["Service Desk", "Escalations", "Projects"]
    tickets_data, actions_data = fake.data["tickets"], fake.data["actions"]
    for i in range(1, tickets + 1):
        opened = base + timedelta(minutes=7 * i % 500_000)
        closed = i % 4 == 0
        tickets_data[i] = {
            "id": i,
            "summary": f"Ticket {i}",
            "client_id": 1 + i % 50,
            "agent_id": 1 + i % 25,
            "team": teams[i % 3],
            "status_id": 9 if closed else 1 + i % 3,
            "priorityid": 1 + i % 4,
            "sla_id": 1,
            "category_1": "Hardware>Purchase",
            "dateoccurred": halo_time(opened),
            "respondbydate": halo_time(opened + timedelta(hours=2)),
            "responsedate": halo_time(opened + timedelta(hours=1)) if i % 3 else "1900-01-01T00:00:00",
            "fixbydate": halo_time(opened + timedelta(hours=24)),
            "dateclosed": halo_time(opened + timedelta(hours=5)) if closed else "1900-01-01T00:00:00",
            "lastactiondate": halo_time(opened + timedelta(hours=1)),
        }
        fake.updated["tickets"][i] = old
    per_ticket = max(actions // max(tickets, 1), 1)
    for n in range(actions):
        ticket, number = 1 + n // per_ticket, 1 + n % per_ticket
        if ticket > tickets:
            break
        actions_data[(ticket, number)] = {
            "id": number,
            "ticket_id": ticket,
            "who_agentid": 1 + n % 25,
            "outcome": "Remote support",
            "datetime": halo_time(base + timedelta(minutes=11 * n % 500_000)),
            "timetaken": 0.25 * (1 + n % 4),
            "actisbillable": n % 2 == 0,
        }
        fake.updated["actions"][(ticket, number)] = old
    return fake


def run_sync(url: str, fake: HaloFake, *args: str) -> Timing:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSPKPI_")}
    env.update(fake.env(MSPKPI_HALO_RATE_LIMIT="0"))
    fake.server.clear_log()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mspkpi_tui", "--db", url, "sync", "halo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sync failed ({done.returncode}): {done.stderr.strip()}")
    return Timing(seconds, _children_cpu() - cpu_before, fake.server.server_seconds(), len(fake.server.log))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(workdir: Path, tickets: int, actions: int, changed: int, runs: int) -> dict:
    print(f"building a tenant of {tickets:,} tickets and {actions:,} actions ...", flush=True)
    fake = build_fake(tickets, actions)
    records = tickets + len(fake.data["actions"])
    firsts, baselines, incs, fetched = [], [], [], 0
    with fake:
        db = workdir / "halo.db"
        for run in range(runs):
            db.unlink(missing_ok=True)
            timing = run_sync(f"sqlite:///{db}", fake)
            firsts.append(timing)
            baselines.append(executemany_seconds(db, ["tickets", "time_entries"]))
            print(
                f"  first sync {run + 1}: {timing.cpu_seconds:.1f} CPU s, {records / timing.cpu_seconds:,.0f}/CPU s",
                flush=True,
            )
        step = max(tickets // changed, 1)
        for run in range(runs):
            now = datetime.now(UTC)
            for n, ticket_id in enumerate(range(step, tickets + 1, step)[:changed]):
                fake.edit("Tickets", ticket_id, at=now, summary=f"changed {run}.{n}", status_id=1 + (n + run) % 3)
            timing = run_sync(f"sqlite:///{db}", fake)
            incs.append(timing)
            fetched = sum(e.items or 0 for e in fake.server.log if e.request.path == "/api/Tickets")
            print(f"  incremental {run + 1}: {timing.seconds:.2f} s, server {timing.server_seconds:.2f} s", flush=True)
    return {
        "records": records,
        "firsts": firsts,
        "baselines": baselines,
        "incs": incs,
        "changed": changed,
        "tickets": tickets,
        "fetched": fetched,
    }


def report(m: dict, command: str) -> str:
    info = machine_info()
    cpu = statistics.median(t.cpu_seconds for t in m["firsts"])
    wall = statistics.median(t.seconds for t in m["firsts"])
    server = statistics.median(t.server_seconds for t in m["firsts"])
    base = statistics.median(m["baselines"])
    rate = m["records"] / cpu
    inc_client = statistics.median(t.seconds - t.server_seconds for t in m["incs"])
    inc_wall = statistics.median(t.seconds for t in m["incs"])
    inc_cpu = statistics.median(t.cpu_seconds for t in m["incs"])
    runs = len(m["firsts"])
    requests = m["firsts"][0].requests
    return "\n".join(
        [
            MARK_START,
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{command}` (medians of {runs} runs).",
            f"Machine: {', '.join(f'{k} {v}' for k, v in info.items())}.",
            "",
            "| what | figure | target | met |",
            "|---|---:|---:|:-:|",
            f"| first sync: {m['records']:,} records (tickets + actions with time), wall clock of `mspkpi sync halo` | {wall:.1f} s | | |",
            f"| first sync: CPU time of the sync process | {cpu:.1f} s | | |",
            f"| first sync: records per CPU second | {rate:,.0f} | >= {TARGET_RATE:,} | {'yes' if rate >= TARGET_RATE else '**no**'} |",
            f"| first sync: time the fake server spent answering ({requests:,} requests of 100 records) | {server:.1f} s | | |",
            f"| plain sqlite3 executemany of the same rows into an empty schema | {base:.2f} s | | |",
            f"| sync CPU time / executemany time | {cpu / base:.1f}x | | |",
            f"| incremental: {m['changed']:,} changed tickets in a {m['tickets']:,}-ticket database, wall clock | {inc_wall:.2f} s | | |",
            f"| incremental: CPU time of the sync process | {inc_cpu:.2f} s | | |",
            f"| incremental: wall clock minus server time | {inc_client:.2f} s | <= {TARGET_INCREMENTAL_S:g} s | {'yes' if inc_client <= TARGET_INCREMENTAL_S else '**no**'} |",
            f"| load average during the run (2 cores shared with other work) | {os.getloadavg()[0]:.1f} | | |",
            "",
            f"Tickets fetched by the last incremental pass: {m['fetched']:,} (the changed ones plus the overlap window).",
            "The rate budget is off (MSPKPI_HALO_RATE_LIMIT=0). Within hosted Halo's budget (300 requests per",
            "5 minutes, 100 records a request) a first sync cannot go faster than about 100 records per second,",
            "whatever the CPU: the budget, not the sync, decides a hosted tenant's first sync.",
            "The wall clock includes starting Python and opening (migrating) the database, about 1 s here.",
            MARK_END,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--actions", type=int, default=150_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--write", action="store_true", help=f"put the figures into {RESULTS_PATH.name} (section Halo sync)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mspkpi-halo-bench-") as tmp:
        measured = measure(Path(tmp), args.tickets, args.actions, args.changed, args.runs)
    command = "python -m bench.halo_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    section = report(measured, command.strip())
    print(section)
    if args.write:
        replace_section(section, MARK_START, MARK_END, "Halo sync")
        print(f"\nwritten to {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
