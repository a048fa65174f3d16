"""Server stickers and emoji from a picture, end to end (issue #23).

Only members with Manage Expressions may add them, checked when the button is pressed and
again when the form comes back; the bot needs the permission too. The fake Discord records
each Create Guild Sticker / Create Guild Emoji request with its file, holds it to Discord's
limits, and answers a full server with Discord's own error codes.
"""

from __future__ import annotations

import io

from PIL import Image

from tests.e2e.conftest import World
from tests.e2e.helpers import (
    button,
    character_of,
    created,
    finished,
    image_ids,
    query,
    refusal,
    say,
    stored_picture,
)
from tests.e2e.test_creator_tools import keep_for_review
from tests.fakes.discord.expressions import (
    EMOJI_MAX_BYTES,
    STICKER_MAX_BYTES,
    expressions_of,
    fill_emojis,
    fill_stickers,
)
from tests.fakes.discord.models import Guild, Member
from tests.fakes.discord.permissions import DEFAULT_BOT_PERMISSIONS, Permissions
from tests.fakes.discord.records import Message

MANAGE_EXPRESSIONS = int(Permissions.MANAGE_GUILD_EXPRESSIONS)


def bot_may_manage_expressions(guild: Guild) -> None:
    """The invite's permissions with Manage Expressions, as the README's URL asks."""
    guild.set_bot_permissions(int(DEFAULT_BOT_PERMISSIONS) | MANAGE_EXPRESSIONS)


async def cutout(member: Member, name: str = "Aiko") -> Message:
    """A finished picture with a transparent background."""
    return await created(member, name, "silver hair", background="transparent")


async def add_sticker(member: Member, picture: Message, **values: str) -> str:
    """Press Add as sticker, fill the form, and return the private answer."""
    opened = await member.click(picture, button(picture, "sticker"))
    await opened.wait_ack()
    assert opened.modal is not None, "the sticker form did not open"
    form = {"sticker_name": "Aiko waving", "sticker_tag": "😊", "sticker_description": ""}
    submitted = await opened.submit_modal({**form, **values})
    return await refusal(submitted)


async def add_emoji(member: Member, picture: Message, name: str = "aiko_smile") -> str:
    opened = await member.click(picture, button(picture, "emoji"))
    await opened.wait_ack()
    assert opened.modal is not None, "the emoji form did not open"
    submitted = await opened.submit_modal({"emoji_name": name})
    return await refusal(submitted)


async def test_an_admin_adds_a_sticker_and_an_emoji_from_a_transparent_picture(
    bot: object, world: World
) -> None:
    guild = world.guild
    bot_may_manage_expressions(guild)
    admin = guild.add_member("admin", admin=True)
    picture = await cutout(admin)

    answer = await add_sticker(admin, picture, sticker_description="Aiko waves hello")
    assert answer == say("creator.sticker_added", name="Aiko waving", id=image_ids(picture)[0])
    [sticker] = expressions_of(guild).created
    assert sticker.kind == "sticker" and sticker.name == "Aiko waving"
    assert sticker.fields["tags"] == "😊" and sticker.fields["description"] == "Aiko waves hello"
    assert len(sticker.data) <= STICKER_MAX_BYTES
    image = sticker.image
    assert image.format == "PNG" and image.size == (320, 320)
    assert image.convert("RGBA").getpixel((0, 0))[3] == 0  # the cut-out's background
    keep_for_review("sticker-320.png", sticker.data)

    answer = await add_emoji(admin, picture)
    assert "aiko_smile" in answer and "is now one of this server's emoji" in answer
    emoji = expressions_of(guild).created[-1]
    assert emoji.kind == "emoji" and emoji.name == "aiko_smile"
    assert len(emoji.data) <= EMOJI_MAX_BYTES and emoji.size == (128, 128)
    assert emoji.image.format == "PNG"
    keep_for_review("emoji-128.png", emoji.data)

    # A taken name, and one Discord would refuse, are explained before anything is sent.
    taken = await add_sticker(admin, picture, sticker_name="aiko  WAVING")
    assert taken == say("creator.error_sticker_name_taken", name="aiko WAVING")
    assert await add_sticker(admin, picture, sticker_tag="smile") == say(
        "creator.error_sticker_tag"
    )
    taken = await add_emoji(admin, picture, name="AIKO_smile")
    assert taken == say("creator.error_emoji_name_taken", name="AIKO_smile")
    invalid = await add_emoji(admin, picture, name="aiko smile!")
    assert invalid == say("creator.error_emoji_name")
    assert len(expressions_of(guild).created) == 2
    assert query(world.data_dir, "SELECT COUNT(*) FROM jobs WHERE kind != 'create'") == [(0,)]


