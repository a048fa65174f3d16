"""A member's deletion takes the pictures' messages off Discord, even when Discord fails
or the bot stops before it is done (bot/takedowns.py)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import confirm, created, finished
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.records import Message

MESSAGE_DELETE = r"^/channels/\d+/messages/\d+$"


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

    ask = await alice.slash("character delete", character="Aiko")
    await confirm(
        alice, await ask.wait_original(lambda m: m.buttons, timeout=10), world.discord, "🗑️"
    )
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

    ask = await alice.slash("mydata delete")
    await confirm(
        alice, await ask.wait_original(lambda m: m.buttons, timeout=10), world.discord, "✅"
    )
    await world.discord.wait_for(lambda _f: held.hits == 1, timeout=10, what="a deletion held")
    await bot.kill()
    held.release()
    assert sum(world.discord.message(m.id).deleted for m in (first, second)) == 1

    await start_bot()
    await world.discord.wait_for(
        lambda f: all_deleted(f, first, second), timeout=20, what="alice's messages gone"
    )
    assert not world.discord.message(bobs.id).deleted
