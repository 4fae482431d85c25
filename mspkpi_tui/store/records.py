"""The canonical record format every source produces, and its validation.

A record is a flat dict: ``id`` is the source's id, references name other records by
their source ids (``company_id``, ``ticket_id`` ...), times are ISO-8601 with a zone.
This is the JSON Lines import format (docs/import-format.md) and what the PSA
connectors map vendor JSON into, so every source is validated by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


class RecordError(ValueError):
    """Why a record cannot be stored; kept with the raw record in rejected_records."""


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str  # str | int | float | bool | datetime | date | ref
    required: bool = False
    ref: str | None = None  # the entity a "ref" field points at
    default: Any = None


def S(name, required=False, default=None):
    return Spec(name, "str", required, default=default)


def I(name, required=False, default=None):
    return Spec(name, "int", required, default=default)


def F(name, required=False, default=None):
    return Spec(name, "float", required, default=default)


def B(name, required=False, default=None):
    return Spec(name, "bool", required, default=default)


def T(name, required=False):
    return Spec(name, "datetime", required)


def D(name, required=False):
    return Spec(name, "date", required)


def R(name, entity, required=False):
    return Spec(name, "ref", required, ref=entity)


SPECS: dict[str, list[Spec]] = {
    "companies": [S("name", True), S("number"), B("active", default=True)],
    "resources": [
        S("name", True),
        S("email"),
        B("active", default=True),
        F("weekly_hours", default=40.0),
        F("hourly_cost"),
    ],
    "queues": [S("name", True)],
    "projects": [
        S("name", True),
        R("company_id", "companies"),
        S("status", True),
        B("is_closed", default=False),
        S("category"),
        D("start_date"),
        D("end_date"),
        F("estimated_hours"),
        F("actual_hours"),
        F("percent_complete"),
    ],
    "tickets": [
        S("number", True),
        S("title", True),
        R("company_id", "companies"),
        R("queue_id", "queues"),
        S("status", True),
        B("is_closed", True),
        S("priority", True),
        I("priority_rank", default=99),
        S("issue_type"),
        S("sub_issue_type"),
        R("assigned_resource_id", "resources"),
        T("created_at", True),
        T("first_response_due"),
        T("first_response_at"),
        T("resolution_due"),
        T("resolved_at"),
        T("completed_at"),
        S("sla_name"),
        I("escalation_level", default=0),
        T("escalated_at"),
        T("last_activity_at"),
        S("url"),
        S("description"),  # bounded: TEXT_LIMITS
        S("contact_name"),
    ],
    "ticket_notes": [
        R("ticket_id", "tickets", True),
        T("created_at", True),
        S("author"),
        S("kind"),
        S("body", True),  # bounded: TEXT_LIMITS
        B("internal", default=False),
    ],
    "ticket_events": [
        R("ticket_id", "tickets", True),
        T("at", True),
        S("field", True),
        S("old_value"),
        S("new_value"),
    ],
    "timesheets": [
        R("resource_id", "resources", True),
        D("period_start", True),
        D("period_end", True),
        S("status", True),
        T("deadline"),
        T("submitted_at"),
    ],
    "time_entries": [
        R("resource_id", "resources", True),
        R("ticket_id", "tickets"),
        R("project_id", "projects"),
        R("timesheet_id", "timesheets"),
        T("started_at", True),
        F("hours", True),
        B("billable", default=False),
        S("category"),
    ],
    "opportunities": [
        S("title", True),
        R("company_id", "companies"),
        R("owner_resource_id", "resources"),
        S("stage", True),
        I("stage_rank", default=0),
        T("stage_entered_at"),
        S("status", default="open"),
        F("amount", default=0.0),
        F("probability"),
        D("expected_close"),
        D("closed_on"),
        S("win_reason"),
        S("loss_reason"),
        S("category"),
        T("created_at"),
    ],
    "opportunity_stage_changes": [R("opportunity_id", "opportunities", True), S("stage", True), T("entered_at", True)],
    "contracts": [
        R("company_id", "companies"),
        S("name", True),
        S("number"),
        S("type"),
        S("period_type"),
        D("start_date"),
        D("end_date"),
        S("status", default="Active"),
        F("monthly_value"),
        F("seats"),
        S("category"),
    ],
    "survey_results": [
        R("ticket_id", "tickets"),
        R("company_id", "companies"),
        T("completed_at", True),
        F("rating", True),
        F("recommend_score"),
        S("comment"),
    ],
    "billing_items": [
        R("company_id", "companies", True),
        R("contract_id", "contracts"),
        R("ticket_id", "tickets"),
        D("item_date", True),
        S("item_type"),
        S("description"),
        F("quantity"),
        F("extended_price", True),
        F("our_cost"),
        B("recurring", default=False),
        T("posted_at"),
    ],
}

CHOICES = {
    ("ticket_events", "field"): {"status", "queue", "priority", "assignee", "escalation"},
    ("opportunities", "status"): {"open", "won", "lost"},
}

# Numbers with a meaningful range: a recommend answer is 0-10 (NPS), seats are not negative.
BOUNDS: dict[tuple[str, str], tuple[float, float | None]] = {
    ("survey_results", "recommend_score"): (0.0, 10.0),
    ("contracts", "seats"): (0.0, None),
}

# Free text that can be long (an e-mail thread pasted into a ticket): a copy of the first this
# many characters is stored, ending with a marker that says it was cut and how long it was.
TEXT_LIMITS: dict[tuple[str, str], int] = {
    ("tickets", "description"): 4000,
    ("ticket_notes", "body"): 4000,
}
CUT_MARK = "\n[cut here: the source's text is {length:,} characters]"


def clipped(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and the CUT_MARK when it is longer."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(length=len(text))


# Before this, a date is a PSA's "unset" sentinel (HaloPSA writes 1900-01-01), not a real time.
EARLIEST_REAL_YEAR = 1971
# After this, a "never" sentinel (9999-12-31) that overflows when zoned or shifted.
LATEST_REAL_YEAR = 2999
# The widest whole number every database stores (PostgreSQL INTEGER; SQLite would take 64 bits).
INT_RANGE = (-(2**31), 2**31 - 1)


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored in both databases, or None: PostgreSQL refuses NUL,
    and a lone surrogate (JSON's "\\ud800") cannot be encoded as UTF-8 by either."""
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (not Unicode text)"
    return None


