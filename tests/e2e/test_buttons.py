"""The buttons under a picture, including on a message posted before a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import button, finished, image_id, stored_files, thumbnails_made
from tests.fakes.discord.models import Guild


async def test_reroll_and_delete_work_after_a_restart(start_bot: StartBot, world: World) -> None:
    bot = await start_bot()
    alice = world.guild.add_member("alice")
    mallory = world.guild.add_member("mallory")
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    first = await h.wait_original(finished, timeout=20)
    await thumbnails_made(bot, image_id(first))

    assert await bot.stop() == 0
    again = await start_bot()  # a new process: nothing of the old message is cached

    reroll = await alice.click(first, button(first, "reroll"))
    second = await reroll.wait_original(finished, timeout=20)
    assert second.id != first.id
    assert len(world.openai.image_requests) == 2
    assert "silver hair" in (world.openai.image_requests[1].prompt or "")

    # Someone else may not delete Alice's picture.
    denied = await mallory.click(first, button(first, "del"))
    refusal = await denied.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "owner" in (refusal.content or "")
    assert not world.discord.message(first.id).deleted

    await thumbnails_made(again, image_id(second))  # made after the post: count them in
    files_before = stored_files(world.data_dir)
    deleting = await alice.click(first, button(first, "del"))
    await deleting.wait_ack()
    await world.discord.wait_for(lambda _: world.discord.message(first.id).deleted, timeout=10)
    with sqlite3.connect(world.data_dir / "bot.sqlite3") as db:
        remaining = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    assert remaining == 1  # only the re-rolled picture is left
    assert len(stored_files(world.data_dir)) == len(files_before) - 2  # picture and thumbnail gone


async def test_favorite_button_toggles(bot: object, guild: Guild, data_dir: Path) -> None:
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    message = await h.wait_original(finished, timeout=20)
    on = await bob.click(message, button(message, "fav"))
    reply = await on.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "⭐" in (reply.content or "")
    off = await bob.click(message, button(message, "fav"))
    await off.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        assert db.execute("SELECT favorite_count FROM images").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM favorites").fetchone()[0] == 0


async def test_delete_pressed_twice_says_deleted_once_then_gone(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    first = await h.wait_original(finished, timeout=20)
    # A double click: the second press is on its way before the first one is answered.
    presses = [await alice.click(first, button(first, "del")) for _ in range(2)]
    answers = sorted(
        [(await p.wait_for_reply(lambda m: m.ephemeral, timeout=10)).content or "" for p in presses]
    )
    assert answers == ["That picture no longer exists.", "🗑️ Deleted 1 picture."]
