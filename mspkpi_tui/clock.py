"""The clock: real time, or the --now the user pinned; business-time boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mspkpi_tui.errors import ConfigError, MspkpiError

EARLIEST_NOW_YEAR = 1971
LATEST_NOW_YEAR = 2999


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_now(value: str | None) -> datetime:
    """Parse --now (ISO-8601); a value without an offset is taken as UTC."""
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MspkpiError(f"--now {value!r} is not an ISO-8601 time (e.g. 2026-11-23T09:30:00Z)") from None
    if not EARLIEST_NOW_YEAR <= parsed.year <= LATEST_NOW_YEAR:  # the far ends overflow when zoned or shifted
        raise MspkpiError(
            f"--now {value!r} is out of range: pick a time between {EARLIEST_NOW_YEAR} and {LATEST_NOW_YEAR}"
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def get_zone(name: str | None) -> ZoneInfo | timezone:
    if not name or name == "local":
        local = datetime.now().astimezone().tzinfo
        key = getattr(local, "key", None)
        return ZoneInfo(key) if key else local  # type: ignore[return-value]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r} in the config (use an IANA name such as Europe/London)"
        ) from None


@lru_cache(maxsize=8192)  # pure; the Clients figures ask for the same contract dates thousands of times
def local_midnight_utc(day: date, zone) -> datetime:
    """00:00 on `day` in the business zone, as a UTC instant (DST-safe)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def start_of_week(now: datetime, zone, week_start: int = 0) -> datetime:
    """The UTC instant the business week containing `now` began (week_start: 0 = Monday)."""
    local_day = now.astimezone(zone).date()
    offset = (local_day.weekday() - week_start) % 7
    return local_midnight_utc(local_day - timedelta(days=offset), zone)
