"""What the operator's tools read and change: /status counts, storage used, retention.

The retention setting is a row of ``meta`` (``retention_days:<guild id>``) rather than a
column of ``guild_config``: it is read once a day by the sweep and by /status, never on a
member's command, so it needs neither the settings cache nor a migration.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.storage.database import Repository, guild_scope
from bot.storage.meta import META_UPSERT

__all__ = ["JobUsage", "OperationsRepository", "QueueCounts", "probe_database"]

_RETENTION_KEY = "retention_days:"


@dataclass(frozen=True, slots=True)
class QueueCounts:
    waiting: int
    running: int
    failed: int  # since the time asked for


@dataclass(frozen=True, slots=True)
class JobUsage:
    input_tokens: int
    output_tokens: int
    cost_usd: float | None


class OperationsRepository(Repository):
    async def job_usage(self, job_id: int) -> JobUsage | None:
        row = await self._db.fetch_one(
            "SELECT input_tokens, output_tokens, cost_usd FROM jobs WHERE id = ?", (job_id,)
        )
        if row is None:
            return None
        return JobUsage(int(row[0]), int(row[1]), None if row[2] is None else float(row[2]))

    async def queue_counts(self, guild_id: int | None, failed_since: float) -> QueueCounts:
        """Jobs waiting and running now, and failed since ``failed_since`` (one server, or
        every server when ``guild_id`` is None)."""
        where, params = guild_scope(guild_id)
        row = await self._db.fetch_one(
            "SELECT"
            " COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN state = 'failed' AND finished_at >= ? THEN 1 ELSE 0 END), 0)"
            f" FROM jobs WHERE {where}"
            " AND (state IN ('queued', 'running') OR (state = 'failed' AND finished_at >= ?))",
            (failed_since, *params, failed_since),
        )
        assert row is not None
        return QueueCounts(int(row[0]), int(row[1]), int(row[2]))

    async def picture_files(self, guild_id: int | None) -> tuple[int, list[str]]:
        """How many pictures a server (or the bot) keeps, and their files (with thumbnails)."""
        where, params = guild_scope(guild_id)
        rows = await self._db.fetch_all(
            f"SELECT file_path, thumb_path FROM images WHERE {where}", params
        )
        files = [path for row in rows for path in (row[0], row[1]) if path]
        return len(rows), files

    async def referenced_files(self) -> set[str]:
        """Every file under the image store that a picture or a job still names."""
        rows = await self._db.fetch_all(
            "SELECT file_path FROM images UNION SELECT thumb_path FROM images"
            " UNION SELECT reference_path FROM jobs"
        )
        return {str(row[0]) for row in rows if row[0]}

    # --- retention -------------------------------------------------------------------------

    async def retention_days(self, guild_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT value FROM meta WHERE key = ?", (f"{_RETENTION_KEY}{guild_id}",)
        )
        return None if value is None else int(value)

    async def set_retention_days(self, guild_id: int, days: int | None) -> None:
        key = f"{_RETENTION_KEY}{guild_id}"
        if days is None:
            await self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            return
        await self._db.execute(META_UPSERT, (key, str(days)))

    async def retention_settings(self) -> dict[int, int]:
        """guild id -> days, for every server that turned retention on."""
        rows = await self._db.fetch_all(
            "SELECT key, value FROM meta WHERE key LIKE ?", (f"{_RETENTION_KEY}%",)
        )
        return {int(str(row[0]).removeprefix(_RETENTION_KEY)): int(row[1]) for row in rows}

    async def expired_pictures(self, guild_id: int, before: float, limit: int) -> list[int]:
        """Pictures of the server made before ``before`` that nobody favorited, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT i.id FROM images AS i WHERE i.guild_id = ? AND i.created_at < ?"
            " AND i.favorite_count = 0"
            " AND NOT EXISTS (SELECT 1 FROM favorites AS f WHERE f.image_id = i.id)"
            " ORDER BY i.id LIMIT ?",
            (guild_id, before, limit),
        )
        return [int(row[0]) for row in rows]


def probe_database(path: Path, timeout: float) -> str | None:
    """None when the database answers a read and would take a write within ``timeout`` s;
    otherwise what is wrong. For ``python -m bot healthcheck`` (a process of its own)."""
    if not path.is_file():
        return "the database does not exist"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        return f"the database cannot be opened ({exc})"
    try:
        conn.isolation_level = None
        # A write lock taken and given back at once: a database another program holds
        # locked (or a read-only disk) makes the bot fail its jobs, so it is unhealthy.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT count(*) FROM meta").fetchone()
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return f"the database does not answer ({exc})"
    finally:
        conn.close()
    return None
