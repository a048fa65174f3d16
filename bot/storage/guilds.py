"""Per-server configuration rows."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.records import GuildConfig
from bot.storage.database import Database, Repository, fetch_first, placeholders

__all__ = ["GuildRepository"]

# The settings an admin may change, each with how its value is stored.
_COLUMNS: dict[str, Any] = {
    "default_style": lambda v: v,
    "default_size": lambda v: v,
    "max_count": int,
    "model_tier": str,
    "allow_forks": lambda v: int(bool(v)),
    "favorite_emoji": str,
    "gallery_public": lambda v: int(bool(v)),
    "alert_channel_id": lambda v: None if v is None else int(v),
    "scenes": str,
}


class GuildRepository(Repository):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._cache: dict[int, GuildConfig] = {}
        self._writes = 0  # bumped by every write: a read that straddles one is not cached

    async def config(self, guild_id: int) -> GuildConfig:
        """The server's settings, read on nearly every interaction, hence cached.

        Every write goes through this repository and drops the cached copy, so the cache is
        never stale within the one process that owns the database.
        """
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        writes = self._writes
        row = await self._db.fetch_one("SELECT * FROM guild_config WHERE guild_id = ?", (guild_id,))
        config = GuildConfig.from_row(row) if row else GuildConfig.default(guild_id)
        if writes == self._writes:
            self._cache[guild_id] = config
        return config

    def _forget(self, guild_id: int) -> None:
        self._writes += 1
        self._cache.pop(guild_id, None)

    async def update(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change some settings (the rest keep their value or default); return the result.

        Column names come from a fixed list, never from the caller's text.
        """
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not a server setting: {sorted(unknown)}")
        if changes:
            columns = [name for name in _COLUMNS if name in changes]
            values = [_COLUMNS[name](changes[name]) for name in columns]
            names = ", ".join(columns)
            marks = placeholders(len(columns))
            sets = ", ".join(f"{name} = excluded.{name}" for name in columns)
            await self._db.execute(
                f"INSERT INTO guild_config (guild_id, {names}, updated_at) VALUES (?, {marks}, ?)"
                f" ON CONFLICT (guild_id) DO UPDATE SET {sets}, updated_at = excluded.updated_at",
                (guild_id, *values, time.time()),
            )
            self._forget(guild_id)
        return await self.config(guild_id)

    async def add_allowed_channel(self, guild_id: int, channel_id: int) -> list[int]:
        return await self._edit_channels(guild_id, add=channel_id)

    async def remove_allowed_channel(self, guild_id: int, channel_id: int) -> list[int]:
        """Remove a channel from the list; an empty list means commands work anywhere."""
        return await self._edit_channels(guild_id, remove=channel_id)

    async def clear_allowed_channels(self, guild_id: int) -> None:
        await self._db.execute(
            "UPDATE guild_config SET allowed_channels = '[]', updated_at = ? WHERE guild_id = ?",
            (time.time(), guild_id),
        )
        self._forget(guild_id)

    async def _edit_channels(
        self, guild_id: int, *, add: int | None = None, remove: int | None = None
    ) -> list[int]:
        # Read and write in one transaction, so two admins adding channels lose neither.
        async with self._db.transaction() as conn:
            row = await fetch_first(
                conn, "SELECT allowed_channels FROM guild_config WHERE guild_id = ?", (guild_id,)
            )
            channels = [int(c) for c in json.loads(row[0])] if row else []
            if add is not None and add not in channels:
                channels.append(add)
            if remove is not None and remove in channels:
                channels.remove(remove)
            await conn.execute(
                "INSERT INTO guild_config (guild_id, allowed_channels, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET"
                " allowed_channels = excluded.allowed_channels, updated_at = excluded.updated_at",
                (guild_id, json.dumps(channels), time.time()),
            )
        self._forget(guild_id)
        return channels

    async def claim_alert(
        self, guild_id: int, kind: str, now: float, every: float = 86_400
    ) -> bool:
        """True (and recorded) if no alert of ``kind`` went to this guild within ``every`` s."""
        changed = await self._db.execute(
            "INSERT INTO alerts_sent (guild_id, kind, sent_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id, kind) DO UPDATE SET sent_at = excluded.sent_at"
            " WHERE alerts_sent.sent_at < ?",
            (guild_id, kind, now, now - every),
        )
        return changed > 0
