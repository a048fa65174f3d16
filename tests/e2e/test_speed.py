"""The job path adds nothing OpenAI's answer has to wait for (issue #27), end to end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.jobs.previews import PREVIEWS_UP_TO
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    create,
    drawing,
    finished,
    image_id,
    open_gallery,
    options,
    picture_size,
    query,
    start_drawing,
    stored_picture,
)
from tests.e2e.test_storage_faults import mounted_tmpfs, remount
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild, Member
from tests.fakes.discord.records import Message
from tests.fakes.discord.server import Stall
from tests.fakes.openai import FakeOpenAI
from tests.fakes.openai.images import expected_color


async def test_a_preview_still_on_its_way_never_delays_the_picture(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(partial_images=2, progress_edit_seconds=0.2)
    alice = world.guild.add_member("alice")
    world.openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await h.wait_original(drawing, timeout=10)
    # Discord is slow to answer the preview's edit: the bot hears nothing back for it.
    stall = world.discord.stall_next("PATCH", r"/messages/@original$")
    world.openai.release()
    await world.discord.wait_for(lambda _f: stall.hits == 1, timeout=10, what="the preview")
    # The finished picture arrives anyway: the preview was dropped, not waited for.
    message = await h.wait_original(finished, timeout=15)
    assert message.attachments and not stall.released.is_set()
    stall.release()


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_after_a_late_channel_post_the_stale_drawing_notice_is_tidied(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    world.openai.hold()
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    notice = await h.wait_original(drawing, timeout=10)
    world.discord.clock.advance(15 * 60)  # the token dies while the picture is drawn
    world.openai.release()

    def posted(_f: FakeDiscord) -> object:
        return next(
            (m for m in world.discord.bot_messages(world.guild.default_channel) if finished(m)),
            None,
        )

    picture = await world.discord.wait_for(posted, timeout=20, what="the late channel post")
    assert f"<@{alice.id}>" in (picture.content or "")  # type: ignore[attr-defined]
    # One finished picture in the channel, not a notice stuck on "Drawing…".
    await world.discord.wait_for(
        lambda f: f.message(notice.id).deleted, timeout=10, what="the stale notice gone"
    )


async def test_previews_are_asked_for_only_while_few_jobs_draw(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    busy = PREVIEWS_UP_TO + 2
    await start_bot(partial_images=1, max_concurrent_jobs=str(busy), images_per_minute="100")
    members = [guild.add_member(f"member{i}") for i in range(busy)]
    fake_openai.hold()
    handles = [await create(m, name=f"Chara{i}") for i, m in enumerate(members)]
    await fake_openai.wait_for(lambda: fake_openai.held_count == busy)
    # The first few stream a preview; the rest ask for no partial pictures (no tokens, no
    # Discord edits, no CPU for previews) while that many draw at once.
    streamed = [r for r in fake_openai.image_requests if r.stream]
    assert len(streamed) == PREVIEWS_UP_TO
    assert all(r.partial_images == 1 for r in streamed)
    plain = [r for r in fake_openai.image_requests if not r.stream]
    assert len(plain) == busy - PREVIEWS_UP_TO and all(not r.partial_images for r in plain)
    fake_openai.release()
    for handle in handles:  # every member gets the picture all the same
        assert (await handle.wait_original(finished, timeout=30)).attachments
    # Once they are done, a lone job shows its preview again.
    alone = await create(members[0], name="Alone")
    await alone.wait_original(finished, timeout=20)
    assert fake_openai.image_requests[-1].stream


async def test_a_thumbnail_failing_after_the_post_loses_nothing(
    start_bot: StartBot, world: World
) -> None:
    data_dir = world.data_dir
    with mounted_tmpfs(data_dir / "images", "64m") as images:
        bot = await start_bot(partial_images=0)
        # The picture reaches Discord; the bot hears so only once the disk went read-only.
        alice, message, stall = await posted_unheard(world)
        picture = image_id(message)
        remount(images, "ro")
        stall.release()
        await bot.wait_for_log(rf"Thumbnails of pictures \[{picture}\] not made now", 10)
        remount(images, "rw")
        # Posted once, kept whole, charged once, and known as delivered.
        assert stored_picture(data_dir, picture) == message.attachments[0].data
        assert query(data_dir, "SELECT state, charged, delivered FROM jobs") == [("done", 1, 1)]
        assert [m for m in world.discord.bot_messages(world.guild.default_channel)] == [message]
        await gallery_shows(alice, data_dir, picture)
        await bot.stop()


async def test_a_crash_between_the_post_and_the_thumbnail_leaves_a_whole_gallery(
    start_bot: StartBot, world: World
) -> None:
    data_dir = world.data_dir
    bot = await start_bot(partial_images=0)
    alice, message, stall = await posted_unheard(world)
    picture = image_id(message)
    await bot.kill()  # posted, stored, but no thumbnail (nor "delivered") yet
    stall.release()
    assert query(data_dir, "SELECT thumb_path FROM images") == [(None,)]
    await start_bot(partial_images=0)
    await gallery_shows(alice, data_dir, picture)
    # Not posted again, not drawn (or charged) again.
    posts = [m.id for m in world.discord.bot_messages(world.guild.default_channel) if finished(m)]
    assert posts == [message.id]
    assert len(world.openai.image_requests) == 1
    assert query(data_dir, "SELECT state, charged FROM jobs") == [("done", 1)]


async def posted_unheard(world: World) -> tuple[Member, Message, Stall]:
    """A new member's picture is on Discord, but Discord's answer is held from the bot until
    the returned stall is released (no thumbnail yet, not yet known as delivered)."""
    member = world.guild.add_member("alice")
    h = await start_drawing(world.openai, member)
    stall = world.discord.stall_next("PATCH", r"/messages/@original$")
    world.openai.release()
    return member, await h.wait_original(finished, timeout=20), stall


async def gallery_shows(member: Member, data_dir: Path, picture: int) -> None:
    """The member's gallery lists ``picture`` with a real thumbnail, stored from now on."""
    page = await open_gallery(member)
    assert [int(o["value"]) for o in options(page, "gal:o:")] == [picture]
    (thumb,) = query(data_dir, "SELECT thumb_path FROM images WHERE id = ?", picture)[0]
    assert thumb and picture_size((data_dir / "images" / thumb).read_bytes())[0] <= 256


