"""The retention sweep, over random servers, ages, favorites and settings.

Invariant: a sweep deletes exactly the pictures of servers with retention on that are older
than their server's days and that nobody favorites (a favorite taken back counts as none),
with their files; it never deletes a favorited or young picture, nor one of a server
without retention, and it leaves every kept picture's files on disk.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.images.store import ImageStore
from bot.ops.retention import DAY, RetentionService, orphaned_files
from tests.storage_helpers import Seeder, open_storage

GUILDS = (10, 20, 30)
NOW = time.time()


@dataclass(frozen=True)
class Picture:
    guild: int
    age_days: float
    favorites: frozenset[int]  # members who favorite it at the end
    taken_back: frozenset[int]  # members who favorited it, then took it back


pictures = st.builds(
    Picture,
    guild=st.sampled_from(GUILDS),
    age_days=st.floats(min_value=0, max_value=90, allow_nan=False),
    favorites=st.frozensets(st.integers(1, 3), max_size=2),
    taken_back=st.frozensets(st.integers(4, 6), max_size=2),
)
retention = st.dictionaries(st.sampled_from(GUILDS), st.integers(0, 60), max_size=3)


async def sweep_once(root: Path, drawn: list[Picture], days: dict[int, int]) -> None:
    store = ImageStore(root / "images")
    async with open_storage(root / "bot.sqlite3") as storage:
        seeder = Seeder(storage, store)
        characters = {g: await seeder.character(g, 1, f"C{g}") for g in GUILDS}
        ids = []
        for picture in drawn:
            image = await seeder.picture(picture.guild, characters[picture.guild], 1)
            ids.append(image)
            async with storage.db.transaction() as conn:
                await conn.execute(
                    "UPDATE images SET created_at = ? WHERE id = ?",
                    (NOW - picture.age_days * DAY, image),
                )
            for member in picture.favorites | picture.taken_back:
                await storage.images.set_favorite(image, member, True)
            for member in picture.taken_back:
                await storage.images.set_favorite(image, member, False)
        service = RetentionService(storage, store, clock=lambda: NOW)
        for guild, kept_days in days.items():
            await service.set_days(guild, kept_days)
        files_of = {
            row[0]: {row[1], row[2]}
            for row in await storage.db.fetch_all("SELECT id, file_path, thumb_path FROM images")
        }

        await service.sweep()

        left = {row[0] for row in await storage.db.fetch_all("SELECT id FROM images")}
    expected = {
        image
        for image, picture in zip(ids, drawn, strict=True)
        if not (
            days.get(picture.guild)
            and picture.age_days > days[picture.guild]
            and not picture.favorites
        )
    }
    assert left == expected
    for image, files in files_of.items():
        on_disk = {f for f in files if (root / "images" / f).exists()}
        assert on_disk == (files if image in left else set()), image


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(pictures, max_size=12), days=retention)
def test_the_sweep_deletes_exactly_old_unfavorited_pictures_of_servers_that_ask(
    drawn: list[Picture], days: dict[int, int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(sweep_once(Path(folder), drawn, days))


def test_orphans_are_old_unnamed_files_in_server_folders_only(tmp_path: Path) -> None:
    for relative in (
        "10/img-a.png",
        "10/img-named.png",
        "10/.img-b.png.tmp",
        "answers/1.json",
        "10/img-new.png",
    ):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert orphaned_files(tmp_path, {"10/img-named.png"}, time.time() + 1) == [
        "10/img-a.png",
        "10/img-new.png",
    ]
    assert orphaned_files(tmp_path, set(), time.time() - 60) == []  # all too young
