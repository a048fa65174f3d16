"""Character rows: the objects members name, vary and browse."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.ids import id_in
from bot.records import Character
from bot.storage.database import Connection, Database, fetch_first
from bot.storage.removal import Removed, remove_characters

__all__ = ["CharacterRepository", "find_or_create_fork"]


class CharacterRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        guild_id: int,
        owner_id: int,
        name: str,
        sheet: dict[str, Any],
        style: str,
        forked_from_id: int | None = None,
        canonical_image_id: int | None = None,
    ) -> int:
        return await self._db.insert(
            "INSERT INTO characters (guild_id, owner_id, name, sheet_json, style,"
            " forked_from_id, canonical_image_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                owner_id,
                name,
                json.dumps(sheet, ensure_ascii=False),
                style,
                forked_from_id,
                canonical_image_id,
                time.time(),
            ),
        )

    async def get(self, character_id: int) -> Character | None:
        row = await self._db.fetch_one("SELECT * FROM characters WHERE id = ?", (character_id,))
        return Character.from_row(row) if row else None

    async def set_canonical(self, character_id: int, image_id: int) -> bool:
        """Make one of the character's own pictures its main one; False if it is not (any more)."""
        changed = await self._db.execute(
            "UPDATE characters SET canonical_image_id = ? WHERE id = ? AND EXISTS"
            " (SELECT 1 FROM images WHERE id = ? AND character_id = ? AND scene_id IS NULL)",
            (image_id, character_id, image_id, character_id),
        )
        return changed > 0

    async def delete(self, guild_id: int, character_id: int) -> Removed:
        """Delete a character with its pictures and favorites, in one transaction; what went
        (and the stored files to remove) is returned."""
        removed = Removed()
        async with self._db.transaction() as conn:
            await remove_characters(
                conn,
                removed,
                guild_id,
                "WHERE c.id = ? AND c.guild_id = ?",
                (character_id, guild_id),
            )
        return removed

    async def search_visible(
        self,
        guild_id: int,
        user_id: int,
        text: str = "",
        *,
        own_only: bool = False,
        limit: int = 25,
    ) -> list[Character]:
        """Characters whose name contains ``text`` (or whose id it is), for autocomplete.

        The member's own first, then (unless ``own_only``) others' non-private ones, in this
        guild only. Case-insensitive for ASCII; any other script matches as typed.
        """
        needle = text.strip()
        wanted_id = id_in(needle)
        if wanted_id is None:
            wanted_id = -1
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            "SELECT * FROM characters WHERE guild_id = ?"
            " AND (owner_id = ? OR (private = 0 AND ? = 0))"
            " AND (name LIKE ? ESCAPE '\\' OR id = ?)"
            " ORDER BY owner_id != ?, id = ? DESC, lower(name), id LIMIT ?",
            (guild_id, user_id, int(own_only), pattern, wanted_id, user_id, wanted_id, limit),
        )
        return [Character.from_row(r) for r in rows]


async def find_or_create_fork(
    conn: Connection, source: Character, owner_id: int
) -> tuple[int, bool]:
    """The member's own copy of ``source`` inside the caller's transaction: (id, created).

    A member keeps one fork per original: varying the same character again reuses it. The
    copy starts with the original's name, sheet and style but no main picture: its first
    own picture becomes that, so a fork never shows (or sends) another member's picture as
    its own. The original row is never written. The caller's transaction also reserves
    the job that needs the fork, so a refused request can never take away a fork that an
    accepted one uses.
    """
    row = await fetch_first(
        conn,
        "SELECT id FROM characters WHERE guild_id = ? AND owner_id = ?"
        " AND forked_from_id = ? ORDER BY id LIMIT 1",
        (source.guild_id, owner_id, source.id),
    )
    if row is not None:
        return int(row[0]), False
    cursor = await conn.execute(
        "INSERT INTO characters (guild_id, owner_id, name, sheet_json, style,"
        " forked_from_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            source.guild_id,
            owner_id,
            source.name,
            json.dumps(source.sheet, ensure_ascii=False),
            source.style,
            source.id,
            time.time(),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, True
