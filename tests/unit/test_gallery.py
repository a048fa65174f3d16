"""The gallery service: pages, thumbnails, favorites by reaction, cards, export, erasure.

Against real SQLite and real files in a temporary folder; only Discord is absent.
Pictures are written by ``tests.storage_helpers.Seeder``, which the e2e tests share.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import bot.characters
from bot.access import may_see
from bot.characters import CharacterService
from bot.errors import NotAllowed, NotFound
from bot.gallery import PAGE_SIZE, GalleryRequest, GalleryService
from bot.i18n import Catalog
from bot.images.render import CARD_SIZE, CardData, sheet_size
from bot.images.store import ImageStore
from bot.mydata import MyDataService, build_export_part, group_parts
from bot.ops.metrics import Metrics
from bot.pictures import PictureService, Reaction, emoji_matches
from bot.records import StoredImage
from bot.storage import Storage
from bot.takedowns import MessageTakedowns
from tests.storage_helpers import (
    Seeder,
    finish_with_one_picture,
    new_job,
    open_storage,
    roomy_limits,
)

OUT = Path(os.environ.get("GALLERY_PREVIEW_DIR", "/tmp/gallery-previews"))


def files_in(store: ImageStore) -> set[str]:
    return {str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file()}


@dataclass(frozen=True)
class Core:
    """The services a gallery test drives, built as bot/services.py builds them."""

    gallery: GalleryService
    characters: CharacterService
    pictures: PictureService
    mydata: MyDataService


Env = tuple[Storage, ImageStore, Core, Seeder]


@pytest.fixture
async def env(storage: Storage, tmp_path: Path) -> Env:
    store = ImageStore(tmp_path / "images")
    catalog = Catalog.load()
    gallery = GalleryService(storage, store, catalog)
    takedowns = MessageTakedowns(storage, Metrics())  # never started: these tests reach no Discord
    service = Core(
        gallery,
        CharacterService(storage, store, catalog, gallery, takedowns),
        PictureService(storage, store, takedowns),
        MyDataService(storage, store, takedowns),
    )
    return storage, store, service, Seeder(storage, store)


G1, G2 = 1001, 2002
ALICE, BOB, CAROL = 11, 22, 33


def save_preview(name: str, data: bytes) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_bytes(data)


# --------------------------------------------------------------------------- emoji


def test_emoji_matches_unicode_and_custom() -> None:
    assert emoji_matches("⭐", None, "⭐")
    assert emoji_matches("⭐", None, "⭐\ufe0f")  # with the variation selector
    assert not emoji_matches("⭐", None, "🌟")
    assert not emoji_matches("⭐", 123456789012345678, "<:star:123456789012345678>")
    custom = "<:shiny:123456789012345678>"
    assert emoji_matches(custom, 123456789012345678, "<:shiny:123456789012345678>")
    assert emoji_matches(custom, 123456789012345678, "<:renamed:123456789012345678>")
    assert emoji_matches("<a:spin:42>", 42, "<a:spin:42>")
    assert emoji_matches("123456789012345678", 123456789012345678, "x")
    assert not emoji_matches(custom, None, "⭐")
    assert not emoji_matches(custom, 99, "<:shiny:99>")
    assert not emoji_matches("", None, "")


# --------------------------------------------------------------------------- pages


async def test_twelve_pictures_make_two_pages_with_numbered_tiles(env: Env) -> None:
    _storage, _store, service, seed = env
    names = ["星野アイ", "Mira", "小雪", "Kaito Nakamura the Third"]
    ids = [await seed.character(G1, [ALICE, BOB][i % 2], n) for i, n in enumerate(names)]
    for i in range(12):
        await seed.picture(G1, ids[i % 4], [ALICE, BOB][i % 4 % 2])

    first = await service.gallery.page(GalleryRequest(G1, ALICE), "en", guild_name="Anime Club")
    assert (first.total, first.pages, len(first.entries)) == (12, 2, PAGE_SIZE)
    assert first.has_next and not first.has_previous
    assert [e.image.id for e in first.entries] == sorted(
        (e.image.id for e in first.entries), reverse=True
    )
    assert first.title == "Anime Club gallery"
    assert first.subtitle == "Page 1 of 2 · 12 pictures · newest first"
    im = Image.open(io.BytesIO(first.sheet))
    assert im.format == "JPEG" and im.size == sheet_size(3, 3)
    save_preview("gallery-page1.jpg", first.sheet)

    second = await service.gallery.page(
        GalleryRequest(G1, ALICE, page=1), "zh-CN", guild_name="动漫社"
    )
    assert len(second.entries) == 3 and second.number_of(0) == 10
    assert not second.has_next and second.has_previous
    assert second.subtitle == "第 2/2 页 · 共 12 张 · 最新优先"
    save_preview("gallery-page2-zh.jpg", second.sheet)

    # Out-of-range pages are clamped, not empty.
    clamped = await service.gallery.page(GalleryRequest(G1, ALICE, page=99), "en")
    assert clamped.request.page == 1


async def test_sort_scope_member_and_character_filters(env: Env) -> None:
    storage, _store, service, seed = env
    a = await seed.character(G1, ALICE, "Aiko")
    b = await seed.character(G1, BOB, "Bea")
    a1 = await seed.picture(G1, a, ALICE)
    b1 = await seed.picture(G1, b, BOB)
    b2 = await seed.picture(G1, b, BOB)
    await storage.images.set_favorite(b1, ALICE, True)
    await storage.images.set_favorite(b1, CAROL, True)
    await storage.images.set_favorite(a1, BOB, True)

    fame = await service.gallery.page(
        GalleryRequest(G1, CAROL, sort="favorites"), "en", guild_name="S"
    )
    assert [e.image.id for e in fame.entries] == [b1, a1, b2]
    assert fame.title == "Hall of fame · S"

    mine = await service.gallery.page(
        GalleryRequest(G1, ALICE, scope="mine"), "en", owner_name="alice"
    )
    assert [e.image.id for e in mine.entries] == [a1]
    assert mine.title == "Pictures by alice"

    bobs = await service.gallery.page(
        GalleryRequest(G1, ALICE, member_id=BOB, sort="favorites"), "en"
    )
    assert [e.image.id for e in bobs.entries] == [b1, b2]

    only_b = await service.gallery.page(GalleryRequest(G1, ALICE, character_id=b), "en")
    assert [e.image.id for e in only_b.entries] == [b2, b1]
    assert only_b.character is not None and only_b.character.name == "Bea"


async def test_guilds_and_private_characters_stay_private(env: Env) -> None:
    _storage, _store, service, seed = env
    public = await seed.character(G1, ALICE, "Open")
    secret = await seed.character(G1, ALICE, "Secret", private=True)
    other = await seed.character(G2, CAROL, "Elsewhere")
    p1 = await seed.picture(G1, public, ALICE)
    s1 = await seed.picture(G1, secret, ALICE)
    await seed.picture(G2, other, CAROL)

    # Guild 2 sees only its own picture, whatever it asks for.
    g2 = await service.gallery.page(GalleryRequest(G2, CAROL, include_private=True), "en")
    assert [e.character_name for e in g2.entries] == ["Elsewhere"]
    for request in (
        GalleryRequest(G2, CAROL, character_id=public),
        GalleryRequest(G2, CAROL, character_id=secret),
    ):
        with pytest.raises(NotFound):
            await service.gallery.page(request, "en")
    with pytest.raises(NotFound):
        await service.pictures.open_picture(G2, CAROL, p1)
    assert (
        await service.pictures.react(
            Reaction(G2, message_id=0, user_id=CAROL, emoji_id=None, emoji_text="⭐", added=True)
        )
        == []
    )

    # Bob never sees Alice's private character; Alice sees it only in a private answer.
    bob = await service.gallery.page(GalleryRequest(G1, BOB, include_private=True), "en")
    assert [e.image.id for e in bob.entries] == [p1]
    with pytest.raises(NotFound):
        await service.pictures.open_picture(G1, BOB, s1)
    with pytest.raises(NotFound):
        await service.characters.card(G1, BOB, secret, "en", creator_name="")
    alice_public = await service.gallery.page(GalleryRequest(G1, ALICE), "en")
    assert [e.image.id for e in alice_public.entries] == [p1]
    alice_private = await service.gallery.page(
        GalleryRequest(G1, ALICE, include_private=True), "en"
    )
    assert [e.image.id for e in alice_private.entries] == [s1, p1]
    assert await service.gallery.needs_private_answer(GalleryRequest(G1, ALICE))
    assert not await service.gallery.needs_private_answer(GalleryRequest(G1, BOB))
    assert not await service.gallery.needs_private_answer(GalleryRequest(G1, ALICE, member_id=BOB))


async def test_missing_or_corrupt_thumbnails_are_rebuilt_and_stored(env: Env) -> None:
    storage, store, service, seed = env
    c = await seed.character(G1, ALICE, "Aiko")
    no_thumb = await seed.picture(G1, c, ALICE, thumb=False)
    gone = await seed.picture(G1, c, ALICE)
    corrupt = await seed.picture(G1, c, ALICE)
    fine = await seed.picture(G1, c, ALICE)
    gone_path = (await storage.images.get(gone)).thumb_path  # type: ignore[union-attr]
    corrupt_path = (await storage.images.get(corrupt)).thumb_path  # type: ignore[union-attr]
    fine_path = (await storage.images.get(fine)).thumb_path  # type: ignore[union-attr]
    assert gone_path and corrupt_path
    store.path(gone_path).unlink()
    store.path(corrupt_path).write_bytes(b"RIFF\x00\x00garbage")

    page = await service.gallery.page(GalleryRequest(G1, ALICE), "en")
    assert len(page.entries) == 4
    for image_id in (no_thumb, gone, corrupt):
        image = await storage.images.get(image_id)
        assert image is not None and image.thumb_path
        assert image.thumb_path not in (gone_path, corrupt_path)
        assert Image.open(store.path(image.thumb_path)).format == "WEBP"
    assert not store.path(corrupt_path).exists()  # the broken file was replaced, not kept
    assert (await storage.images.get(fine)).thumb_path == fine_path  # type: ignore[union-attr]

    # Next time the cache is used as is: nothing else is written.
    before = files_in(store)
    await service.gallery.page(GalleryRequest(G1, ALICE), "en")
    assert files_in(store) == before


async def test_a_new_pictures_thumbnail_is_made_after_its_post_and_is_no_repair(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    storage, store, service, seed = env
    c = await seed.character(G1, ALICE, "Aiko")
    new = await seed.picture(G1, c, ALICE, thumb=False)
    image = await storage.images.get(new)
    assert image is not None and image.thumb_path is None
    caplog.set_level("INFO", logger="bot.thumbnails")

    await service.gallery.thumbnails.make_after_post(G1, [image])

    made = await storage.images.get(new)
    assert made is not None and made.thumb_path
    assert Image.open(store.path(made.thumb_path)).format == "WEBP"
    assert f"Thumbnails made for pictures [{new}]" in caplog.text
    assert "Rebuilt" not in caplog.text  # a repair is news to an operator; a new picture not
    # The gallery uses it as it is: nothing else is written.
    before = files_in(store)
    await service.gallery.page(GalleryRequest(G1, ALICE), "en")
    assert files_in(store) == before


@pytest.mark.parametrize("moment", ["before", "after the look", "after the write"])
async def test_a_picture_deleted_while_its_thumbnail_is_made_leaves_no_thumbnail(
    env: Env, moment: str
) -> None:
    """The member deletes a new picture while its thumbnail is being made, at every moment
    the making awaits storage (before it starts, after the look that finds the picture,
    after the write that records the thumbnail): no file of the picture stays on the disk."""
    storage, store, service, seed = env
    c = await seed.character(G1, ALICE, "Aiko")
    new = await seed.picture(G1, c, ALICE, thumb=False)
    image = await storage.images.get(new)
    assert image is not None
    read, record = storage.images.get, storage.gallery.set_thumbnail

    async def delete() -> None:
        removed = await storage.deletions.delete_images(G1, [new], take_down_messages=False)
        store.delete(removed.files)  # as the pictures service does

    async def look(image_id: int) -> StoredImage | None:
        found = await read(image_id)
        if moment == "after the look":
            await delete()
        return found

    async def write(guild_id: int, image_id: int, path: str) -> bool:
        written = await record(guild_id, image_id, path)
        if moment == "after the write":
            await delete()
        return written

    if moment == "before":
        await delete()
    storage.images.get = look  # type: ignore[method-assign]
    storage.gallery.set_thumbnail = write  # type: ignore[method-assign]
    await service.gallery.thumbnails.make_after_post(G1, [image])
    storage.images.get, storage.gallery.set_thumbnail = read, record  # type: ignore[method-assign]

    assert await storage.images.get(new) is None
    assert files_in(store) == set()


async def test_empty_gallery_renders_an_inviting_sheet(env: Env) -> None:
    _, _, service, _ = env
    page = await service.gallery.page(GalleryRequest(G1, ALICE), "zh-CN", guild_name="动漫社")
    assert page.total == 0 and page.pages == 1 and page.entries == []
    assert Image.open(io.BytesIO(page.sheet)).size == sheet_size(empty=True)
    save_preview("gallery-empty-zh.jpg", page.sheet)


# --------------------------------------------------------------------------- favorites


async def test_reactions_favorite_every_picture_on_the_message_idempotently(env: Env) -> None:
    storage, _store, service, seed = env
    c = await seed.character(G1, BOB, "Bea")
    first = await seed.picture(G1, c, BOB, message=(500, 9000))
    second = await seed.picture(G1, c, BOB, message=(500, 9000))
    other = await seed.picture(G1, c, BOB, message=(500, 9001))

    async def react(
        added: bool,
        emoji: str = "⭐",
        emoji_id: int | None = None,
        message_id: int = 9000,
        guild_id: int = G1,
    ) -> list[int]:
        return await service.pictures.react(
            Reaction(guild_id, message_id, ALICE, emoji_id, emoji_text=emoji, added=added)
        )

    assert await react(True) == [first, second]
    assert await react(True) == [first, second]  # a duplicate event changes nothing
    assert await react(True, "❤️") == []
    for image_id in (first, second):
        assert (await storage.images.get(image_id)).favorite_count == 1  # type: ignore[union-attr]
    assert (await storage.images.get(other)).favorite_count == 0  # type: ignore[union-attr]
    await react(False)
    await react(False)
    assert (await storage.images.get(first)).favorite_count == 0  # type: ignore[union-attr]

    # A re-post from the gallery counts too.
    await service.pictures.record_post(guild_id=G1, channel_id=500, message_id=9100, image_id=other)
    assert await react(True, message_id=9100) == [other]
    # Not in another guild, even with the right message id.
    assert await react(True, message_id=9100, guild_id=G2) == []


async def test_fast_presses_of_the_star_button_each_toggle_once(env: Env) -> None:
    """A member pressing ⭐ several times fast (each press its own interaction, all in
    flight together): every press toggles once, so the answers alternate, what stays is
    what an odd or even number of presses makes it, and the count says so."""
    storage, _store, service, seed = env
    character = await seed.character(G1, ALICE, "Aiko")
    picture = await seed.picture(G1, character, ALICE)
    favorite = False
    for presses in (2, 3, 1, 4, 5):
        answers = await asyncio.gather(
            *(service.pictures.toggle_favorite(G1, BOB, picture) for _ in range(presses))
        )
        said = [answer.favorite for answer in answers]
        assert said.count(not favorite) == (presses + 1) // 2, (favorite, said)
        assert said.count(favorite) == presses // 2, (favorite, said)
        favorite ^= presses % 2 == 1
        assert max(answer.count for answer in answers) <= 1
        image = await storage.images.get(picture)  # Bob's favorite is its only one
        assert image is not None and image.favorite_count == int(favorite)


async def test_custom_server_emoji_is_matched_by_id(env: Env) -> None:
    storage, _store, service, seed = env
    await storage.db.execute(
        "INSERT INTO guild_config (guild_id, favorite_emoji) VALUES (?, ?)",
        (G1, "<:sparkle:777000000000000001>"),
    )
    c = await seed.character(G1, BOB, "Bea")
    image = await seed.picture(G1, c, BOB, message=(500, 9000))
    assert await service.pictures.react(Reaction(G1, 9000, ALICE, None, "⭐", added=True)) == []
    sparkle = Reaction(
        G1, 9000, ALICE, 777000000000000001, "<:sparkle:777000000000000001>", added=True
    )
    assert await service.pictures.react(sparkle) == [image]


# --------------------------------------------------------------------------- cards


async def test_the_drawn_card_says_1_picture_and_2_pictures(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count drawn on the card takes the catalog's plural form (the e2e test sees the
    embed; the drawn text is only readable here, before it becomes pixels)."""
    _storage, _store, service, seed = env
    drawn: list[CardData] = []

    def capture(data: CardData) -> bytes:
        drawn.append(data)
        return b""

    monkeypatch.setattr(bot.characters, "render_character_card", capture)
    aiko = await seed.character(G1, ALICE, "Aiko")
    await seed.picture(G1, aiko, ALICE)
    await service.characters.card(G1, ALICE, aiko, "en", creator_name="alice")
    await seed.picture(G1, aiko, ALICE)
    await service.characters.card(G1, ALICE, aiko, "en", creator_name="alice")
    await service.characters.card(G1, ALICE, aiko, "zh-CN", creator_name="alice")
    assert [d.picture_count_text for d in drawn] == ["1 picture", "2 pictures", "2 张图片"]


