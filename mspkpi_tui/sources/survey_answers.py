"""The NPS question's answer, shared by the connectors that can read per-question answers.

Which question feeds NPS is the config's ``[clients] nps_question``: its text (case and
spacing aside) or the question's id in the PSA. A 0-10 answer arrives as a number, as text
("9") or as a selection caption ("9 - Very likely"); anything else is no answer.
"""

from __future__ import annotations

import re
from typing import Any

_LEADING_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def is_nps_question(text: Any, question_id: Any, wanted: str) -> bool:
    """True for the configured question, named by its text or by its id."""
    if isinstance(text, str) and _folded(text) == _folded(wanted):
        return True
    return question_id is not None and str(question_id) == wanted.strip()


def score(value: Any) -> float | None:
    """A recommend answer as a number; None when it is not one. A number outside 0-10 is
    kept, so the shared validation rejects it with its reason (never silently clipped)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _LEADING_NUMBER.match(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None
