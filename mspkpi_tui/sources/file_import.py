"""`mspkpi sync file PATH`: the JSON Lines import format (docs/import-format.md).

A folder holds one ``{entity}.jsonl`` per entity and an optional ``manifest.json``:
``{"source": "demo", "anchor": "2026-01-07T10:00:00Z"}``. With an anchor, every time
is shifted so the anchor becomes "now" (dates move by whole weeks, so weekly periods
keep their weekday); the demo dataset uses this to look live on any day.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mspkpi_tui.errors import SyncError
from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.records import fields_of_kind, parse_datetime
from mspkpi_tui.store.writer import Reject, RunSummary, SyncWriter

PAGE = 2000
DEFAULT_SOURCE = "file"


@dataclass
class Manifest:
    source: str = DEFAULT_SOURCE
    anchor: datetime | None = None


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    if not path.exists():
        return Manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        source = data.get("source", DEFAULT_SOURCE)
        anchor = parse_datetime(data["anchor"], "anchor") if data.get("anchor") else None
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise SyncError(f"{path}: not a valid manifest: {exc}") from None
    if not isinstance(source, str) or not source:
        raise SyncError(f"{path}: source must be a non-empty string")
    return Manifest(source=source, anchor=anchor)


class TimeShift:
    """Moves a record's times so the dataset's anchor lands on `now`."""

    def __init__(self, anchor: datetime, now: datetime):
        self.delta = now - anchor
        # From the Monday of the anchor's week to the Monday of now's week (UTC), so a
        # week-long period keeps its weekday and "last week" stays last week on any day.
        anchor_monday = anchor.date() - timedelta(days=anchor.weekday())
        now_monday = now.date() - timedelta(days=now.weekday())
        self.weeks = now_monday - anchor_monday

    def apply(self, entity: str, record: dict[str, Any]) -> None:
        for name in fields_of_kind(entity, "datetime"):
            value = record.get(name)
            if isinstance(value, str) and value:
                try:
                    record[name] = (parse_datetime(value, name) + self.delta).isoformat()
                except ValueError:
                    pass  # left as it is: validation rejects it with the reason
        for name in fields_of_kind(entity, "date"):
            value = record.get(name)
            if isinstance(value, str) and len(value) >= 10:
                try:
                    record[name] = (datetime.fromisoformat(value[:10]) + self.weeks).date().isoformat()
                except ValueError:
                    pass


def import_folder(
    engine: Engine,
    folder: str | Path,
    *,
    now: datetime,
    source: str | None = None,
    on_reject: Callable[[Reject], None] | None = None,
) -> RunSummary:
    folder = Path(folder)
    if not folder.is_dir():
        raise SyncError(f"{folder} is not a folder of .jsonl files")
    manifest = read_manifest(folder)
    files = {entity: folder / f"{entity}.jsonl" for entity in ENTITY_TABLES}
    if not any(p.exists() for p in files.values()):
        raise SyncError(f"{folder} holds none of the import files ({', '.join(p.name for p in files.values())})")
    shift = TimeShift(manifest.anchor, now) if manifest.anchor else None
    with SyncWriter(engine, source or manifest.source, "file") as run:
        run.on_reject = on_reject
        for entity, path in files.items():
            if path.exists():
                _import_file(run, entity, path, shift)
        assert run.summary is not None  # set on entering the run
        return run.summary


def _import_file(run: SyncWriter, entity: str, path: Path, shift: TimeShift | None) -> None:
    records: list[Any] = []
    locations: list[str] = []
    raws: list[str] = []
    with path.open("rb") as handle:
        for line_no, raw_line in enumerate(handle, start=1):
            location = f"{path}:{line_no}"
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                run.reject(entity, location, raw_line.decode("utf-8", "replace"), f"not UTF-8 text: {exc.reason}")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                run.reject(entity, location, line.rstrip("\n"), f"bad JSON: {exc.msg} at column {exc.colno}")
                continue
            if shift is not None and isinstance(record, dict):
                shift.apply(entity, record)
            records.append(record)
            locations.append(location)
            raws.append(line.rstrip("\n"))
            if len(records) >= PAGE:
                run.store_page(entity, records, locations, raws)
                records, locations, raws = [], [], []
    if records:
        run.store_page(entity, records, locations, raws)
