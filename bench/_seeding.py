"""Seeding the bot's database for the benchmarks, while the bot is down.

Plain sqlite3 against the schema the bot's own migrations created (run the bot once
first: BenchEnv.prepare_database). Bulk inserts in one transaction keep 100,000 rows
to a few seconds; the bot sees exactly what it would have written itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the bot's own thumbnail maker and sizes are used below
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from bot.images.convert import make_thumbnail  # noqa: E402
from bot.images.styles import SIZES  # noqa: E402
from bot.storage.database import placeholders  # noqa: E402

if TYPE_CHECKING:
    from _harness import BenchEnv

_SHEET = {"name": "", "appearance": "silver hair, red eyes, school uniform"}

#: Owner ids of seeded members, far from the fake Discord's own snowflakes.
FIRST_OWNER_ID = 9_000_000


def _insert(
    db_path: Path, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[int]:
    """Insert ``rows`` into ``table`` in one transaction; return the new ids, in row order.

    ``table`` and ``columns`` are this module's constants, never outside input.
    """
    names, marks = ", ".join(columns), placeholders(len(columns))
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        start = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        new = conn.execute(f"SELECT id FROM {table} WHERE id > ? ORDER BY id", (start,))
        return [row[0] for row in new]


def seed_characters(
    db_path: Path,
    guild_id: int,
    owners: Sequence[int],
    per_owner: int,
    *,
    private_every: int = 0,
) -> list[tuple[int, int]]:
    """Insert characters; return ``(character_id, owner_id)`` pairs."""
    rows = []
    now = time.time()
    for owner in owners:
        for index in range(per_owner):
            name = f"Char{owner % 100_000}-{index}"
            sheet = json.dumps({**_SHEET, "name": name})
            private = 1 if private_every and (len(rows) % private_every == private_every - 1) else 0
            rows.append((guild_id, owner, name, sheet, "cel", private, now))
    columns = ("guild_id", "owner_id", "name", "sheet_json", "style", "private", "created_at")
    ids = _insert(db_path, "characters", columns, rows)
    return [(character_id, row[1]) for character_id, row in zip(ids, rows, strict=True)]


def seed_jobs(
    db_path: Path,
    *,
    guild_id: int,
    channel_id: int,
    characters: Sequence[tuple[int, int]],
    count: int,
    size_key: str = "square",
) -> list[int]:
    """Insert ``count`` queued create jobs spread round-robin over ``characters``.

    The jobs carry no interaction token (as if the member's token had expired during a
    restart), so the bot delivers them as channel posts.
    """
    request = json.dumps(
        {"style": "cel", "size": SIZES[size_key], "size_key": size_key, "transparent": False}
    )
    now = time.time()
    rows = []
    for index in range(count):
        character_id, owner_id = characters[index % len(characters)]
        rows.append(
            (guild_id, channel_id, owner_id, "create", character_id, request, 1, "en-US", now)
        )
    columns = (
        "guild_id",
        "channel_id",
        "user_id",
        "kind",
        "character_id",
        "request_json",
        "image_count",
        "locale",
        "created_at",
    )
    return _insert(db_path, "jobs", columns, rows)


def seed_queued_jobs(
    env: BenchEnv, jobs: int, *, owners: int, per_owner: int = 1
) -> list[tuple[int, int]]:
    """``owners`` members with ``per_owner`` characters each, and ``jobs`` create jobs queued
    for them in the server's default channel; return the ``(character_id, owner_id)`` pairs."""
    owner_ids = [FIRST_OWNER_ID + i for i in range(owners)]
    characters = seed_characters(env.database, env.guild.id, owner_ids, per_owner=per_owner)
    seed_jobs(
        env.database,
        guild_id=env.guild.id,
        channel_id=env.guild.default_channel.id,
        characters=characters,
        count=jobs,
    )
    return characters


def _sample_picture(seed: int, side: int) -> bytes:
    rng = random.Random(seed)
    colour = (rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220))
    image = Image.new("RGB", (side, side * 3 // 2), colour)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(side), rng.randrange(side * 3 // 2)
        r = rng.randrange(side // 10, side // 3)
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_images(
    db_path: Path,
    images_dir: Path,
    *,
    guild_id: int,
    characters: Sequence[tuple[int, int]],
    count: int,
    files: int,
    unique_contents: int = 200,
) -> dict[str, Any]:
    """Insert ``count`` image rows with files on disk; return what was written.

    ``files`` picture/thumbnail pairs are written (rows cycle over them when ``files <
    count``), every one readable: a small PNG picture, and a cached WebP thumbnail made by
    the bot's own ``make_thumbnail`` from a 256 x 384 picture, so thumbnails have the size
    the bot stores. Only ``unique_contents`` distinct pictures are drawn (drawing is the
    slow part); the files repeat their bytes.
    """
    folder = images_dir / str(guild_id)
    folder.mkdir(parents=True, exist_ok=True)
    contents = [
        (_sample_picture(i, 64), make_thumbnail(_sample_picture(i, 256)))
        for i in range(min(files, unique_contents))
    ]
    paths: list[tuple[str, str]] = []
    file_bytes = 0
    for index in range(files):
        picture, thumb = contents[index % len(contents)]
        pic_rel = f"{guild_id}/img-bench{index:06d}.png"
        thumb_rel = f"{guild_id}/thumb-bench{index:06d}.webp"
        (images_dir / pic_rel).write_bytes(picture)
        (images_dir / thumb_rel).write_bytes(thumb)
        file_bytes += len(picture) + len(thumb)
        paths.append((pic_rel, thumb_rel))
    rng = random.Random(12)
    now = time.time()
    rows: list[tuple[Any, ...]] = []
    for index in range(count):
        character_id, owner_id = characters[index % len(characters)]
        pic_rel, thumb_rel = paths[index % len(paths)]
        favorites = rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5, 8, 13))
        rows.append(
            (
                guild_id,
                character_id,
                owner_id,
                pic_rel,
                thumb_rel,
                1024,
                1536,
                "image/png",
                "benchmark prompt",
                "gpt-image-2.5-flare",
                favorites,
                now - (count - index),
            )
        )
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        conn.executemany(
            "INSERT INTO images (guild_id, character_id, owner_id, file_path, thumb_path,"
            " width, height, mime, prompt, model, favorite_count, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "UPDATE characters SET canonical_image_id ="
            " (SELECT MIN(id) FROM images WHERE character_id = characters.id)"
            " WHERE canonical_image_id IS NULL"
        )
    return {"rows": count, "files": files * 2, "file_bytes": file_bytes}
