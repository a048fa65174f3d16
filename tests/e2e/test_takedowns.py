"""A member's deletion takes the pictures' messages off Discord, even when Discord fails
or the bot stops before it is done (bot/takedowns.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    cid,
    confirm,
    created,
    finished,
    image_ids,
    open_gallery,
    start_drawing,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Member
from tests.fakes.discord.records import Message

MESSAGE_DELETE = r"^/channels/\d+/messages/\d+$"
ORIGINAL_EDIT = r"/webhooks/\d+/[^/]+/messages/@original"


async def confirmed(
    member: Member, fake: FakeDiscord, command: str, done: str, **options: Any
) -> None:
    """Run a deletion command and press its confirmation; ``done`` shows once it is through."""
    ask = await member.slash(command, **options)
    await confirm(member, await ask.wait_original(lambda m: m.buttons, timeout=10), fake, done)


def all_deleted(fake: FakeDiscord, *messages: Message) -> bool:
    return all(fake.message(m.id).deleted for m in messages)


async def test_a_deleted_characters_messages_come_off_discord_after_a_restart(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot()
    alice = world.guild.add_member("alice")
    first = await created(alice, "Aiko")
    varied = await alice.slash("character vary", character="Aiko")
    second = await varied.wait_original(finished, timeout=20)
    # Discord fails every deletion (503) until the bot has stopped.
    outage = world.discord.fail_next("DELETE", MESSAGE_DELETE, status=503, times=10_000)

    await confirmed(alice, world.discord, "character delete", "🗑️", character="Aiko")
    await world.discord.wait_for(lambda _f: outage.hits >= 2, timeout=10, what="both tried")
    await bot.stop()
    assert not all_deleted(world.discord, first) and not all_deleted(world.discord, second)

    outage.times = 0  # Discord is back
    await start_bot()
    await world.discord.wait_for(
        lambda f: all_deleted(f, first, second), timeout=20, what="both messages taken down"
    )


# The deletion the crash cut off was carried out: after the restart Discord says it is gone.
@pytest.mark.provokes_violations("unknown_message")
async def test_a_crash_mid_takedown_leaves_no_erased_members_picture_on_discord(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot()
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    first, second = await created(alice, "Aiko"), await created(alice, "Rin")
    bobs = await created(bob, "Ren")
    # The first deletion is carried out, but the bot dies before it hears so.
    held = world.discord.stall_next("DELETE", MESSAGE_DELETE)

    await confirmed(alice, world.discord, "mydata delete", "✅")
    await world.discord.wait_for(lambda _f: held.hits == 1, timeout=10, what="a deletion held")
    await bot.kill()
    held.release()
    assert sum(world.discord.message(m.id).deleted for m in (first, second)) == 1

    await start_bot()
    await world.discord.wait_for(
        lambda f: all_deleted(f, first, second), timeout=20, what="alice's messages gone"
    )
    assert not world.discord.message(bobs.id).deleted


async def test_a_picture_deleted_while_it_is_being_posted_comes_off_discord(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    made = await start_drawing(world.openai, alice)
    # The post is carried out on Discord, but the bot has not heard so when Alice deletes.
    posting = world.discord.stall_next("PATCH", ORIGINAL_EDIT)
    world.openai.release()
    await world.discord.wait_for(lambda _f: posting.hits == 1, timeout=20, what="the post")
    await confirmed(alice, world.discord, "character delete", "🗑️", character="Aiko")
    posting.release()

    post = await made.wait_original(finished, timeout=10)
    await world.discord.wait_for(lambda f: f.message(post.id).deleted, timeout=10, what="gone")


async def test_a_gallery_repost_of_a_picture_deleted_meanwhile_comes_off_discord(
    start_bot: StartBot, world: World
) -> None:
    await start_bot()
    alice = world.guild.add_member("alice")
    original = await created(alice, "Aiko")
    gallery = await open_gallery(alice)
    posting = world.discord.stall_next("PATCH", ORIGINAL_EDIT)
    opened = await alice.select(gallery, cid(gallery, "gal:o:"), [str(image_ids(original)[0])])
    await world.discord.wait_for(lambda _f: posting.hits == 1, timeout=20, what="the re-post")
    deleting = await alice.click(original, cid(original, "pic:del:"))
    await deleting.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    posting.release()

    repost = await opened.wait_original(finished, timeout=10)
    await world.discord.wait_for(
        lambda f: f.message(repost.id).deleted and f.message(original.id).deleted, timeout=10
    )


async def opened_privately(member: Member) -> tuple[Message, Message]:
    """The member's picture of a character made private, and that picture opened from the
    gallery (a message only the member sees)."""
    posted = await created(member, "Aiko")
    hide = await member.slash("character private", character="Aiko", hidden=True)
    await hide.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    gallery = await open_gallery(member)
    opening = await member.select(gallery, cid(gallery, "gal:o:"), [str(image_ids(posted)[0])])
    opened = await opening.wait_original(finished, timeout=15)
    assert opened.ephemeral and opened.attachments
    return posted, opened


async def test_deleting_a_private_picture_opened_privately_empties_that_message(
    start_bot: StartBot, world: World
) -> None:
    await start_bot()
    alice = world.guild.add_member("alice")
    posted, opened = await opened_privately(alice)

    await alice.click(opened, cid(opened, "pic:del:"))
    emptied = await world.discord.wait_for(
        lambda f: "Deleted 1 picture" in f.message(opened.id).content and f.message(opened.id),
        timeout=10,
        what="the private message emptied",
    )
    assert not emptied.attachments and not emptied.embeds and not emptied.buttons
    await world.discord.wait_for(lambda f: f.message(posted.id).deleted, timeout=10)


async def test_delete_on_a_private_picture_already_deleted_says_so(
    start_bot: StartBot, world: World
) -> None:
    await start_bot()
    alice = world.guild.add_member("alice")
    _posted, opened = await opened_privately(alice)
    await confirmed(alice, world.discord, "character delete", "🗑️", character="Aiko")

    pressed = await alice.click(opened, cid(opened, "pic:del:"))
    told = await pressed.wait_for_reply(lambda m: m.ephemeral and m.id != opened.id, timeout=10)
    assert "no longer exists" in told.content