async def test_character_card_and_lineage(env: Env) -> None:
    storage, _store, service, seed = env
    root = await seed.character(G1, ALICE, "星野アイ")
    fork = await seed.character(G1, BOB, "Ai (summer)", forked_from=root)
    await seed.character(G1, CAROL, "Hidden fork", forked_from=root, private=True)
    pic = await seed.picture(G1, root, ALICE)
    await seed.picture(G1, root, ALICE)
    await storage.images.set_favorite(pic, BOB, True)

    card = await service.characters.card(G1, BOB, root, "en", creator_name="alice")
    assert (card.pictures, card.favorites) == (2, 1)
    assert [c.name for c in card.lineage.forks] == ["Ai (summer)"]
    assert Image.open(io.BytesIO(card.png)).size == CARD_SIZE
    save_preview("card-en.png", card.png)
    zh = await service.characters.card(G1, BOB, root, "zh-CN", creator_name="アリス")
    save_preview("card-zh.png", zh.png)

    child = await service.gallery.lineage(G1, BOB, (await storage.characters.get(fork)))  # type: ignore[arg-type]
    assert [c.name for c in child.ancestors] == ["星野アイ"]


# --------------------------------------------------------------------------- managing


async def test_delete_character_checks_owner_and_removes_files(env: Env) -> None:
    storage, store, service, seed = env
    c = await seed.character(G1, ALICE, "Aiko")
    keep = await seed.character(G1, BOB, "Bea")
    first = await seed.picture(G1, c, ALICE, message=(500, 9000))
    await seed.picture(G1, c, ALICE, message=(500, 9000))
    await seed.picture(G1, keep, BOB)
    await service.pictures.record_post(guild_id=G1, channel_id=501, message_id=9500, image_id=first)
    await storage.images.set_favorite(first, BOB, True)
    files_before = files_in(store)

    with pytest.raises(NotAllowed):
        await service.characters.delete_character(G1, BOB, c, is_admin=False)
    with pytest.raises(NotFound):
        await service.characters.delete_character(G2, ALICE, c, is_admin=True)  # not in that server
    removed = await service.characters.delete_character(G1, ALICE, c, is_admin=False)
    assert removed.images == 2 and removed.characters == 1
    assert removed.messages == [(500, 9000), (501, 9500)]
    assert len(files_in(store)) == len(files_before) - 4  # 2 pictures + 2 thumbnails
    assert await storage.characters.get(c) is None
    assert await storage.db.fetch_value("SELECT COUNT(*) FROM favorites") == 0
    assert await storage.db.fetch_value("SELECT COUNT(*) FROM picture_posts") == 0

    # An admin may delete anyone's, private ones included.
    hidden = await seed.character(G1, BOB, "Hidden", private=True)
    await service.characters.delete_character(G1, CAROL, hidden, is_admin=True)
    assert await storage.characters.get(hidden) is None