def storable(text: str) -> str:
    """`text` made storable (for a reject's raw text and reason): NUL and lone surrogates escaped."""
    if text_problem(text) is None:
        return text
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def parse_datetime(value: Any, name: str = "time") -> datetime:
    if not isinstance(value, str):
        raise RecordError(f"{name} must be an ISO-8601 string, not {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{name} is not an ISO-8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{name} has no time zone: {value!r} (add Z or an offset)")
    if parsed.year < EARLIEST_REAL_YEAR:
        raise RecordError(f"{name} is a placeholder date, not a real time: {value!r}")
    if parsed.year > LATEST_REAL_YEAR:
        raise RecordError(f"{name} is after year {LATEST_REAL_YEAR}, not a real time: {value!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 2999-12-31T23:00-05:00 is still in range; this is belt and braces
        raise RecordError(f"{name} is out of range: {value!r}") from None


def parse_date(value: Any, name: str = "date") -> date:
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a YYYY-MM-DD string, not {value!r}")
    try:
        parsed = date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise RecordError(f"{name} is not a date: {value!r}") from None
    if parsed.year < EARLIEST_REAL_YEAR:
        raise RecordError(f"{name} is a placeholder date, not a real date: {value!r}")
    if parsed.year > LATEST_REAL_YEAR:
        raise RecordError(f"{name} is after year {LATEST_REAL_YEAR}, not a real date: {value!r}")
    return parsed


def _to_str(value, name):
    if isinstance(value, str):
        if problem := text_problem(value):
            raise RecordError(f"{name} {problem}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise RecordError(f"{name} must be a string, not {value!r}")


def _to_int(value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise RecordError(f"{name} {value} is too large: whole numbers here are {INT_RANGE[0]} to {INT_RANGE[1]}")
        return value
    raise RecordError(f"{name} must be a whole number, not {value!r}")


def _to_float(value, name):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            raise RecordError(f"{name} {value} is too large for a number") from None
        if not math.isfinite(number):  # NaN and Infinity are no figures, and not JSON either
            raise RecordError(f"{name} must be a finite number, not {value!r}")
        return number
    raise RecordError(f"{name} must be a number, not {value!r}")


def _to_bool(value, name):
    if isinstance(value, bool):
        return value
    raise RecordError(f"{name} must be true or false, not {value!r}")


CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "str": _to_str,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "datetime": parse_datetime,
    "date": parse_date,
}


def source_id_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise RecordError(f"a record must be a JSON object, not {type(record).__name__}")
    value = record.get("id")
    if value is None or value == "":
        raise RecordError("missing required field 'id'")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"id must be a string or whole number, not {value!r}")
    if isinstance(value, str) and (problem := text_problem(value)):
        raise RecordError(f"id {problem}")
    return str(value)


def _bounded(convert: Callable[[Any, str], Any], limit: int) -> Callable[[Any, str], Any]:
    return lambda value, name: clipped(convert(value, name), limit)


def _converter(entity: str, spec: Spec) -> Callable[[Any, str], Any] | None:
    convert = CONVERTERS.get(spec.kind)
    limit = TEXT_LIMITS.get((entity, spec.name))
    return _bounded(convert, limit) if convert is not None and limit else convert


def _plan(entity: str) -> list[tuple]:
    """Per field, what validate needs, looked up once per entity instead of once per record."""
    return [
        (
            s.name,
            s.required,
            s.default,
            s.ref if s.kind == "ref" else None,
            _converter(entity, s),
            CHOICES.get((entity, s.name)),
            BOUNDS.get((entity, s.name)),
        )
        for s in SPECS[entity]
    ]


PLANS = {entity: _plan(entity) for entity in SPECS}


def validate(entity: str, record: Any, resolve: Callable[[str, str], int | None]) -> dict[str, Any]:
    """A row for the entity's table (without ``source``), or RecordError.

    ``resolve(entity, source_id)`` gives the local id of a referenced record or None.
    """
    row: dict[str, Any] = {"source_id": source_id_of(record)}
    get = record.get
    for name, required, default, ref, convert, allowed, bounds in PLANS[entity]:
        value = get(name)
        if value is None or value == "":
            if required:
                raise RecordError(f"missing required field {name!r}")
            row[name] = default
        elif ref is not None:
            ref_id = _to_str(value, name)
            local = resolve(ref, ref_id)
            if local is None:
                raise RecordError(f"{name} {ref_id!r} names no record in {ref}")
            row[name] = local
        else:
            converted = convert(value, name)
            if allowed and converted not in allowed:
                raise RecordError(f"{name} must be one of {', '.join(sorted(allowed))}, not {converted!r}")
            if bounds and (converted < bounds[0] or (bounds[1] is not None and converted > bounds[1])):
                upper = f" to {bounds[1]:g}" if bounds[1] is not None else " or more"
                raise RecordError(f"{name} must be {bounds[0]:g}{upper}, not {converted!r}")
            row[name] = converted
    return row


def fields_of_kind(entity: str, *kinds: str) -> list[str]:
    return [s.name for s in SPECS[entity] if s.kind in kinds]
