"""Posting a finished picture when Discord has trouble (issue #17.3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import database_busy, direct_messages, drawing, finished, start_drawing
from tests.fakes.discord import ATTACH_FILES, SEND_MESSAGES, FakeDiscord
from tests.fakes.discord.models import Guild, Member
from tests.fakes.discord.records import Message
from tests.fakes.discord.server import Stall

# The bot rightly alerts admins when Discord refuses a picture.
pytestmark = pytest.mark.allow_errors(r"Admin alert for guild \d+: delivery_(forbidden|invalid)")

ORIGINAL_EDIT = r"/webhooks/\d+/[^/]+/messages/@original"


def delivered(data_dir: Path) -> list[int]:
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT delivered FROM jobs ORDER BY id")]


async def test_a_429_without_via_is_waited_out_and_the_picture_arrives(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(partial_images=0)
    h = await start_drawing(world.openai, world.guild.add_member("alice"))
    # discord.py's webhook adapter raises a 429 without a Via header at once, unslept.
    fault = world.discord.fail_next("PATCH", ORIGINAL_EDIT, retry_after=0.3, via=False, times=2)
    world.openai.release()
    message = await h.wait_original(finished, timeout=20)
    assert message.attachments and fault.hits == 2


@pytest.mark.provokes_violations("missing_permissions")
async def test_losing_attach_files_mid_job_settles_tells_the_member_and_alerts_once(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(partial_images=0)
    mods = world.guild.add_channel("mods")
    boss = world.guild.add_member("boss", admin=True)
    alerts = await boss.slash("config alerts", options={"channel": mods})
    await alerts.wait_original(timeout=10)
    world.openai.hold()
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    first = await alice.slash("character create", name="Aiko", description="silver hair")
    second = await bob.slash("character create", name="Ren", description="red eyes")
    await first.wait_original(drawing, timeout=10)
    await second.wait_original(drawing, timeout=10)
    world.guild.set_bot_channel_permissions(world.guild.default_channel, deny=ATTACH_FILES)
    world.openai.release()

    for handle in (first, second):
        await handle.wait_for_reply(
            lambda m: m.ephemeral and "not allowed to post" in (m.content or ""), timeout=20
        )
    assert delivered(world.data_dir) == [1, 1]  # settled: no restart retries them

    def alerts_posted(_f: FakeDiscord) -> list[Any]:
        return [m for m in world.discord.messages(mods) if "couldn't post" in (m.content or "")]

    posted = await world.discord.wait_for(alerts_posted, timeout=10, what="the admins' alert")
    assert len(posted) == 1
    assert f"<#{world.guild.default_channel.id}>" in posted[0].content

    refusals = len(world.discord.violations_of("missing_permissions"))
    await bot.stop()
    await start_bot(partial_images=0)  # settled jobs are not posted again at start
    assert len(world.discord.violations_of("missing_permissions")) == refusals


@pytest.mark.allow_errors(r"Job \d+ crashed \(reference", "Traceback")  # made to crash
async def test_a_failure_told_after_a_restart_fills_its_placeholders(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    bot = await start_bot()
    alice = guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    await made.wait_original(finished, timeout=20)
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        # A character the runner cannot read: the job crashes with a reference code.
        db.execute("UPDATE characters SET sheet_json = '[]'")
    h = await alice.slash("character vary", character="Aiko")
    told = await h.wait_original(lambda m: "tell an admin" in (m.content or ""), timeout=20)
    reference = told.content.split("`")[1]
    seen = len(told.states)
    await bot.stop()
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        # As if the process had died between recording the failure and telling the member
        # (the token is dropped only after the member was told, so it would still be there).
        db.execute(
            "UPDATE jobs SET delivered = 0, interaction_token = ? WHERE state = 'failed'",
            (h.token,),
        )
    await start_bot()
    again = await h.wait_original(
        lambda m: len(m.states) > seen and "tell an admin" in m.content,
        timeout=20,
    )
    assert "{reference}" not in again.content and f"`{reference}`" in again.content


async def posted_unheard(start_bot: StartBot, world: World) -> tuple[BotProcess, Stall]:
    """Alice's picture, posted to the channel (her token died), is on Discord while the bot
    has not heard so yet: ``stall.release()`` lets the answer through."""
    bot = await start_bot(partial_images=0)
    await start_drawing(world.openai, world.guild.add_member("alice"))
    world.discord.clock.advance(15 * 60)  # the token died: the picture goes to the channel
    stall = world.discord.stall_next("POST", r"/channels/\d+/messages")
    world.openai.release()
    await world.discord.wait_for(lambda _f: stall.hits == 1, timeout=20, what="the post")
    return bot, stall


def posted_once(world: World) -> bool:
    posts = [m for m in world.discord.bot_messages(world.guild.default_channel) if m.attachments]
    return len(posts) == 1 and finished(posts[0])


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_crash_between_the_post_and_its_record_does_not_post_twice(
    start_bot: StartBot, world: World
) -> None:
    bot, stall = await posted_unheard(start_bot, world)
    await bot.kill()  # posted on Discord, never recorded by the bot
    stall.release()

    restarted = await start_bot(partial_images=0)
    await restarted.wait_for_log(r"already posted", timeout=20)
    assert posted_once(world)
    assert len(world.openai.image_requests) == 1


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_storage_fault_between_the_post_and_its_record_does_not_post_twice(
    start_bot: StartBot, world: World
) -> None:
    bot, stall = await posted_unheard(start_bot, world)
    with database_busy(world.data_dir):
        stall.release()  # posted on Discord; recording it meets the locked database
        await bot.wait_for_log(r"Delivering job 1 failed \(try 1\)", timeout=30)
    await bot.wait_for_log(r"already posted", timeout=30)
    assert posted_once(world)


async def test_a_post_discord_rejects_settles_and_tells_the_member(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(partial_images=0)
    h = await start_drawing(world.openai, world.guild.add_member("alice"))
    world.discord.fail_next("PATCH", ORIGINAL_EDIT, status=400, code=50035)  # never retried
    world.openai.release()
    await h.wait_for_reply(
        lambda m: m.ephemeral and "Discord refused the post" in (m.content or ""), timeout=20
    )
    assert delivered(world.data_dir) == [1]


async def drawn_after_losing(
    start_bot: StartBot, world: World, permission: int
) -> tuple[Member, Message]:
    """Alice's picture is drawn after her token died and after the bot lost ``permission``
    in the channel; returns her, and her message that still says "Drawing…"."""
    await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    stale = (await start_drawing(world.openai, alice)).original
    assert stale is not None
    world.discord.clock.advance(15 * 60)  # the interaction token is dead: no private answer
    world.guild.set_bot_channel_permissions(world.guild.default_channel, deny=permission)
    world.openai.release()
    return alice, stale


@pytest.mark.provokes_violations("invalid_webhook_token", "missing_permissions")
async def test_with_the_token_dead_a_lost_permission_is_said_in_the_channel(
    start_bot: StartBot, world: World
) -> None:
    alice, stale = await drawn_after_losing(start_bot, world, ATTACH_FILES)
    notice = await world.discord.wait_for_message(
        lambda m: m.by_bot and "not allowed to post" in (m.content or ""), timeout=20
    )
    assert f"<@{alice.id}>" in notice.content and not notice.pinged_user_ids
    assert delivered(world.data_dir) == [1]
    # The channel shows what happened once, not also a notice stuck on "Drawing…".
    await world.discord.wait_for(
        lambda f: f.message(stale.id).deleted, timeout=10, what="the stale notice gone"
    )


@pytest.mark.provokes_violations("invalid_webhook_token", "missing_permissions")
async def test_with_the_token_dead_and_the_channel_closed_the_member_hears_by_direct_message(
    start_bot: StartBot, world: World
) -> None:
    alice, _ = await drawn_after_losing(start_bot, world, SEND_MESSAGES)
    channel = world.guild.default_channel
    told = await world.discord.wait_for(
        lambda f: direct_messages(f, alice), timeout=20, what="a direct message"
    )
    assert f"<#{channel.id}>" in told[0].content and "/gallery" in told[0].content
    assert delivered(world.data_dir) == [1]
