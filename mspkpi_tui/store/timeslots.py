"""UTC hours and days, in Python and in SQL: the slots every rollup is keyed by.

The SQL forms return the stored representation of a ``UTCDateTime`` (naive UTC text on
SQLite, timestamptz on PostgreSQL), so a rollup key written from SQL compares equal to one
bound from Python with ``at()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float

from mspkpi_tui.store.types import UTCDateTime

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def at(moment: datetime) -> ColumnElement:
    """A time as a bound parameter of the stored type (compares right on both databases)."""
    return literal(moment, UTCDateTime)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_ceil(moment: datetime) -> datetime:
    floor = hour_floor(moment)
    return floor if floor == moment else floor + HOUR


def day_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day_ceil(moment: datetime) -> datetime:
    floor = day_floor(moment)
    return floor if floor == moment else floor + DAY


def runs(starts: Iterable[datetime], step: timedelta, gap: timedelta) -> list[tuple[datetime, datetime]]:
    """Slot starts as [start, end) ranges, merging slots less than `gap` apart, so a recount
    reads one index range per run of touched slots instead of one per slot."""
    merged: list[list[datetime]] = []
    for start in sorted(set(starts)):
        if merged and start - merged[-1][1] < gap:
            merged[-1][1] = start + step
        else:
            merged.append([start, start + step])
    return [(lo, hi) for lo, hi in merged]


class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a stored timestamp, as a float (for differences and means)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return "CAST(EXTRACT(EPOCH FROM %s) AS DOUBLE PRECISION)" % compiler.process(element.clauses, **kw)


class utc_hour_start(FunctionElement):
    """The start of a stored timestamp's UTC hour, in the stored form (for grouping by hour)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_hour_start, "sqlite")
def _hour_sqlite(element, compiler, **kw):
    # UTCDateTime is stored on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
    return "(substr(%s, 1, 13) || ':00:00.000000')" % compiler.process(element.clauses, **kw)


@compiles(utc_hour_start, "postgresql")
def _hour_pg(element, compiler, **kw):
    return "(date_trunc('hour', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')" % compiler.process(element.clauses, **kw)


class utc_day_start(FunctionElement):
    """00:00 UTC of a stored timestamp's day, in the stored form (for grouping by day)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_day_start, "sqlite")
def _day_sqlite(element, compiler, **kw):
    # UTCDateTime is stored on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
    return "(substr(%s, 1, 10) || ' 00:00:00.000000')" % compiler.process(element.clauses, **kw)


@compiles(utc_day_start, "postgresql")
def _day_pg(element, compiler, **kw):
    return "(date_trunc('day', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')" % compiler.process(element.clauses, **kw)
