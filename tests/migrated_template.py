"""A SQLite database already migrated to head, made once per test session and copied per test.

The template is made by `open_database`, the function the app opens every database with,
so it is exactly what a first start leaves behind, at whatever head the tree has: never a
stored file that could fall behind the migrations. Each xdist worker has its own session,
hence its own template under its own temporary folder.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


class SqliteTemplate:
    """Copies of one migrated, empty SQLite file; the file is made on first use."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "template.db"
        self._made = False

    def copy_to(self, target: Path) -> None:
        if not self._made:
            self._make()
        shutil.copy(self._path, target)  # copy() keeps the owner-only mode create_private gave it

    def _make(self) -> None:
        from mspkpi_tui.store.engine import open_database

        open_database(f"sqlite:///{self._path}").dispose()
        # The file alone must hold everything: fold the WAL back in before copying it.
        conn = sqlite3.connect(self._path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        for suffix in ("-wal", "-shm"):
            self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)
        self._made = True
