"""`mspkpi review`: the quarterly review on the demo data against a committed expected file,
its CSV, its errors, and pandas kept off the dashboard's and the report's import path."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from conftest import REPO

EXPECTED = REPO / "tests" / "data" / "review" / "ashford-wealth-partners-2025-Q3.md"
ANCHOR = "2025-11-18T10:30:00Z"  # the demo's anchor: its times are imported as written
LONDON = {"MSPKPI_TIMEZONE": "Europe/London"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('review') / 'demo.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "mspkpi_tui", "--db", url, "--now", ANCHOR, "demo", "--no-tui"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return url


def without_chart(markdown: str) -> tuple[str, list[str]]:
    """The review less its plotext chart, and the chart's lines. plotext places a tick label a
    cell apart in some processes (it iterates a set of strings: hash order varies by process;
    the Trends snapshot has the same trouble), so the chart is checked for what it says."""
    head, chart, tail = markdown.split("```")
    return head + tail, chart.strip("\n").splitlines()


def review(run_cli, url: str, *args: str):
    return run_cli("--db", url, "--now", ANCHOR, "review", *args, env=LONDON)


@pytest.mark.slow
def test_the_review_matches_the_expected_file(run_cli, demo_db):
    done = review(run_cli, demo_db, "Ashford Wealth Partners", "--quarter", "2025-Q3")
    assert done.returncode == 0, done.stderr
    text, chart = without_chart(done.stdout)
    expected, expected_chart = without_chart(EXPECTED.read_text(encoding="utf-8"))
    assert text == expected
    assert chart[0].strip() == "Tickets opened and closed per week" and len(chart) == len(expected_chart)
    assert "opened" in chart[2] and "closed" in chart[3] and chart[-1].split()[:2] == ["30", "Jun"]


@pytest.mark.slow
def test_csv_and_out_folder(run_cli, demo_db, tmp_path):
    done = review(run_cli, demo_db, "ashford", "--quarter", "2025-Q3", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["company", "quarter", "section", "row", "column", "value"]
    cells = {(r[2], r[3], r[4]): r[5] for r in rows[1:]}
    # the same figure as the Markdown's monthly table (2025-07: 36 opened; the quarter 93)
    assert cells[("service", "Tickets opened", "2025-07")] == "36"
    assert cells[("service", "Tickets opened", "2025-Q3")] == "93"
    assert cells[("sla", "Both", "Met %")] == "94.1"
    written = review(run_cli, demo_db, "Ashford Wealth Partners", "--quarter", "2025-Q3", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    path = tmp_path / "ashford-wealth-partners-2025-Q3.md"
    assert without_chart(path.read_text(encoding="utf-8"))[0] == without_chart(EXPECTED.read_text(encoding="utf-8"))[0]


@pytest.mark.slow
def test_errors_are_one_line(run_cli, demo_db):
    for args, message in [
        (("Nobody Ltd",), "mspkpi: error: no active company is called 'Nobody Ltd'"),
        (("a", "--quarter", "2025-Q3"), "mspkpi: error: 'a' names 29 companies"),
        (("Ashford", "--quarter", "2025Q3"), "mspkpi: error: --quarter must look like 2026-Q4, not '2025Q3'"),
        (("Ashford", "--quarter", "2026-Q1"), "mspkpi: error: 2026-Q1 has not started yet"),
    ]:
        done = review(run_cli, demo_db, *args)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode in (1, 2) and len(lines) == 1 and lines[0].startswith(message), done.stderr


def test_the_dashboard_and_the_report_do_not_load_pandas():
    code = (
        "import sys\n"
        "import mspkpi_tui.cli, mspkpi_tui.tui.app, mspkpi_tui.tui.panes, mspkpi_tui.tui.company_screen\n"
        "import mspkpi_tui.kpi.report, mspkpi_tui.kpi.clients, mspkpi_tui.kpi.company, mspkpi_tui.output\n"
        "import mspkpi_tui.output.review_format\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.slow
def test_review_all_writes_one_file_per_active_company(run_cli, demo_db, tmp_path):
    from sqlalchemy import create_engine, func, select

    from mspkpi_tui.store import models

    companies = models.table(models.Company)
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        active = conn.execute(select(func.count()).where(companies.c.active)).scalar_one()
    engine.dispose()
    done = review(run_cli, demo_db, "--all", "--quarter", "2025-Q3", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {active} reviews of 2025-Q3 into {tmp_path}"
    written = sorted(tmp_path.iterdir())
    assert len(written) == active > 1
    assert all(p.name.endswith("-2025-Q3.md") and p.name.replace("-", "").replace(".", "").isalnum() for p in written)
    # The shared MSP-wide frame gives each company the review it gets alone.
    ashford = (tmp_path / "ashford-wealth-partners-2025-Q3.md").read_text(encoding="utf-8")
    assert without_chart(ashford)[0] == without_chart(EXPECTED.read_text(encoding="utf-8"))[0]
    last = written[-1].read_text(encoding="utf-8")
    alone = review(run_cli, demo_db, "--company", last.split("\n")[0].split(": ", 1)[1], "--quarter", "2025-Q3")
    assert alone.returncode == 0, alone.stderr
    assert without_chart(alone.stdout)[0] == without_chart(last)[0]


@pytest.mark.slow
def test_review_all_needs_out_and_one_way_to_name_a_company(run_cli, demo_db):
    for args, message in [
        (("--all",), "mspkpi: error: --all writes one file per company: give a folder with --out DIR"),
        (("Ashford", "--all", "--out", "x"), "mspkpi: error: give a company or --all, not both"),
        ((), "mspkpi: error: name a company (mspkpi review NAME) or give --all"),
        (("Ashford", "--company", "Ashford"), "mspkpi: error: name the company once"),
    ]:
        done = review(run_cli, demo_db, *args)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode in (1, 2) and len(lines) == 1 and lines[0].startswith(message), done.stderr


def test_review_file_names_are_safe_and_distinct():
    from mspkpi_tui.output.review_format import review_file_name

    taken: set[str] = set()
    names = [
        review_file_name(company, "2026-Q3", "md", taken)
        for company in ["A & B Ltd", "a-b ltd", "../../etc/passwd", "", "Ünïcode Café", "CON", "A  B   Ltd", "x" * 300]
    ]
    assert names[:4] == ["a-b-ltd-2026-Q3.md", "a-b-ltd-2-2026-Q3.md", "etc-passwd-2026-Q3.md", "company-2026-Q3.md"]
    assert names[4:7] == ["n-code-caf-2026-Q3.md", "con-company-2026-Q3.md", "a-b-ltd-3-2026-Q3.md"]
    assert names[7] == "x" * 60 + "-2026-Q3.md"
    assert len({n.lower() for n in names}) == len(names)
