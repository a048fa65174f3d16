"""Retention, end to end: an admin sets ``/config retention``, and the sweep (at start, then
daily) deletes exactly the old pictures nobody favorited, with their files, and orphaned
files; other servers and young or favorited pictures stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    button,
    created,
    embed_text,
    execute,
    image_id,
    private_answer,
    query,
    say,
    seed,
    stored_files,
    thumbnails_made,
)
from tests.fakes.discord.models import Guild

DAY = 86_400


async def test_the_sweep_deletes_old_unfavorited_pictures_their_files_and_orphans(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    other = world.discord.add_guild("Other Club")
    await seed(data_dir, other.id, [other.add_member("olga").id], 2)
    bot = await start_bot()
    boss = guild.add_member("boss", admin=True)
    alice, bob = guild.add_member("alice"), guild.add_member("bob")

    too_long = await boss.slash("config retention", modified_client=True, days=5000)
    assert say("error.retention_days", max=3650) in await private_answer(too_long)
    saved = await boss.slash("config retention", days=30)
    assert "deleted 30 days after they were made" in await private_answer(saved)
    shown = await boss.slash("config show")
    settings = await shown.wait_for_reply(lambda m: m.ephemeral and bool(m.embeds), timeout=10)
    assert say("status.retention_on", days=30) in embed_text(settings)

    pictures = {}
    for name in ("Loved", "Old", "Older", "Young"):
        pictures[name] = image_id(message := await created(alice, name))
        if name == "Loved":
            star = await bob.click(message, button(message, "fav"))
            await star.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    # Thumbnails are made after each post; the files named below include them.
    await thumbnails_made(bot, *pictures.values())
    # Made 31 days ago (and the other server's pictures too: it has no retention).
    old = [pictures[n] for n in ("Loved", "Old", "Older")] + [1, 2]
    for picture in old:
        execute(
            data_dir,
            "UPDATE images SET created_at = ? WHERE id = ?",
            time.time() - 31 * DAY,
            picture,
        )
    doomed_files = {
        path
        for row in query(
            data_dir,
            "SELECT file_path, thumb_path FROM images WHERE id IN (?, ?)",
            pictures["Old"],
            pictures["Older"],
        )
        for path in row
    }
    # A file nothing names, left by a crash two days ago, and one written a moment ago.
    folder = data_dir / "images" / str(guild.id)
    (folder / "img-orphan.png").write_bytes(b"left over")
    os.utime(folder / "img-orphan.png", (time.time() - 2 * DAY,) * 2)
    (folder / "img-just-now.png").write_bytes(b"a job is about to record me")
    files_before = stored_files(data_dir)
    await bot.stop()

    restarted = await start_bot()
    await restarted.wait_for_log(r"Retention: deleted 2 old pictures and 1 orphaned files")

    kept = {row[0] for row in query(data_dir, "SELECT id FROM images")}
    assert kept == {1, 2, pictures["Loved"], pictures["Young"]}
    assert stored_files(data_dir) == files_before - doomed_files - {f"{guild.id}/img-orphan.png"}
    # The gallery agrees: two of alice's pictures left.
    gallery = await alice.slash("gallery")
    shown = await gallery.wait_original(lambda m: m.attachments, timeout=15)
    assert "2 pictures" in str(shown.embeds)


async def test_retention_is_off_by_default_and_zero_turns_it_off(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    bot = await start_bot()
    boss = guild.add_member("boss", admin=True)
    alice = guild.add_member("alice")
    picture = image_id(await created(alice, "Aiko"))
    execute(data_dir, "UPDATE images SET created_at = 0 WHERE id = ?", picture)
    saved = await boss.slash("config retention", days=0)
    assert say("config.retention_off") in await private_answer(saved)
    shown = await boss.slash("config show")
    settings = await shown.wait_for_reply(lambda m: m.ephemeral and bool(m.embeds), timeout=10)
    assert say("status.retention_off") in embed_text(settings)
    orphan = data_dir / "images" / str(guild.id) / "img-orphan.png"
    orphan.write_bytes(b"left over")
    os.utime(orphan, (time.time() - 2 * DAY,) * 2)
    await bot.stop()
    restarted = await start_bot()
    # The sweep ran (it removed the orphan) and kept the old picture.
    await restarted.wait_for_log(r"Retention: deleted 0 old pictures and 1 orphaned files")
    assert query(data_dir, "SELECT id FROM images") == [(picture,)]
