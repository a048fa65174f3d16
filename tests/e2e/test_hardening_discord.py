"""Hardening, Discord faults: the gateway drops mid-job, Discord answers 429, the member's
message or the whole channel is deleted before the picture is ready.

What must hold: every picture that can still be delivered is delivered, nothing is lost or
posted twice, events sent while the bot was offline are replayed after RESUME, and the bot
logs no traceback (the fixture fails the test on any Traceback or ERROR line).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import button, finished, image_id, query
from tests.fakes.discord import FakeDiscord, InteractionHandle
from tests.fakes.discord.models import Channel, Guild, Member
from tests.fakes.discord.permissions import Intents
from tests.fakes.discord.records import Message
from tests.fakes.openai import FakeOpenAI

# The progress states of a member's message before the picture replaces them.
QUEUED, DRAWING = "⏳", "🎨"


async def drawing(fake_openai: FakeOpenAI, handle: InteractionHandle, requests: int) -> None:
    """The job is running: its image request is held at the fake, the member sees 🎨."""
    await fake_openai.wait_for_requests(requests, endpoint="images")
    await handle.wait_original(lambda m: (m.content or "").startswith(DRAWING), timeout=10)


def delete_message(fake: FakeDiscord, message: Message) -> None:
    """A moderator deletes a message (the fake has no member-side route for it)."""
    fake._delete_message(fake.message(message.id))


def delete_channel(fake: FakeDiscord, guild: Guild, channel: Channel) -> None:
    """An admin deletes a channel: its messages go, later calls get 404 Unknown Channel and
    the bot hears CHANNEL_DELETE (the fake has no route for it, so this does what Discord
    does)."""
    for message in fake.messages(channel):
        fake._delete_message(message)
    del guild.channels[channel.id]
    del fake._channels[channel.id]
    fake._dispatch("CHANNEL_DELETE", channel.payload(), intent=Intents.GUILDS, guild=guild)
    fake._notify()


# --------------------------------------------------------------------------- gateway


def gate_resume(fake: FakeDiscord) -> asyncio.Event:
    """Hold the bot's RESUME at the fake gateway until the returned event is set, so the test
    decides how long the outage lasts (discord.py reconnects at once after a 4000 close)."""
    gate = asyncio.Event()
    hub = fake.gateway
    original: Callable[..., Awaitable[None]] = hub._resume

    async def gated(connection: Any, data: dict[str, Any]) -> None:
        await gate.wait()
        await original(connection, data)

    hub._resume = gated  # type: ignore[method-assign]
    return gate


async def test_gateway_drop_mid_job_delivers_and_replays_what_happened_offline(
    bot: BotProcess, world: World
) -> None:
    alice, bob, carol = (world.guild.add_member(n) for n in ("alice", "bob", "carol"))
    first = await alice.slash("character create", name="Aiko", description="silver hair")
    posted = await first.wait_original(finished, timeout=20)

    world.openai.hold()
    h = await alice.slash("character create", name="Ren", description="black hair")
    await drawing(world.openai, h, 2)

    gate = gate_resume(world.discord)
    await world.discord.drop_gateway(resume=True)
    assert not world.discord.gateway.connected

    # Offline: REST still works, so the running job finishes and is delivered.
    world.openai.release()
    second = await h.wait_original(finished, timeout=20)
    assert not world.discord.gateway.connected, "the outage ended before the delivery"
    assert len(second.attachments) == 1

    # Offline: a reaction and a button press happen; Discord keeps them for the session.
    await bob.react(posted, "⭐")
    press = await carol.click(posted, button(posted, "fav"))
    assert not world.discord.gateway.connected
    gate.set()

    await world.discord.wait_for(lambda f: f.resume_count == 1, timeout=15, what="a RESUME")
    reply = await press.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "⭐" in (reply.content or "")
    await bot.wait_for_log(rf"Favorite added by {bob.id}", timeout=10)
    assert world.discord.identify_count == 1  # resumed, not a new session

    # An op 7 RECONNECT later changes nothing either.
    await world.discord.send_reconnect()
    await world.discord.wait_for(lambda f: f.resume_count == 2 and f.gateway.connected, timeout=15)
    third = await alice.slash("character create", name="Mio", description="pink hair")
    await third.wait_original(finished, timeout=20)

    assert await bot.stop() == 0  # a clean stop lets the last job record its delivery
    favorites = query(
        world.data_dir,
        "SELECT user_id FROM favorites WHERE image_id = ? ORDER BY user_id",
        image_id(posted),
    )
    assert favorites == sorted([(bob.id,), (carol.id,)])
    assert (
        query(world.data_dir, "SELECT state, delivered FROM jobs ORDER BY id") == [("done", 1)] * 3
    )


# --------------------------------------------------------------------------- 429


async def test_a_429_on_the_delivery_edit_is_waited_out(start_bot: StartBot, world: World) -> None:
    await start_bot(partial_images=0)  # no previews: the next edit after 🎨 is the picture
    alice = world.guild.add_member("alice")
    world.openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await drawing(world.openai, h, 1)

    fault = world.discord.fail_next(
        "PATCH", r"^/webhooks/\d+/[^/]+/messages/@original$", status=429, retry_after=1.5
    )
    world.openai.release()
    message = await h.wait_original(finished, timeout=20)

    assert fault.hits == 1
    limited = next(r for r in world.discord.requests if r.injected and r.status == 429)
    retried = [
        r
        for r in world.discord.requests
        if r.method == "PATCH" and r.path == limited.path and r.status == 200 and r.at > limited.at
    ]
    assert retried, "discord.py never retried the edit"
    assert retried[0].at - limited.at >= 1.4  # it waited retry_after before trying again
    # The 429 normally hits the delivery itself (a rare late "⏳ Queued" edit could take it
    # instead; edits on one token are serialized, so the picture then follows it).
    assert any(r.files for r in retried), "the picture was never uploaded after the 429"
    assert len(message.attachments) == 1


# --------------------------------------------------------------------------- deletions


@pytest.mark.provokes_violations("unknown_message")
async def test_a_deleted_message_gets_the_picture_posted_in_the_channel(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    world.openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await drawing(world.openai, h, 1)
    assert h.original is not None
    delete_message(world.discord, h.original)

    world.openai.release()
    post = await world.discord.wait_for_message(
        lambda m: m.by_bot and m.interaction is None and finished(m), timeout=20
    )
    assert post.channel is world.guild.default_channel
    assert f"<@{alice.id}>" in (post.content or "")
    assert post.allowed_mentions == {"parse": []}
    assert await bot.stop() == 0  # a clean stop lets the job record where it was posted
    assert query(world.data_dir, "SELECT message_id FROM images") == [(post.id,)]
    assert query(world.data_dir, "SELECT state, delivered FROM jobs") == [("done", 1)]
    assert len([m for m in world.discord.bot_messages() if m.attachments]) == 1
    # The only error the bot met is Discord's answer to editing the deleted message.
    assert {v["rule"] for v in world.discord.violations} <= {"unknown_message"}


@pytest.mark.provokes_violations("unknown_message", "unknown_channel")
async def test_a_deleted_channel_ends_the_job_quietly_and_the_queue_goes_on(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(max_concurrent_jobs=1)
    art = world.guild.add_channel("art")
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    world.openai.hold()
    doomed = await alice.slash("character create", art, name="Aiko", description="silver hair")
    await drawing(world.openai, doomed, 1)
    waiting = await bob.slash("character create", name="Ren", description="black hair")
    await waiting.wait_original(lambda m: (m.content or "").startswith(QUEUED), timeout=10)

    delete_channel(world.discord, world.guild, art)
    world.openai.release()

    # The queue goes on: Bob's job runs next and is delivered in #general.
    await waiting.wait_original(finished, timeout=20)
    await bot.wait_for_log(r"Job 1\b.*(channel|gone|deleted)", timeout=10)
    assert await bot.stop() == 0  # a clean stop lets Bob's job record its delivery
    assert query(world.data_dir, "SELECT id, state, delivered FROM jobs ORDER BY id") == [
        (1, "done", 1),  # finished and settled: no retry (and no traceback) at every start
        (2, "done", 1),
    ]
    # Alice's picture was made and kept (gallery, /mydata), just never posted anywhere.
    assert query(world.data_dir, "SELECT job_id, message_id FROM images ORDER BY id") == [
        (1, None),
        (2, waiting.original.id if waiting.original else -1),
    ]
    assert not [
        m for m in world.discord.messages(include_deleted=True) if m.channel is art and finished(m)
    ]


@pytest.mark.provokes_violations("unknown_message", "unknown_channel")
async def test_a_job_failing_after_its_channel_was_deleted_logs_no_traceback(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(max_attempts=1)
    art = world.guild.add_channel("art")
    alice: Member = world.guild.add_member("alice")
    world.openai.hold()
    h = await alice.slash("character create", art, name="Aiko", description="silver hair")
    await drawing(world.openai, h, 1)
    delete_channel(world.discord, world.guild, art)
    world.openai.inject("server_error", times=5)
    world.openai.release()
    await bot.wait_for_log(r"Job 1\b.*(channel|gone|deleted)", timeout=20)
    assert await bot.stop() == 0
    assert query(world.data_dir, "SELECT state, charged, delivered FROM jobs") == [("failed", 0, 1)]
