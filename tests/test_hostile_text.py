"""Hostile PSA text (tests/data/hostile/texts.jsonl) never reaches a terminal, a clipboard or a
spreadsheet raw: through the real `mspkpi sync file` + `mspkpi kpi` on both databases, and
through the real app (Textual's pilot) for the copy keys and their toasts."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hostile_corpus import NOW, NOW_ARG, texts, write_import_folder
from rich.cells import cell_len
from test_tui_support import tui_config

from mspkpi_tui.safe_text import clean, is_hidden

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def assert_inert(output: str, allowed: str = "\n") -> None:
    """Nothing a terminal or renderer would act on: no control (bar `allowed`), format, surrogate or separator character."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in output if is_hidden(ch) and ch not in allowed})
    assert not bad, bad
    assert all(ord(ch) >= 0x20 or ch in allowed for ch in output)


def assert_csv(output: str) -> None:
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["section", "key", "value"] and all(len(row) == 3 for row in rows)
    for row in rows[1:]:
        for cell in row:
            if cell.startswith(FORMULA):  # only a number may start like a formula: -100.0
                float(cell)
    values = {row[2] for row in rows}
    assert '\'=HYPERLINK("https://evil.example","click")' in values  # neutralised, and kept readable
    assert "'-2+3+cmd|' /C calc'!A0" in values
    assert "-100.0" in values  # a negative number stays a number


def assert_markdown(output: str) -> None:
    blocks: list[list[str]] = [[]]
    for line in output.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
            # Every syntax character inside a table is escaped (a \\ pair is an escaped backslash).
            bare = line.replace("\\\\", "")
            assert not re.search(r"(?<!\\)[`*_\[\]~<>]", bare), line
        elif blocks[-1]:
            blocks.append([])
    for block in filter(None, blocks):
        columns = {len(re.findall(r"(?<!\\)\|", row.replace("\\\\", ""))) for row in block}
        assert len(columns) == 1, block  # no cell adds or removes a column
    assert "\\`code\\` \\*bold\\* \\_em\\_ \\[link\\](https://evil.example)" in output
    assert "&lt;b&gt;tag&lt;/b&gt; &amp;lt;" in output


def assert_json(output: str, originals: list[str]) -> None:
    report = json.loads(output)
    strings: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            strings.update(str(k) for k in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            strings.add(value)

    walk(report)
    for text in originals:
        assert text in strings, text  # scripts get the exact value back
    assert "Infinity" not in output and "NaN" not in output


def test_hostile_text_through_the_real_cli(run_cli, db_url, tmp_path):
    folder = write_import_folder(tmp_path / "hostile")
    synced = run_cli("--db", db_url, "--now", NOW_ARG, "sync", "file", str(folder))
    assert synced.returncode == 0, synced.stderr
    assert_inert(synced.stdout + synced.stderr)
    originals = texts(importable_only=True)
    for fmt in ("table", "csv", "markdown", "json"):
        result = run_cli("--db", db_url, "--now", NOW_ARG, "kpi", "--format", fmt)
        assert result.returncode == 0, (fmt, result.stderr)
        assert_inert(result.stdout)
        if fmt == "table":
            assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80  # CJK and emoji by cells
            assert "␛]52;c;" in result.stdout and "invoice<U+202E>fdp.exe" in result.stdout
        elif fmt == "csv":
            assert_csv(result.stdout)
        elif fmt == "markdown":
            assert_markdown(result.stdout)
        else:
            assert_json(result.stdout, originals)


def test_psa_error_text_on_stderr_is_one_inert_line(run_cli, sqlite_url, tmp_path):
    """A file name is echoed in the error: with an escape in it, it is shown, not acted on."""
    missing = tmp_path / "no\x1b[2Jsuch\u202efolder\nsecond line"
    result = run_cli("--db", sqlite_url, "sync", "file", str(missing))
    assert result.returncode != 0
    assert_inert(result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no␛[2Jsuch<U+202E>folder␊second line" in result.stderr


# --- the TUI: the copy keys and their toasts -----------------------------------------------


@pytest.fixture
def hostile_engine(tmp_path):
    from mspkpi_tui.sources.file_import import import_folder
    from mspkpi_tui.store.engine import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'hostile.db'}")
    summary = import_folder(engine, write_import_folder(tmp_path / "hostile"), now=NOW)
    assert not summary.rejects
    yield engine
    engine.dispose()


def _screen_text(app) -> str:
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_copy_keys_put_the_sanitised_value_on_the_clipboard_and_in_the_toast(hostile_engine):
    from mspkpi_tui.tui.app import MspkpiApp
    from mspkpi_tui.tui.ticket_table import TicketTable

    osc52 = next(t for t in texts() if t.startswith("\x1b]52"))
    app = MspkpiApp(hostile_engine, tui_config(), now=NOW)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        while not app.reads:
            await pilot.pause(0.05)
        table = app.query_one(TicketTable)
        for _ in range(len(table.ids)):
            row = table.current_row()
            if row is not None and row.number == osc52:
                break
            await pilot.press("j")
        assert table.current_row().number == osc52  # the stored number holds the escape sequence
        await pilot.press("c")
        await pilot.pause(0.2)
        assert app.clipboard == clean(osc52) and "\x1b" not in app.clipboard
        await pilot.press("y")
        await pilot.pause(0.2)
        assert app.clipboard == clean(f"https://psa.example/{osc52}")
        await pilot.pause(0.5)
        shown = _screen_text(app)
        assert "Copied ␛]52;c;cGF3bmVkCg==␇" in shown
        assert "Copied https://psa.example/␛]52;c;" in shown
        segments = [s.text for strip in app.screen._compositor.render_strips() for s in strip]
        assert not any(ch in text for text in segments for ch in "\x1b\x07\u202e\u009b")
