"""A gallery belongs to the member who opened it: every control on it refuses anyone else.

The page buttons, the picture menu and the character menu share one owner check
(cogs/_shared/components.py ``for_owner_only``); each is pressed here by someone else.
"""

from __future__ import annotations

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import cid, open_gallery, options, say, seed


async def test_every_gallery_control_refuses_a_member_who_did_not_open_it(
    start_bot: StartBot, world: World
) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    await seed(world.data_dir, world.guild.id, [alice.id], 11)
    await start_bot()
    gallery = await open_gallery(alice)
    picture = options(gallery, "gal:o:")[0]["value"]
    character = options(gallery, "gal:c:")[0]["value"]

    presses = [
        await bob.click(gallery, cid(gallery, "gal:n:")),
        await bob.select(gallery, cid(gallery, "gal:o:"), [picture]),
        await bob.select(gallery, cid(gallery, "gal:c:"), [character]),
    ]
    for press in presses:
        refusal = await press.wait_for_reply(lambda m: m.ephemeral, timeout=10)
        assert refusal.content == say("gallery.not_yours")
    # Nothing changed for Alice: her gallery is still page 1, no picture was posted.
    unchanged = world.discord.message(gallery.id)
    assert unchanged.attachments[0].filename == gallery.attachments[0].filename
    posted = world.discord.bot_messages(world.guild.default_channel)
    assert [m.id for m in posted if not m.ephemeral] == [gallery.id]
