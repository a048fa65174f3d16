"""A refusal that comes after the interaction's 15 minutes still reaches its member, and
its reason still stays private: by direct message, with a notice in the channel that names
no reason (every answer arrives; refusals are never explained in public)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import StartBot
from tests.e2e.helpers import db_value, drawing
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild, Member
from tests.fakes.discord.records import Message
from tests.fakes.openai import FakeOpenAI


async def _late_notice(fake: FakeDiscord, guild: Guild, member: Member, notice: Message) -> Message:
    """The bot's channel post that names ``member``, other than their own stale notice."""

    def posted(f: FakeDiscord) -> Message | None:
        return next(
            (
                m
                for m in f.bot_messages(guild.default_channel)
                if m.id != notice.id and f"<@{member.id}>" in (m.content or "")
            ),
            None,
        )

    found = await fake.wait_for(posted, timeout=20, what="the late channel notice")
    assert isinstance(found, Message)
    return found


@pytest.mark.parametrize("dms_open", [True, False], ids=["dms-open", "dms-closed"])
async def test_a_refusal_after_the_token_died_reaches_the_member_privately(
    start_bot: StartBot,
    fake_discord: FakeDiscord,
    fake_openai: FakeOpenAI,
    guild: Guild,
    data_dir: Path,
    dms_open: bool,
) -> None:
    await start_bot(partial_images=0)
    alice = guild.add_member("alice")
    alice.dms_open = dms_open
    fake_openai.hold()
    h = await alice.slash("character create", name="Rin", description="a fox spirit")
    notice = await h.wait_original(drawing, timeout=10)
    fake_discord.clock.advance(15 * 60)  # the token dies while the job waits for the API
    fake_openai.block_text("fox spirit")  # the image model refuses it: a settled failure
    fake_openai.release()

    posted = await _late_notice(fake_discord, guild, alice, notice)
    # It names the member without pinging anyone, and never the reason.
    assert posted.allowed_mentions is not None and not posted.allowed_mentions.get("parse")
    assert "content filter" not in (posted.content or "")
    assert "not charged" in (posted.content or "")
    dm = fake_discord.dm_channel(alice)
    dms = fake_discord.bot_messages(dm) if dm is not None else []
    if dms_open:
        assert "direct message" in (posted.content or "")
        assert len(dms) == 1 and "content filter" in (dms[0].content or "")
    else:
        assert "closed" in (posted.content or "") and not dms
    # The stale "Drawing…" notice is tidied: one answer in the channel, not a stuck one.
    await fake_discord.wait_for(
        lambda f: f.message(notice.id).deleted, timeout=10, what="the stale notice gone"
    )
    # Refunded: the failed job is not charged against the member's quota.
    assert db_value(data_dir, "SELECT state FROM jobs") == "failed"
    assert db_value(data_dir, "SELECT charged FROM jobs") == 0


async def test_a_failure_after_the_token_died_is_posted_and_the_notice_tidied(
    start_bot: StartBot,
    fake_discord: FakeDiscord,
    fake_openai: FakeOpenAI,
    guild: Guild,
    data_dir: Path,
) -> None:
    """Any other failure is no secret: the channel hears it with its reason."""
    await start_bot(partial_images=0, max_attempts=1)
    alice = guild.add_member("alice")
    fake_openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    notice = await h.wait_original(drawing, timeout=10)
    fake_discord.clock.advance(15 * 60)
    fake_openai.inject("server_error")  # its only attempt fails: the job ends failed
    fake_openai.release()

    posted = await _late_notice(fake_discord, guild, alice, notice)
    assert "could not be made" in (posted.content or "")
    assert posted.allowed_mentions is not None and not posted.allowed_mentions.get("parse")
    await fake_discord.wait_for(
        lambda f: f.message(notice.id).deleted, timeout=10, what="the stale notice gone"
    )
    assert db_value(data_dir, "SELECT state FROM jobs") == "failed"
    assert db_value(data_dir, "SELECT charged FROM jobs") == 0
