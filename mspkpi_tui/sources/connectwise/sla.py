"""SLA due times for ConnectWise tickets, which carry no respond-by/resolve-by field.

Two sources, in this order (docs/sources.md explains the choice):

1. ``slaStatus`` text such as ``"Respond by Mon 01/27 4:00 PM UTC-08"``: ConnectWise's
   own deadline, with business hours and waiting time already applied, but only for
   the *next* step, with no year and a locale-dependent day/month order. The year is
   inferred from the ticket's ``dateEntered`` and the weekday must match; text that
   does not parse unambiguously gives no due time (it is not an error).
2. The SLA's priority hours (``service/SLAs/{id}/priorities``) counted from
   ``dateEntered``; only for SLAs based on all hours (24x7), where wall-clock counting
   is right. For business-hours SLAs an estimate would raise false breaches, so the
   due time the sync read from ``slaStatus`` earlier is kept instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_STATUS = re.compile(
    r"^\s*(?P<step>respond|plan|resolve)\s+by\s+"
    r"(?P<weekday>[a-z]{3})[a-z]*\.?\s+"
    r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[ap]\.?m\.?)?\s*"
    r"(?:(?:utc|gmt)\s*(?P<sign>[+-])\s*(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?|(?P<utc>utc|gmt|z))\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Deadline:
    step: str  # respond | plan | resolve
    due: datetime  # aware UTC


def parse_sla_status(text: object, entered: datetime | None) -> Deadline | None:
    """The deadline named by slaStatus, or None when the text names none or is ambiguous."""
    if not isinstance(text, str) or entered is None:
        return None
    match = _STATUS.match(text)
    if not match:
        return None
    clock = _clock(match)
    zone = _zone(match)
    if clock is None or zone is None:
        return None
    if match["weekday"].lower() not in WEEKDAYS:
        return None
    weekday = WEEKDAYS.index(match["weekday"].lower())
    a, b = int(match["a"]), int(match["b"])
    # A deadline is never before the ticket was entered (a day of slack for zones), so
    # the year is that of the first such day on or after it; the weekday must agree.
    earliest = entered.astimezone(zone).date() - timedelta(days=1)
    candidates = set()
    for month, day in {(a, b), (b, a)}:  # US month/day or day/month
        day_date = _next_occurrence(month, day, earliest)
        if day_date is not None and day_date.weekday() == weekday:
            candidates.add(datetime.combine(day_date, clock, tzinfo=zone).astimezone(UTC))
    if not candidates:
        return None
    # Both orders can name a matching weekday; the deadline nearest the ticket's start wins.
    due = min(candidates, key=lambda c: abs(c - entered))
    return Deadline(match["step"].lower(), due)


def _next_occurrence(month: int, day: int, earliest: date) -> date | None:
    for year in (earliest.year, earliest.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None  # not a calendar day (or 29 February in the wrong year)
        if candidate >= earliest:
            return candidate
    return None


def _clock(match: re.Match):
    hour, minute = int(match["hour"]), int(match["minute"])
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _zone(match: re.Match):
    if match["utc"]:
        return UTC
    hours, minutes = int(match["oh"]), int(match["om"] or 0)
    if hours > 14 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if match["sign"] == "-" else offset)


@dataclass(frozen=True)
class PriorityHours:
    respond: float | None
    resolve: float | None


def due_times(
    sla_status: object,
    entered: datetime | None,
    hours: PriorityHours | None,
    stored: tuple[datetime | None, datetime | None],
) -> tuple[datetime | None, datetime | None]:
    """(first-response due, resolution due) for a ticket.

    `hours` is given only for a 24x7 SLA; `stored` is what the database holds now.
    """
    deadline = parse_sla_status(sla_status, entered)
    respond_due, resolve_due = stored
    if hours is not None and entered is not None:
        if hours.respond is not None:
            respond_due = entered + timedelta(hours=hours.respond)
        if hours.resolve is not None:
            resolve_due = entered + timedelta(hours=hours.resolve)
    if deadline is not None:
        if deadline.step == "respond":
            respond_due = deadline.due
        elif deadline.step == "resolve":
            resolve_due = deadline.due
    return respond_due, resolve_due
