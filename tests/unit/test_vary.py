"""Variations without Discord: the prompt, the request shape per model, the references,
forks and the storage lookups behind autocomplete. Real SQLite, real Pillow."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from PIL import Image

from bot.errors import NotAllowed, NotFound, QuotaExhausted
from bot.images.decode import ImageRejected
from bot.images.prompts import CharacterSheet, build_vary_prompt, style_for
from bot.images.service import ImageRequest, ImageService
from bot.images.store import ImageStore
from bot.jobs.runner import JobRunner, reference_png
from bot.jobs.submit import PictureRequests, Requester, VaryRequest
from bot.records import Character
from bot.storage import NewJob, Storage
from bot.storage.characters import find_or_create_fork

GUILD, OTHER_GUILD = 100, 200
ALICE, BOB = 1, 2

# --------------------------------------------------------------------------- prompt

SHEET = CharacterSheet(
    "Aiko", appearance="long silver hair, red eyes", outfit="navy school uniform"
)


def vary_prompt(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "change": "waving, summer festival yukata",
        "strong": False,
        "size": "1024x1536",
        "transparent": False,
    }
    values.update(overrides)
    return build_vary_prompt(SHEET, style_for("cel"), **values)


def test_vary_prompt_carries_the_sheet_and_the_change() -> None:
    prompt = vary_prompt()
    for fact in ("Aiko", "long silver hair, red eyes", "navy school uniform"):
        assert fact in prompt
    assert "Change only: waving, summer festival yukata." in prompt
    assert "Make only the change asked for" in prompt


def test_subtle_and_strong_prompts_differ_and_empty_means_a_fresh_take() -> None:
    subtle, strong = vary_prompt(change=""), vary_prompt(change="", strong=True)
    assert "fresh take of the same moment" in subtle
    assert "new pose, expression and setting" in strong
    assert "may change freely" in strong and "may change freely" not in subtle


def test_several_references_are_explained() -> None:
    one = vary_prompt(references=1)
    assert "reference images" not in one
    subtle = vary_prompt(references=3)
    assert "Vary the first reference image" in subtle
    strong = vary_prompt(references=3, strong=True)
    assert "All 3 reference images show this same character" in strong


def test_change_is_cleaned_and_capped() -> None:
    prompt = vary_prompt(change="smile\x00\x07 " + "x" * 5000)
    assert "\x00" not in prompt and "\x07" not in prompt
    assert len(prompt) < 4000


# --------------------------------------------------------------------------- request shape


def params_for(model: str, *, strong: bool) -> dict[str, Any]:
    service = ImageService(cast(Any, None), moderation_model="m", partial_images=0)
    request = ImageRequest(
        prompt="p",
        model=model,
        size="1024x1536",
        n=1,
        quality="medium",
        output_format="png",
        transparent=False,
        user_id=ALICE,
        references=[b"\x89PNG..."],
        input_fidelity="high",
        complexity="high" if strong else "low",
    )
    return service._params(request)


@pytest.mark.parametrize(
    ("model", "fidelity", "subtle_complexity", "strong_complexity"),
    [
        ("gpt-image-2.5-sunburst", "high", "low", "high"),
        ("gpt-image-2.5-flare-2026-09-08", "high", "low", "high"),
        ("gpt-image-1.5", "high", None, None),
        ("gpt-image-1-mini", None, None, None),  # accepts only "low"
        ("gpt-image-2", None, None, None),  # rejects input_fidelity outright
        ("some-future-alias", None, None, None),
    ],
)
def test_vary_parameters_are_sent_only_where_the_model_accepts_them(
    model: str, fidelity: str | None, subtle_complexity: str | None, strong_complexity: str | None
) -> None:
    subtle, strong = params_for(model, strong=False), params_for(model, strong=True)
    assert subtle.get("input_fidelity") == fidelity == strong.get("input_fidelity")
    assert subtle.get("complexity") == subtle_complexity
    assert strong.get("complexity") == strong_complexity
    assert subtle["image"] == [("reference-0.png", b"\x89PNG...", "image/png")]


# --------------------------------------------------------------------------- PNG references


def encoded(fmt: str, colour: tuple[int, int, int] = (200, 30, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(
        buffer, fmt, **({"lossless": True} if fmt == "WEBP" else {})
    )
    return buffer.getvalue()


def test_png_references_go_out_unchanged() -> None:
    png = encoded("PNG")
    assert reference_png(png) is png


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG"])
def test_other_stored_formats_become_png(fmt: str) -> None:
    data = encoded(fmt)
    png = reference_png(data)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (64, 48)
    if fmt == "WEBP":  # lossless: the very same pixels
        assert (
            Image.open(io.BytesIO(png)).convert("RGB").tobytes()
            == Image.open(io.BytesIO(data)).convert("RGB").tobytes()
        )


def test_a_damaged_reference_is_rejected_not_sent() -> None:
    with pytest.raises(ImageRejected):
        reference_png(b"RIFF\x00\x00\x00\x00WEBPjunk")


# --------------------------------------------------------------------------- storage helpers


async def add_character(
    storage: Storage, name: str, *, owner: int = ALICE, guild: int = GUILD, private: bool = False
) -> int:
    character_id = await storage.characters.create(
        guild_id=guild, owner_id=owner, name=name, sheet={"name": name}, style="cel"
    )
    if private:
        await storage.gallery.set_private(guild, character_id, True)
    return character_id


async def add_image(
    storage: Storage,
    character_id: int,
    *,
    path: str = "x.png",
    favorites: int = 0,
    guild: int = GUILD,
    owner: int = ALICE,
    mime: str = "image/png",
) -> int:
    image_id = await storage.db.insert(
        "INSERT INTO images (guild_id, character_id, owner_id, file_path, width, height, mime,"
        " prompt, model, favorite_count, created_at)"
        " VALUES (?, ?, ?, ?, 64, 48, ?, 'p', 'm', ?, 0)",
        (guild, character_id, owner, path, mime, favorites),
    )
    character = await storage.characters.get(character_id)
    if character is not None and character.canonical_image_id is None:
        await storage.characters.set_canonical(character_id, image_id)
    return image_id


async def test_search_visible_own_first_never_others_private_nor_other_guilds(
    storage: Storage,
) -> None:
    aiko = await add_character(storage, "Aiko")
    akane = await add_character(storage, "Akane")
    bobby = await add_character(storage, "Bobby", owner=BOB)
    await add_character(storage, "Hidden", owner=BOB, private=True)
    await add_character(storage, "Elsewhere", guild=OTHER_GUILD)

    found = await storage.characters.search_visible(GUILD, ALICE, "")
    assert [c.id for c in found] == [aiko, akane, bobby]
    assert [c.id for c in await storage.characters.search_visible(GUILD, ALICE, "KAN")] == [akane]
    assert [c.id for c in await storage.characters.search_visible(GUILD, ALICE, f"#{bobby}")] == [
        bobby
    ]
    own = await storage.characters.search_visible(GUILD, ALICE, "", own_only=True)
    assert [c.id for c in own] == [aiko, akane]
    # LIKE wildcards typed by a member are plain text.
    assert await storage.characters.search_visible(GUILD, ALICE, "%") == []
    assert len(await storage.characters.search_visible(GUILD, ALICE, "", limit=2)) == 2


async def test_fork_is_created_once_and_never_touches_the_original(storage: Storage) -> None:
    aiko = await add_character(storage, "Aiko")
    main = await add_image(storage, aiko)
    original = await storage.characters.get(aiko)
    assert original is not None

    async with storage.db.transaction() as conn:
        fork_id, created = await find_or_create_fork(conn, original, BOB)
        again, created_again = await find_or_create_fork(conn, original, BOB)
    assert created and not created_again and again == fork_id
    fork = await storage.characters.get(fork_id)
    assert fork is not None
    # A fork has no main picture until it is drawn: it never shows the original's as its own.
    assert (fork.owner_id, fork.forked_from_id, fork.canonical_image_id) == (BOB, aiko, None)
    assert main != fork.canonical_image_id
    assert (fork.name, fork.sheet, fork.style) == (original.name, original.sheet, original.style)
    assert await storage.characters.get(aiko) == original


async def test_top_favorites_and_pictures_of_a_character(storage: Storage) -> None:
    aiko = await add_character(storage, "Aiko")
    plain = await add_image(storage, aiko)
    liked = await add_image(storage, aiko, favorites=2)
    loved = await add_image(storage, aiko, favorites=5)
    top = await storage.images.top_favorites(aiko, limit=3)
    assert [i.id for i in top] == [loved, liked]  # none without a favorite
    pictures = await storage.images.for_character(aiko)
    assert [i.id for i in pictures] == [loved, liked, plain]
    assert [i.id for i in await storage.images.for_character(aiko, str(liked))] == [liked]


# --------------------------------------------------------------------------- references


async def test_references_order_and_skip_deleted_pictures(storage: Storage, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    aiko = await add_character(storage, "Aiko")
    paths = {}
    for name, colour in (("main", (255, 0, 0)), ("parent", (0, 255, 0)), ("fav", (0, 0, 255))):
        paths[name] = store.save(GUILD, encoded("PNG", colour), "image/png")
    webp_path = store.save(GUILD, encoded("WEBP", (9, 9, 9)), "image/webp")
    await add_image(storage, aiko, path=paths["main"])  # the first: the main picture
    parent = await add_image(storage, aiko, path=paths["parent"])
    await add_image(storage, aiko, path=paths["fav"], favorites=3)
    await add_image(storage, aiko, path=webp_path, favorites=1, mime="image/webp")
    character = cast(Character, await storage.characters.get(aiko))
    runner = JobRunner(storage, cast(Any, None), store, cast(Any, None))

    def job(parent_image_id: int | None) -> Any:
        return SimpleNamespace(parent_image_id=parent_image_id, guild_id=GUILD, user_id=ALICE)

    main_png, parent_png, fav_png = (store.read(paths[k]) for k in ("main", "parent", "fav"))
    subtle, _ = await runner._references(job(parent), character)
    assert subtle[:3] == [parent_png, main_png, fav_png]
    assert len(subtle) == 4 and subtle[3].startswith(b"\x89PNG")  # the WebP favorite, as PNG
    strong, _ = await runner._references(job(parent), character, strong=True)
    assert strong[:2] == [main_png, parent_png]

    await storage.deletions.delete_images(GUILD, [parent], take_down_messages=True)
    fallback, _ = await runner._references(job(parent), character)
    assert fallback[0] == main_png and parent_png not in fallback


# --------------------------------------------------------------------------- PictureRequests


class StubQueue:
    def __init__(self, storage: Storage) -> None:
        self.jobs: list[NewJob] = []
        self.refuse = False
        self.storage = storage

    async def enqueue(
        self, new_job: NewJob, limits: object, *, fork_of: Character | None = None
    ) -> Any:
        """Like the real queue: the fork is made in the transaction that accepts the job."""
        if self.refuse:
            raise QuotaExhausted("error.quota_exhausted")
        if fork_of is not None:
            async with self.storage.db.transaction() as conn:
                fork_id, _ = await find_or_create_fork(conn, fork_of, new_job.user_id)
            new_job = dataclasses.replace(new_job, character_id=fork_id)
        self.jobs.append(new_job)
        return SimpleNamespace(job=SimpleNamespace(id=len(self.jobs), **vars_of(new_job)))


def vars_of(job: NewJob) -> dict[str, Any]:
    return {f.name: getattr(job, f.name) for f in dataclasses.fields(job)}


class StubImages:
    async def check_prompt(self, text: str) -> None:
        return None


class StubQuotas:
    async def limits_for(self, *args: object) -> None:
        return None

    async def estimate_usd(self, *args: object, **kwargs: object) -> None:
        return None

    async def check_room(self, *args: object) -> None:
        return None


def requester(user_id: int, guild_id: int = GUILD) -> Requester:
    return Requester(guild_id=guild_id, channel_id=5, user_id=user_id, role_ids=[], locale="en")


@pytest.fixture
def queue(storage: Storage) -> StubQueue:
    return StubQueue(storage)


@pytest.fixture
def service(storage: Storage, queue: StubQueue, tmp_path: Path) -> PictureRequests:
    return PictureRequests(
        storage,
        cast(Any, StubImages()),
        ImageStore(tmp_path / "images"),
        cast(Any, queue),
        cast(Any, StubQuotas()),
    )


async def test_owner_varies_directly_with_the_main_picture_as_parent(
    storage: Storage, service: PictureRequests, queue: StubQueue
) -> None:
    aiko = await add_character(storage, "Aiko")
    main = await add_image(storage, aiko)
    submitted = await service.request_vary(requester(ALICE), VaryRequest(aiko, change="waving"))
    job = queue.jobs[-1]
    assert submitted.job.character_id == aiko
    assert (job.kind, job.character_id, job.parent_image_id) == ("vary", aiko, main)
    assert job.request.change == "waving" and job.request.strength == "subtle"


async def test_another_members_character_is_varied_through_a_fork(
    storage: Storage, service: PictureRequests, queue: StubQueue
) -> None:
    aiko = await add_character(storage, "Aiko")
    picture = await add_image(storage, aiko)
    original = await storage.characters.get(aiko)
    await service.request_vary(
        requester(BOB), VaryRequest(aiko, strength="strong", parent_image_id=picture)
    )
    job = queue.jobs[-1]
    fork = await storage.characters.get(job.character_id or 0)
    assert fork is not None and fork.id != aiko
    assert (fork.owner_id, fork.forked_from_id) == (BOB, aiko)
    assert job.parent_image_id == picture and job.request.strength == "strong"
    assert await storage.characters.get(aiko) == original


async def test_forks_off_refuses_others_but_not_the_owner(
    storage: Storage, service: PictureRequests, queue: StubQueue
) -> None:
    aiko = await add_character(storage, "Aiko")
    await add_image(storage, aiko)
    await storage.guilds.update(GUILD, allow_forks=False)
    with pytest.raises(NotAllowed) as refused:
        await service.request_vary(requester(BOB), VaryRequest(aiko))
    assert refused.value.message_key == "error.fork_disabled"
    await service.request_vary(requester(ALICE), VaryRequest(aiko))
    assert [j.user_id for j in queue.jobs] == [ALICE]


async def test_a_refused_submission_leaves_no_fork_behind(
    storage: Storage, service: PictureRequests, queue: StubQueue
) -> None:
    aiko = await add_character(storage, "Aiko")
    await add_image(storage, aiko)
    queue.refuse = True
    with pytest.raises(QuotaExhausted):
        await service.request_vary(requester(BOB), VaryRequest(aiko))
    assert [c.id for c in await storage.characters.search_visible(GUILD, BOB, "")] == [aiko]


@pytest.mark.parametrize("case", ["unknown", "other_guild", "others_private"])
async def test_characters_the_member_cannot_see_are_not_found(
    storage: Storage, service: PictureRequests, queue: StubQueue, case: str
) -> None:
    if case == "unknown":
        character_id = 987654
    elif case == "other_guild":
        character_id = await add_character(storage, "Far", guild=OTHER_GUILD)
    else:
        character_id = await add_character(storage, "Secret", owner=BOB, private=True)
    with pytest.raises(NotFound) as missing:
        await service.request_vary(requester(ALICE), VaryRequest(character_id))
    assert missing.value.message_key == "error.character_not_found"
    assert not queue.jobs


async def test_a_deleted_or_foreign_parent_falls_back_to_the_main_picture(
    storage: Storage, service: PictureRequests, queue: StubQueue
) -> None:
    aiko = await add_character(storage, "Aiko")
    main = await add_image(storage, aiko)
    gone = await add_image(storage, aiko)
    await storage.deletions.delete_images(GUILD, [gone], take_down_messages=True)
    other = await add_image(storage, await add_character(storage, "Other"))
    await service.request_vary(requester(ALICE), VaryRequest(aiko, parent_image_id=gone))
    await service.request_vary(requester(ALICE), VaryRequest(aiko, parent_image_id=other))
    assert [j.parent_image_id for j in queue.jobs] == [main, main]


async def test_a_character_without_pictures_cannot_be_varied(
    storage: Storage, service: PictureRequests
) -> None:
    aiko = await add_character(storage, "Aiko")
    with pytest.raises(NotFound) as missing:
        await service.request_vary(requester(ALICE), VaryRequest(aiko))
    assert missing.value.message_key == "error.no_reference"


async def test_set_main_checks_owner_and_picture(
    storage: Storage, service: PictureRequests
) -> None:
    aiko = await add_character(storage, "Aiko")
    first = await add_image(storage, aiko)
    second = await add_image(storage, aiko)
    other = await add_image(storage, await add_character(storage, "Other"))
    with pytest.raises(NotAllowed):
        await service.set_main(requester(BOB), aiko, second)
    with pytest.raises(NotFound):
        await service.set_main(requester(ALICE), aiko, other)
    assert (await storage.characters.get(aiko)).canonical_image_id == first  # type: ignore[union-attr]
    updated = await service.set_main(requester(ALICE), aiko, second)
    assert updated.canonical_image_id == second
