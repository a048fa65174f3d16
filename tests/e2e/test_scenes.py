"""/character scene, end to end: members' characters meet in one picture.

A scene is an images.edit whose reference images show every character in it, in the order
the prompt names them; who may be in it is one consent rule, checked when the member asks
and again when the job runs (bot/jobs/scene_cast.py).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    admin_says,
    character_of,
    cid,
    confirm,
    db_value,
    drawn_character,
    embed_text,
    finished,
    image_id,
    open_gallery,
    options,
    query,
    refusal,
    say,
    stored_picture,
    stored_text,
)
from tests.fakes.discord import ATTACH_FILES
from tests.fakes.discord.models import Guild, Member
from tests.fakes.discord.records import Message

# Where to keep the pictures a test makes, to look at them (unset: not kept).
ARTIFACTS = os.environ.get("SCENE_ARTIFACTS")


def scene_posted(message: object) -> bool:
    """The scene is posted: its pictures and the scene's buttons under them."""
    return bool(getattr(message, "attachments", None)) and any(
        cid.startswith("pic:svary:") for cid in getattr(message, "custom_ids", [])
    )


def keep_picture(name: str, data: bytes) -> None:
    """Keep a picture the bot posted, to look at it (SCENE_ARTIFACTS=folder)."""
    if ARTIFACTS:
        Path(ARTIFACTS, name).write_bytes(data)


def scene_button(message: Message, action: str) -> str:
    return next(c for c in message.custom_ids if c.startswith(f"pic:{action}:"))


def scene_image(message: Message) -> int:
    return int(scene_button(message, "svary").split(":")[2])


async def open_scenes(admin: Member) -> None:
    """The server lets members put others' public characters in their scenes."""
    await admin_says(admin, "config scenes", say("scene.config.mode_any"), mode="any")


async def scene(member: Member, *characters: int, setting: str = "sharing ramen") -> Any:
    names = ["first", "second", "third", "fourth"]
    options = {names[i]: str(c) for i, c in enumerate(characters)}
    return await member.slash("character scene", setting=setting, **options)


async def three_members(guild: Guild, data_dir: Path) -> tuple[list[Member], list[int], list[int]]:
    """Alice's Aiko, Bob's Ren and Carol's Mika, drawn, on a server open to scenes:
    (members, characters, their main pictures)."""
    admin = guild.add_member("admin", admin=True)
    members = [guild.add_member(name) for name in ("alice", "bob", "carol")]
    characters, mains = [], []
    for member, (name, looks) in zip(
        members,
        [("Aiko", "silver hair"), ("Ren", "black coat"), ("Mika", "pink bob cut")],
        strict=True,
    ):
        _, main, character = await drawn_character(member, data_dir, name, looks)
        characters.append(character)
        mains.append(main)
    await open_scenes(admin)
    return members, characters, mains


async def card_text(member: Member, character: int) -> str:
    """The text of a character's card, as ``member`` sees it with /character show."""
    handle = await member.slash("character show", character=str(character))
    card = await handle.wait_original(lambda m: bool(m.attachments), timeout=15)
    return str(card.embeds[0]["description"])


async def listing(member: Member, character: int) -> str:
    """The page line of ``/gallery character:`` (how many pictures it lists)."""
    return str((await gallery_page(member, character)).embeds)


async def gallery_page(member: Member, character: int) -> Message:
    """The first page of ``/gallery character:`` as ``member`` sees it."""
    handle = await member.slash("gallery", character=str(character))
    return await handle.wait_original(lambda m: m.attachments, timeout=15)


def scene_jobs(data_dir: Path) -> list[tuple[Any, ...]]:
    return query(data_dir, "SELECT state, charged FROM jobs WHERE kind = 'scene' ORDER BY id")


# --------------------------------------------------------------------------- the scene


def cast_of(data_dir: Path, picture: int) -> list[int]:
    """The characters of the scene a picture belongs to, in the order they were named."""
    scene_id = db_value(data_dir, "SELECT scene_id FROM images WHERE id = ?", picture)
    rows = query(
        data_dir,
        "SELECT character_id FROM scene_characters WHERE scene_id = ? ORDER BY position",
        scene_id,
    )
    return [row[0] for row in rows]


