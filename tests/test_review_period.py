"""`mspkpi review --period` (last-quarter, this-quarter, YYYY-Qn, FROM..TO; --quarter its alias)
and `--format html`, on the demo data of tests/test_review.py, against counts read straight
from the database."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from test_review import ANCHOR, LONDON, demo_db, without_chart  # noqa: F401  (demo_db: the fixture)

from mspkpi_tui.kpi.rules import at, tickets
from mspkpi_tui.store import models

companies = models.table(models.Company)
EARLIER = "2025-11-10T12:00:00Z"  # the demo has tickets after this, up to its anchor


def run(run_cli, url: str, *args: str, now: str = ANCHOR):
    return run_cli("--db", url, "--now", now, "review", *args, env=LONDON)


def csv_cells(text: str) -> dict[tuple[str, str, str], str]:
    return {(r[2], r[3], r[4]): r[5] for r in list(csv.reader(io.StringIO(text)))[1:]}


def opened(url: str, name: str, start: datetime, end: datetime, *, inclusive_end: bool) -> int:
    """Tickets of the company created in [start, end] (or [start, end))."""
    engine = create_engine(url)
    with engine.connect() as conn:
        company = conn.execute(select(companies.c.id).where(companies.c.name == name)).scalar_one()
        last = tickets.c.created_at <= at(end) if inclusive_end else tickets.c.created_at < at(end)
        query = select(func.count()).where(tickets.c.company_id == company, tickets.c.created_at >= at(start), last)
        n = conn.execute(query).scalar_one()
    engine.dispose()
    return n


@pytest.mark.slow
def test_last_quarter_and_a_named_quarter_are_the_quarter_option(run_cli, demo_db):
    quarter = run(run_cli, demo_db, "Ashford", "--quarter", "2025-Q3")
    assert quarter.returncode == 0, quarter.stderr
    for period in ("last-quarter", "2025-Q3"):
        done = run(run_cli, demo_db, "Ashford", "--period", period)
        assert done.returncode == 0, done.stderr
        assert without_chart(done.stdout)[0] == without_chart(quarter.stdout)[0]
    assert "2025-Q3: 01 July 2025 to 30 September 2025." in quarter.stdout


@pytest.mark.slow
def test_this_quarter_ends_at_now(run_cli, demo_db):
    done = run(run_cli, demo_db, "Ashford", "--period", "this-quarter", "--format", "csv", now=EARLIER)
    assert done.returncode == 0, done.stderr
    cells = csv_cells(done.stdout)
    name = "Ashford Wealth Partners"
    october = datetime(2025, 9, 30, 23, tzinfo=UTC)  # local midnight, 1 October (BST)
    november = datetime(2025, 11, 1, 0, tzinfo=UTC)  # local midnight, 1 November (GMT)
    now = datetime(2025, 11, 10, 12, tzinfo=UTC)
    to_now = opened(demo_db, name, october, now, inclusive_end=True)
    # the cut at now is real: the demo has Ashford tickets after it
    assert to_now < opened(demo_db, name, october, datetime(2025, 11, 18, 10, 30, tzinfo=UTC), inclusive_end=True)
    assert cells[("service", "Tickets opened", "2025-Q4")] == str(to_now)
    assert cells[("service", "Tickets opened", "2025-11")] == str(
        opened(demo_db, name, november, now, inclusive_end=True)
    )
    assert ("service", "Tickets opened", "2025-12") not in cells
    text = run(run_cli, demo_db, "Ashford", "--period", "this-quarter", now=EARLIER).stdout
    assert "2025-Q4: 01 October 2025 to 10 November 2025. Figures as of 2025-11-10 12:00 UTC." in text


@pytest.mark.slow
def test_from_to_takes_both_local_dates_whole(run_cli, demo_db, tmp_path):
    done = run(run_cli, demo_db, "Ashford", "--period", "2025-07-15..2025-08-31", "--format", "csv")
    assert done.returncode == 0, done.stderr
    cells = csv_cells(done.stdout)
    name = "Ashford Wealth Partners"
    start = datetime(2025, 7, 14, 23, tzinfo=UTC)  # local midnight starting 15 July (BST)
    august = datetime(2025, 7, 31, 23, tzinfo=UTC)
    after = datetime(2025, 8, 31, 23, tzinfo=UTC)  # local midnight ending 31 August
    label = "2025-07-15..2025-08-31"
    assert cells[("service", "Tickets opened", label)] == str(opened(demo_db, name, start, after, inclusive_end=False))
    assert cells[("service", "Tickets opened", "2025-07")] == str(
        opened(demo_db, name, start, august, inclusive_end=False)
    )
    assert cells[("service", "Tickets opened", "2025-08")] == str(
        opened(demo_db, name, august, after, inclusive_end=False)
    )
    # 2025-07 is cut to the span: fewer than the whole month (36 in the expected file)
    assert int(cells[("service", "Tickets opened", "2025-07")]) < 36
    text = run(run_cli, demo_db, "Ashford", "--period", label).stdout
    assert text.startswith("# Service review: Ashford Wealth Partners\n")
    assert f"{label}: 15 July 2025 to 31 August 2025." in text and "in the quarter" not in text
    written = run(run_cli, demo_db, "Ashford", "--period", label, "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["ashford-wealth-partners-2025-07-15-to-2025-08-31.md"]


@pytest.mark.slow
def test_a_bad_period_is_one_line(run_cli, demo_db):
    forms = "last-quarter, this-quarter, YYYY-Qn or FROM..TO (local dates YYYY-MM-DD, inclusive)"
    for args, message in [
        (("--period", "Q3"), f"mspkpi: error: --period must be {forms}, not 'Q3'"),
        (("--period", "2025-07-01..2025-13-01"), "mspkpi: error: --period '2025-07-01..2025-13-01': month must be"),
        (("--period", "2025-08-01..2025-07-01"), "mspkpi: error: --period '2025-08-01..2025-07-01' ends before it"),
        (("--period", "2025-12-01..2025-12-31"), "mspkpi: error: 2025-12-01..2025-12-31 has not started yet"),
        (("--period", "2025-Q3", "--quarter", "2025-Q3"), "mspkpi: error: give --period or --quarter"),
        (("--quarter", "2025-07-01..2025-08-01"), "mspkpi: error: --quarter must look like 2026-Q4"),
    ]:
        done = run(run_cli, demo_db, "Ashford", *args)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode in (1, 2) and len(lines) == 1 and lines[0].startswith(message), done.stderr


@pytest.mark.slow
def test_html_is_one_escaped_page_with_every_table(run_cli, demo_db, tmp_path):
    path = tmp_path / "hostile.db"
    shutil.copy(demo_db.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    hostile = '<script>alert("x")</script> & Ashford \x1b[31mred'
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(companies.update().where(companies.c.name == "Ashford Wealth Partners").values(name=hostile))
    engine.dispose()
    done = run(run_cli, url, "Ashford", "--period", "2025-Q3", "--format", "html", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    (page,) = (tmp_path / "out").iterdir()
    assert page.name == "script-alert-x-script-ashford-31mred-2025-Q3.html"
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<script" not in text and "\x1b" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Ashford" in text
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r"(src|href)=", text)
    for title in (
        "Service by month",
        "SLA compliance in the quarter",
        "Customer satisfaction",
        "Top 5 issue types (tickets opened)",
        "Most frequent requesters",
        "Hours by category",
    ):
        assert f"<h2>{title}</h2>\n<table>" in text
    assert "<td>Tickets opened</td><td>36</td><td>20</td><td>37</td><td>93</td><td>98</td>" in text
    chart = text.split("<pre>")[1].split("</pre>")[0]
    assert "Tickets opened and closed per week" in chart and len(chart.splitlines()) > 10
