"""Look at a SQLite file before opening it for real, without writing a byte to it.

Opening through the engine sets WAL mode, which rewrites the file header: a file that
is not ours (another application's database, a truncated copy, a text file) must be
recognised and refused before that happens. The look is a read-only connection.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mspkpi_tui.errors import DatabaseError


@dataclass(frozen=True)
class SqliteFile:
    path: Path
    exists: bool
    tables: tuple[str, ...] = ()
    writable: bool = True  # the file and its folder (SQLite writes its -wal and -shm beside it)


def look_at(path: Path) -> SqliteFile:
    if not path.exists():
        return SqliteFile(path, exists=False)
    if not path.is_file():
        raise DatabaseError(f"cannot open database {path}: not a file")
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    try:
        # immutable: no -shm or -wal is created, and no lock is taken, for a file we may not own.
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
        try:
            names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open database {path}: {exc} (not a SQLite database, or a damaged one)") from None
    tables = tuple(sorted(name for (name,) in names if not name.startswith("sqlite_")))
    return SqliteFile(path, exists=True, tables=tables, writable=writable)


def create_private(path: Path) -> None:
    """An empty database file only its owner can read: it will hold every client's tickets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
