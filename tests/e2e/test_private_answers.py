"""Every refusal after a public "thinking…" reaches the member, privately (issue #17.1).

The fake Discord follows the documented rule: right after a deferred response, the first
followup edits the original, keeps its visibility, and gets 404 10008 if the original was
deleted. One test per class of refusal; each checks that the member sees the explanation in a
private message, that nobody else ever sees it, and that the public placeholder goes away.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import create, direct_messages, finished
from tests.fakes.discord import FakeDiscord, InteractionHandle, Upload
from tests.fakes.discord.models import Guild
from tests.fakes.discord.records import Message


async def told_privately(
    fake: FakeDiscord, handle: InteractionHandle, *words: str, timeout: float = 10
) -> Message:
    """The member got a private message with ``words``; nobody else saw them; no thinking left."""

    def says(message: Message) -> bool:
        return all(word in (message.content or "") for word in words)

    notice = await handle.wait_for_reply(lambda m: m.ephemeral and says(m), timeout=timeout)
    original = handle.record.original
    await fake.wait_for(
        lambda _f: original is None or original.deleted or not original.loading,
        timeout=5,
        what="the 'thinking…' placeholder resolved",
    )
    for message in fake.messages(include_deleted=True, include_ephemeral=True):
        if message.ephemeral:
            continue
        for state in message.states:
            assert not all(word in (state.content or "") for word in words), message
    assert not fake.violations_of("unknown_message"), fake.violations
    return notice


async def test_moderation_refusal(bot: object, world: World) -> None:
    world.openai.flag_text("forbidden-thing", category="violence")
    h = await world.guild.add_member("dan").slash(
        "character create", name="Bad", description="a forbidden-thing here"
    )
    await told_privately(world.discord, h, "content filter")
    assert not world.openai.image_requests


async def test_moderation_refusal_whose_private_answer_discord_drops(
    bot: object, world: World
) -> None:
    """The private followup meets a 429 from Discord's edge: the reason still stays private
    (a direct message), and the member's public message says no more than that."""
    world.openai.flag_text("forbidden-thing", category="violence")
    world.discord.fail_next("POST", r"^/webhooks/\d+/[^/]+$", status=429, via=False)
    dan = world.guild.add_member("dan")
    h = await dan.slash("character create", name="Bad", description="a forbidden-thing here")

    told = await world.discord.wait_for(
        lambda f: direct_messages(f, dan), timeout=10, what="a direct message"
    )
    assert "content filter" in (told[0].content or "")
    original = await h.wait_original(lambda m: "direct message" in (m.content or ""), timeout=5)
    for state in original.states:
        assert "content filter" not in (state.content or "")


async def test_image_api_refusal(bot: object, world: World) -> None:
    world.openai.inject("moderation_blocked")
    h = await create(world.guild.add_member("dan"))
    await told_privately(world.discord, h, "content filter", "Nothing was charged", timeout=20)


async def test_quota_reached(start_bot: StartBot, fake_discord: FakeDiscord, guild: Guild) -> None:
    await start_bot(default_daily_quota=1)
    alice = guild.add_member("alice")
    await (await create(alice)).wait_original(finished, timeout=20)
    h = await create(alice, "Ren")
    await told_privately(fake_discord, h, "daily limit", "1 of 1")


async def test_pending_cap_reached(start_bot: StartBot, world: World) -> None:
    await start_bot(member_pending_cap=1)
    world.openai.hold()
    alice = world.guild.add_member("alice")
    await create(alice)
    await world.openai.wait_for_requests(1, endpoint="generations")
    h = await create(alice, "Ren")
    await told_privately(world.discord, h, "already have 1 picture waiting")
    world.openai.release()


async def test_upload_rejected(bot: object, world: World) -> None:
    h = await world.guild.add_member("alice").slash(
        "character create",
        name="Aiko",
        description="like the reference",
        reference=Upload("notes.txt", b"not a picture", "text/plain"),
    )
    await told_privately(world.discord, h, "must be a PNG, JPEG, WebP or GIF")
    assert not world.openai.requests


async def test_channel_not_allowed(bot: object, fake_discord: FakeDiscord, guild: Guild) -> None:
    art = guild.add_channel("art")
    boss = guild.add_member("boss", admin=True)
    allowed = await boss.slash("config allow-channel", options={"channel": art})
    await allowed.wait_for_reply(timeout=10)
    h = await create(guild.add_member("alice"))
    await told_privately(fake_discord, h, "can't be used in this channel", f"<#{art.id}>")


async def test_character_not_found(bot: object, fake_discord: FakeDiscord, guild: Guild) -> None:
    h = await guild.add_member("alice").slash("character vary", character="#999")
    await told_privately(fake_discord, h, "couldn't find that character")


# The unexpected error is logged with its reference and traceback, for an admin to look up.
@pytest.mark.allow_errors(r"Unexpected error in character vary \(reference", "Traceback")
async def test_unexpected_error(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    await (await create(alice)).wait_original(finished, timeout=20)
    with sqlite3.connect(world.data_dir / "bot.sqlite3") as db:
        # A row the bot cannot read: whatever breaks, the member still hears about it.
        db.execute("UPDATE characters SET sheet_json = 'not json'")
    h = await alice.slash("character vary", character="Aiko")
    await told_privately(world.discord, h, "something unexpected went wrong")
