"""Issue 10 section 2: one bad line never costs the good ones (`mspkpi sync file`, both databases).

Each hostile line (tests/data/hostile/import.jsonl) stands between two good records: the
line is rejected with its reason, kept in rejected_records, and both good records stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hardening import as_other_user, assert_one_line_error, count_rows, rows

from mspkpi_tui.sources.file_import import MAX_LINE_BYTES
from mspkpi_tui.store import models
from mspkpi_tui.store.models import ENTITY_TABLES

HOSTILE = Path(__file__).parent / "data" / "hostile" / "import.jsonl"
CASES = [json.loads(line) for line in HOSTILE.read_text().splitlines()[1:]]
NOW = "2026-03-10T10:30:00Z"

GOOD = {
    "companies": {"name": "Good"},
    "resources": {"name": "Good"},
    "projects": {"name": "Good", "status": "Active"},
    "tickets": {
        "number": "T-good",
        "title": "Good",
        "status": "New",
        "is_closed": False,
        "priority": "P3",
        "created_at": "2026-03-01T09:00:00Z",
    },
}


def good(entity: str, source_id: str) -> str:
    return json.dumps({"id": source_id, **GOOD[entity]})


def write_folder(folder: Path, entity: str, bad_line: str) -> Path:
    folder.mkdir(exist_ok=True)
    text = "\n".join([good(entity, "good-1"), bad_line, good(entity, "good-2")]) + "\n"
    (folder / f"{entity}.jsonl").write_bytes(text.encode("utf-8", "surrogatepass"))
    return folder


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_a_hostile_line_is_rejected_and_the_good_ones_stored(run_cli, db_url, tmp_path, case):
    entity = case["entity"]
    folder = write_folder(tmp_path / "in", entity, case["line"])
    result = run_cli("--db", db_url, "--now", NOW, "sync", "file", str(folder))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{entity}.jsonl:2" in result.stderr and case["reason"] in result.stderr, result.stderr
    assert sorted(r[0] for r in rows(db_url, ENTITY_TABLES[entity], "source_id")) == ["good-1", "good-2"]
    [(location, reason)] = rows(db_url, models.RejectedRecord, "location", "reason")
    assert location.endswith(f"{entity}.jsonl:2") and case["reason"] in reason
    assert rows(db_url, models.SyncRun, "status") == [("ok",)]


def test_a_line_over_the_size_limit_is_rejected_without_reading_it(run_cli, db_url, tmp_path):
    huge = '{"id": "bad", "name": "' + "x" * (MAX_LINE_BYTES + 10) + '"}'
    folder = write_folder(tmp_path / "in", "companies", huge)
    result = run_cli("--db", db_url, "sync", "file", str(folder))
    assert result.returncode == 1 and "longer than" in result.stderr, result.stderr
    assert sorted(r[0] for r in rows(db_url, models.Company, "source_id")) == ["good-1", "good-2"]


def test_infinity_never_reaches_the_json_report(run_cli, db_url, tmp_path):
    folder = write_folder(tmp_path / "in", "resources", '{"id": "bad", "name": "N", "hourly_cost": Infinity}')
    assert run_cli("--db", db_url, "sync", "file", str(folder)).returncode == 1
    report = run_cli("--db", db_url, "--now", NOW, "kpi", "--format", "json")
    assert report.returncode == 0, report.stderr
    json.loads(report.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON report"))


@pytest.mark.parametrize("anchor", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"])
def test_a_manifest_anchor_out_of_range_is_one_error(run_cli, db_url, tmp_path, anchor):
    folder = write_folder(tmp_path / "in", "companies", good("companies", "good-3"))
    (folder / "manifest.json").write_text(json.dumps({"source": "demo", "anchor": anchor}))
    result = run_cli("--db", db_url, "--now", NOW, "sync", "file", str(folder))
    assert_one_line_error(result, "manifest.json", "anchor")


def test_an_entity_file_that_is_a_folder_is_named(run_cli, db_url, tmp_path):
    folder = write_folder(tmp_path / "in", "companies", good("companies", "good-3"))
    (folder / "tickets.jsonl").mkdir()
    result = run_cli("--db", db_url, "sync", "file", str(folder))
    assert_one_line_error(result, str(folder / "tickets.jsonl"), "not a file")
    assert count_rows(db_url, models.Company) == 0  # checked before anything is stored


def test_a_dangling_symlink_is_named(run_cli, db_url, tmp_path):
    folder = write_folder(tmp_path / "in", "companies", good("companies", "good-3"))
    (folder / "tickets.jsonl").symlink_to(tmp_path / "gone.jsonl")
    result = run_cli("--db", db_url, "sync", "file", str(folder))
    assert_one_line_error(result, str(folder / "tickets.jsonl"), "does not exist")


def test_an_unreadable_entity_file_is_named(run_cli, sqlite_url, tmp_path):
    folder = write_folder(tmp_path / "in", "companies", good("companies", "good-3"))
    secret = folder / "tickets.jsonl"
    secret.write_text(good("tickets", "t1") + "\n")
    secret.chmod(0o000)
    result = run_cli("--db", sqlite_url, "sync", "file", str(folder), **as_other_user())
    assert_one_line_error(result, str(secret), "cannot read", "Permission denied")
