"""The job path adds nothing OpenAI's answer has to wait for (issue #27), end to end."""

from __future__ import annotations

from tests.e2e.conftest import StartBot
from tests.e2e.helpers import drawing, finished
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI


async def test_a_preview_still_on_its_way_never_delays_the_picture(
    start_bot: StartBot, fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    await start_bot(partial_images=2, progress_edit_seconds=0.2)
    alice = guild.add_member("alice")
    fake_openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await h.wait_original(drawing, timeout=10)
    # Discord is slow to answer the preview's edit: the bot hears nothing back for it.
    stall = fake_discord.stall_next("PATCH", r"/messages/@original$")
    fake_openai.release()
    await fake_discord.wait_for(lambda _f: stall.hits == 1, timeout=10, what="the preview")
    # The finished picture arrives anyway: the preview was dropped, not waited for.
    message = await h.wait_original(finished, timeout=15)
    assert message.attachments and not stall.released.is_set()
    stall.release()


async def test_after_a_late_channel_post_the_stale_drawing_notice_is_tidied(
    start_bot: StartBot, fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    await start_bot(partial_images=0)
    alice = guild.add_member("alice")
    fake_openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    notice = await h.wait_original(drawing, timeout=10)
    fake_discord.clock.advance(15 * 60)  # the token dies while the picture is drawn
    fake_openai.release()

    def posted(_f: FakeDiscord) -> object:
        return next(
            (m for m in fake_discord.bot_messages(guild.default_channel) if finished(m)), None
        )

    picture = await fake_discord.wait_for(posted, timeout=20, what="the late channel post")
    assert f"<@{alice.id}>" in (picture.content or "")  # type: ignore[attr-defined]
    # One finished picture in the channel, not a notice stuck on "Drawing…".
    await fake_discord.wait_for(
        lambda f: f.message(notice.id).deleted, timeout=10, what="the stale notice gone"
    )
