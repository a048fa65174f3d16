"""Scene rows: one picture (or a few) of several characters, linked to each of them.

A scene's pictures are ordinary ``images`` rows with ``scene_id`` set; their
``character_id`` is the first character still in the scene, so visibility, favorites and
the Delete button work as for any picture. ``scene_characters`` links every character, in
the order the prompt named them, with a per-link ``hidden`` flag its owner sets to take
the scene out of that character's listings (migration 0009).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.records import Character
from bot.storage.database import Connection, Repository, fetch_first, placeholders

__all__ = [
    "SceneMember",
    "SceneRepository",
    "detach_from_scenes",
    "erase_scene_prompts",
    "scene_filing",
]


@dataclass(frozen=True, slots=True)
class SceneMember:
    """One character of a scene, in prompt order."""

    character: Character
    position: int
    hidden: bool


class SceneRepository(Repository):
    async def record_cast(
        self, *, job_id: int, guild_id: int, maker_id: int, character_ids: list[int]
    ) -> int:
        """The scene of ``job_id`` with exactly these characters linked; its id.

        Called when the job runs (and again if it is retried): the cast is the one the
        run-time consent check let through, so a character dropped meanwhile is not linked.
        """
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO scenes (guild_id, maker_id, job_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                (guild_id, maker_id, job_id, time.time()),
            )
            row = await fetch_first(conn, "SELECT id FROM scenes WHERE job_id = ?", (job_id,))
            assert row is not None
            scene_id = int(row[0])
            await conn.execute("DELETE FROM scene_characters WHERE scene_id = ?", (scene_id,))
            await conn.executemany(
                "INSERT INTO scene_characters (scene_id, character_id, position)"
                " SELECT ?, id, ? FROM characters WHERE id = ?",
                [(scene_id, position, cid) for position, cid in enumerate(character_ids)],
            )
        return scene_id

    async def members(self, scene_id: int) -> list[SceneMember]:
        """The scene's characters still linked to it, in prompt order."""
        return (await self.members_of([scene_id])).get(scene_id, [])

    async def members_of(self, scene_ids: Collection[int]) -> dict[int, list[SceneMember]]:
        """:meth:`members` of several scenes in one query (a gallery page of scenes)."""
        if not scene_ids:
            return {}
        ids = sorted(set(scene_ids))
        rows = await self._db.fetch_all(
            "SELECT c.*, sc.scene_id AS scene_id, sc.position AS scene_position,"
            " sc.hidden AS scene_hidden"
            " FROM scene_characters AS sc JOIN characters AS c ON c.id = sc.character_id"
            f" WHERE sc.scene_id IN ({', '.join('?' * len(ids))})"
            " ORDER BY sc.scene_id, sc.position",
            ids,
        )
        members: dict[int, list[SceneMember]] = {}
        for r in rows:
            member = SceneMember(
                Character.from_row(r), int(r["scene_position"]), bool(r["scene_hidden"])
            )
            members.setdefault(int(r["scene_id"]), []).append(member)
        return members

    async def maker(self, scene_id: int) -> tuple[int, int] | None:
        """(guild id, maker id) of a scene, or None when there is no such scene."""
        row = await self._db.fetch_one(
            "SELECT guild_id, maker_id FROM scenes WHERE id = ?", (scene_id,)
        )
        return (int(row[0]), int(row[1])) if row else None

    async def hide_for_owner(self, scene_id: int, owner_id: int) -> list[int]:
        """Take the scene out of the listings of every character ``owner_id`` has in it;
        the ids of those characters (empty: the member has none in it)."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT sc.character_id FROM scene_characters AS sc"
                " JOIN characters AS c ON c.id = sc.character_id"
                " WHERE sc.scene_id = ? AND c.owner_id = ? ORDER BY sc.position",
                (scene_id, owner_id),
            ) as cursor:
                ids = [int(r[0]) for r in await cursor.fetchall()]
            await conn.executemany(
                "UPDATE scene_characters SET hidden = 1 WHERE scene_id = ? AND character_id = ?",
                [(scene_id, cid) for cid in ids],
            )
        return ids

    async def count_for_character(self, character_id: int) -> int:
        """The scenes a character is shown in: linked, not hidden, with a picture left."""
        value = await self._db.fetch_value(
            "SELECT COUNT(*) FROM scene_characters AS sc WHERE sc.character_id = ?"
            " AND sc.hidden = 0 AND EXISTS (SELECT 1 FROM images WHERE scene_id = sc.scene_id)",
            (character_id,),
        )
        return int(value or 0)

    async def set_allowed(self, guild_id: int, character_id: int, allowed: bool) -> bool:
        changed = await self._db.execute(
            "UPDATE characters SET scenes_allowed = ? WHERE id = ? AND guild_id = ?",
            (int(allowed), character_id, guild_id),
        )
        return changed > 0


async def detach_from_scenes(conn: Connection, characters_sql: str, params: Any) -> None:
    """Before characters are deleted: take them out of every scene, inside the caller's
    transaction (bot/storage/removal.py).

    Scenes made by others stay, without the deleted characters: their pictures move to the
    first character still in the scene (so they are not deleted with the character they
    were filed under), and the prompt that spelled the deleted character out is erased. A
    scene with no character left goes with its last one. ``characters_sql`` is a caller's
    fixed ``SELECT c.id …`` fragment; only values are bound.
    """
    async with conn.execute(characters_sql, params) as cursor:
        going = [int(r[0]) for r in await cursor.fetchall()]
    if not going:
        return
    marks = placeholders(len(going))
    async with conn.execute(
        f"SELECT DISTINCT scene_id FROM scene_characters WHERE character_id IN ({marks})", going
    ) as cursor:
        scenes = [int(r[0]) for r in await cursor.fetchall()]
    await erase_scene_prompts(conn, going)  # while they are still linked to their scenes
    await conn.execute(f"DELETE FROM scene_characters WHERE character_id IN ({marks})", going)
    for scene_id in scenes:
        await conn.execute(
            "UPDATE images SET character_id = COALESCE((SELECT character_id"
            "  FROM scene_characters WHERE scene_id = ? ORDER BY position LIMIT 1), character_id)"
            " WHERE scene_id = ?",
            (scene_id, scene_id),
        )


async def erase_scene_prompts(conn: Connection, character_ids: list[int]) -> None:
    """Erase the prompts of every scene these characters are in (their pictures' and their
    job's), inside the caller's transaction: a scene's prompt spells out each character's
    sheet, so a fork's copied words (bot/storage/removal.py) are in it too."""
    if not character_ids:
        return
    marks = placeholders(len(character_ids))
    scenes = f"SELECT scene_id FROM scene_characters WHERE character_id IN ({marks})"
    await conn.execute(f"UPDATE images SET prompt = '' WHERE scene_id IN ({scenes})", character_ids)
    await conn.execute(
        "UPDATE jobs SET prompt = NULL"
        f" WHERE id IN (SELECT job_id FROM scenes WHERE id IN ({scenes}))",
        character_ids,
    )


async def scene_filing(
    conn: Connection, scene_id: int, character_id: int, cast: Collection[int] | None
) -> tuple[int | None, bool]:
    """Where a scene's new pictures are filed, inside the caller's recording transaction:
    the character they were drawn for if it is still in the scene, else the first one
    still in it (None: none is left), and whether the prompt must be erased.

    A character deleted while the scene was at OpenAI left the scene then
    (:func:`detach_from_scenes`), before these pictures existed: they get what the scene's
    earlier pictures got, the first character left and no prompt spelling it out.
    ``cast``: the characters the prompt named (None: not known, nothing erased).
    """
    async with conn.execute(
        "SELECT character_id FROM scene_characters WHERE scene_id = ? ORDER BY position",
        (scene_id,),
    ) as cursor:
        linked = [int(r[0]) for r in await cursor.fetchall()]
    gone = cast is not None and not set(cast) <= set(linked)
    if character_id in linked:
        return character_id, gone
    return (linked[0] if linked else None), True
