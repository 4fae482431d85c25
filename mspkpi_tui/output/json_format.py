"""The JSON format: the report as it is (the keys are a public interface, docs/kpi.md).

Always valid JSON: a figure that is not a finite number (NaN, infinity) is written null, never
`NaN`/`Infinity`. Values stay exact for scripts, but a character a terminal or an editor would
act on (C0/C1 controls, DEL, bidi overrides, zero-width and other format characters, line and
paragraph separators) is written as a \\u escape, so `mspkpi kpi -f json` printed to a terminal
is inert and a JSON parser still reads the exact value. A lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from mspkpi_tui.safe_text import is_hidden

_NOT_PLAIN_ASCII = re.compile(r"[^\x00-\x7e]")


def finite(value: Any) -> Any:
    """The value with every NaN and infinity replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate: not representable in UTF-8
        return "\\ufffd"
    if code > 0xFFFF:  # outside the BMP: a surrogate pair, as JSON spells it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def inert(text: str) -> str:
    """JSON text with every hidden character written as an escape (they only occur inside strings)."""
    if not _NOT_PLAIN_ASCII.search(text):
        return text  # json.dumps has already escaped every C0 control
    # The only raw controls json.dumps leaves are the indentation's newlines (outside strings).
    return "".join(_escape(ch) if ch == "\x7f" or (ch != "\n" and is_hidden(ch)) else ch for ch in text)


def render_json(report: dict[str, Any]) -> str:
    return inert(json.dumps(finite(report), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
