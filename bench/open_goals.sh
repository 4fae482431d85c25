#!/bin/bash
# Every open speed goal of issues 11, 13 and 15 in one run, one after another, on one copy of the
# 1M-ticket database (bench/data/large.db: cp /work/bench-data/large.db, or python -m bench.generate).
# Run it on a quiet machine: bench/RESULTS.md "Where the open goals stand" quotes its output.
cd "$(dirname "$0")/.."
URL=sqlite:///bench/data/large.db
PY=.venv/bin/python
echo "== start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - <<'PYEOF'
import tempfile, statistics
from pathlib import Path
from bench import tui_bench
url = "sqlite:///bench/data/large.db"
with tempfile.TemporaryDirectory() as home:
    cfg = Path(home) / "config.toml"
    cfg.write_text("[tui]\nrefresh_seconds = 5\n")
    print("startup", tui_bench.startup(url, None, cfg, runs=5), flush=True)
    print("keys", tui_bench.keypresses(url, None, cfg, repeats=3), flush=True)
PYEOF
echo "== tui done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - <<'PYEOF'
import statistics
from bench import trends_bench
from bench.common import generated_now
from mspkpi_tui.store.engine import open_database
url = "sqlite:///bench/data/large.db"
e = open_database(url); now = generated_now(e); e.dispose()
got = {}
for n in range(5):
    one = trends_bench.pane(url, now, 0, "post")
    print("post", one, flush=True)
    for k, v in one.items():
        got.setdefault(k, []).append(v)
print("trends medians", {k: round(statistics.median(v), 1) for k, v in got.items()}, flush=True)
PYEOF
echo "== trends done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY -m bench.kpi_bench --db $URL --runs 9 2>&1 | tail -14
echo "== kpi done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY -m bench.clients_bench --db $URL --runs 5 --json /tmp/clients-final.json 2>&1 | tail -30
echo "== clients done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