async def test_two_members_characters_meet_in_one_scene(bot: object, world: World) -> None:
    guild, data_dir = world.guild, world.data_dir
    admin = guild.add_member("admin", admin=True)
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    _, aiko_main, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair, red eyes")
    _, ren_main, ren = await drawn_character(bob, data_dir, "Ren", "black coat, green scarf")
    await open_scenes(admin)

    handle = await scene(alice, aiko, ren, setting="sharing ramen at a night market")
    message = await handle.wait_original(scene_posted, timeout=20)

    # One edit request: both main pictures, in the order the prompt names the characters.
    edit = world.openai.requests_for("edits")[-1]
    sent = [image.data for image in edit.images]
    assert sent.index(stored_picture(data_dir, aiko_main)) < sent.index(
        stored_picture(data_dir, ren_main)
    )
    prompt = edit.prompt or ""
    for fact in ("silver hair, red eyes", "black coat, green scarf", "ramen at a night market"):
        assert fact in prompt
    assert prompt.index("Aiko") < prompt.index("Ren")
    assert "Reference image 1 shows Aiko" in prompt and "Reference image 2 shows Ren" in prompt

    # The post names every character and its creator by name, and pings nobody.
    embed = message.embeds[0]
    assert "Aiko" in embed["title"] and "Ren" in embed["title"]
    assert "**Aiko**, created by Alice" in embed["description"]
    assert "**Ren**, created by Bob" in embed["description"]
    assert "<@" not in embed_text(message) and not message.content
    assert message.allowed_mentions is None or not any(
        message.allowed_mentions.get(kind) for kind in ("users", "roles", "replied_user")
    )
    actions = sorted(cid.split(":")[1] for cid in message.custom_ids)
    assert actions == ["del", "fav", "shide", "sreroll", "svary"]

    # Stored once, linked to both, charged to the member who asked.
    picture = scene_image(message)
    assert cast_of(data_dir, picture) == [aiko, ren]
    assert query(data_dir, "SELECT user_id, charged FROM jobs WHERE kind = 'scene'") == [
        (alice.id, 1)
    ]
    keep_picture("scene-result.png", message.attachments[0].data)

    # Each character's card says it is in a scene.
    card = await (await bob.slash("character show", character=str(ren))).wait_original(
        lambda m: bool(m.attachments), timeout=15
    )
    assert "in 1 scene" in card.embeds[0]["description"]
    keep_picture("scene-card.png", card.attachments[0].data)
    # ...and the scene is not one of its own pictures (never a reference of its variations).
    assert db_value(data_dir, "SELECT canonical_image_id FROM characters WHERE id = ?", ren) == (
        ren_main
    )


