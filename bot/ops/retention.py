"""Retention: a server may keep its pictures for N days (off by default).

A sweep, at start and then once a day, deletes each such server's pictures older than N days
that nobody favorited, through the one delete path (``bot/storage/removal.py``: rows, gallery
re-posts and main pictures repaired together) and then their files; and it removes orphaned
files, which no picture or job names any more (left by a crash between a file and its row).

The sweep never holds up jobs: it deletes in small batches (one short transaction each),
touches files on a thread, and yields to the event loop between batches. Messages already
posted in Discord stay: they are the server's history; the bot forgets its own copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserInputError
from bot.images.store import ImageStore
from bot.ops.background import BackgroundTask
from bot.storage import STORAGE_ERRORS, Storage

__all__ = ["MAX_RETENTION_DAYS", "RetentionService", "Swept", "orphaned_files"]

log = logging.getLogger(__name__)

DAY = 86_400.0
SWEEP_PERIOD_SECONDS = DAY
MAX_RETENTION_DAYS = 3650
_BATCH = 100
# A file younger than this may belong to a job between writing it and recording it.
ORPHAN_GRACE_SECONDS = DAY


@dataclass(frozen=True, slots=True)
class Swept:
    pictures: int
    orphans: int


def orphaned_files(root: Path, referenced: set[str], older_than: float) -> list[str]:
    """Picture files (``<guild id>/<name>``) nothing names, last written before ``older_than``.

    Only the servers' folders are looked at: the answers kept across a crash and temporary
    files (dot names) have their own clean-up.
    """
    found = []
    for folder in root.iterdir() if root.is_dir() else []:
        if not folder.is_dir() or not folder.name.isdigit():
            continue
        for path in folder.iterdir():
            relative = f"{folder.name}/{path.name}"
            if path.name.startswith(".") or relative in referenced or not path.is_file():
                continue
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < older_than:
                    found.append(relative)
    return sorted(found)


class RetentionService:
    def __init__(
        self,
        storage: Storage,
        store: ImageStore,
        *,
        clock: Callable[[], float] = time.time,
        period: float = SWEEP_PERIOD_SECONDS,
    ) -> None:
        self._storage = storage
        self._store = store
        self._clock = clock
        self._period = period
        self._sweeping = BackgroundTask("retention-sweep", self._sweep_forever)

    async def days(self, guild_id: int) -> int | None:
        return await self._storage.operations.retention_days(guild_id)

    async def set_days(self, guild_id: int, days: int | None) -> int | None:
        """Keep the server's pictures ``days`` days (None or 0: for ever)."""
        if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
            raise UserInputError("error.retention_days", max=MAX_RETENTION_DAYS)
        kept = days or None
        await self._storage.operations.set_retention_days(guild_id, kept)
        return kept

    async def sweep(self) -> Swept:
        now = self._clock()
        pictures = 0
        for guild_id, days in (await self._storage.operations.retention_settings()).items():
            pictures += await self._sweep_guild(guild_id, now - days * DAY)
        referenced = await self._storage.operations.referenced_files()
        orphans = await asyncio.to_thread(
            orphaned_files, self._store.root, referenced, now - ORPHAN_GRACE_SECONDS
        )
        await asyncio.to_thread(self._store.delete, orphans)
        if pictures or orphans:
            log.info(
                "Retention: deleted %d old pictures and %d orphaned files",
                pictures,
                len(orphans),
                extra={"event": "retention.swept"},
            )
        return Swept(pictures, len(orphans))

    async def _sweep_guild(self, guild_id: int, before: float) -> int:
        deleted = 0
        while True:
            doomed = await self._storage.operations.expired_pictures(guild_id, before, _BATCH)
            if not doomed:
                return deleted
            removed = await self._storage.deletions.delete_images(
                guild_id, doomed, take_down_messages=False
            )
            await asyncio.to_thread(self._store.delete, removed.files)
            deleted += removed.images
            await asyncio.sleep(0)  # let waiting jobs and commands run between batches

    def start(self) -> None:
        self._sweeping.start()

    async def stop(self) -> None:
        await self._sweeping.stop()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                # Several processes may share the database: one sweeps, the others skip.
                async with self._storage.db.exclusive("retention-sweep") as mine:
                    if mine:
                        await self.sweep()
            except STORAGE_ERRORS as exc:
                log.warning("Retention sweep skipped (storage: %s); next in a day", exc)
            except Exception:
                log.exception("Retention sweep failed")
            await asyncio.sleep(self._period)
