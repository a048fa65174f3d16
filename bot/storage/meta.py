"""Small key/value facts about the bot itself, such as the last synced command hash, and
the pause every process sharing the database keeps."""

from __future__ import annotations

from bot.storage.database import Repository, fetch_first
from bot.storage.room import DRAWING_PAUSED_UNTIL

__all__ = ["META_UPSERT", "MetaRepository"]

# Set one key: every meta write goes through this statement.
META_UPSERT = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


class MetaRepository(Repository):
    async def get(self, key: str) -> str | None:
        value = await self._db.fetch_value("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(META_UPSERT, (key, value))

    async def pause_drawing(self, seconds: float) -> None:
        """No process sends OpenAI anything for ``seconds`` from now, by the database's
        clock (a later end wins; the claim of a job checks it, see
        ``JobRepository.mark_running``)."""
        async with self._db.transaction() as conn:
            current = await fetch_first(
                conn,
                "SELECT db_now(), (SELECT value FROM meta WHERE key = ?)",
                (DRAWING_PAUSED_UNTIL,),
            )
            assert current is not None  # one row, always
            until = float(current[0]) + seconds
            if current[1] is not None and float(current[1]) >= until:
                return
            await conn.execute(META_UPSERT, (DRAWING_PAUSED_UNTIL, repr(until)))

    async def drawing_paused_for(self) -> float:
        """How many more seconds every process pauses (0: none)."""
        row = await self._db.fetch_one(
            "SELECT value, db_now() FROM meta WHERE key = ?", (DRAWING_PAUSED_UNTIL,)
        )
        return max(0.0, float(row[0]) - float(row[1])) if row else 0.0
