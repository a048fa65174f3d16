"""``python -m bot backup`` while the bot draws, and ``restore`` into a fresh DATA_DIR: the
restored bot shows the same gallery and the same quotas."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    admin_says,
    created,
    db_value,
    embed_text,
    finished,
    held_at_openai,
    image_id,
    open_gallery,
    options,
    query,
    stored_files,
    thumbnails_made,
)
from tests.fakes.discord.models import Member


async def run_command(start_bot: StartBot, *args: str, **settings: str) -> tuple[int, str]:
    """``python -m bot <args>`` with the bot's settings: its exit status and output."""
    process = await start_bot(*args, wait_ready=False, **settings)
    code = await process.wait_exit(timeout=60)
    return code, process.output


async def what_alice_sees(alice: Member) -> tuple[str, list[dict[str, Any]]]:
    """Her /quota show card, and the gallery's pictures as its select menu lists them."""
    show = await alice.slash("quota show")
    card = await show.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    gallery = await open_gallery(alice)
    return embed_text(card), options(gallery, "gal:o:")


def private(path: Path) -> bool:
    """Readable and writable by the bot's user only."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def database_rows(data_dir: Path) -> list[Any]:
    return [
        query(data_dir, "SELECT id, character_id, file_path, favorite_count FROM images"),
        query(data_dir, "SELECT id, name FROM characters"),
        query(data_dir, "SELECT guild_id, scope, target_id, daily_limit FROM quota_limits"),
    ]


async def test_a_backup_taken_while_jobs_run_restores_the_same_gallery_and_quotas(
    start_bot: StartBot, world: World, tmp_path: Path
) -> None:
    bot = await start_bot()
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    await admin_says(boss, "quota-admin set member", "5 a day", member=alice, **{"per-day": 5})
    aiko = await created(alice, "Aiko")
    mika = await created(alice, "Mika")
    # Thumbnails are made after each post: wait for both, so the backup's count is known.
    await thumbnails_made(bot, image_id(aiko), image_id(mika))
    drawing = await held_at_openai(world.openai, alice, "Rin")  # a job runs during the backup

    folder, archive = tmp_path / "backup", tmp_path / "backup.tar.gz"
    code, said = await run_command(start_bot, "backup", str(folder))
    assert code == 0, said
    assert "Backed up the database and 4 picture files" in said  # 2 pictures, 2 thumbnails
    code, said = await run_command(start_bot, "backup", str(archive))
    assert code == 0 and archive.is_file(), said
    assert db_value(folder, "SELECT state FROM jobs WHERE id = 3") == "running"
    assert private(folder / "bot.sqlite3") and private(archive)

    world.openai.release()
    await drawing.wait_original(finished, timeout=20)
    before = await what_alice_sees(alice)
    assert "**3** of **5** used" in before[0] and len(before[1]) == 3
    assert await bot.stop() == 0

    # Restored into a fresh DATA_DIR, the bot finishes the job that was running, once.
    fresh = tmp_path / "restored"
    code, said = await run_command(start_bot, "restore", str(folder), DATA_DIR=str(fresh))
    assert code == 0, said
    assert stored_files(fresh) == stored_files(folder)
    await start_bot(DATA_DIR=str(fresh))
    await world.discord.wait_for(
        lambda _f: db_value(fresh, "SELECT state FROM jobs WHERE id = 3") == "done",
        timeout=20,
        what="the restored bot finishes the job that was running",
    )
    assert await what_alice_sees(alice) == before

    # The archive holds the same backup.
    unpacked = tmp_path / "from-archive"
    code, said = await run_command(start_bot, "restore", str(archive), DATA_DIR=str(unpacked))
    assert code == 0, said
    assert database_rows(unpacked) == database_rows(folder)
    assert stored_files(unpacked) == stored_files(folder)


async def test_restore_refuses_a_data_dir_that_is_not_empty(
    start_bot: StartBot, data_dir: Path, tmp_path: Path
) -> None:
    bot = await start_bot()
    code, said = await run_command(start_bot, "backup", str(tmp_path / "backup"))
    assert code == 0, said
    await bot.stop()
    before = listing(data_dir)

    code, said = await run_command(start_bot, "restore", str(tmp_path / "backup"))

    assert code == 1
    assert "is not empty: restore only into an empty folder" in said
    assert listing(data_dir) == before
    code, said = await run_command(
        start_bot, "restore", str(tmp_path / "nothing"), DATA_DIR=str(tmp_path / "new")
    )
    assert code == 1 and "no backup at" in said
    assert json.loads((tmp_path / "backup" / "backup.json").read_text())["database"]
