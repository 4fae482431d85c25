"""`mspkpi sync file PATH`: the JSON Lines import format (docs/import-format.md).

A folder holds one ``{entity}.jsonl`` per entity and an optional ``manifest.json``:
``{"source": "demo", "anchor": "2026-01-07T10:00:00Z"}``. With an anchor, every time
is shifted so the anchor becomes "now" (dates move by whole weeks, so weekly periods
keep their weekday); the demo dataset uses this to look live on any day.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mspkpi_tui.errors import SyncError
from mspkpi_tui.store.models import ENTITY_TABLES
from mspkpi_tui.store.records import RecordError, fields_of_kind, parse_datetime
from mspkpi_tui.store.writer import PicklistEntry, Reject, RunSummary, SyncWriter

PAGE = 2000
DEFAULT_SOURCE = "file"
# Documented limits (docs/import-format.md): a record is a flat object, so anything deeper
# is not one (and 2,000 levels exhaust Python's recursion); a line longer than this is not
# read into memory at all.
MAX_LINE_BYTES = 1 << 20
MAX_DEPTH = 32


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as infinity
        raise ValueError(f"{text} is too large for a number")
    return value


def _too_deep(line: str) -> bool:
    """Whether brackets nest deeper than MAX_DEPTH (counted outside strings).
    The cheap count comes first: almost every line has a handful of brackets."""
    if line.count("{") + line.count("[") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_line(line: str) -> Any:
    """One JSON value, or ValueError with the reason (bad JSON, NaN, too deep)."""
    if _too_deep(line):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels (a record is a flat object)")
    try:
        return json.loads(line, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bad JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels (a record is a flat object)") from None
    except ValueError as exc:  # NaN/Infinity, an integer of more than 4,300 digits
        raise ValueError(f"bad JSON: {exc}") from None


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
                except OverflowError:
                    raise RecordError(f"{name} {value!r} moved by the manifest's anchor leaves the calendar") from None
                except ValueError:
                    pass  # left as it is: validation rejects it with the reason
        for name in fields_of_kind(entity, "date"):
            value = record.get(name)
            if isinstance(value, str) and len(value) >= 10:
                try:
                    record[name] = (datetime.fromisoformat(value[:10]) + self.weeks).date().isoformat()
                except OverflowError:
                    raise RecordError(f"{name} {value!r} moved by the manifest's anchor leaves the calendar") from None
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
    for path in files.values():
        _check_readable(path)
    if not any(p.exists() for p in files.values()):
        raise SyncError(f"{folder} holds none of the import files ({', '.join(p.name for p in files.values())})")
    shift = TimeShift(manifest.anchor, now) if manifest.anchor else None
    with SyncWriter(engine, source or manifest.source, "file") as run:
        run.on_reject = on_reject
        for entity, path in files.items():
            if path.exists():
                _import_file(run, entity, path, shift)
        _import_picklists(run, folder / "picklists.json")
        assert run.summary is not None  # set on entering the run
        return run.summary


PICKLIST_FIELDS = ("status", "priority", "queue")


def _import_picklists(run: SyncWriter, path: Path) -> None:
    """An optional picklists.json ({"status": [labels], "priority": [...], "queue": [...]}, in the
    PSA's order): the values a triage action may set, stored as a PSA sync stores its picklists."""
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        run.reject("picklists", str(path), "", f"not a JSON picklists file: {exc}")
        return
    if not isinstance(data, dict):
        run.reject("picklists", str(path), "", "picklists.json must hold an object of label lists")
        return
    for field in PICKLIST_FIELDS:
        labels = data.get(field)
        if isinstance(labels, list):
            entries = [PicklistEntry(str(i), label, sort_order=i) for i, label in enumerate(labels, start=1)]
            run.store_picklist(field, [e for e in entries if isinstance(e.label, str) and e.label.strip()])


def _check_readable(path: Path) -> None:
    """Before anything is stored: an entity file that is there must be a readable file."""
    if not path.exists():
        if path.is_symlink():
            raise SyncError(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist")
        return
    if not path.is_file():
        raise SyncError(f"{path} is not a file (a folder or a device); an entity file holds JSON Lines")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise SyncError(f"cannot read {path}: {exc.strerror}") from None


def _lines(handle):
    """(line number, bytes, too long) per line; a line over MAX_LINE_BYTES is skipped, not read whole."""
    line_no = 0
    while True:
        chunk = handle.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        line_no += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # the rest of the line, a piece at a time
                chunk = handle.readline(MAX_LINE_BYTES)
            yield line_no, b"", True
            continue
        yield line_no, chunk, False


def _import_file(run: SyncWriter, entity: str, path: Path, shift: TimeShift | None) -> None:
    records: list[Any] = []
    locations: list[str] = []
    raws: list[str] = []
    with path.open("rb") as handle:
        for line_no, raw_line, too_long in _lines(handle):
            location = f"{path}:{line_no}"
            if too_long:
                run.reject(entity, location, "", f"line longer than {MAX_LINE_BYTES} bytes (not read)")
                continue
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                run.reject(entity, location, raw_line.decode("utf-8", "replace"), f"not UTF-8 text: {exc.reason}")
                continue
            if not line.strip():
                continue
            try:
                record = parse_line(line)
                if shift is not None and isinstance(record, dict):
                    shift.apply(entity, record)
            except ValueError as exc:  # RecordError too
                run.reject(entity, location, line.rstrip("\n"), str(exc))
                continue
            records.append(record)
            locations.append(location)
            raws.append(line.rstrip("\n"))
            if len(records) >= PAGE:
                run.store_page(entity, records, locations, raws)
                records, locations, raws = [], [], []
    if records:
        run.store_page(entity, records, locations, raws)
