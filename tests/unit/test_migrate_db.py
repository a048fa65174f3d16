"""``python -m bot migrate-db``: a SQLite database with every kind of row, copied into an
empty PostgreSQL database, reads the same through the storage API, and ids stay unique."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

import pytest

from bot.images.store import ImageStore
from bot.storage import Storage
from bot.storage.gallery import GalleryFilter
from bot.storage.transfer import TargetNotEmpty, copy_sqlite_to_postgres
from tests.botproc import ROOT
from tests.postgres_server import PostgresServer
from tests.storage_helpers import Seeder, open_storage

GUILD, OWNER, OTHER = 1, 100, 200
TABLES = (
    "meta", "guild_config", "quota_limits", "alerts_sent", "characters", "jobs", "scenes",
    "images", "scene_characters", "favorites", "picture_posts", "character_pictures",
    "image_spends", "message_takedowns",
)  # fmt: skip


async def _every_kind_of_row(storage: Storage, data_dir: Path) -> dict[str, int]:
    seeder = Seeder(storage, ImageStore(data_dir / "images"))
    aiko = await seeder.character(GUILD, OWNER, "Aiko")
    ren = await seeder.character(GUILD, OTHER, "蓮", private=True)
    fork = await seeder.character(GUILD, OTHER, "Aiko (copy)", forked_from=aiko)
    pictures = [await seeder.picture(GUILD, aiko, OWNER, message=(20, 900 + i)) for i in range(3)]
    pictures.append(await seeder.picture(GUILD, ren, OTHER))
    pictures.append(await seeder.picture(GUILD, fork, OTHER))
    db = storage.db
    await db.execute(
        "UPDATE images SET parent_image_id = ? WHERE id = ?", (pictures[0], pictures[1])
    )
    await db.execute("UPDATE images SET kind = 'sheet' WHERE id = ?", (pictures[2],))
    await db.execute("UPDATE images SET kind = 'avatar' WHERE id = ?", (pictures[4],))
    for state, charged, reserved in [
        ("queued", 0, 0.04), ("running", 0, 0.04), ("done", 1, None),
        ("failed", 0, None), ("cancelled", 0, None),
    ]:  # fmt: skip
        await db.insert(
            "INSERT INTO jobs (guild_id, channel_id, user_id, kind, state, character_id,"
            " parent_image_id, request_json, image_count, interaction_token, cost_usd, charged,"
            " reserved_usd, created_at) VALUES (?, 20, ?, 'vary', ?, ?, ?, '{\"size_key\":"
            " \"portrait\"}', 1, 'token', ?, ?, ?, 1700000000.5)",
            (GUILD, OWNER, state, aiko, pictures[0], 0.04 if charged else None, charged, reserved),
        )
    # A running job held by one of several processes, and a picture it sent (issue 25).
    await db.execute(
        "UPDATE jobs SET worker = 'shards-0', lease_until = 1700000060.5 WHERE state = 'running'"
    )
    await db.insert("INSERT INTO image_spends (at, images) VALUES (1700000000.5, 1)")
    scene_job = await db.insert(
        "INSERT INTO jobs (guild_id, channel_id, user_id, kind, state, request_json,"
        " image_count, charged, created_at) VALUES (?, 20, ?, 'scene', 'done', '{}', 1, 1, 5.0)",
        (GUILD, OWNER),
    )
    scene = await storage.scenes.record_cast(
        job_id=scene_job, guild_id=GUILD, maker_id=OWNER, character_ids=[aiko, ren, fork]
    )
    scene_picture = await seeder.picture(GUILD, aiko, OWNER)
    await db.execute("UPDATE images SET scene_id = ? WHERE id = ?", (scene, scene_picture))
    await storage.scenes.hide_for_owner(scene, OTHER)
    for user in (OWNER, OTHER):
        await db.execute(
            "INSERT INTO favorites (image_id, user_id, created_at) VALUES (?, ?, 3.0)",
            (pictures[0], user),
        )
    await db.execute("UPDATE images SET favorite_count = 2 WHERE id = ?", (pictures[0],))
    await storage.gallery.record_post(
        guild_id=GUILD, channel_id=30, message_id=5000, image_id=pictures[1]
    )
    await storage.guilds.update(GUILD, max_count=2, favorite_emoji="🌸")
    await db.execute(
        "INSERT INTO quota_limits (guild_id, scope, target_id, daily_limit, daily_usd,"
        " monthly_usd, updated_by, updated_at) VALUES (?, 'member', ?, 3, 1.5, 20.0, ?, 9.0)",
        (GUILD, OWNER, OTHER),
    )
    await db.execute(
        "INSERT INTO alerts_sent (guild_id, kind, sent_at) VALUES (?, 'budget', 7.0)", (GUILD,)
    )
    await storage.meta.set("command_hash", "abc")
    # The newest character is deleted: its id must never come back after the move either.
    gone = await seeder.character(GUILD, OWNER, "Gone")
    await seeder.picture(GUILD, gone, OWNER, message=(30, 6000))  # its message: to take down
    await storage.deletions.delete_character(GUILD, gone)
    return {"gone_character": gone}


async def _table(storage: Storage, table: str) -> list[tuple[object, ...]]:
    rows = await storage.db.fetch_all(f"SELECT * FROM {table}")
    return sorted((tuple(row) for row in rows), key=repr)


async def test_every_row_moves_and_reads_the_same(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    data_dir = tmp_path / "data"
    sqlite_path = data_dir / "bot.sqlite3"
    data_dir.mkdir()
    async with open_storage(sqlite_path) as source:
        facts = await _every_kind_of_row(source, data_dir)
        for table in TABLES:
            assert await source.db.fetch_value(f"SELECT COUNT(*) FROM {table}"), table

    url = await postgres_server.fresh_database(migrated=False)
    url_with_password = url.replace("postgres@", "postgres:s3cret-pw@")  # trust ignores it
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate-db", "--to", url_with_password,
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(data_dir),
             "DISCORD_TOKEN": "x", "OPENAI_API_KEY": "y"},
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    assert "Row counts match" in output and "s3cret-pw" not in output
    assert "  images " in output and "  character_pictures " in output

    async with open_storage(sqlite_path) as source, open_storage(tmp_path, url) as copy:
        for table in TABLES:
            assert await _table(copy, table) == await _table(source, table), table
        # What members see: every gallery page and character filter reads the same.
        characters = [row[0] for row in await source.db.fetch_all("SELECT id FROM characters")]
        for viewer, sort, character, private in itertools.product(
            (OWNER, OTHER), ("newest", "favorites"), (None, *characters), (False, True)
        ):
            f = GalleryFilter(GUILD, viewer, sort, None, character, private)
            assert await copy.gallery.count(f) == await source.gallery.count(f)
            expected = await source.gallery.page(f, limit=10, offset=0)
            got = await copy.gallery.page(f, limit=10, offset=0)
            assert [e.image.id for e in got] == [e.image.id for e in expected], f
        # New rows get fresh ids, above even the deleted character's.
        new_character = await copy.characters.create(
            guild_id=GUILD, owner_id=OWNER, name="New", sheet={"name": "New"}, style="cel"
        )
        assert new_character > facts["gone_character"]
        biggest_image = await source.db.fetch_value("SELECT MAX(id) FROM images")
        new_picture = await Seeder(copy, ImageStore(data_dir / "images")).picture(
            GUILD, new_character, OWNER
        )
        assert new_picture > biggest_image

    # A second run finds rows there and refuses, changing nothing.
    with pytest.raises(TargetNotEmpty, match="not empty"):
        await copy_sqlite_to_postgres(sqlite_path, url)
    await postgres_server.drop(url)
