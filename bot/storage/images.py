"""Image rows: recording a finished job's pictures, lookups, favorites."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.records import JobState, StoredImage
from bot.storage.database import Connection, Database, Repository, fetch_first, placeholders
from bot.storage.leases import HELD_HERE, WorkerLease
from bot.storage.scenes import scene_filing
from bot.storage.takedowns import queue_takedowns

__all__ = ["ImageRepository", "NewImage"]


@dataclass(frozen=True, slots=True)
class NewImage:
    file_path: str
    thumb_path: str | None
    width: int
    height: int
    mime: str


async def _mark_favorite(conn: Connection, image_id: int, user_id: int, favorite: bool) -> bool:
    """Add or remove one member's favorite, keeping the picture's count; whether it changed."""
    if favorite:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO favorites (image_id, user_id, created_at)"
            " SELECT id, ?, ? FROM images WHERE id = ?",
            (user_id, time.time(), image_id),
        )
    else:
        cursor = await conn.execute(
            "DELETE FROM favorites WHERE image_id = ? AND user_id = ?", (image_id, user_id)
        )
    if not cursor.rowcount:
        return False
    await conn.execute(
        "UPDATE images SET favorite_count = favorite_count + ? WHERE id = ?",
        (1 if favorite else -1, image_id),
    )
    return True


async def _favorite_count(conn: Connection, image_id: int) -> int | None:
    row = await fetch_first(conn, "SELECT favorite_count FROM images WHERE id = ?", (image_id,))
    return None if row is None else int(row[0])


class ImageRepository(Repository):
    def __init__(self, db: Database, worker: WorkerLease) -> None:
        super().__init__(db)
        self.worker = worker.name
        self._lease = worker.until

    async def finish_job(
        self,
        *,
        job_id: int,
        guild_id: int,
        character_id: int,
        owner_id: int,
        parent_image_id: int | None,
        prompt: str,
        model: str,
        images: list[NewImage],
        input_tokens: int,
        output_tokens: int,
        cost_usd: float | None,
        scene_id: int | None = None,
        image_kind: str = "ordinary",
        scene_cast: list[int] | None = None,
    ) -> list[int] | None:
        """Store a job's pictures and charge it, in one transaction.

        ``charged`` flips once: a job that ran twice after a crash is still charged once.
        Only the process that holds the job records it (``HELD_HERE``): one that stalled
        past its lease while another took the job over must not record it too, or the
        member would get both answers. Returns the pictures' ids, also when this process
        recorded them already (a write that reported a failure but committed); None,
        storing nothing, when the job is another's, no longer pending, or its character
        was deleted meanwhile. A scene's pictures go to the first of its characters still
        in it, without their prompt when one it named was deleted (``scene_cast``,
        bot/storage/scenes.py).
        """
        # Long: one transaction whose five steps (file a scene, check, insert, charge, mark
        # the character drawn) must stay together and read best in that order.
        now = time.time()
        async with self._db.transaction() as conn:
            if scene_id is not None:
                filed, erase = await scene_filing(conn, scene_id, character_id, scene_cast)
                character_id, prompt = filed or 0, "" if erase else prompt
            row = await fetch_first(
                conn,
                f"SELECT {HELD_HERE}, characters.id, jobs.state, jobs.worker FROM jobs"
                " LEFT JOIN characters ON characters.id = ? WHERE jobs.id = ?",
                (self.worker, character_id, job_id),
            )
            if row is not None and row[2] == JobState.DONE and row[3] == self.worker:
                return await self._ids_of_job(conn, job_id)  # recorded here already
            if row is None or not row[0] or row[1] is None:
                return None
            ids: list[int] = []
            for image in images:
                cursor = await conn.execute(
                    "INSERT INTO images (guild_id, character_id, owner_id, job_id,"
                    " parent_image_id, file_path, thumb_path, width, height, mime, prompt, model,"
                    # A parent deleted while the job ran is no parent any more.
                    " created_at, scene_id, kind) VALUES (?, ?, ?, ?, (SELECT id FROM images"
                    " WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        guild_id,
                        character_id,
                        owner_id,
                        job_id,
                        parent_image_id,
                        image.file_path,
                        image.thumb_path,
                        image.width,
                        image.height,
                        image.mime,
                        prompt,
                        model,
                        now,
                        scene_id,
                        image_kind,
                    ),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
            await conn.execute(
                # Charged for what was delivered: a stream that ended with fewer pictures than
                # asked for counts (and costs, by its measured tokens) only those.
                # Held by this worker until it is posted (the post is its to make).
                "UPDATE jobs SET state = 'done', charged = 1, finished_at = ?, input_tokens = ?,"
                " output_tokens = ?, cost_usd = ?, prompt = ?, model = ?, error_code = NULL,"
                " worker = ?, lease_until = ?,"
                " image_count = CASE WHEN ? < 1 THEN 1 WHEN ? < image_count THEN ?"
                " ELSE image_count END WHERE id = ?",
                (now, input_tokens, output_tokens, cost_usd, prompt, model)
                + (self.worker, self._lease())
                + (len(images),) * 3
                + (job_id,),
            )
            if ids and scene_id is None:  # a scene is nobody's main picture
                # A character's first picture becomes its main one (a fork's too: it starts
                # with none), and the character counts as drawn from now on.
                await conn.execute(
                    "UPDATE characters SET drawn = 1,"
                    " canonical_image_id = COALESCE(canonical_image_id, ?) WHERE id = ?",
                    (ids[0], character_id),
                )
            return ids

    @staticmethod
    async def _ids_of_job(conn: Connection, job_id: int) -> list[int]:
        rows = await conn.execute_fetchall(
            "SELECT id FROM images WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [int(row[0]) for row in rows]

    async def get(self, image_id: int) -> StoredImage | None:
        row = await self._db.fetch_one("SELECT * FROM images WHERE id = ?", (image_id,))
        return StoredImage.from_row(row) if row else None

    async def for_job(self, job_id: int) -> list[StoredImage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM images WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [StoredImage.from_row(r) for r in rows]

    async def set_message(self, image_ids: list[int], channel_id: int, message_id: int) -> bool:
        """Note the message that shows these pictures. If a member deleted them all while it
        was being posted, the message is queued to come off Discord instead (True)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE images SET channel_id = ?, message_id = ?"
                f" WHERE id IN ({placeholders(len(image_ids))})",
                (channel_id, message_id, *image_ids),
            )
            if cursor.rowcount == 0:  # none of them is left
                await queue_takedowns(conn, [(channel_id, message_id)])
                return True
        return False

    async def set_favorite(self, image_id: int, user_id: int, favorite: bool) -> int | None:
        """Add or remove a favorite idempotently; return the new count (None: no image)."""
        async with self._db.transaction() as conn:
            await _mark_favorite(conn, image_id, user_id, favorite)
            return await _favorite_count(conn, image_id)

    async def toggle_favorite(self, image_id: int, user_id: int) -> tuple[bool, int] | None:
        """Favorite the picture for the member, or un-favorite it if it was one; return
        (a favorite now, the new count), or None if there is no such picture. One write
        transaction, and those run one at a time: presses in flight together each toggle
        once, and each is told what it did."""
        async with self._db.transaction() as conn:
            favorite = not await _mark_favorite(conn, image_id, user_id, False)
            if favorite:
                await _mark_favorite(conn, image_id, user_id, True)
            count = await _favorite_count(conn, image_id)
            return None if count is None else (favorite, count)

    async def top_favorites(self, character_id: int, limit: int = 3) -> list[StoredImage]:
        """The character's most-favorited pictures (at least one favorite), best first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM images WHERE character_id = ? AND favorite_count > 0"
            " AND scene_id IS NULL"
            " ORDER BY favorite_count DESC, id DESC LIMIT ?",
            (character_id, limit),
        )
        return [StoredImage.from_row(r) for r in rows]

    async def for_character(
        self, character_id: int, id_text: str = "", limit: int = 25
    ) -> list[StoredImage]:
        """The character's pictures, newest first; ``id_text`` keeps ids containing it."""
        # ASCII digits only: str.isdigit() lets "²" through, which no id contains.
        digits = "".join(ch for ch in id_text if "0" <= ch <= "9")
        rows = await self._db.fetch_all(
            "SELECT * FROM images WHERE character_id = ? AND CAST(id AS TEXT) LIKE ?"
            " AND scene_id IS NULL"
            " ORDER BY id DESC LIMIT ?",
            (character_id, f"%{digits}%", limit),
        )
        return [StoredImage.from_row(r) for r in rows]

    async def newest_of_kind(self, character_ids: list[int], kind: str) -> StoredImage | None:
        """The newest picture of ``kind`` (e.g. a reference sheet) of the first character in
        ``character_ids`` that has one: a character's own sheet wins over its original's."""
        for character_id in character_ids:
            row = await self._db.fetch_one(
                "SELECT * FROM images WHERE character_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
                (character_id, kind),
            )
            if row is not None:
                return StoredImage.from_row(row)
        return None
