"""Column-wise tables built with numpy, turned into database values a chunk at a time.

The generator builds millions of rows as numpy arrays (fast, compact) and the loader asks
each column for a slice as plain Python values in exactly the form the store's column
types write: on SQLite a UTCDateTime is naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff', a
date is 'YYYY-MM-DD', a boolean is 0/1; on PostgreSQL times carry '+00'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Column:
    name: str
    kind: str  # int | float | bool | label | text | time | date
    values: np.ndarray | None = None  # time: int64 epoch seconds; date: int64 epoch days; label: codes
    null: np.ndarray | None = None  # True where the value is NULL
    labels: Sequence[str] = ()  # label: code -> text
    make: Callable[[int, int], list] | None = None  # text: (start, stop) -> list of str

    def chunk(self, start: int, stop: int, dialect: str) -> list:
        if self.kind == "text":
            values = self.make(start, stop)
        else:
            part = self.values[start:stop]
            values = CONVERT[self.kind](self, part, dialect)
        if self.null is not None:
            for i in np.flatnonzero(self.null[start:stop]).tolist():
                values[i] = None
        return values


def _ints(col, part, dialect):
    return part.tolist()


def _floats(col, part, dialect):
    return part.astype(float).tolist()


def _bools(col, part, dialect):
    part = part.astype(bool)
    return part.tolist() if dialect == "postgresql" else part.astype(np.int8).tolist()


def _labels(col, part, dialect):
    return np.asarray(col.labels, dtype=object)[part].tolist()


def _times(col, part, dialect):
    text = np.datetime_as_string(part.astype("datetime64[s]").astype("datetime64[us]"), unit="us")
    # 'YYYY-MM-DDTHH:MM:SS.ffffff': swap the T for a space in place (UTF-32 code units).
    if len(text):
        text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    values = text.tolist()
    if dialect == "postgresql":
        return [v + "+00" for v in values]
    return values


def _dates(col, part, dialect):
    return np.datetime_as_string(part.astype("datetime64[D]"), unit="D").tolist()


CONVERT = {"int": _ints, "float": _floats, "bool": _bools, "label": _labels, "time": _times, "date": _dates}


@dataclass
class Table:
    name: str
    rows: int
    columns: list[Column] = field(default_factory=list)

    def add(self, name: str, kind: str, values=None, null=None, labels: Sequence[str] = (), make=None) -> None:
        if values is not None and len(values) != self.rows:
            raise ValueError(f"{self.name}.{name}: {len(values)} values for {self.rows} rows")
        if null is not None and not null.any():
            null = None
        self.columns.append(Column(name, kind, values, null, labels, make))

    def chunk_rows(self, start: int, stop: int, dialect: str):
        return zip(*(c.chunk(start, stop, dialect) for c in self.columns))
