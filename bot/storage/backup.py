"""Copies of the database: SQLite's online backup API, safe while the bot writes.

The backup API copies the pages under one read transaction, so the copy is the database as
it was at one instant (WAL included), however busy the bot is.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

__all__ = ["check_database", "snapshot_database"]


def snapshot_database(source: Path, target: Path, timeout: float = 30.0) -> None:
    """Write a consistent copy of ``source`` to ``target`` (replaced if it exists)."""
    with (
        contextlib.closing(
            sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=timeout)
        ) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)  # every page in one step: one snapshot, never half of two
        # A self-contained file: no -wal beside it for a copy program to forget.
        dst.execute("PRAGMA journal_mode = DELETE")


def check_database(path: Path) -> str | None:
    """None when ``path`` is a sound SQLite database; otherwise what is wrong with it."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    return None if row and row[0] == "ok" else f"quick_check says {row[0] if row else '?'}"
