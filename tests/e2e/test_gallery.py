"""/gallery, favorites by reaction, /character show|delete|private and /mydata, end to end.

The real bot process runs against the fake Discord and fake OpenAI. Eleven pictures are
written into DATA_DIR through the storage layer before the bot starts (as if made
earlier); the twelfth is a real /character create, so its message exists in the fake.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from bot.images.render import sheet_size
from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    cid,
    confirm,
    db_value,
    finished,
    image_id,
    open_gallery,
    options,
    seed,
    stored_files,
    thumbnails_made,
    wait_edited,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.discord.records import Message


def sheet(message: Message) -> Image.Image:
    (attachment,) = message.attachments
    assert attachment.filename.startswith("gallery-") and attachment.filename.endswith(".jpg")
    im = Image.open(io.BytesIO(attachment.data))
    im.load()
    return im


async def test_gallery_pages_open_and_favorites_survive_a_restart(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    await seed(data_dir, guild.id, [alice.id, bob.id], 11)
    bot = await start_bot()

    made = await bob.slash("character create", name="Bea", description="short red hair")
    bobs_post = await made.wait_original(finished, timeout=20)
    bobs_picture = int(cid(bobs_post, "pic:fav:").rsplit(":", 1)[1])

    # Page 1 of 2, as a PNG contact sheet with an embed.
    gallery = await open_gallery(alice)
    assert not gallery.ephemeral
    assert sheet(gallery).size == sheet_size(3, 3)
    assert gallery.embed is not None and "1 of 2" in gallery.embed["footer"]["text"]
    assert gallery.embed["image"]["url"].endswith("gallery-1.jpg")
    first_page = [int(o["value"]) for o in options(gallery, "gal:o:")]
    assert len(first_page) == 9 and first_page[0] == bobs_picture  # newest first

    # Someone else's press is refused; the owner's ▶ shows page 2.
    intruder = await bob.click(gallery, cid(gallery, "gal:n:"))
    refusal = await intruder.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "/gallery" in refusal.content
    turn = await alice.click(gallery, cid(gallery, "gal:n:"))
    await turn.wait_ack()
    page2 = await wait_edited(world.discord, gallery, "gallery-2.jpg")
    assert "2 of 2" in (page2.embed or {})["footer"]["text"]
    assert len(options(page2, "gal:o:")) == 3
    assert page2.component(cid(page2, "gal:n:"))["disabled"]  # type: ignore[index]

    # Choosing a number posts that picture full size with its buttons.
    chosen = int(options(page2, "gal:o:")[0]["value"])
    opened = await alice.select(page2, cid(page2, "gal:o:"), [str(chosen)])
    post = await opened.wait_original(finished, timeout=15)
    assert f"pic:fav:{chosen}" in post.custom_ids and not post.ephemeral

    # The character menu jumps to one character's pictures (its lineage view).
    character_id = int(options(page2, "gal:c:")[0]["value"])
    jump = await alice.select(page2, cid(page2, "gal:c:"), [str(character_id)])
    await jump.wait_ack()

    def filtered(_f: FakeDiscord) -> Message | None:
        current = world.discord.message(gallery.id)
        return current if any(c.startswith("gal:a:") for c in current.custom_ids) else None

    await world.discord.wait_for(filtered, timeout=10, what="the character's gallery")

    # Alice favorites Bob's picture with ⭐; a restart later she removes and re-adds it.
    await alice.react(bobs_post, "⭐")
    await bot.wait_for_log(rf"Favorite added by {alice.id} on pictures \[{bobs_picture}\]")
    assert await bot.stop() == 0
    bot = await start_bot()
    await alice.unreact(bobs_post, "⭐")
    await bot.wait_for_log(rf"Favorite removed by {alice.id}")
    await alice.react(bobs_post, "⭐")
    await bot.wait_for_log(rf"Favorite added by {alice.id}")
    await bob.react(post, "👍")  # not the favorite emoji: ignored
    assert db_value(data_dir, "SELECT favorite_count FROM images WHERE id = ?", bobs_picture) == 1

    # A reaction on the re-post counts as well.
    await bob.react(post, "⭐")
    await bot.wait_for_log(rf"Favorite added by {bob.id} on pictures \[{chosen}\]")

    # Hall of fame: sort by favorites ranks Bob's picture first (ties: newest first).
    top = await open_gallery(alice, sort="favorites", scope="server")
    ranked = [int(o["value"]) for o in options(top, "gal:o:")]
    assert ranked[0] in (bobs_picture, chosen) and set(ranked[:2]) == {bobs_picture, chosen}
    assert "Hall of fame" in (top.embed or {})["title"]


async def test_another_server_sees_nothing_and_private_characters_stay_private(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    other = world.discord.add_guild("Other Club")
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    carol = other.add_member("carol")
    characters = await seed(data_dir, guild.id, [alice.id], 6)
    await start_bot(dev_guild_id=None)  # commands synced globally: the other server has them

    # Carol, in another server, gets an empty gallery, no suggestions and no access by id.
    empty = await open_gallery(carol)
    assert sheet(empty).size == sheet_size(empty=True)
    assert not [c for c in empty.custom_ids if c.startswith(("gal:o:", "gal:c:"))]
    for typed in ("", "星", "Mira", str(characters[0])):
        assert await carol.autocomplete("gallery", focused="character", value=typed) == []
    probe = await carol.slash("gallery", character=str(characters[0]))
    refused = await probe.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "couldn't find" in refused.content
    fame = await open_gallery(carol, sort="favorites", scope="server")
    assert sheet(fame).size == sheet_size(empty=True)

    names = [c["name"] for c in await bob.autocomplete("gallery", focused="character", value="")]
    assert len(names) == 4

    shown = await carol.slash("character show", character=str(characters[0]))
    assert "couldn't find" in (await shown.wait_for_reply(lambda m: m.ephemeral)).content

    # Alice hides 星野アイ: Bob no longer sees it anywhere; Alice sees it privately.
    hide = await alice.slash("character private", character=str(characters[0]), hidden=True)
    await hide.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    names = [c["name"] for c in await bob.autocomplete("gallery", focused="character", value="")]
    assert len(names) == 3 and not any("星野" in n for n in names)
    bobs_view = await open_gallery(bob)
    assert "4 pictures" in (bobs_view.embed or {})["footer"]["text"]
    alices_view = await open_gallery(alice)
    assert alices_view.ephemeral and "6 pictures" in (alices_view.embed or {})["footer"]["text"]
    card = await alice.slash("character show", character=str(characters[0]))
    shown_card = await card.wait_original(lambda m: m.attachments, timeout=15)
    assert shown_card.ephemeral and shown_card.attachments[0].filename == "card.png"
    denied = await bob.slash("character show", character=str(characters[0]))
    assert "couldn't find" in (await denied.wait_for_reply(lambda m: m.ephemeral)).content


async def test_export_split_and_delete_my_data_and_character_leave_no_file(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    await seed(data_dir, guild.id, [alice.id, bob.id], 8)
    guild.filesize_limit = 40_000  # small uploads: the export must be split
    bot = await start_bot()
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    alices_post = await made.wait_original(finished, timeout=20)
    bobs_post = await (
        await bob.slash("character create", name="Bea", description="red hair")
    ).wait_original(finished, timeout=20)
    # Thumbnails are made after the post; the erasure below must find them too.
    await thumbnails_made(bot, image_id(alices_post), image_id(bobs_post))

    # Export: several zip files, none over the limit, holding every picture once.
    h = await alice.slash("mydata export")
    first = await h.wait_original(lambda m: m.attachments, timeout=30)
    assert first.ephemeral and "📦" in first.content

    def all_parts() -> list[Any]:
        return [a for m in [first, *h.record.followups] for a in m.attachments]

    async def parts_complete() -> list[Any]:
        def ready(_f: FakeDiscord) -> list[Any] | None:
            parts = all_parts()
            names = [a.filename for a in parts]
            total = int(names[0].rsplit("of", 1)[1].split(".")[0]) if "of" in names[0] else 1
            return parts if len(parts) == total else None

        found = await world.discord.wait_for(ready, timeout=30, what="every export part")
        return list(found)

    parts = await parts_complete()
    messages = [first, *h.record.followups]
    assert len(parts) > 1 and all(a.size <= 40_000 for a in parts)
    assert all(len(m.attachments) <= 10 for m in messages)
    pictures: list[str] = []
    manifest: dict[str, Any] = {}
    for part in parts:
        with zipfile.ZipFile(io.BytesIO(part.data)) as archive:
            for name in archive.namelist():
                if name == "characters.json":
                    manifest = json.loads(archive.read(name))
                else:
                    pictures.append(name)
    mine = db_value(data_dir, "SELECT COUNT(*) FROM images WHERE owner_id = ?", alice.id)
    assert len(pictures) == len(set(pictures)) == mine
    assert "Aiko" in [c["name"] for c in manifest["characters"]]
    assert any("silver hair" in json.dumps(c["sheet"]) for c in manifest["characters"])

    # Delete my data: asks first, then erases Alice's rows, files and messages.
    files_before = stored_files(data_dir)
    alices_files = {
        p
        for (p,) in sqlite3.connect(data_dir / "bot.sqlite3").execute(
            "SELECT file_path FROM images WHERE owner_id = ? UNION"
            " SELECT thumb_path FROM images WHERE owner_id = ?",
            (alice.id, alice.id),
        )
        if p
    }
    ask = await alice.slash("mydata delete")
    prompt = await ask.wait_original(lambda m: m.buttons, timeout=10)
    assert prompt.ephemeral
    await confirm(alice, prompt, world.discord, "✅")
    assert db_value(data_dir, "SELECT COUNT(*) FROM images WHERE owner_id = ?", alice.id) == 0
    assert db_value(data_dir, "SELECT COUNT(*) FROM characters WHERE owner_id = ?", alice.id) == 0
    assert stored_files(data_dir) == files_before - alices_files
    await world.discord.wait_for(
        lambda _f: world.discord.message(alices_post.id).deleted, timeout=10
    )
    assert not world.discord.message(bobs_post.id).deleted

    # /character delete (once the lead mixes the commands in): Bob's characters, files too.
    for character_id in [
        r[0]
        for r in sqlite3.connect(data_dir / "bot.sqlite3").execute(
            "SELECT id FROM characters WHERE owner_id = ?", (bob.id,)
        )
    ]:
        denied = await alice.slash("character delete", character=str(character_id))
        assert "owner" in (await denied.wait_for_reply(lambda m: m.ephemeral)).content
        ask = await bob.slash("character delete", character=str(character_id))
        prompt = await ask.wait_original(lambda m: m.buttons, timeout=10)
        await confirm(bob, prompt, world.discord, "🗑️")
    assert stored_files(data_dir) == set()
    assert db_value(data_dir, "SELECT COUNT(*) FROM images") == 0
    await world.discord.wait_for(lambda _f: world.discord.message(bobs_post.id).deleted, timeout=10)


async def test_a_private_server_gallery_shows_members_only_their_own(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    admin = guild.add_member("admin", admin=True)
    await seed(data_dir, guild.id, [alice.id, bob.id], 8)
    await start_bot()
    turned = await admin.slash("config gallery", visibility="private")
    await turned.wait_original(lambda m: "Saved" in (m.content or ""), timeout=10)

    page = await open_gallery(bob, scope="server")
    shown = [int(o["value"]) for o in options(page, "gal:o:")]
    owners = {db_value(data_dir, "SELECT owner_id FROM images WHERE id = ?", i) for i in shown}
    assert owners == {bob.id}

    everything = await open_gallery(admin, scope="server")
    assert len(options(everything, "gal:o:")) == 8  # admins still see the whole server


async def test_deleting_a_gallery_repost_removes_the_picture_everywhere(
    bot: BotProcess, world: World
) -> None:
    data_dir = world.data_dir
    alice = world.guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    original = await made.wait_original(finished, timeout=20)
    picture = int(cid(original, "pic:del:").rsplit(":", 1)[1])
    await thumbnails_made(bot, picture)  # made after the post
    files_before = stored_files(data_dir)

    gallery = await open_gallery(alice)
    opened = await alice.select(gallery, cid(gallery, "gal:o:"), [str(picture)])
    repost = await opened.wait_original(finished, timeout=15)
    assert repost.id != original.id

    deleting = await alice.click(repost, cid(repost, "pic:del:"))
    await deleting.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    await world.discord.wait_for(
        lambda f: f.message(repost.id).deleted and f.message(original.id).deleted, timeout=10
    )
    assert db_value(data_dir, "SELECT COUNT(*) FROM images") == 0
    assert len(files_before - stored_files(data_dir)) == 2  # the picture and its thumbnail
