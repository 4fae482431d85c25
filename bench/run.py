"""`make bench`: the benchmarks bench/RESULTS.md quotes, in one command.

    python -m bench.run [kpi] [sync] [tui] [trends] [alerts] [clients] [halo] [triage] [floor] [startup_floor] [--write]

With no names it runs them all. The KPI, TUI and Trends benchmarks read the large generated dataset
(bench/data/large.db, about 3 minutes to generate); it is generated first when missing. The
sync benchmark makes its own data in a temporary folder. `--write` replaces each benchmark's
section of RESULTS.md with the new figures, as each module's own --write does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.common import DEFAULT_DB_PATH


def _kpi(write: bool) -> int:
    from bench import kpi_bench

    return kpi_bench.main(["--write"] if write else [])


def _sync(write: bool) -> int:
    from bench import sync_bench

    return sync_bench.main(["--write"] if write else [])


def _tui(write: bool) -> int:
    from bench import tui_bench

    sys.argv = ["bench.tui_bench", *(["--write"] if write else [])]  # tui_bench.main reads sys.argv
    tui_bench.main()
    return 0


def _trends(write: bool) -> int:
    from bench import trends_bench

    return trends_bench.main(["--write"] if write else [])


def _alerts(write: bool) -> int:
    from bench import alerts_bench

    alerts_bench.main(["--idle", "60", *(["--write"] if write else [])])
    return 0


def _halo(write: bool) -> int:
    from bench import halo_bench

    return halo_bench.main(["--write"] if write else [])


def _triage(write: bool) -> int:
    from bench import triage_bench

    sys.argv = ["bench.triage_bench"]  # it prints its figures; RESULTS.md's triage section is written by hand
    triage_bench.main()
    return 0


def _floor(write: bool) -> int:
    from bench import floor_bench

    return floor_bench.main(["--mode", "all"])  # Textual's own pane switch: printed, RESULTS.md quotes it by hand


def _startup_floor(write: bool) -> int:
    from bench import startup_floor_bench

    startup_floor_bench.main([])  # the start-up goal's floor: printed, RESULTS.md quotes it by hand
    return 0


def _clients(write: bool) -> int:
    from bench import clients_bench

    return clients_bench.main(["--write"] if write else [])


BENCHMARKS: dict[str, Callable[[bool], int]] = {
    "kpi": _kpi,
    "sync": _sync,
    "tui": _tui,
    "trends": _trends,
    "alerts": _alerts,
    "clients": _clients,
    "halo": _halo,
    "triage": _triage,
    "floor": _floor,
    "startup_floor": _startup_floor,
}
NEEDS_DATASET = {"kpi", "tui", "trends", "alerts", "clients", "triage"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"{', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--write", action="store_true", help="put the results into bench/RESULTS.md")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if NEEDS_DATASET & set(names) and not DEFAULT_DB_PATH.exists():
        from bench import generate

        print(f"generating the dataset at {DEFAULT_DB_PATH} first", flush=True)
        if generate.main([]):
            return 1
    status = 0
    for name in names:
        print(f"== bench {name}", flush=True)
        status = BENCHMARKS[name](args.write) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