async def test_private_toggle_is_for_the_owner(env: Env) -> None:
    _storage, _store, service, seed = env
    c = await seed.character(G1, ALICE, "Aiko")
    with pytest.raises(NotAllowed):
        await service.characters.set_private(G1, BOB, c, True)
    assert (await service.characters.set_private(G1, ALICE, c, True)).private
    with pytest.raises(NotFound):
        await service.characters.visible_character(G1, BOB, c)
    assert not (await service.characters.set_private(G1, ALICE, c, False)).private


# --------------------------------------------------------------------------- my data


async def test_export_splits_into_parts_under_the_limit(env: Env) -> None:
    storage, store, service, seed = env
    a = await seed.character(G1, ALICE, "Aiko")
    b = await seed.character(G1, ALICE, "小雪")
    ids = [await seed.picture(G1, [a, b][i % 2], ALICE, prompt=f"prompt {i}") for i in range(7)]
    other = await seed.character(G1, BOB, "Bea")
    bobs = await seed.picture(G1, other, BOB)
    await storage.images.set_favorite(bobs, ALICE, True)
    await seed.picture(G2, await seed.character(G2, ALICE, "Elsewhere"), ALICE)

    sizes = [store.path((await storage.images.get(i)).file_path).stat().st_size for i in ids]  # type: ignore[union-attr]
    limit = max(sizes) * 2 + 4096
    plan = await service.mydata.export_plan(G1, ALICE, part_limit=limit)
    assert plan.characters == 2 and plan.pictures == 7 and plan.skipped == 0
    assert len(plan.parts) >= 3
    seen: list[str] = []
    for index in range(len(plan.parts)):
        data = build_export_part(store, plan, index)
        assert len(data) <= limit and len(data) <= plan.estimates[index]
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
            if index == 0:
                manifest = json.loads(archive.read("characters.json"))
            seen.extend(n for n in names if n != "characters.json")
    assert len(seen) == 7 and len(set(seen)) == 7
    assert [c["name"] for c in manifest["characters"]] == ["Aiko", "小雪"]
    prompts = {p["prompt"] for c in manifest["characters"] for p in c["pictures"]}
    assert prompts == {f"prompt {i}" for i in range(7)}
    assert manifest["favorites"][0]["picture"] == bobs
    assert "Elsewhere" not in json.dumps(manifest, ensure_ascii=False)

    empty = await service.mydata.export_plan(G1, CAROL, part_limit=limit)
    assert empty.empty


