"""Character rows: the objects members name, vary and browse."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.ids import id_in
from bot.records import Character
from bot.storage.database import Connection, Repository, fetch_first

__all__ = ["CharacterRepository", "NewCharacter", "character_insert", "find_or_create_fork"]


@dataclass(frozen=True, slots=True)
class NewCharacter:
    """A character about to be made (by a member's ``/character create``, or a copy)."""

    guild_id: int
    owner_id: int
    name: str
    sheet: dict[str, Any]
    style: str
    forked_from_id: int | None = None
    canonical_image_id: int | None = None


def character_insert(new: NewCharacter) -> tuple[str, tuple[Any, ...]]:
    """The INSERT that makes ``new``, and its parameters (on its own, or in a transaction)."""
    return (
        "INSERT INTO characters (guild_id, owner_id, name, sheet_json, style,"
        " forked_from_id, canonical_image_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new.guild_id,
            new.owner_id,
            new.name,
            json.dumps(new.sheet, ensure_ascii=False),
            new.style,
            new.forked_from_id,
            new.canonical_image_id,
            time.time(),
        ),
    )


class CharacterRepository(Repository):
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
        new = NewCharacter(
            guild_id, owner_id, name, sheet, style, forked_from_id, canonical_image_id
        )
        return await self._db.insert(*character_insert(new))

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

    async def search_visible(
        self,
        guild_id: int,
        user_id: int,
        text: str = "",
        *,
        own_only: bool = False,
        scenes_only: bool = False,
        limit: int = 25,
    ) -> list[Character]:
        """Characters whose name contains ``text`` (or whose id it is), for autocomplete.

        The member's own first, then (unless ``own_only``) others' non-private ones, in this
        guild only; ``scenes_only``: of others', only those their owner lets into scenes.
        Case-insensitive for ASCII; any other script matches as typed.
        """
        needle = text.strip()
        wanted_id = id_in(needle)
        if wanted_id is None:
            wanted_id = -1
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        filters = (guild_id, user_id, int(own_only), int(scenes_only))
        rows = await self._db.fetch_all(
            "SELECT * FROM characters WHERE guild_id = ?"
            " AND (owner_id = ? OR (private = 0 AND ? = 0 AND (scenes_allowed = 1 OR ? = 0)))"
            " AND (name LIKE ? ESCAPE '\\' OR id = ?)"
            " ORDER BY owner_id != ?, id = ? DESC, lower(name), id LIMIT ?",
            (*filters, pattern, wanted_id, user_id, wanted_id, limit),
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
    copy = NewCharacter(
        source.guild_id, owner_id, source.name, source.sheet, source.style, source.id
    )
    cursor = await conn.execute(*character_insert(copy))
    assert cursor.lastrowid is not None
    return cursor.lastrowid, True
