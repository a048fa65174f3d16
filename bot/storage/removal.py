"""The one way pictures and characters leave the database, inside a caller's transaction.

Every delete path (the Delete button, ``/character delete``, ``/mydata delete``, the
retention sweep and the clean-up of a refused request) goes through here, so each repairs
references the same way:

- favorites and gallery re-posts of a picture go with it (``ON DELETE CASCADE``);
- a character's main picture, a picture's parent and a job's parent are foreign keys that
  clear themselves (``ON DELETE SET NULL``, migration 0005); a character that still has
  pictures then gets its oldest one as its main picture (:func:`repair_main_pictures`);
- forks of a deleted character keep their own pictures and lose only the link back.

A member's deletion also queues the messages that showed the pictures, in its transaction, to
be taken down from Discord (``bot/storage/takedowns.py``); the retention sweep leaves them.

Ids are never reused (``AUTOINCREMENT``), so anything that still remembers a deleted id
(a button, a queued job, a gallery option) finds nothing rather than a stranger's row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.storage.database import Connection, Repository, placeholders
from bot.storage.scenes import detach_from_scenes, erase_scene_prompts
from bot.storage.takedowns import queue_takedowns

__all__ = [
    "DeletionRepository",
    "Removed",
    "remove_characters",
    "remove_images",
    "remove_member_data",
    "repair_main_pictures",
]


@dataclass(slots=True)
class Removed:
    """What a deletion left to clean up outside the database."""

    files: list[str] = field(default_factory=list)
    messages: list[tuple[int, int]] = field(default_factory=list)  # (channel_id, message_id)
    characters: int = 0
    images: int = 0


async def _collect(conn: Connection, removed: Removed, where: str, params: Any) -> None:
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


async def repair_main_pictures(conn: Connection, guild_id: int) -> None:
    """Every character of the guild that has pictures has one of its own as main picture."""
    await conn.execute(
        "UPDATE characters SET canonical_image_id = ("
        "  SELECT id FROM images WHERE images.character_id = characters.id"
        "  AND images.scene_id IS NULL ORDER BY id LIMIT 1)"
        " WHERE guild_id = ? AND canonical_image_id IS NULL AND EXISTS (SELECT 1 FROM images"
        "  WHERE images.character_id = characters.id AND images.scene_id IS NULL)",
        (guild_id,),
    )


async def remove_images(
    conn: Connection, removed: Removed, guild_id: int, where: str, params: Any
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
    conn: Connection, removed: Removed, guild_id: int, where: str, params: Any
) -> None:
    """Delete the guild's characters matching ``where`` (alias ``c``) with their pictures.

    Their uploaded reference files go too. Their jobs stay (quotas and usage count them)
    and lose the link to the character and the prompt that described it.
    """
    characters = f"(SELECT c.id FROM characters AS c {where})"
    # Others' scenes keep their pictures, without these characters (bot/storage/scenes.py).
    await detach_from_scenes(conn, f"SELECT c.id FROM characters AS c {where}", params)
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


async def _forget_copied_words(conn: Connection, guild_id: int, user_id: int) -> None:
    """Other members' forks of the member's characters (at any depth) keep their pictures
    and name, but the description they copied is emptied and the prompts that repeated it
    are erased (SECURITY.md says so)."""
    async with conn.execute(
        "WITH RECURSIVE copies(id) AS ("
        "  SELECT id FROM characters WHERE forked_from_id IN"
        "   (SELECT id FROM characters WHERE guild_id = ? AND owner_id = ?)"
        "  UNION SELECT c.id FROM characters AS c"
        "  JOIN copies ON c.forked_from_id = copies.id)"
        " SELECT id, name FROM characters WHERE id IN (SELECT id FROM copies) AND owner_id != ?",
        (guild_id, user_id, user_id),
    ) as cursor:
        named = [(int(row[0]), str(row[1])) for row in await cursor.fetchall()]
    copies = [(character_id,) for character_id, _ in named]
    # The sheet shrinks to the name alone (JSON built here: the dialects' JSON functions differ).
    await conn.executemany(
        "UPDATE characters SET sheet_json = ? WHERE id = ?",
        [(json.dumps({"name": name}, separators=(",", ":")), cid) for cid, name in named],
    )
    await conn.executemany("UPDATE images SET prompt = '' WHERE character_id = ?", copies)
    await conn.executemany("UPDATE jobs SET prompt = NULL WHERE character_id = ?", copies)
    # Others' scenes with a copy in them repeated its words too, whoever they are filed under.
    await erase_scene_prompts(conn, [character_id for character_id, _ in named])


async def remove_member_data(
    conn: Connection, removed: Removed, guild_id: int, user_id: int
) -> None:
    """Erase a member's characters, pictures, favorites and words in this server.

    Finished job rows stay (quotas count them) but lose every word the member typed.
    """
    await _forget_copied_words(conn, guild_id, user_id)
    # The member's favorites on other people's pictures: counts go down with them.
    await conn.execute(
        "UPDATE images SET favorite_count"
        " = CASE WHEN favorite_count > 0 THEN favorite_count - 1 ELSE 0 END"
        " WHERE guild_id = ? AND id IN (SELECT image_id FROM favorites WHERE user_id = ?)",
        (guild_id, user_id),
    )
    await conn.execute(
        "DELETE FROM favorites WHERE user_id = ?"
        " AND image_id IN (SELECT id FROM images WHERE guild_id = ?)",
        (user_id, guild_id),
    )
    await remove_images(
        conn,
        removed,
        guild_id,
        "WHERE i.guild_id = ? AND i.owner_id = ?",
        (guild_id, user_id),
    )
    await remove_characters(
        conn,
        removed,
        guild_id,
        "WHERE c.guild_id = ? AND c.owner_id = ?",
        (guild_id, user_id),
    )
    async with conn.execute(
        "SELECT DISTINCT reference_path FROM jobs"
        " WHERE guild_id = ? AND user_id = ? AND reference_path IS NOT NULL",
        (guild_id, user_id),
    ) as cursor:
        removed.files.extend(r[0] for r in await cursor.fetchall())
    await conn.execute(
        "UPDATE jobs SET request_json = '{}', prompt = NULL, interaction_token = NULL,"
        " reference_path = NULL WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    )


class DeletionRepository(Repository):
    """The deletions, one transaction each; what went (and the files to remove) is returned."""

    async def delete_images(
        self, guild_id: int, image_ids: list[int], *, take_down_messages: bool
    ) -> Removed:
        """Delete pictures of this guild, wherever they are shown.

        A character whose main picture goes falls back to its oldest remaining one. With
        ``take_down_messages`` (a member's deletion, not the retention sweep), the messages
        that showed them are queued for deletion from Discord.
        """
        removed = Removed()
        if not image_ids:
            return removed
        marks = placeholders(len(image_ids))
        async with self._db.transaction() as conn:
            await remove_images(
                conn,
                removed,
                guild_id,
                f"WHERE i.guild_id = ? AND i.id IN ({marks})",
                [guild_id, *image_ids],
            )
            if take_down_messages:
                await queue_takedowns(conn, removed.messages)
        return removed

    async def delete_character(self, guild_id: int, character_id: int) -> Removed:
        """Delete a character with its pictures and favorites; their messages are queued
        for deletion from Discord."""
        removed = Removed()
        async with self._db.transaction() as conn:
            await remove_characters(
                conn,
                removed,
                guild_id,
                "WHERE c.id = ? AND c.guild_id = ?",
                (character_id, guild_id),
            )
            await queue_takedowns(conn, removed.messages)
        return removed

    async def delete_member_data(self, guild_id: int, user_id: int) -> Removed:
        """Erase a member's characters, pictures, favorites and words in this server; the
        messages that showed the pictures are queued for deletion from Discord.

        Finished job rows stay (quotas count them) but lose every word the member typed.
        Other members' forks of the member's characters (at any depth) keep their own
        pictures and name, but the description they copied is emptied and the prompts that
        repeated it are erased (SECURITY.md says so).
        """
        removed = Removed()
        async with self._db.transaction() as conn:
            await remove_member_data(conn, removed, guild_id, user_id)
            await queue_takedowns(conn, removed.messages)
        removed.files = sorted(set(removed.files))
        return removed
