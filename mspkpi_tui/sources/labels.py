"""Labels the connectors build the same way for every PSA."""

from __future__ import annotations

from typing import Any


def two_level(outer: Any, inner: Any) -> str | None:
    """A project's category as the PSAs' own widgets label it: "Department>Project type"
    (Autotask), "Board>Type" (ConnectWise). A missing or blank level is left out."""
    levels = [v.strip() for v in (outer, inner) if isinstance(v, str) and v.strip()]
    return ">".join(levels) or None
