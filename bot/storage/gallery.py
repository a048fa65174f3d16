"""Gallery pages, the characters and posts they show, and a member's data to export.

Every query takes the guild id: a member never reaches another server's rows, whatever
id they type. Pages are read through the indexes of ``images`` (see the migrations);
``tests/unit/test_gallery_storage.py`` checks the query plans against 100,000 rows.

A character's filter lists its own pictures and every scene it is in (unless its owner
hid the scene from it). It pages through ``character_pictures`` (migration 0011): one row
per listed (character, picture), kept by triggers in the same transaction as every write
that changes it, with an index in each page order. Reading "own pictures UNION linked
scenes" instead would sort every matching row before the first page (no keyset seek).
A picture is still shown only if the character it is filed under is visible.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.records import Character, GallerySort, Keyset, StoredImage
from bot.storage.database import Repository, Row
from bot.storage.takedowns import queue_takedowns

__all__ = [
    "ExportData",
    "GalleryEntry",
    "GalleryFilter",
    "GalleryRepository",
]


@dataclass(frozen=True, slots=True)
class GalleryFilter:
    """Which pictures a page shows. ``viewer_id`` decides what is visible.

    Private characters are visible only to their owner, and only when
    ``include_private`` (the bot sets it for answers nobody else can see).
    """

    guild_id: int
    viewer_id: int
    sort: GallerySort = "newest"
    owner_id: int | None = None
    character_id: int | None = None
    include_private: bool = False


@dataclass(frozen=True, slots=True)
class GalleryEntry:
    image: StoredImage
    character_name: str
    character_owner_id: int
    character_private: bool


@dataclass(frozen=True, slots=True)
class ExportData:
    characters: list[Character]
    images: list[StoredImage]
    favorites: list[tuple[int, float]]  # (image_id, created_at)


# Fixed SQL fragments; only these are ever joined into a statement, never member text.
_ENTRY = (
    "SELECT i.*, c.name AS character_name, c.owner_id AS character_owner_id,"
    " c.private AS character_private"
)
_SELECT_PAGE = _ENTRY + " FROM images AS i JOIN characters AS c ON c.id = i.character_id"
# A character's filter starts from its listing; CROSS JOIN keeps SQLite walking that
# listing's index in page order and reading each picture by primary key.
_LISTING = (
    " FROM character_pictures AS cp CROSS JOIN images AS i ON i.id = cp.image_id"
    " JOIN characters AS c ON c.id = i.character_id"
)
_COUNT_SERVER = (
    "SELECT (SELECT COUNT(*) FROM images WHERE guild_id = ?)"
    " - (SELECT COUNT(*) FROM characters AS c CROSS JOIN images AS i ON i.character_id = c.id"
    "    WHERE c.guild_id = ? AND c.private = 1 AND c.owner_id != ? AND +i.guild_id = ?)"
)
_COUNT_MEMBER = (
    "SELECT (SELECT COUNT(*) FROM images WHERE guild_id = ? AND owner_id = ?)"
    " - (SELECT COUNT(*) FROM characters AS c CROSS JOIN images AS i ON i.character_id = c.id"
    "    WHERE c.guild_id = ? AND c.private = 1 AND c.owner_id != ? AND +i.owner_id = ?"
    "    AND +i.guild_id = ?)"
)
_VISIBLE = " AND c.guild_id = ? AND (c.private = 0 OR c.owner_id = ?)"


@dataclass(frozen=True, slots=True)
class _Columns:
    """The columns a page order walks: the images' own, or a character's listing's
    (``character_pictures`` carries the same values, so the keysets are the same)."""

    select: str
    image_id: str
    favorite_count: str

    def order(self, sort: GallerySort, *, backward: bool = False) -> str:
        way = "ASC" if backward else "DESC"
        if sort == "newest":
            return f" ORDER BY {self.image_id} {way}"
        return f" ORDER BY {self.favorite_count} {way}, {self.image_id} {way}"


_IMAGES = _Columns(_SELECT_PAGE, "i.id", "i.favorite_count")
_LISTED = _Columns(_ENTRY + _LISTING, "cp.image_id", "cp.favorite_count")


def _columns(f: GalleryFilter) -> _Columns:
    return _LISTED if f.character_id is not None else _IMAGES


def _where(f: GalleryFilter) -> tuple[str, list[Any]]:
    """The WHERE clause for a filter, shaped so each variant has an index to walk.

    With a character, ``+i.guild_id`` keeps the planner on the character's index (the
    guild index would also match but walks every picture of the server).
    """
    # Without include_private, -1 matches no owner: only public characters are shown.
    viewer = f.viewer_id if f.include_private else -1
    if f.character_id is not None:
        # Its listing: its own pictures and the scenes it is shown in (migration 0011).
        sql = " WHERE cp.character_id = ? AND +i.guild_id = ?"
        params: list[Any] = [f.character_id, f.guild_id]
        if f.owner_id is not None:
            sql += " AND +i.owner_id = ?"
            params.append(f.owner_id)
    elif f.owner_id is not None:
        sql = " WHERE i.guild_id = ? AND i.owner_id = ?"
        params = [f.guild_id, f.owner_id]
    else:
        sql = " WHERE i.guild_id = ?"
        params = [f.guild_id]
    return sql + _VISIBLE, [*params, f.guild_id, viewer]


def _entry(row: Row) -> GalleryEntry:
    return GalleryEntry(
        image=StoredImage.from_row(row),
        character_name=row["character_name"],
        character_owner_id=row["character_owner_id"],
        character_private=bool(row["character_private"]),
    )


class GalleryRepository(Repository):
    # --- pages ---------------------------------------------------------------------------

    @staticmethod
    def page_sql(f: GalleryFilter, limit: int, offset: int) -> tuple[str, list[Any]]:
        where, params = _where(f)
        columns = _columns(f)
        return columns.select + where + columns.order(f.sort) + " LIMIT ? OFFSET ?", [
            *params,
            limit,
            offset,
        ]

    @staticmethod
    def seek_sql(
        f: GalleryFilter, limit: int, after: Keyset | None, *, backward: bool = False
    ) -> list[tuple[str, list[Any]]]:
        """Statements for up to ``limit`` pictures just past ``after`` (None: from an end).

        Forward reads in page order, ``backward`` towards the start (rows come out in
        reverse page order). Run in turn until ``limit`` rows are read.

        "favorites" needs two statements: SQLite does not seek a DESC index by the row
        value ``(favorite_count, id) < (?, ?)`` (it scans every row with that count,
        ~80,000 with no star at 100,000 pictures), but it does seek the two halves: the
        rest of the same count, then the lower counts.
        """
        where, params = _where(f)
        columns = _columns(f)
        order = columns.order(f.sort, backward=backward)
        sign = ">" if backward else "<"
        image_id, stars = columns.image_id, columns.favorite_count
        if after is None:
            steps: list[tuple[str, list[Any]]] = [("", [])]
        elif f.sort == "newest":
            steps = [(f" AND {image_id} {sign} ?", [after.image_id])]
        else:
            steps = [
                (
                    f" AND {stars} = ? AND {image_id} {sign} ?",
                    [after.favorite_count, after.image_id],
                ),
                (f" AND {stars} {sign} ?", [after.favorite_count]),
            ]
        return [
            (columns.select + where + extra + order + " LIMIT ?", [*params, *values, limit])
            for extra, values in steps
        ]

    @staticmethod
    def count_sql(f: GalleryFilter) -> tuple[str, list[Any]]:
        """How many pictures the filter shows.

        Without a character, joining every picture to its character costs ~80 ms at
        100,000 pictures; instead: all of the server's (or member's) pictures, read from
        the index alone, minus those of the few private characters the viewer may not see
        (CROSS JOIN makes SQLite start from those characters, not from every picture).
        """
        if f.character_id is not None:
            where, params = _where(f)
            return "SELECT COUNT(*)" + _LISTING + where, params
        viewer = f.viewer_id if f.include_private else -1
        if f.owner_id is None:
            return _COUNT_SERVER, [f.guild_id, f.guild_id, viewer, f.guild_id]
        return _COUNT_MEMBER, [f.guild_id, f.owner_id, f.guild_id, viewer, f.owner_id, f.guild_id]

    async def page(self, f: GalleryFilter, *, limit: int, offset: int) -> list[GalleryEntry]:
        sql, params = self.page_sql(f, limit, offset)
        return [_entry(row) for row in await self._db.fetch_all(sql, params)]

    async def seek(
        self, f: GalleryFilter, limit: int, after: Keyset | None, *, backward: bool = False
    ) -> list[GalleryEntry]:
        """Up to ``limit`` pictures just past ``after``, always in page order."""
        entries: list[GalleryEntry] = []
        for sql, params in self.seek_sql(f, limit, after, backward=backward):
            params[-1] = limit - len(entries)
            entries += [_entry(row) for row in await self._db.fetch_all(sql, params)]
            if len(entries) >= limit:
                break
        return entries[::-1] if backward else entries

    async def count(self, f: GalleryFilter) -> int:
        sql, params = self.count_sql(f)
        return int(await self._db.fetch_value(sql, params) or 0)

    async def query_plan(self, sql: str, params: list[Any]) -> list[str]:
        """EXPLAIN QUERY PLAN details, for tests that prove the pages use indexes."""
        rows = await self._db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
        return [str(row["detail"]) for row in rows]

    async def entry(self, guild_id: int, image_id: int) -> GalleryEntry | None:
        row = await self._db.fetch_one(
            _SELECT_PAGE + " WHERE i.id = ? AND i.guild_id = ? AND c.guild_id = ?",
            (image_id, guild_id, guild_id),
        )
        return _entry(row) if row else None

    async def has_private(self, guild_id: int, owner_id: int, character_id: int | None) -> bool:
        """Whether the member has a private character (this one, if given) here."""
        if character_id is not None:
            value = await self._db.fetch_value(
                "SELECT 1 FROM characters WHERE id = ? AND guild_id = ? AND owner_id = ?"
                " AND private = 1",
                (character_id, guild_id, owner_id),
            )
        else:
            value = await self._db.fetch_value(
                "SELECT 1 FROM characters WHERE guild_id = ? AND owner_id = ? AND private = 1"
                " LIMIT 1",
                (guild_id, owner_id),
            )
        return value is not None

    # --- characters ----------------------------------------------------------------------

    async def character(self, guild_id: int, character_id: int) -> Character | None:
        row = await self._db.fetch_one(
            "SELECT * FROM characters WHERE id = ? AND guild_id = ?", (character_id, guild_id)
        )
        return Character.from_row(row) if row else None

    async def forks(
        self, guild_id: int, character_id: int, viewer_id: int, limit: int = 10
    ) -> list[Character]:
        """Characters forked from this one that the viewer may see."""
        rows = await self._db.fetch_all(
            "SELECT * FROM characters WHERE forked_from_id = ? AND guild_id = ?"
            " AND (private = 0 OR owner_id = ?) ORDER BY id LIMIT ?",
            (character_id, guild_id, viewer_id, limit),
        )
        return [Character.from_row(r) for r in rows]

    async def character_stats(self, guild_id: int, character_id: int) -> tuple[int, int]:
        """(number of pictures, favorites over all of them)."""
        row = await self._db.fetch_one(
            "SELECT COUNT(*), COALESCE(SUM(favorite_count), 0) FROM images"
            # A scene's pictures are counted as scenes (bot/storage/scenes.py).
            " WHERE character_id = ? AND guild_id = ? AND scene_id IS NULL",
            (character_id, guild_id),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def size_key_of(self, job_id: int | None) -> str | None:
        """The picture shape a job asked for ("portrait", ...), if known."""
        if job_id is None:
            return None
        request = await self._db.fetch_value(
            "SELECT request_json FROM jobs WHERE id = ?", (job_id,)
        )
        value = json.loads(request).get("size_key") if request else None
        return str(value) if value else None

    async def set_private(self, guild_id: int, character_id: int, private: bool) -> bool:
        changed = await self._db.execute(
            "UPDATE characters SET private = ? WHERE id = ? AND guild_id = ?",
            (int(private), character_id, guild_id),
        )
        return changed > 0

    # --- thumbnails and posts --------------------------------------------------------------

    async def set_thumbnail(self, guild_id: int, image_id: int, thumb_path: str) -> bool:
        """Point a picture at its new thumbnail; False when the picture is gone (deleted
        since it was read: the caller removes the file, which no deletion will)."""
        changed = await self._db.execute(
            "UPDATE images SET thumb_path = ? WHERE id = ? AND guild_id = ?",
            (thumb_path, image_id, guild_id),
        )
        return changed > 0

    async def record_post(
        self, *, guild_id: int, channel_id: int, message_id: int, image_id: int
    ) -> bool:
        """Remember a message that shows a picture again (opened from the gallery). If the
        picture was deleted meanwhile, the message is queued to come off Discord (True)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO picture_posts"
                " (message_id, image_id, guild_id, channel_id, created_at)"
                " SELECT ?, id, guild_id, ?, ? FROM images WHERE id = ? AND guild_id = ?"
                " ON CONFLICT (message_id) DO UPDATE SET"
                " (image_id, guild_id, channel_id, created_at) = (excluded.image_id,"
                " excluded.guild_id, excluded.channel_id, excluded.created_at)",
                (message_id, channel_id, time.time(), image_id, guild_id),
            )
            if cursor.rowcount == 0:
                await queue_takedowns(conn, [(channel_id, message_id)])
                return True
        return False

    async def images_on_message(self, guild_id: int, message_id: int) -> list[StoredImage]:
        """The pictures a bot message shows: where they were first posted, or a re-post."""
        rows = await self._db.fetch_all(
            "SELECT * FROM images WHERE message_id = ? AND guild_id = ?"
            " UNION SELECT i.* FROM picture_posts AS p JOIN images AS i ON i.id = p.image_id"
            " WHERE p.message_id = ? AND p.guild_id = ? AND i.guild_id = ?"
            " ORDER BY id",
            (message_id, guild_id, message_id, guild_id, guild_id),
        )
        return [StoredImage.from_row(r) for r in rows]

    # --- export --------------------------------------------------------------------------

    async def export_data(self, guild_id: int, user_id: int) -> ExportData:
        characters = await self._db.fetch_all(
            "SELECT * FROM characters WHERE guild_id = ? AND owner_id = ? ORDER BY id",
            (guild_id, user_id),
        )
        images = await self._db.fetch_all(
            "SELECT * FROM images AS i WHERE i.guild_id = ? AND (i.owner_id = ? OR"
            " i.character_id IN (SELECT id FROM characters WHERE guild_id = ? AND owner_id = ?))"
            " ORDER BY i.id",
            (guild_id, user_id, guild_id, user_id),
        )
        favorites = await self._db.fetch_all(
            "SELECT f.image_id, f.created_at FROM favorites AS f JOIN images AS i"
            " ON i.id = f.image_id WHERE f.user_id = ? AND i.guild_id = ? ORDER BY f.image_id",
            (user_id, guild_id),
        )
        return ExportData(
            characters=[Character.from_row(r) for r in characters],
            images=[StoredImage.from_row(r) for r in images],
            favorites=[(int(r[0]), float(r[1])) for r in favorites],
        )