def test_group_parts_respects_file_count_and_bytes() -> None:
    assert group_parts([5] * 23, max_files=10, max_bytes=1000) == [
        list(range(10)),
        list(range(10, 20)),
        [20, 21, 22],
    ]
    assert group_parts([600, 600, 300], max_files=10, max_bytes=1000) == [[0], [1, 2]]
    assert group_parts([], max_files=10, max_bytes=1000) == []


async def test_delete_my_data_erases_only_that_member_here(env: Env) -> None:
    storage, store, service, seed = env
    mine = await seed.character(G1, ALICE, "Aiko")
    theirs = await seed.character(G1, BOB, "Bea")
    elsewhere = await seed.character(G2, ALICE, "Elsewhere")
    await seed.picture(G1, mine, ALICE, message=(500, 9000))
    bob_pic = await seed.picture(G1, theirs, BOB)
    await seed.picture(G2, elsewhere, ALICE)
    await storage.images.set_favorite(bob_pic, ALICE, True)
    await storage.db.execute(
        "INSERT INTO jobs (guild_id, channel_id, user_id, kind, state, request_json, image_count,"
        " prompt, interaction_token, created_at) VALUES (?, 1, ?, 'create', 'done',"
        " '{\"appearance\": \"secret\"}', 1, 'my words', 'tok', 0)",
        (G1, ALICE),
    )
    files_before = files_in(store)

    removed = await service.mydata.delete_member_data(G1, ALICE)
    assert (removed.characters, removed.images) == (1, 1)
    assert removed.messages == [(500, 9000)]
    assert len(files_in(store)) == len(files_before) - 2
    assert await storage.characters.get(mine) is None
    assert await storage.characters.get(elsewhere) is not None  # another server: untouched
    assert (await storage.images.get(bob_pic)).favorite_count == 0  # type: ignore[union-attr]
    row = await storage.db.fetch_one("SELECT request_json, prompt, interaction_token FROM jobs")
    assert row is not None and tuple(row) == ("{}", None, None)
    plan = await service.mydata.export_plan(G1, ALICE, part_limit=10_000_000)
    assert plan.empty


