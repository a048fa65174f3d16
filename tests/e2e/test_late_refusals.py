"""An answer that comes after the interaction's 15 minutes still reaches its member (every
answer arrives): in the channel, naming them without a ping, with their stale "Drawing…"
notice tidied away. A refusal's reason still stays private: it goes by direct message, and
the channel notice names no reason."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import db_value, direct_messages, drawing, public_texts, start_drawing
from tests.fakes.discord import SEND_MESSAGES, FakeDiscord
from tests.fakes.discord.models import Member
from tests.fakes.discord.records import Message


async def _answered_late(
    world: World, member: Member, description: str, fail: Callable[[], None]
) -> Message:
    """``member`` asks for a character, the token dies while it is drawn, then ``fail``
    makes the drawing fail: the bot's late channel notice, once the stale one is gone."""
    world.openai.hold()
    h = await member.slash("character create", name="Rin", description=description)
    notice = await h.wait_original(drawing, timeout=10)
    world.discord.clock.advance(15 * 60)  # the token dies while the job waits for the API
    fail()
    world.openai.release()

    def posted(f: FakeDiscord) -> Message | None:
        return next(
            (
                m
                for m in f.bot_messages(world.guild.default_channel)
                if m.id != notice.id and f"<@{member.id}>" in (m.content or "")
            ),
            None,
        )

    found = await world.discord.wait_for(posted, timeout=20, what="the late channel notice")
    assert isinstance(found, Message)
    # It names the member without pinging anyone.
    assert found.allowed_mentions is not None and not found.allowed_mentions.get("parse")
    # One answer in the channel, not a notice stuck on "Drawing…".
    await world.discord.wait_for(
        lambda f: f.message(notice.id).deleted, timeout=10, what="the stale notice gone"
    )
    return found


def _refunded(data_dir: Path) -> bool:
    """The one job failed and is not charged against the member's quota."""
    return db_value(data_dir, "SELECT state FROM jobs") == "failed" and not db_value(
        data_dir, "SELECT charged FROM jobs"
    )


@pytest.mark.parametrize("dms_open", [True, False], ids=["dms-open", "dms-closed"])
@pytest.mark.provokes_violations("invalid_webhook_token", "cannot_dm_user")
async def test_a_refusal_after_the_token_died_reaches_the_member_privately(
    start_bot: StartBot, world: World, dms_open: bool
) -> None:
    await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    alice.dms_open = dms_open
    # The image model refuses it: a settled failure, explained privately.
    block = functools.partial(world.openai.block_text, "fox spirit")
    posted = await _answered_late(world, alice, "a fox spirit", block)
    assert "content filter" not in (posted.content or "")  # never the reason in public
    assert "not charged" in (posted.content or "")
    dms = direct_messages(world.discord, alice)
    if dms_open:
        assert "direct message" in (posted.content or "")
        assert len(dms) == 1 and "content filter" in (dms[0].content or "")
    else:
        assert "closed" in (posted.content or "") and not dms
    assert _refunded(world.data_dir)


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_failure_after_the_token_died_is_posted_with_its_reason(
    start_bot: StartBot, world: World
) -> None:
    """Any other failure is no secret: the channel hears it with its reason."""
    await start_bot(partial_images=0, max_attempts=1)
    alice = world.guild.add_member("alice")
    # Its only attempt fails: the job ends failed.
    fault = functools.partial(world.openai.inject, "server_error")
    posted = await _answered_late(world, alice, "silver hair", fault)
    assert "could not be made" in (posted.content or "")
    assert _refunded(world.data_dir)


@pytest.mark.provokes_violations("invalid_webhook_token", "missing_permissions")
async def test_a_failure_the_channel_no_longer_takes_reaches_the_member_by_direct_message(
    start_bot: StartBot, world: World
) -> None:
    """The bot may no longer post where the job was asked: the member still hears of it."""
    await start_bot(partial_images=0, max_attempts=1)
    alice = world.guild.add_member("alice")
    await start_drawing(world.openai, alice, "Rin")
    world.discord.clock.advance(15 * 60)  # the token dies while the job waits for the API
    world.guild.set_bot_channel_permissions(world.guild.default_channel, deny=SEND_MESSAGES)
    world.openai.inject("server_error")
    world.openai.release()

    told = await world.discord.wait_for(
        lambda f: direct_messages(f, alice), timeout=20, what="a direct message"
    )
    assert "Nothing was charged" in (told[0].content or "")
    assert _refunded(world.data_dir)


async def test_a_refusal_whose_private_answer_fails_keeps_its_reason_out_of_the_channel(
    start_bot: StartBot, world: World
) -> None:
    """Discord drops the private followup (a 429 from its edge): the reason still goes only
    to the member, by direct message, and the channel reads no more than the late notice."""
    await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    world.openai.block_text("fox spirit")
    world.discord.fail_next("POST", r"^/webhooks/\d+/[^/]+$", status=429, via=False)
    h = await alice.slash("character create", name="Rin", description="a fox spirit")
    await h.wait_ack()

    told = await world.discord.wait_for(
        lambda f: direct_messages(f, alice), timeout=20, what="a direct message"
    )
    assert "content filter" in (told[0].content or "")
    channel = world.guild.default_channel
    shown = [text for message, text in public_texts(world.discord) if message.channel is channel]
    assert shown and not [text for text in shown if "content filter" in text]
    assert _refunded(world.data_dir)
