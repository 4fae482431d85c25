"""Generate the large benchmark MSP into a database.

    .venv/bin/python -m bench.generate [--db URL] [--scale 1.0] [--now ISO] [--seed N] [--replace]

Default: 1,000,000 tickets (20,000 open), 5,000,000 time entries, 300 technicians,
2,000 companies, 20,000 opportunities and what goes with them, into bench/data/large.db.
The same seed, scale and now give the same data. The data's `now` is recorded as the end
of a "bench" sync run, so the benchmarks (and the TUI, with --now) can use the same clock.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.bulkload import load, prepare
from bench.common import ANCHOR_NOW, DEFAULT_URL, SOURCE
from bench.dataset import Sizes, generate_tables
from mspkpi_tui.clock import parse_now
from mspkpi_tui.errors import MspkpiError
from mspkpi_tui.store import rollups
from mspkpi_tui.store.models import SyncRun

SEED = 20261118


def generate(
    url: str = DEFAULT_URL,
    scale: float = 1.0,
    now: datetime | None = None,
    seed: int = SEED,
    replace: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Fill the store at `url` with a generated MSP; returns the row count per table."""
    if scale <= 0:
        raise MspkpiError(f"--scale must be above 0, not {scale}")
    now = (now or ANCHOR_NOW).astimezone(UTC).replace(microsecond=0)
    sizes = Sizes.scaled(scale)
    engine = prepare(url, replace)
    try:
        started = time.perf_counter()
        tables = generate_tables(sizes, now, seed)
        log(f"drew the rows in {time.perf_counter() - started:.1f} s; writing:")
        load(engine, tables, log)
        counts = {t.name: t.rows for t in tables}
        started = time.perf_counter()
        with engine.begin() as conn:
            # The bulk load bypassed ingest, so the store's rollups are computed as the
            # store documents for such writers: recounted from the rows just written.
            rollups.rebuild(conn)
        log(f"  rollups rebuilt {time.perf_counter() - started:20.1f} s")
        with engine.begin() as conn:
            conn.execute(
                insert(SyncRun.__table__).values(
                    source=SOURCE,
                    mode="full",
                    started_at=now - timedelta(minutes=5),
                    finished_at=now,
                    status="ok",
                    counts=counts,
                    rejected=0,
                    requests=0,
                )
            )
        return counts
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_URL, help=f"database URL (default {DEFAULT_URL})")
    parser.add_argument("--scale", type=float, default=1.0, help="size relative to the large MSP (0.01 for a tiny run)")
    parser.add_argument(
        "--now", help=f"the data's present, ISO-8601 (default {ANCHOR_NOW.isoformat()}; 'now' for the real time)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--replace", action="store_true", help="start the database afresh if it holds data")
    args = parser.parse_args(argv)
    try:
        now = None if args.now is None else parse_now(None if args.now == "now" else args.now)
        started = time.perf_counter()
        counts = generate(args.db, args.scale, now, args.seed, args.replace, log=print)
    except MspkpiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"generated {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
