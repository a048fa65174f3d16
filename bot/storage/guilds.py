"""Per-server configuration rows."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.records import GuildConfig

__all__ = ["GuildRepository"]


class GuildRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def config(self, guild_id: int) -> GuildConfig:
        row = await self._db.fetch_one("SELECT * FROM guild_config WHERE guild_id = ?", (guild_id,))
        return GuildConfig.from_row(row) if row else GuildConfig.default(guild_id)

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
