"""The one way pictures and characters leave the database, inside a caller's transaction.

Every delete path (the Delete button, ``/character delete``, ``/mydata delete`` and the
clean-up of a refused request) goes through here, so each repairs references the same way:

- favorites and gallery re-posts of a picture go with it (``ON DELETE CASCADE``);
- a character's main picture, a picture's parent and a job's parent are foreign keys that
  clear themselves (``ON DELETE SET NULL``, migration 0005); a character that still has
  pictures then gets its oldest one as its main picture (:func:`repair_main_pictures`);
- forks of a deleted character keep their own pictures and lose only the link back.

Ids are never reused (``AUTOINCREMENT``), so anything that still remembers a deleted id
(a button, a queued job, a gallery option) finds nothing rather than a stranger's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiosqlite

__all__ = ["Removed", "remove_characters", "remove_images", "repair_main_pictures"]


@dataclass(slots=True)
class Removed:
    """What a deletion left to clean up outside the database."""

    files: list[str] = field(default_factory=list)
    messages: list[tuple[int, int]] = field(default_factory=list)  # (channel_id, message_id)
    characters: int = 0
    images: int = 0


async def _collect(conn: aiosqlite.Connection, removed: Removed, where: str, params: Any) -> None:
    """Add the files and messages of the images matching ``where`` (alias ``i``)."""
    async with conn.execute(
        f"SELECT i.file_path, i.thumb_path, i.channel_id, i.message_id FROM images AS i {where}",
        params,
    ) as cursor:
        for row in await cursor.fetchall():
            removed.images += 1
            removed.files.extend(p for p in (row[0], row[1]) if p)
            if row[2] and row[3]:
                removed.messages.append((int(row[2]), int(row[3])))
    async with conn.execute(
        "SELECT p.channel_id, p.message_id FROM picture_posts AS p"
        f" WHERE p.image_id IN (SELECT i.id FROM images AS i {where})",
        params,
    ) as cursor:
        removed.messages.extend((int(r[0]), int(r[1])) for r in await cursor.fetchall())


async def repair_main_pictures(conn: aiosqlite.Connection, guild_id: int) -> None:
    """Every character of the guild that has pictures has one of its own as main picture."""
    await conn.execute(
        "UPDATE characters SET canonical_image_id = ("
        "  SELECT id FROM images WHERE images.character_id = characters.id ORDER BY id LIMIT 1)"
        " WHERE guild_id = ? AND canonical_image_id IS NULL"
        " AND EXISTS (SELECT 1 FROM images WHERE images.character_id = characters.id)",
        (guild_id,),
    )


async def remove_images(
    conn: aiosqlite.Connection, removed: Removed, guild_id: int, where: str, params: Any
) -> None:
    """Delete the guild's pictures matching ``where`` (alias ``i``), wherever they are shown.

    ``where`` is one of the callers' fixed fragments; only ids and values are bound.
    """
    await _collect(conn, removed, where, params)
    await conn.execute(
        f"DELETE FROM images WHERE id IN (SELECT i.id FROM images AS i {where})", params
    )
    await repair_main_pictures(conn, guild_id)


async def remove_characters(
    conn: aiosqlite.Connection, removed: Removed, guild_id: int, where: str, params: Any
) -> None:
    """Delete the guild's characters matching ``where`` (alias ``c``) with their pictures.

    Their uploaded reference files go too. Their jobs stay (quotas and usage count them)
    and lose the link to the character and the prompt that described it.
    """
    characters = f"(SELECT c.id FROM characters AS c {where})"
    await remove_images(conn, removed, guild_id, f"WHERE i.character_id IN {characters}", params)
    async with conn.execute(
        "SELECT DISTINCT reference_path FROM jobs"
        f" WHERE character_id IN {characters} AND reference_path IS NOT NULL",
        params,
    ) as cursor:
        removed.files.extend(r[0] for r in await cursor.fetchall())
    # The jobs stay, but not the prompts that spelled the character out: a deleted
    # character (or a fork of someone's, later erased) leaves no description behind.
    await conn.execute(f"UPDATE jobs SET prompt = NULL WHERE character_id IN {characters}", params)
    cursor = await conn.execute(f"DELETE FROM characters WHERE id IN {characters}", params)
    removed.characters += cursor.rowcount
    removed.messages = sorted(set(removed.messages))
