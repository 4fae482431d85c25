"""The one sanitiser (mspkpi_tui.safe_text) and the report formats on any text: the hostile
corpus case by case, then Hypothesis feeding random Unicode through the sanitiser and through
each `mspkpi kpi` format (no exception, output valid for its format, nothing a terminal acts on)."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date

import pytest
from hostile_corpus import corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from mspkpi_tui.output import FORMATS, render
from mspkpi_tui.output.csv_format import csv_cell
from mspkpi_tui.output.markdown import md_cell
from mspkpi_tui.safe_text import clean, fit, is_hidden, truncate

TERMINAL_FORMATS = ("table", "csv", "markdown")  # JSON is checked as JSON (and for hidden characters)


def terminal_safe(output: str, allowed: str = "\n\t") -> bool:
    """No byte below 0x20 other than newline and tab, and nothing else a terminal acts on."""
    return all(not is_hidden(ch) or ch in allowed for ch in output)


@pytest.mark.parametrize("entry", corpus(), ids=lambda e: e["name"])
def test_corpus_text_is_made_inert(entry):
    shown = clean(entry["text"])
    assert terminal_safe(shown, allowed="")
    shown.encode("utf-8")  # a lone surrogate is replaced, so every writer can encode it
    assert clean(shown) == shown  # idempotent: cleaning twice shows the same


def test_what_each_character_becomes():
    assert clean("\x1b]52;c;x\x07") == "␛]52;c;x␇"
    assert clean("a\nb\tc\rd\x7f") == "a␊b␉c␍d␡"
    assert clean("\u009b31m") == "<U+009B>31m"
    assert clean("invoice\u202efdp.exe") == "invoice<U+202E>fdp.exe"
    assert clean("\u2066x\u2069") == "<U+2066>x<U+2069>"
    assert clean("pay\u200bpal\ufeff") == "pay<U+200B>pal<U+FEFF>"
    assert clean("\ud800") == "\ufffd"
    assert clean(None) == "" and clean(12) == "12"
    assert clean("株式会社 🔥 [bold]x[/bold] café") == "株式会社 🔥 [bold]x[/bold] café"  # printable text unchanged


def test_width_is_counted_in_display_cells():
    assert fit("株式会社テスト", 7) == "株式会…"  # 3 wide characters (6 cells) and the ellipsis
    assert fit("株式会社テスト", 6) == "株式 …"  # a wide character never straddles the cut: a space fills in
    assert fit("株式会社", 5) == "株式…"  # 2+2+1 cells: the ellipsis fills the last cell
    assert fit("ab", 5, "right") == "   ab" and fit("abcdef", 4) == "abc…"
    assert cell_len(fit("🔥🔥🔥", 4)) == 4
    assert truncate("A" * 5000, 40) == "A" * 39 + "…"


def test_csv_cells_neutralise_formulas_but_keep_numbers():
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("+1") == "'+1"
    assert csv_cell("-2+3") == "'-2+3" and csv_cell("\t=1") == "'␉=1" and csv_cell("\r=1") == "'␍=1"
    assert csv_cell(-3) == -3 and csv_cell(-2.5) == -2.5 and csv_cell(float("nan")) == "" and csv_cell(None) == ""
    assert csv_cell("plain - text") == "plain - text"


def test_markdown_cells_escape_what_a_renderer_reads():
    assert md_cell("a|b") == "a\\|b" and md_cell("`x`") == "\\`x\\`" and md_cell("*_~[]") == "\\*\\_\\~\\[\\]"
    assert md_cell("<script>") == "&lt;script&gt;" and md_cell("a\\b") == "a\\\\b"
    assert md_cell("&lt;") == "&amp;lt;" and md_cell("T&M") == "T&M"
    assert md_cell("line\nbreak\u202e") == "line␊break&lt;U+202E&gt;"


# --- properties ----------------------------------------------------------------------------

# Any Unicode, surrogates included (what a broken PSA export could carry into a Python str).
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
numbers = st.one_of(
    st.none(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_sanitiser_output_is_inert_for_any_text(text):
    shown = clean(text)
    assert terminal_safe(shown, allowed="")
    shown.encode("utf-8")
    assert clean(shown) == shown
    assert cell_len(fit(shown, 10)) == 10


TREND_SERIES = ("opened", "closed", "first_response_breaches", "escalations", "hours", "csat")


def reports():
    """Report-shaped data: text where the PSA's labels go (keys, names), numbers of every kind."""
    label_map = st.dictionaries(any_text, numbers, max_size=4)
    row = st.fixed_dictionaries({"name": any_text, "hours": numbers, "status": any_text})
    section = st.fixed_dictionaries(
        {"open": numbers, "by_priority": label_map, "resources": st.lists(row, max_size=3), "note": any_text}
    )
    # The trends section as the engine makes it: ISO days (ours, not the PSA's) and one value per
    # day in every series; a value is a finite number or missing (the table draws them as charts).
    day_value = st.none() | st.integers(0, 10**6) | st.floats(0, 10**6, allow_nan=False)
    trends = st.integers(0, 3).flatmap(
        lambda n: st.fixed_dictionaries(
            {
                "days": st.lists(st.dates().map(date.isoformat), min_size=n, max_size=n),
                **{key: st.lists(day_value, min_size=n, max_size=n) for key in TREND_SERIES},
            }
        )
    )
    return st.fixed_dictionaries(
        {
            "as_of": any_text,
            "timezone": any_text,
            "queue": section,
            "trends": trends,
            "rules": st.fixed_dictionaries({"queue": any_text, "trends": any_text}),
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_every_format_is_valid_and_inert_for_any_report(report):
    for fmt in FORMATS:
        output = render(report, fmt)
        output.encode("utf-8")
        if fmt in TERMINAL_FORMATS:
            assert terminal_safe(output), fmt
        if fmt == "json":
            parsed = json.loads(output)  # valid JSON: no NaN, no Infinity, no raw control
            assert terminal_safe(output, allowed="\n")
            assert parsed["queue"]["note"] == report["queue"]["note"] or "\ufffd" in parsed["queue"]["note"]
            original = report["queue"]["open"]
            if isinstance(original, float) and not math.isfinite(original):
                assert parsed["queue"]["open"] is None  # NaN and infinity are written null
        elif fmt == "csv":
            rows = list(csv.reader(io.StringIO(output)))
            assert all(len(r) == 3 for r in rows)
            for r in rows[1:]:
                if r[2].startswith(("=", "+", "-", "@")):
                    float(r[2])  # only a number may start like a formula
        elif fmt == "markdown":
            for line in output.splitlines():
                if line.startswith("|"):
                    assert line.endswith("|")
