"""The hostile text corpus (tests/data/hostile/texts.jsonl) and an import folder built from it.

No tests here; tests/test_hostile_text.py and tests/test_safe_text.py import it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "hostile" / "texts.jsonl"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOW_ARG = "2026-11-23T12:00:00Z"


def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


def texts(importable_only: bool = False) -> list[str]:
    return [entry["text"] for entry in corpus() if entry["import"] or not importable_only]


def _at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def write_import_folder(folder: Path) -> Path:
    """Every importable hostile text in every field the report and the panes show."""
    records: dict[str, list[dict]] = {}
    for i, text in enumerate(texts(importable_only=True)):
        add = lambda entity, **fields: records.setdefault(entity, []).append(fields)  # noqa: E731
        add("companies", id=f"c{i}", name=text)
        add("queues", id=f"q{i}", name=text)
        add("resources", id=f"r{i}", name=text)
        add(
            "tickets",
            id=f"t{i}",
            number=text,
            title=text,
            company_id=f"c{i}",
            queue_id=f"q{i}",
            status=text,
            is_closed=False,
            priority=text,
            priority_rank=2,
            issue_type=text,
            assigned_resource_id=f"r{i}",
            created_at=_at(-120 - i),
            first_response_due=_at(30 + i),
            resolution_due=_at(24 * 60),
            url=f"https://psa.example/{text}",
        )
        add("time_entries", id=f"e{i}", resource_id=f"r{i}", ticket_id=f"t{i}", started_at=_at(-60), hours=1.5)
        add(
            "contracts",
            id=f"k{i}",
            company_id=f"c{i}",
            name=text,
            number=text,
            type=text,
            period_type=text,
            start_date="2026-01-01",
            end_date="2026-12-01",
        )
        add(
            "opportunities",
            id=f"o{i}",
            title=text,
            stage=text,
            stage_rank=1,
            status="open",
            amount=-100.0 * i,
            stage_entered_at=_at(-10 * 24 * 60),
        )
        add("projects", id=f"p{i}", name=text, status=text, category=text, estimated_hours=10, actual_hours=1)
    folder.mkdir(parents=True, exist_ok=True)
    for entity, rows in records.items():
        lines = [json.dumps(row, ensure_ascii=False) for row in rows]
        (folder / f"{entity}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
