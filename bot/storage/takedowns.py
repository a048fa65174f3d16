"""Discord messages that still show deleted pictures, until the bot has taken them down.

A deletion queues its messages (``queue_takedowns``) in the transaction that deletes the
pictures, so no deletion can commit without them; the bot then deletes each message and
forgets its row (``TakedownRepository``). What a stop or a crash leaves waits for the next
start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.storage.database import Connection, Repository

__all__ = ["Takedown", "TakedownRepository", "queue_takedowns"]


@dataclass(frozen=True, slots=True)
class Takedown:
    channel_id: int
    message_id: int
    attempts: int  # tries that failed so far


async def queue_takedowns(conn: Connection, messages: Iterable[tuple[int, int]]) -> None:
    """Queue ``(channel_id, message_id)`` messages for deletion, inside a caller's transaction.
    A message already queued stays as it is."""
    await conn.executemany(
        "INSERT INTO message_takedowns (channel_id, message_id) VALUES (?, ?)"
        " ON CONFLICT (message_id) DO NOTHING",
        [(int(channel), int(message)) for channel, message in messages],
    )


class TakedownRepository(Repository):
    async def due(self, now: float, limit: int) -> list[Takedown]:
        """The queued messages whose time has come, the longest waiting first."""
        rows = await self._db.fetch_all(
            "SELECT channel_id, message_id, attempts FROM message_takedowns"
            " WHERE not_before <= ? ORDER BY not_before, message_id LIMIT ?",
            (now, limit),
        )
        return [Takedown(int(r[0]), int(r[1]), int(r[2])) for r in rows]

    async def next_due(self) -> float | None:
        """When the earliest queued message is due; None when none is queued."""
        value = await self._db.fetch_value("SELECT MIN(not_before) FROM message_takedowns")
        return None if value is None else float(value)

    async def done(self, message_id: int) -> None:
        """The message is gone from Discord, or the bot can never delete it: forget it."""
        await self._db.execute("DELETE FROM message_takedowns WHERE message_id = ?", (message_id,))

    async def retry_at(self, message_id: int, not_before: float) -> None:
        """A try failed: count it, and try again at ``not_before``."""
        await self._db.execute(
            "UPDATE message_takedowns SET attempts = attempts + 1, not_before = ?"
            " WHERE message_id = ?",
            (not_before, message_id),
        )