async def test_vary_scene_edits_the_scene_and_only_its_maker_rerolls_it(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    _, aiko_main, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair")
    _, _, mika = await drawn_character(alice, data_dir, "Mika", "pink bob cut")
    posted = await (await scene(alice, aiko, mika)).wait_original(scene_posted, timeout=20)
    picture = scene_image(posted)

    # Vary scene: the earlier scene goes first, then each character's references.
    opened = await alice.click(posted, scene_button(posted, "svary"))
    await opened.wait_ack()
    assert opened.modal is not None and f"#{picture}" in opened.modal["title"]
    submitted = await opened.submit_modal({"change": "it starts to rain"})
    varied = await submitted.wait_original(scene_posted, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    assert edit.images[0].data == stored_picture(data_dir, picture)
    assert edit.images[1].data == stored_picture(data_dir, aiko_main)
    assert "Change only: it starts to rain." in (edit.prompt or "")
    assert f"Edit of** #{picture}" in varied.embeds[0]["description"]

    # Re-roll: someone else is refused privately; the maker gets the scene again.
    text = await refusal(await bob.click(varied, scene_button(varied, "sreroll")))
    assert text == say("error.reroll_not_owner")
    press = await alice.click(varied, scene_button(varied, "sreroll"))
    await press.wait_original(scene_posted, timeout=20)
    again = world.openai.requests_for("edits")[-1]
    assert again.prompt == edit.prompt and len(again.images) == len(edit.images)
    assert scene_jobs(data_dir) == [("done", 1)] * 3

    # Where the bot could no longer post the scene, Vary scene refuses before the form.
    guild.set_bot_channel_permissions(guild.default_channel, deny=ATTACH_FILES)
    pressed = await alice.click(posted, scene_button(posted, "svary"))
    assert "Attach Files" in await refusal(pressed)
    assert pressed.modal is None


# --------------------------------------------------------------------------- consent


async def test_refusals_are_private_and_cost_nothing(bot: object, world: World) -> None:
    guild, data_dir = world.guild, world.data_dir
    admin = guild.add_member("admin", admin=True)
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    _, _, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair")
    _, _, ren = await drawn_character(bob, data_dir, "Ren", "black coat")
    edits_before = len(world.openai.requests_for("edits"))

    # Out of the box a server allows scenes with one's own characters only.
    text = await refusal(await scene(alice, aiko, ren))
    assert text == say("scene.error.own_only", name="Ren")

    # Allowed by the server, but Bob keeps Ren out of others' scenes...
    await open_scenes(admin)
    switched = await bob.slash("character scenes", character=str(ren), allowed=False)
    await switched.wait_for_reply(lambda m: "stays out" in (m.content or ""), timeout=10)
    text = await refusal(await scene(alice, aiko, ren))
    assert text == say("scene.error.opted_out", name="Ren")

    # ...or Ren is private: Alice is told as of any character she cannot see.
    await (await bob.slash("character scenes", character=str(ren), allowed=True)).wait_for_reply(
        lambda m: m.ephemeral, timeout=10
    )
    hidden = await bob.slash("character private", character=str(ren), hidden=True)
    await hidden.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    text = await refusal(await scene(alice, aiko, ren))
    assert text == say("error.character_not_found")

    # Nothing was queued, sent or charged.
    assert scene_jobs(data_dir) == []
    assert len(world.openai.requests_for("edits")) == edits_before
    charged = "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND charged = 1"
    assert db_value(data_dir, charged, alice.id) == 1  # Aiko's own picture only


async def test_a_character_made_private_while_the_scene_waits_is_not_sent(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    await start_bot(max_concurrent_jobs="1")
    (alice, bob, _), (aiko, ren, mika), (aiko_main, ren_main, mika_main) = await three_members(
        guild, data_dir
    )

    # A picture held at OpenAI keeps the only drawing slot busy: the scenes wait in line.
    world.openai.hold()
    busy = await alice.slash("character create", name="Busy", description="a placeholder")
    await world.openai.wait_for(lambda: world.openai.held_count == 1)
    three = await scene(alice, aiko, ren, mika, setting="a picnic")
    await three.wait_original(lambda m: "Queued" in (m.content or ""), timeout=10)
    two = await scene(alice, aiko, ren, setting="a duel")
    await two.wait_original(lambda m: "Queued" in (m.content or ""), timeout=10)

    hidden = await bob.slash("character private", character=str(ren), hidden=True)
    await hidden.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    world.openai.release()
    await busy.wait_original(lambda m: bool(m.attachments), timeout=20)

    # Three asked, two may still be used: drawn without Ren, and the post names only them.
    posted = await three.wait_original(scene_posted, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    sent = [image.data for image in edit.images]
    assert stored_picture(data_dir, ren_main) not in sent
    assert stored_picture(data_dir, aiko_main) in sent
    assert stored_picture(data_dir, mika_main) in sent
    assert "Ren" not in (edit.prompt or "") and "Ren" not in embed_text(posted)

    # Two asked, one left: no picture, a private explanation, nothing charged.
    text = await refusal(two)
    assert say("scene.error.withdrawn") in text
    assert scene_jobs(data_dir)[-1] == ("failed", 0)
    assert len(world.openai.requests_for("edits")) == 1


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_scene_withdrawn_after_its_token_died_is_explained_by_direct_message(
    start_bot: StartBot, world: World
) -> None:
    """Every answer arrives: a scene that waited past the interaction's 15 minutes and then
    lost a character still tells its maker why, privately (the reason names another
    member's choice), and the channel only that nothing was drawn or charged."""
    guild, data_dir = world.guild, world.data_dir
    await start_bot(max_concurrent_jobs="1", partial_images="0")
    (alice, bob, _), (aiko, ren, _), _ = await three_members(guild, data_dir)
    world.openai.hold()
    await alice.slash("character create", name="Busy", description="a placeholder")
    await world.openai.wait_for(lambda: world.openai.held_count == 1)
    two = await scene(alice, aiko, ren, setting="a duel")
    queued = await two.wait_original(lambda m: "Queued" in (m.content or ""), timeout=10)
    hidden = await bob.slash("character private", character=str(ren), hidden=True)
    await hidden.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    world.discord.clock.advance(15 * 60)  # the scene's token dies while it waits
    world.openai.release()  # the busy picture is posted late, then the scene's turn comes

    expected = say("delivery.refused_late", user=f"<@{alice.id}>")
    notice = await world.discord.wait_for_message(
        lambda m: m.by_bot and m.content == expected, channel=guild.default_channel, timeout=20
    )
    assert notice.allowed_mentions is not None and not notice.allowed_mentions.get("parse")
    dm = world.discord.dm_channel(alice)
    assert dm is not None
    assert any(
        say("scene.error.withdrawn") in (m.content or "") for m in world.discord.bot_messages(dm)
    )
    assert scene_jobs(data_dir)[-1] == ("failed", 0)
    assert len(world.openai.requests_for("edits")) == 0  # nothing was sent, nothing paid
    await world.discord.wait_for(
        lambda f: f.message(queued.id).deleted, timeout=10, what="the stale notice gone"
    )


# --------------------------------------------------------------------------- listings


async def test_hiding_and_deleting_a_scene_work_after_a_restart(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    first = await start_bot()
    (alice, bob, carol), (aiko, ren, _), _ = await three_members(guild, data_dir)
    posted = await (await scene(alice, aiko, ren)).wait_original(scene_posted, timeout=20)
    picture = scene_image(posted)

    assert await first.stop() == 0
    await start_bot()  # a new process: nothing of the old message is cached

    # The scene is listed under each of its characters, beside their own pictures, and its
    # tile is named after its cast, in the order the scene named them (not only Ren).
    page = await gallery_page(bob, ren)
    assert "2 pictures" in str(page.embeds)
    labels = [option["label"] for option in options(page, "gal:o:")]
    assert sorted(label.split(". ", 1)[1] for label in labels) == ["Aiko & Ren", "Ren"]
    assert "2 pictures" in await listing(alice, aiko)

    # Carol has no character in it: nothing to hide. Bob takes it out of Ren's listings.
    press = await carol.click(posted, scene_button(posted, "shide"))
    assert "None of your characters" in (await press.wait_for_reply(lambda m: m.ephemeral)).content
    press = await bob.click(posted, scene_button(posted, "shide"))
    hidden = await press.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "Ren" in hidden.content and "no longer shows" in hidden.content
    assert "scene" not in await card_text(bob, ren)
    assert "in 1 scene" in await card_text(alice, aiko)
    assert "1 picture" in await listing(bob, ren)  # gone from Ren's gallery filter
    assert "2 pictures" in await listing(alice, aiko)  # still under Aiko

    # Only its maker (or an admin) deletes it.
    press = await bob.click(posted, scene_button(posted, "del"))
    assert (await press.wait_for_reply(lambda m: m.ephemeral)).content == say(
        "error.delete_not_owner"
    )
    press = await alice.click(posted, scene_button(posted, "del"))
    await press.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    await world.discord.wait_for(lambda _f: world.discord.message(posted.id).deleted, timeout=10)
    assert db_value(data_dir, "SELECT COUNT(*) FROM images WHERE id = ?", picture) == 0


async def test_mydata_delete_takes_a_character_out_of_others_scenes(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    (_, bob, carol), (aiko, ren, mika), _ = await three_members(guild, data_dir)
    # Filed under Ren (its first character): Bob's erasure must not take Carol's scene.
    posted = await (await scene(carol, ren, mika, aiko)).wait_original(scene_posted, timeout=20)
    picture = scene_image(posted)

    bobs_post = db_value(data_dir, "SELECT message_id FROM images WHERE owner_id = ?", bob.id)
    prompt = await (await bob.slash("mydata delete")).wait_original(lambda m: m.buttons)
    await confirm(bob, prompt, world.discord, "✅")
    # Bob's own post goes (the bot removes it in the background); Carol's scene stays.
    await world.discord.wait_for(lambda _f: world.discord.message(bobs_post).deleted, timeout=10)

    row = query(data_dir, "SELECT character_id, owner_id, prompt FROM images WHERE id = ?", picture)
    assert row == [(mika, carol.id, "")]  # kept, refiled, without the words about Ren
    assert cast_of(data_dir, picture) == [mika, aiko]
    assert not world.discord.message(posted.id).deleted
    assert "black coat" not in json.dumps(query(data_dir, "SELECT prompt FROM jobs"))


# --------------------------------------------------------------------------- languages, limits


async def test_a_chinese_members_scene_reads_chinese(
    bot: object, guild: Guild, data_dir: Path
) -> None:
    mei = guild.add_member("mei", locale="zh-CN")
    _, _, xue = await drawn_character(mei, data_dir, "小雪", "银色长发")
    _, _, yue = await drawn_character(mei, data_dir, "小月", "黑色短发")
    posted = await (await scene(mei, xue, yue, setting="在夜市一起吃拉面")).wait_original(
        scene_posted, timeout=20
    )
    description = posted.embeds[0]["description"]
    assert "**场景：** 在夜市一起吃拉面" in description
    assert "**小雪**，创建者：Mei" in description and "2 个角色" in description
    labels = [b["label"] for b in posted.buttons]
    assert "修改同框图" in labels and "从我的角色中隐藏" in labels


async def test_the_post_fits_discord_limits_with_four_long_cjk_names(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    member = guild.add_member("m", global_name="長" * 32)
    names = [("春夏秋冬東西南北"[i] * 64) for i in range(4)]
    ids = [(await drawn_character(member, data_dir, name, "桜色の髪" * 100))[2] for name in names]
    posted = await (await scene(member, *ids, setting="夜" * 600)).wait_original(
        scene_posted, timeout=20
    )
    embed = posted.embeds[0]
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    total = sum(
        len(e.get("title") or "")
        + len(e.get("description") or "")
        + len((e.get("footer") or {}).get("text") or "")
        for e in posted.embeds
    )
    assert total <= 6000
    for name in names:
        assert name[:60] in embed["description"]


async def export_text(member: Member) -> str:
    """Everything ``member``'s /mydata export holds, as text (one small zip here)."""
    handle = await member.slash("mydata export")
    done = await handle.wait_original(lambda m: m.attachments, timeout=20)
    with zipfile.ZipFile(io.BytesIO(done.attachments[0].data)) as archive:
        return archive.read("characters.json").decode()


async def test_an_export_holds_no_words_of_another_members_scene(bot: object, world: World) -> None:
    """A scene is filed under its first character: Bob's scene that names Alice's Aiko first
    must not hand Alice his words (his setting, his private Ren's description)."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, _), (aiko, ren, _), _ = await three_members(guild, data_dir)
    hidden = await bob.slash("character private", character=str(ren), hidden=True)
    await hidden.wait_for_reply(lambda m: bool(m.content), timeout=10)
    made = await scene(bob, aiko, ren, setting="planning a secret picnic")
    await made.wait_original(scene_posted, timeout=20)

    alices = await export_text(alice)
    assert "silver hair" in alices  # her own words are all there
    assert "black coat" not in alices and "secret picnic" not in alices
    bobs = await export_text(bob)
    assert "black coat" in bobs and "secret picnic" in bobs  # his words are his


async def test_a_public_gallery_page_never_names_a_character_made_private_after_its_scene(
    bot: object, world: World
) -> None:
    """Bob makes Ren private after Alice's scene with him. A gallery page Bob opens in
    public (Alice's pictures, or Aiko's) lists the scene as Aiko's alone: Ren's name is
    only for answers nobody else sees."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, _), (aiko, ren, _), _ = await three_members(guild, data_dir)
    posted = await (await scene(alice, aiko, ren)).wait_original(scene_posted, timeout=20)
    picture = scene_image(posted)
    hidden = await bob.slash("character private", character=str(ren), hidden=True)
    await hidden.wait_for_reply(lambda m: m.ephemeral, timeout=10)

    for chosen in ({"member": alice}, {"character": str(aiko)}):
        handle = await bob.slash("gallery", options=chosen)
        page = await handle.wait_original(lambda m: bool(m.attachments), timeout=15)
        assert not page.ephemeral
        (tile,) = [o for o in options(page, "gal:o:") if o["value"] == str(picture)]
        assert "Aiko" in tile["label"] and "Ren" not in tile["label"]

    # His own private page still names Ren in the scene.
    handle = await bob.slash("gallery", options={"character": str(ren)})
    page = await handle.wait_original(lambda m: bool(m.attachments), timeout=15)
    assert page.ephemeral
    (tile,) = [o for o in options(page, "gal:o:") if o["value"] == str(picture)]
    assert "Ren" in tile["label"]


# ------------------------------------------------------------------- opened from the gallery


async def test_a_scene_opened_from_the_gallery_keeps_the_scenes_buttons_and_consent(
    bot: object, world: World
) -> None:
    """A scene picture shows every character in it. Opened from the gallery it keeps the
    scene's buttons (no plain Vary, sheet, avatar, sticker or emoji of its first character),
    so a character whose owner switched it out of scenes afterwards never reaches OpenAI
    through another member's press."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, carol), (aiko, ren, _), _ = await three_members(guild, data_dir)
    posted = await (await scene(alice, aiko, ren)).wait_original(scene_posted, timeout=20)
    picture = scene_image(posted)
    switched = await bob.slash("character scenes", character=str(ren), allowed=False)
    await switched.wait_for_reply(lambda m: "stays out" in (m.content or ""), timeout=10)
    edits_before = len(world.openai.requests_for("edits"))

    gallery = await open_gallery(carol)
    opened = await carol.select(gallery, cid(gallery, "gal:o:"), [str(picture)])
    repost = await opened.wait_original(lambda m: bool(m.attachments), timeout=15)
    actions = sorted(c.split(":")[1] for c in repost.custom_ids)
    assert actions == ["del", "fav", "shide", "sreroll", "svary"]

    # Carol's Vary scene would ask for Ren, who is out of others' scenes now: refused
    # privately at the press, before she types a change she would lose.
    press = await carol.click(repost, scene_button(repost, "svary"))
    assert await refusal(press) == say("scene.error.opted_out", name="Ren")
    assert press.modal is None
    assert len(world.openai.requests_for("edits")) == edits_before
    assert scene_jobs(data_dir) == [("done", 1)]


# ------------------------------------------------------------------- deleted while drawn


@pytest.mark.parametrize("ren_first", [False, True], ids=["ren-last", "ren-first"])
async def test_a_character_erased_while_its_scene_is_drawn_leaves_no_description(
    bot: object, world: World, ren_first: bool
) -> None:
    """Bob erases his data while Carol's scene with Ren is at OpenAI: the scene is posted
    without Ren (also when Ren came first, the character its pictures were to be filed
    under), charged once, and nothing Bob typed about Ren stays in the pictures' or the
    job's prompt: as when he erases it after the scene was drawn."""
    guild, data_dir = world.guild, world.data_dir
    (_, bob, carol), (aiko, ren, mika), _ = await three_members(guild, data_dir)
    world.openai.hold()
    cast = [ren, mika, aiko] if ren_first else [mika, aiko, ren]
    drawing = await scene(carol, *cast, setting="a picnic")
    await world.openai.wait_for(lambda: world.openai.held_count == 1)

    prompt = await (await bob.slash("mydata delete")).wait_original(lambda m: m.buttons)
    await confirm(bob, prompt, world.discord, "✅")
    world.openai.release()

    posted = await drawing.wait_original(scene_posted, timeout=20)
    assert "Ren" not in embed_text(posted)
    picture = scene_image(posted)
    assert cast_of(data_dir, picture) == [c for c in cast if c != ren]
    assert character_of(data_dir, picture) == cast[1] if ren_first else cast[0]
    assert scene_jobs(data_dir) == [("done", 1)]
    assert "black coat" not in stored_text(data_dir)


async def test_erasing_my_data_removes_my_words_from_scenes_with_a_fork_of_mine(
    bot: object, world: World
) -> None:
    """Carol's fork of Bob's Ren copied his description; Alice puts the fork in a scene
    filed under her Aiko. When Bob erases his data, the fork's copied words go (SECURITY.md),
    and so does the scene's prompt that repeated them: nothing Bob typed stays."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, carol), (aiko, ren, _), _ = await three_members(guild, data_dir)
    varied = await carol.slash("character vary", character=str(ren), change="holding a lantern")
    fork = character_of(data_dir, image_id(await varied.wait_original(finished, timeout=20)))
    posted = await (await scene(alice, aiko, fork)).wait_original(scene_posted, timeout=20)
    assert "black coat" in json.dumps(query(data_dir, "SELECT prompt FROM images"))

    prompt = await (await bob.slash("mydata delete")).wait_original(lambda m: m.buttons)
    await confirm(bob, prompt, world.discord, "✅")

    assert cast_of(data_dir, scene_image(posted)) == [aiko, fork]  # the scene stays
    assert "black coat" not in stored_text(data_dir)


async def test_a_scene_whose_characters_are_deleted_while_it_waits_says_so(
    start_bot: StartBot, world: World
) -> None:
    """Bob deletes Ren while Alice's scene with Aiko and Ren waits: no picture, nothing
    charged, and Alice reads that a character was deleted (not that its owner withdrew it)."""
    guild, data_dir = world.guild, world.data_dir
    await start_bot(max_concurrent_jobs="1")
    (alice, bob, _), (aiko, ren, _), _ = await three_members(guild, data_dir)
    world.openai.hold()
    busy = await alice.slash("character create", name="Busy", description="a placeholder")
    await world.openai.wait_for(lambda: world.openai.held_count == 1)
    two = await scene(alice, aiko, ren, setting="a duel")
    await two.wait_original(lambda m: "Queued" in (m.content or ""), timeout=10)

    ask = await bob.slash("character delete", character=str(ren))
    await confirm(bob, await ask.wait_original(lambda m: m.buttons, timeout=10), world.discord, "🗑️")
    world.openai.release()
    await busy.wait_original(lambda m: bool(m.attachments), timeout=20)

    text = await refusal(two)
    assert say("scene.error.withdrawn") in text and "deleted" in text
    assert scene_jobs(data_dir) == [("failed", 0)]
    assert len(world.openai.requests_for("edits")) == 0


async def test_a_scene_that_lost_a_character_is_rerolled_with_the_rest(
    bot: object, world: World
) -> None:
    """Bob deletes Ren after Alice's picnic of Aiko, Ren and Mika was posted: the picnic
    stays without Ren, and its Re-roll draws it again with Aiko and Mika (not a refusal
    naming a character Alice cannot find)."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, _), (aiko, ren, mika), _ = await three_members(guild, data_dir)
    posted = await (await scene(alice, aiko, ren, mika)).wait_original(scene_posted, timeout=20)
    ask = await bob.slash("character delete", character=str(ren))
    await confirm(bob, await ask.wait_original(lambda m: m.buttons, timeout=10), world.discord, "🗑️")

    press = await alice.click(posted, scene_button(posted, "sreroll"))
    again = await press.wait_original(scene_posted, timeout=20)
    assert cast_of(data_dir, scene_image(again)) == [aiko, mika]
    assert "Ren" not in embed_text(again)
    assert scene_jobs(data_dir) == [("done", 1)] * 2


async def test_scene_autocomplete_offers_only_characters_that_may_be_in_the_scene(
    bot: object, world: World
) -> None:
    """The names offered while typing a scene are the ones the command takes: the member's
    own, and others' that are public and not switched out of scenes by their owner."""
    guild, data_dir = world.guild, world.data_dir
    (alice, bob, _), (aiko, ren, mika), _ = await three_members(guild, data_dir)
    _, _, rin = await drawn_character(bob, data_dir, "Rin", "twin tails")
    switched = await bob.slash("character scenes", character=str(ren), allowed=False)
    await switched.wait_for_reply(lambda m: "stays out" in (m.content or ""), timeout=10)

    for focused in ("first", "second", "third", "fourth"):
        offered = await alice.autocomplete("character scene", focused=focused, value="")
        assert [c["value"] for c in offered] == [str(aiko), str(mika), str(rin)]
    # Bob still sees his own Ren, for his own scenes.
    offered = await bob.autocomplete("character scene", focused="first", value="r")
    assert str(ren) in [c["value"] for c in offered]