# A scene's cast: (owner, private, owner hid the scene) per character, in the order named.
casts = st.lists(
    st.tuples(st.sampled_from([ALICE, BOB, CAROL]), st.booleans(), st.booleans()),
    min_size=2,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cast=casts,
    viewer=st.sampled_from([ALICE, BOB, CAROL]),
    gallery_public=st.booleans(),
    is_admin=st.booleans(),
)
def test_a_scene_tile_names_its_cast_in_order_and_never_a_character_the_viewer_may_not_see(
    tmp_path_factory: pytest.TempPathFactory,
    cast: list[tuple[int, bool, bool]],
    viewer: int,
    gallery_public: bool,
    is_admin: bool,
) -> None:
    folder = tmp_path_factory.mktemp("scene-tiles")

    async def run() -> None:
        async with open_storage(folder / "bot.sqlite3") as storage:
            store = ImageStore(folder / "images")
            gallery = GalleryService(storage, store, Catalog.load())
            seed = Seeder(storage, store)
            await storage.guilds.update(G1, gallery_public=gallery_public)
            ids = [
                await seed.character(G1, owner, f"C{n}", private=private)
                for n, (owner, private, _) in enumerate(cast)
            ]
            maker = cast[0][0]
            job = (
                await storage.jobs.insert_job(
                    new_job(maker, guild_id=G1, character_id=ids[0]), roomy_limits()
                )
            ).id
            scene = await storage.scenes.record_cast(
                job_id=job, guild_id=G1, maker_id=maker, character_ids=ids
            )
            queued = await storage.jobs.get(job)
            assert queued is not None
            await finish_with_one_picture(storage, queued, "scene.png", scene_id=scene)
            for owner in {owner for owner, _, hid in cast if hid}:
                await storage.scenes.hide_for_owner(scene, owner)
            config = await storage.guilds.config(G1)
            # The page the viewer gets (their own private characters included), as /gallery
            # shows it: the server's gallery rule applied, the sheet drawn.
            request = replace(GalleryRequest(G1, viewer), include_private=True)
            page = await gallery.show(request, "en", name_of=_name_of, is_admin=is_admin)
            entries = page.entries
            if not entries:
                return  # filed under a character this viewer may not see: not listed at all
            named = page.labels[0].split(" & ")
            members = await storage.scenes.members(scene)
            assert [m.character.id for m in members] == ids  # the order the scene named them
            may_name = [
                m.character.name
                for m in members
                if not m.hidden and may_see(m.character, viewer, config, is_admin=is_admin)
            ]
            if may_name:
                assert named == may_name  # everyone who may be named, in the scene's order
            else:
                assert named == [entries[0].character_name]  # the listing's own name
            for m in members:
                if not may_see(m.character, viewer, config, is_admin=is_admin):
                    assert m.character.name not in named

    asyncio.run(run())


async def _name_of(member_id: int) -> str:
    return f"member {member_id}"
