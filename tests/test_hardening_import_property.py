"""Issue 10: random Unicode and JSON through `sync file` (property-based, both databases).

Whatever a line holds, the import neither raises nor loses the good records around it: the
line is stored or rejected with a reason, and every reason is one line a terminal can show.
The hand-picked hostile cases are in test_hardening_import.py; this looks for the ones nobody
thought of.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mspkpi_tui.safe_text import clean
from mspkpi_tui.sources.file_import import import_folder
from mspkpi_tui.store import models
from mspkpi_tui.store.engine import open_database

NOW = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
TICKET_FIELDS = ["number", "title", "status", "is_closed", "priority", "created_at", "company_id", "resolution_due"]
GOOD_TICKET = {
    "number": "T-good",
    "title": "Good",
    "status": "New",
    "is_closed": False,
    "priority": "P3",
    "created_at": "2026-03-01T09:00:00Z",
}

any_text = st.text(st.characters(exclude_categories=[]), max_size=40)  # lone surrogates included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=12,
)
# A ticket whose fields hold anything JSON can, or a line that is not JSON at all.
ticket_lines = st.dictionaries(st.sampled_from(TICKET_FIELDS) | any_text, json_values, max_size=6).map(
    lambda fields: json.dumps({"id": "hostile", **fields}, allow_nan=True)
) | any_text.map(lambda text: text.replace("\n", " ").replace("\r", " "))

examples = itertools.count()


def _write(folder: Path, n: int, line: str) -> None:
    folder.mkdir()
    good = [json.dumps({**GOOD_TICKET, "id": f"good-{n}-{i}"}) for i in (1, 2)]
    text = "\n".join([good[0], line, good[1]]) + "\n"
    (folder / "tickets.jsonl").write_bytes(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=ticket_lines)
def test_any_line_is_stored_or_rejected_and_the_good_ones_kept(db_url, tmp_path, line):
    n = next(examples)
    folder = tmp_path / f"in-{n}"
    _write(folder, n, line)
    engine = open_database(db_url)
    try:
        reasons: list[str] = []
        summary = import_folder(engine, folder, now=NOW, on_reject=lambda r: reasons.append(r.reason))
        tickets = models.table(models.Ticket)
        with engine.connect() as conn:
            stored = conn.execute(
                select(func.count()).where(tickets.c.source_id.in_([f"good-{n}-1", f"good-{n}-2"]))
            ).scalar_one()
        assert stored == 2
        assert summary is not None
        for reason in reasons:
            shown = clean(reason)
            assert "\n" not in shown and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    finally:
        engine.dispose()
