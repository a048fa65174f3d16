"""Gallery queries at 100,000 pictures: every page and count walks an index, none sorts.

EXPLAIN QUERY PLAN is checked for each combination of filters a member can ask for, and
the fast count is checked against the obvious (slow) one on the same data.
"""

from __future__ import annotations

import itertools
import random
import re
import sqlite3
from pathlib import Path

import pytest

from bot.records import GallerySort, Keyset
from bot.storage import Storage
from bot.storage.gallery import GalleryFilter

GUILD, OTHER_GUILD = 1, 2
VIEWER, OWNER = 105, 120
PRIVATE_CHARACTER = 17 * 3  # every 17th character is private
CHARACTERS = 2000
IMAGES = 100_000
SCENES = 600


def _guild_of(character_id: int) -> int:
    return OTHER_GUILD if character_id % 10 == 0 else GUILD


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with 100,000 pictures in two servers, built once for this module."""
    from bot.storage.database import migration_scripts

    path = tmp_path_factory.mktemp("big") / "bot.sqlite3"
    rnd = random.Random(9)
    with sqlite3.connect(path) as db:
        for version, _, sql in migration_scripts():
            db.executescript(sql)
            db.execute(f"PRAGMA user_version = {version}")
        db.executemany(
            "INSERT INTO characters (id, guild_id, owner_id, name, sheet_json, style, private,"
            " created_at) VALUES (?, ?, ?, ?, '{}', 'cel', ?, 0)",
            [
                (i, _guild_of(i), 100 + i % 50, f"c{i}", int(i % 17 == 0))
                for i in range(1, CHARACTERS + 1)
            ],
        )
        rows = []
        for _ in range(IMAGES):
            character = rnd.randint(1, CHARACTERS)
            favorites = rnd.randint(1, 30) if rnd.random() < 0.2 else 0
            rows.append((_guild_of(character), character, 100 + character % 50, favorites))
        db.executemany(
            "INSERT INTO images (guild_id, character_id, owner_id, file_path, width, height,"
            " mime, prompt, model, favorite_count, created_at)"
            " VALUES (?, ?, ?, 'x.png', 1, 1, 'image/png', 'p', 'm', ?, 0)",
            rows,
        )
        _add_scenes(db, rnd)
    return path


def _add_scenes(db: sqlite3.Connection, rnd: random.Random) -> None:
    """Scenes of two or three characters of the first server (character 15 in many),
    one picture each, some hidden from one of their characters."""
    cast_from = [i for i in range(1, CHARACTERS + 1) if _guild_of(i) == GUILD]
    for scene_id in range(1, SCENES + 1):
        cast = rnd.sample(cast_from, rnd.randint(2, 3))
        if scene_id % 2:
            cast[rnd.randrange(len(cast))] = 15
            cast = list(dict.fromkeys(cast))
        db.execute(
            "INSERT INTO scenes (id, guild_id, maker_id, created_at) VALUES (?, ?, ?, 0)",
            (scene_id, GUILD, 100 + cast[0] % 50),
        )
        db.executemany(
            "INSERT INTO scene_characters (scene_id, character_id, position) VALUES (?, ?, ?)",
            [(scene_id, character, position) for position, character in enumerate(cast)],
        )
        db.execute(
            "INSERT INTO images (guild_id, character_id, owner_id, file_path, width, height,"
            " mime, prompt, model, favorite_count, created_at, scene_id)"
            " VALUES (?, ?, ?, 'x.png', 1, 1, 'image/png', 'p', 'm', ?, 0, ?)",
            (GUILD, cast[0], 100 + cast[0] % 50, rnd.randint(0, 3), scene_id),
        )
        if scene_id % 5 == 0:
            db.execute(
                "UPDATE scene_characters SET hidden = 1 WHERE scene_id = ? AND character_id = ?",
                (scene_id, cast[-1]),
            )


@pytest.fixture
def storage_dialect() -> str:
    """SQLite only: the big database is built as a SQLite file, and the plans read are
    SQLite's (the gallery's results on PostgreSQL are checked by test_gallery_keyset)."""
    return "sqlite"


@pytest.fixture
def storage_path(big_db: Path) -> Path:
    """The shared ``storage`` fixture (tests/conftest.py) opens the big database."""
    return big_db


FILTERS = [
    GalleryFilter(GUILD, VIEWER, sort, owner, character, private)
    for sort, owner, character, private in itertools.product(
        ("newest", "favorites"), (None, OWNER, VIEWER), (None, 15, PRIVATE_CHARACTER), (False, True)
    )
]


def assert_indexed(plan: list[str]) -> None:
    assert plan, "no plan"
    for step in plan:
        assert "TEMP B-TREE" not in step, plan  # a sort of all matching rows
        if step.startswith("SCAN"):
            assert step == "SCAN CONSTANT ROW", plan  # a full table scan
        if step.startswith("SEARCH"):
            assert "INDEX" in step or "PRIMARY KEY" in step, plan


@pytest.mark.parametrize("f", FILTERS, ids=repr)
async def test_every_gallery_page_and_count_uses_an_index(
    storage: Storage, f: GalleryFilter
) -> None:
    gallery = storage.gallery
    deep_page = await gallery.query_plan(*gallery.page_sql(f, 9, 9_000))
    assert_indexed(deep_page)
    assert_indexed(await gallery.query_plan(*gallery.count_sql(f)))


@pytest.mark.parametrize("f", FILTERS, ids=repr)
async def test_deep_pages_seek_the_index_from_a_keyset_with_no_offset(
    storage: Storage, f: GalleryFilter
) -> None:
    """◀/▶ near the end (and the last page) start at the cursor's place in the index.

    Each statement must search an index *by the cursor* (``id<?``, ``favorite_count=? AND
    id<?``...), not walk the order from the start and skip rows as OFFSET does.
    """
    gallery = storage.gallery
    total = await gallery.count(f)
    deep = await gallery.page(f, limit=1, offset=max(0, total - 20))
    # A filter that shows nothing still gets a cursor to plan from: near the end of both orders.
    cursor = Keyset.of(deep[0].image) if deep else Keyset(IMAGES // 50, 0)
    for backward in (False, True):
        statements = gallery.seek_sql(f, 10, cursor, backward=backward)
        assert len(statements) == (1 if f.sort == "newest" else 2)
        for sql, params in statements:
            assert "OFFSET" not in sql
            plan = await gallery.query_plan(sql, params)
            assert_indexed(plan)
            # The outer loop: the pictures' index, or a character's listing (migration 0011).
            walk = next(step for step in plan if step.startswith("SEARCH"))
            assert walk.startswith(("SEARCH i ", "SEARCH cp ")), plan
            assert re.search(r"\b(id|image_id|favorite_count)[<>]\?", walk), plan
        if not deep:
            continue
        # And the rows are the ones OFFSET would have given.
        rows = await gallery.seek(f, 10, cursor, backward=backward)
        # (A short listing has fewer than ten before the cursor: just those.)
        at = max(0, total - 20)
        start = max(0, at - 10) if backward else at + 1
        expected = await gallery.page(f, limit=at - start if backward else 10, offset=start)
        assert [e.image.id for e in rows] == [e.image.id for e in expected]
    # The last page is read from the other end of the same index.
    for sql, params in gallery.seek_sql(f, 9, None, backward=True):
        assert "OFFSET" not in sql
        assert_indexed(await gallery.query_plan(sql, params))


@pytest.mark.parametrize("sort", ["newest", "favorites"])
async def test_fast_count_agrees_with_the_visible_rows(storage: Storage, sort: GallerySort) -> None:
    for owner, private in itertools.product((None, OWNER, VIEWER, 999), (False, True)):
        f = GalleryFilter(GUILD, OWNER, sort, owner, None, private)
        fast = await storage.gallery.count(f)
        slow = await storage.db.fetch_value(
            "SELECT COUNT(*) FROM images AS i JOIN characters AS c ON c.id = i.character_id"
            " WHERE i.guild_id = ? AND c.guild_id = ? AND (c.private = 0 OR c.owner_id = ?)"
            " AND (? IS NULL OR i.owner_id = ?)",
            (GUILD, GUILD, OWNER if private else -1, owner, owner),
        )
        assert fast == slow, (owner, private)
    assert await storage.gallery.count(GalleryFilter(OTHER_GUILD, VIEWER)) < IMAGES // 5


@pytest.mark.parametrize("sort", ["newest", "favorites"])
async def test_a_characters_listing_is_its_pictures_and_its_scenes(
    storage: Storage, sort: GallerySort
) -> None:
    """Own pictures, plus the scenes it is linked to and not hidden from, as the obvious
    (sorting) query finds them; the count agrees with the rows."""
    order = "i.id DESC" if sort == "newest" else "i.favorite_count DESC, i.id DESC"
    characters = [15, PRIVATE_CHARACTER, 16, 23]
    for character, private in itertools.product(characters, (False, True)):
        f = GalleryFilter(GUILD, OWNER, sort, None, character, private)
        rows = await storage.db.fetch_all(
            "SELECT i.id FROM images AS i JOIN characters AS c ON c.id = i.character_id"
            " WHERE i.guild_id = ? AND c.guild_id = ? AND (c.private = 0 OR c.owner_id = ?)"
            " AND ((i.character_id = ? AND i.scene_id IS NULL) OR i.scene_id IN"
            "  (SELECT scene_id FROM scene_characters WHERE character_id = ? AND hidden = 0))"
            f" ORDER BY {order}",
            (GUILD, GUILD, OWNER if private else -1, character, character),
        )
        expected = [int(r[0]) for r in rows]
        shown = await storage.gallery.page(f, limit=10_000, offset=0)
        assert [e.image.id for e in shown] == expected, character
        assert await storage.gallery.count(f) == len(expected)
    scenes_of_15 = await storage.db.fetch_value(
        "SELECT COUNT(*) FROM character_pictures AS cp JOIN images AS i ON i.id = cp.image_id"
        " WHERE cp.character_id = 15 AND i.scene_id IS NOT NULL"
    )
    assert scenes_of_15 > 100  # the listing really holds scenes


async def test_pages_are_ordered_and_hide_other_servers_and_private_characters(
    storage: Storage,
) -> None:
    fame = await storage.gallery.page(GalleryFilter(GUILD, VIEWER, "favorites"), limit=50, offset=0)
    keys = [(e.image.favorite_count, e.image.id) for e in fame]
    assert keys == sorted(keys, reverse=True)
    newest = await storage.gallery.page(GalleryFilter(GUILD, VIEWER), limit=500, offset=40_000)
    assert all(e.image.guild_id == GUILD for e in newest)
    assert all(not e.character_private for e in newest)
    ids = [e.image.id for e in newest]
    assert ids == sorted(ids, reverse=True)


async def test_other_lookups_use_indexes(storage: Storage) -> None:
    db = storage.db
    for sql, params in (
        (
            "SELECT * FROM images WHERE message_id = ? AND guild_id = ?"
            " UNION SELECT i.* FROM picture_posts AS p JOIN images AS i ON i.id = p.image_id"
            " WHERE p.message_id = ? AND p.guild_id = ? AND i.guild_id = ? ORDER BY id",
            (5, GUILD, 5, GUILD, GUILD),
        ),
        (
            "SELECT f.image_id, f.created_at FROM favorites AS f JOIN images AS i"
            " ON i.id = f.image_id WHERE f.user_id = ? AND i.guild_id = ? ORDER BY f.image_id",
            (VIEWER, GUILD),
        ),
    ):
        rows = await db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
        plan = [str(r["detail"]) for r in rows]
        for step in plan:
            assert not step.startswith("SCAN i") and not step.startswith("SCAN images"), plan
            assert not step.startswith("SCAN f"), plan
