"""Report values as cells: shared by the formats (flattening, the people's number style)."""

from __future__ import annotations

import math
from typing import Any

from mspkpi_tui.kpi.common import half_up
from mspkpi_tui.safe_text import clean


def sections(report: dict[str, Any]) -> list[str]:
    """The sections a report holds, in its order (every section has its rule)."""
    return list(report["rules"])


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys to leaf values: {"a": {"b": 1}, "c": [2]} -> [("a.b", 1), ("c.0", 2)]."""
    if isinstance(value, dict):
        items = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{prefix}.{i}" if prefix else str(i), v) for i, v in enumerate(value)]
    else:
        return [(prefix, value)]
    if not items:
        return [(prefix, None)] if prefix else []
    return [pair for key, v in items for pair in flatten(v, key)]


def display(value: Any) -> str:
    """A value for people (table, Markdown): '-' for none, yes/no, 1,234.5; text made safe."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        text = f"{half_up(value, 2):,.2f}"  # half up, as on screen
        return text.rstrip("0").rstrip(".") if "." in text else text
    return clean(value)


def title(key: str) -> str:
    """A dotted key as a heading: by_queue.Level 2 -> 'by queue Level 2' (made safe)."""
    return clean(key.replace("_", " ").replace(".", " "))
