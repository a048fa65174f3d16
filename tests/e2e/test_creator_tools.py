"""Creator tools, end to end (issue #23): a reference sheet, an avatar, a cut-out.

A sheet or an avatar is one picture, drawn as an edit that sends the character's
references; the sheet then leads the references of every later variation. Server stickers
and emoji are in test_creator_tools_expressions.py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    button,
    drawn,
    drawn_character,
    finished,
    image_ids,
    private_answer,
    query,
    say,
    stored_picture,
)
from tests.fakes.discord.records import Message

VARY_MODEL = "gpt-image-2.5-sunburst"  # the default VARY_MODEL


def keep_for_review(name: str, data: bytes) -> None:
    """Save a picture the bot made where a reviewer can look at it (CREATOR_PICTURES_DIR)."""
    folder = os.environ.get("CREATOR_PICTURES_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(data)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def charged_jobs(data_dir: Path, kind: str) -> list[tuple[str, int]]:
    return query(data_dir, "SELECT state, charged FROM jobs WHERE kind = ? ORDER BY id", kind)


async def test_sheet_is_an_edit_with_the_references_and_leads_the_next_variation(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    first, first_id, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair, red eyes")
    main_picture = stored_picture(data_dir, first_id)

    pressed = await alice.click(first, button(first, "sheet"))
    sheet_message = await pressed.wait_original(finished, timeout=20)

    edit = world.openai.requests_for("edits")[-1]
    assert edit.status == 200 and edit.model == VARY_MODEL
    assert edit.images[0].data == main_picture  # the character's references went along
    assert edit.size == "1536x1024" and edit.input_fidelity == "high"
    prompt = edit.prompt or ""
    for words in ("reference sheet", "front", "side", "back", "expressions", "No text"):
        assert words in prompt
    sheet_id = image_ids(sheet_message)[0]
    assert query(data_dir, "SELECT kind, width, height FROM images WHERE id = ?", sheet_id) == [
        ("sheet", 1536, 1024)
    ]
    sheet_png = sheet_message.attachments[0].data
    assert opened(sheet_png).size == (1536, 1024)
    keep_for_review("sheet.png", sheet_png)
    assert charged_jobs(data_dir, "sheet") == [("done", 1)]  # one picture

    # The next variation sends the sheet first, then the picture being varied.
    varied = await alice.slash("character vary", character=str(aiko), change="waving")
    await varied.wait_original(finished, timeout=20)
    vary = world.openai.requests_for("edits")[-1]
    assert vary.images[0].data == stored_picture(data_dir, sheet_id)
    assert vary.images[1].data == main_picture
    assert "reference sheet" in (vary.prompt or "")
    assert "Same character as the second reference image" in (vary.prompt or "")
    # ...but what it varied (its parent) is still the main picture, not the sheet.
    parent = query(data_dir, "SELECT parent_image_id FROM images ORDER BY id DESC LIMIT 1")
    assert parent == [(first_id,)]


async def test_sheet_command_takes_a_typed_name_and_a_sheet_shows_first_on_the_card(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    _, first_id, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair")
    choices = await alice.autocomplete("character sheet", focused="character", value="ai")
    assert [c["name"] for c in choices] == [f"Aiko #{aiko}"]

    handle = await alice.slash("character sheet", character="Aiko")  # typed, not picked
    message = await handle.wait_original(finished, timeout=20)
    assert world.openai.requests_for("edits")[-1].images[0].data == stored_picture(
        data_dir, first_id
    )
    sheet_id = image_ids(message)[0]

    card = await alice.slash("character show", character="Aiko")
    shown = await card.wait_original(lambda m: bool(m.attachments), timeout=10)
    # The sheet comes first, above the card.
    assert shown.embeds[0]["title"] == f"Reference sheet #{sheet_id}"
    assert shown.embeds[0]["image"]["url"] == "attachment://sheet.png"
    assert shown.embeds[1]["image"]["url"] == "attachment://card.png"
    files = {a.filename: a.data for a in shown.attachments}
    assert files["sheet.png"] == stored_picture(data_dir, sheet_id)
    keep_for_review("card.png", files["card.png"])


async def test_a_sheet_of_someone_elses_character_goes_to_your_own_copy_and_you_are_told(
    bot: object, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    first, _, aiko = await drawn_character(alice, data_dir, "Aiko", "silver hair")

    pressed = await bob.click(first, button(first, "sheet"))
    sheet = await pressed.wait_original(finished, timeout=20)
    note = await pressed.wait_followup(lambda m: m.ephemeral, timeout=10)

    forks = query(data_dir, "SELECT id, owner_id FROM characters WHERE forked_from_id = ?", aiko)
    assert len(forks) == 1 and forks[0][1] == bob.id
    fork_id = forks[0][0]
    assert f"#{fork_id}" in (note.content or "") and "your own copy" in (note.content or "")
    sheet_id = image_ids(sheet)[0]
    assert query(data_dir, "SELECT character_id, kind FROM images WHERE id = ?", sheet_id) == [
        (fork_id, "sheet")
    ]
    # Alice's character has no sheet: the original stays exactly as it was.
    assert query(data_dir, "SELECT COUNT(*) FROM images WHERE character_id = ?", aiko) == [(1,)]


def avatar_files(message: Message) -> tuple[bytes, bytes]:
    """The avatar picture and its 512 copy, told apart by their names."""
    copy = next(a for a in message.attachments if a.filename.endswith("-avatar-512.png"))
    main = next(a for a in message.attachments if a is not copy)
    return main.data, copy.data


async def test_avatar_is_a_square_png_of_1024_with_a_512_copy(bot: object, world: World) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    first, first_id = await drawn(alice, "Aiko", "silver hair")

    asked = await alice.click(first, button(first, "avatar"))
    choice = await asked.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert choice.content == say("creator.avatar_ask")
    assert not world.openai.requests_for("edits")  # nothing drawn before the choice

    chosen = await alice.click(choice, button(choice, "avatart"))
    message = await chosen.wait_original(finished, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    assert edit.size == "1024x1024" and edit.background == "transparent"
    assert edit.output_format == "png"  # transparency needs PNG or WebP
    assert edit.images[0].data == stored_picture(data_dir, first_id)
    assert "head and shoulders" in (edit.prompt or "")

    avatar, copy = avatar_files(message)
    big, small = opened(avatar), opened(copy)
    assert big.format == "PNG" and big.size == (1024, 1024) and big.mode == "RGBA"
    assert small.format == "PNG" and small.size == (512, 512) and small.mode == "RGBA"
    assert small.getpixel((0, 0))[3] == 0  # the transparent background survived the copy
    keep_for_review("avatar-1024.png", avatar)
    keep_for_review("avatar-512.png", copy)
    avatar_id = image_ids(message)[0]
    assert query(data_dir, "SELECT kind FROM images WHERE id = ?", avatar_id) == [("avatar",)]
    assert charged_jobs(data_dir, "avatar") == [("done", 1)]

    # The other choice: an opaque background, no transparency asked of OpenAI.
    chosen = await alice.click(choice, button(choice, "avataro"))
    opaque = await chosen.wait_original(finished, timeout=20)
    assert world.openai.requests_for("edits")[-1].background is None
    _, opaque_copy = avatar_files(opaque)
    assert opened(opaque_copy).size == (512, 512)
    keep_for_review("avatar-opaque-512.png", opaque_copy)


async def test_a_failed_sheet_is_not_charged(bot: object, world: World) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    first, _ = await drawn(alice, "Aiko", "silver hair")
    world.openai.inject("moderation_blocked", endpoint="edits")

    pressed = await alice.click(first, button(first, "sheet"))
    answer = await private_answer(pressed)
    assert answer  # a kind refusal, privately
    await world.discord.wait_for(
        lambda _f: charged_jobs(data_dir, "sheet") == [("failed", 0)],
        timeout=10,
        what="the sheet job failed uncharged",
    )
    assert query(data_dir, "SELECT COUNT(*) FROM images WHERE kind = 'sheet'") == [(0,)]


async def test_an_avatar_is_a_png_even_where_pictures_are_webp(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(output_format="webp")
    alice = world.guild.add_member("alice")
    first, _ = await drawn(alice, "Aiko", "silver hair")
    assert world.openai.requests_for("generations")[-1].output_format == "webp"

    asked = await alice.click(first, button(first, "avatar"))
    choice = await asked.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    chosen = await alice.click(choice, button(choice, "avataro"))
    message = await chosen.wait_original(finished, timeout=20)
    assert world.openai.requests_for("edits")[-1].output_format == "png"
    avatar, copy = avatar_files(message)
    assert opened(avatar).format == "PNG" and opened(avatar).size == (1024, 1024)
    assert opened(copy).format == "PNG" and opened(copy).size == (512, 512)