async def test_the_preview_a_member_sees_is_a_small_webp_of_the_partial_picture(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    """Shrunk cheaply (make_preview), the preview still shows the drawing: the partial
    picture's own colours, its proportions, inside 512 px, as a WebP."""
    await start_bot(partial_images=1)
    alice = guild.add_member("alice")
    fake_openai.hold_finals()  # the preview is shown before the picture replaces it
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await h.wait_original(lambda m: bool(m.attachments) and not finished(m), 20)
    fake_openai.release_finals()
    message = await h.wait_original(finished, timeout=20)

    previews = [s for s in message.history if s.attachments and not finished(s)]
    assert previews, message.history
    preview = previews[0].attachments[0]
    assert preview.filename == "preview.webp"
    picture = Image.open(io.BytesIO(preview.data))
    assert picture.format == "WEBP" and picture.size == (341, 512)  # 1024 x 1536, shrunk
    # The partial's background is the final picture's, darker (the fake's last partial).
    prompt = fake_openai.image_requests[0].prompt or ""
    background = tuple(round(c * 0.85) for c in expected_color(prompt))
    corner = picture.convert("RGB").getpixel((2, 2))
    assert isinstance(corner, tuple)
    assert all(abs(a - b) <= 12 for a, b in zip(corner, background, strict=True)), (
        corner,
        background,
    )


async def test_a_job_that_starts_at_once_goes_straight_to_drawing(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    """No "⏳ Queued" edit for a job nothing waits ahead of (one Discord round trip fewer on
    the member's path); a job that does wait is still told its place first."""
    await start_bot(max_concurrent_jobs=1, partial_images=0)
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    fake_openai.hold()
    first = await alice.slash("character create", name="Aiko", description="silver hair")
    await first.wait_original(drawing, timeout=10)
    second = await bob.slash("character create", name="Bea", description="red hair")
    await second.wait_original(lambda m: "position 1" in (m.content or ""), timeout=10)
    fake_openai.release()

    for handle in (first, second):
        await handle.wait_original(finished, timeout=20)
    lone = [state.content for state in first.record.original.states]  # type: ignore[union-attr]
    waited = [state.content for state in second.record.original.states]  # type: ignore[union-attr]
    assert not any(text.startswith("⏳") for text in lone), lone
    assert any(text.startswith("🎨") for text in lone), lone
    told = next(i for i, text in enumerate(waited) if text.startswith("⏳"))
    assert any(text.startswith("🎨") for text in waited[told:]), waited
