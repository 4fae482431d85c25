"""What every area module shares: JSON-ready results and safe ratios."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, TypeVar

T = TypeVar("T")

NO_LABEL = "(none)"  # the label for a missing priority, queue, reason, category ...


class Result:
    """Mixin for the frozen result dataclasses: ``to_dict()`` gives JSON-ready values."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: json_ready(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def json_ready(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


_WIDE = Context(prec=400)
_SCALE = tuple(10.0**n for n in range(10))
_TOO_BIG = 1e8


def half_up(value: float, digits: int = 0) -> float:
    """`value` rounded half away from zero at `digits` decimals (0.125 -> 0.13, 0.375 -> 0.38),
    the one rounding of every figure, in the report and on screen.

    Python's round() rounds the binary value half to even (0.125 -> 0.12), and the same figure
    computed by SQLite and PostgreSQL can differ in its last binary digits (76.74999999 vs
    76.75000001): the value is first cut to 9 decimals, which removes that noise, then rounded
    as decimal text, so both databases print the same figure."""
    number = float(value)
    if not number:  # 0.0 or -0.0, which any rounding keeps (~9% of a Clients read's 40,000 calls)
        return number
    # Fast path (the same result; ~40,000 calls a read of the Clients figures, nearly all at 2
    # digits): away from a tie at `digits` decimals, every rounding picks the nearest decimal
    # n / 10**digits, and n / 10.0**digits (both exact, the division correctly rounded) is the
    # float nearest to it, as round() returns. "Away" is 1e-6 of a unit in the last place:
    # far above the float error of `scaled` below 1e8 and, at up to 2 digits, above the cut to
    # 9 decimals (5e-8 of a unit at most), so cut or not the nearest decimal is the same and
    # the cut (a round() as slow as the one after it) is skipped. inf and nan fail < _TOO_BIG.
    if 0 <= digits <= 2:
        scale = _SCALE[digits]
        scaled = abs(number) * scale
        if scaled < _TOO_BIG:
            whole = math.floor(scaled)
            above = scaled - whole - 0.5
            if above > 1e-6:
                return math.copysign((whole + 1) / scale, number)
            if above < -1e-6:
                return math.copysign(whole / scale, number)
    cut = round(number, 9)
    # The same away from a tie at more digits, after the cut.
    if 0 <= digits < len(_SCALE):
        scaled = abs(cut) * _SCALE[digits]
        if scaled < _TOO_BIG and abs(scaled - math.floor(scaled) - 0.5) > 1e-6:
            return round(cut, digits)
    if not math.isfinite(cut):
        return cut
    exact = Decimal(repr(cut))
    # Precision for any float (up to 309 integer digits): the default 28 digits refuse 1e26.
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_WIDE))


_FIELD_NAMES: dict[type, frozenset[str]] = {}  # frozen_record's dataclasses -> their field names


def frozen_record(cls: type[T], values: dict[str, Any]) -> T:
    """cls(**values) for a frozen dataclass with every field given, without its __init__, which
    sets each field through object.__setattr__ (the Clients read makes ~2,000 rows of 38 fields
    and ~5,000 contract terms: ~23 and ~8 ms that way). The same object: its fields in __dict__
    (vars() works), equal to and as frozen as one made by cls(...)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if values.keys() != names:  # a missing field would fail only where it is read
        raise TypeError(f"{cls.__name__} fields: {sorted(names ^ values.keys())}")
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record


def pct(part: float | None, whole: float | None) -> float | None:
    """part / whole as a 0-100 float, or None when there is nothing to divide by."""
    if not whole or part is None:
        return None
    return half_up(100.0 * float(part) / float(whole), 2)


def ratio(part: float | None, whole: float | None, digits: int = 2) -> float | None:
    if not whole or part is None:
        return None
    return half_up(float(part) / float(whole), digits)


def hours(value: float | None) -> float:
    return half_up(float(value or 0.0), 2)


def maybe(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else half_up(float(value), digits)


def label(value: Any) -> str:
    return NO_LABEL if value is None or value == "" else str(value)


class Refresh:
    """Intermediate results that several areas of ONE report refresh share (e.g. the first
    escalations, read by escalations and trends). Made by compute_report for one call and
    dropped with it: nothing is kept across refreshes, so no figure can be stale."""

    def __init__(self) -> None:
        self._results: dict[Any, Any] = {}

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """compute() the first time `key` is asked for in this refresh; the same value after."""
        if key not in self._results:
            self._results[key] = compute()
        return self._results[key]