async def test_members_without_manage_expressions_are_refused_then_and_at_submit(
    bot: object, guild: Guild
) -> None:
    bot_may_manage_expressions(guild)
    alice = guild.add_member("alice")
    picture = await cutout(alice)
    pressed = await alice.click(picture, button(picture, "sticker"))
    assert await refusal(pressed) == say("creator.error_member_permission")
    assert pressed.modal is None

    # Allowed when the form opened, no longer when it came back: refused at run time.
    role = guild.add_role("Emoji keepers", MANAGE_EXPRESSIONS)
    carol = guild.add_member("carol", roles=[role])
    opened = await carol.click(picture, button(picture, "emoji"))
    await opened.wait_ack()
    assert opened.modal is not None
    guild.set_role_permissions(role, 0)
    submitted = await opened.submit_modal({"emoji_name": "aiko"})
    assert await refusal(submitted) == say("creator.error_member_permission")
    assert expressions_of(guild).created == []


async def test_full_slots_and_a_missing_bot_permission_are_explained(
    bot: object, guild: Guild
) -> None:
    admin = guild.add_member("admin", admin=True)
    picture = await cutout(admin)

    # The invite's default permissions lack Manage Expressions.
    pressed = await admin.click(picture, button(picture, "emoji"))
    assert await refusal(pressed) == say("creator.error_bot_permission")

    bot_may_manage_expressions(guild)
    fill_stickers(guild, 5)  # no boost: 5 sticker slots
    assert await add_sticker(admin, picture) == say("creator.error_sticker_slots_full", count=5)
    fill_emojis(guild, 50)  # no boost: 50 emoji slots
    assert await add_emoji(admin, picture) == say("creator.error_emoji_slots_full", count=50)
    assert expressions_of(guild).created == []

    # Boosted: 15 sticker slots. GUILD_UPDATE reaches the bot on the gateway before the
    # button press does (one ordered connection).
    guild.set_premium_tier(1)
    answer = await add_sticker(admin, picture)
    assert answer == say("creator.sticker_added", name="Aiko waving", id=image_ids(picture)[0])


async def test_an_opaque_picture_gets_a_charged_cutout_suggestion(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    bot_may_manage_expressions(guild)
    admin = guild.add_member("admin", admin=True)
    opaque = await created(admin, "Aiko", "silver hair")
    opaque_id = image_ids(opaque)[0]

    pressed = await admin.click(opaque, button(opaque, "sticker"))
    suggestion = await pressed.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert suggestion.content == say("creator.cutout_suggestion", id=opaque_id)
    assert pressed.modal is None and not expressions_of(guild).created

    redraw = await admin.click(suggestion, button(suggestion, "cutout"))
    cut = await redraw.wait_original(finished, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    assert edit.background == "transparent"
    assert edit.size == "1024x1536"  # the shape of the picture it redraws
    assert edit.images[0].data == stored_picture(data_dir, opaque_id)
    assert query(data_dir, "SELECT state, charged FROM jobs WHERE kind = 'cutout'") == [("done", 1)]
    cut_png = cut.attachments[0].data
    assert Image.open(io.BytesIO(cut_png)).getpixel((0, 0))[3] == 0
    keep_for_review("cutout.png", cut_png)

    answer = await add_emoji(admin, cut, name="aiko")
    assert "is now one of this server's emoji" in answer


async def test_a_private_picture_never_becomes_a_sticker_or_emoji_of_another_member(
    bot: object, world: World
) -> None:
    """SECURITY.md: a private character (or a private server gallery) holds everywhere a
    picture is read. A keeper of the server's emoji may not turn it into one."""
    guild, data_dir = world.guild, world.data_dir
    bot_may_manage_expressions(guild)
    alice = guild.add_member("alice")
    bob = guild.add_member("bob", roles=[guild.add_role("Emoji keepers", MANAGE_EXPRESSIONS)])
    admin = guild.add_member("admin", admin=True)
    picture = await cutout(alice)
    aiko = character_of(data_dir, image_ids(picture)[0])

    # Bob opens the form while the picture is public; Alice makes Aiko private meanwhile.
    opened = await bob.click(picture, button(picture, "emoji"))
    await opened.wait_ack()
    assert opened.modal is not None
    made_private = await alice.slash("character private", character=str(aiko), hidden=True)
    await made_private.wait_for_reply(lambda m: bool(m.content), timeout=10)
    submitted = await opened.submit_modal({"emoji_name": "aiko"})
    assert await refusal(submitted) == say("error.character_not_found")
    for kind in ("sticker", "emoji"):
        pressed = await bob.click(picture, button(picture, kind))
        assert await refusal(pressed) == say("error.character_not_found")
        assert pressed.modal is None

    # Public again, but the server's gallery shows members only their own pictures.
    made_public = await alice.slash("character private", character=str(aiko), hidden=False)
    await made_public.wait_for_reply(lambda m: bool(m.content), timeout=10)
    turned = await admin.slash("config gallery", visibility="private")
    await turned.wait_original(lambda m: "Saved" in (m.content or ""), timeout=10)
    pressed = await bob.click(picture, button(picture, "sticker"))
    assert await refusal(pressed) == say("error.character_not_found")
    assert expressions_of(guild).created == []
