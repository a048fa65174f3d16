"""/character vary and the Vary buttons, end to end: the real bot process through both fakes.

A variation is an images.edit whose reference pictures show the character (its main
picture first for Strong, the picture being varied first for Subtle). Another member's
character is varied through a fork of their own; the original is never written.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    ONE_PICTURE_BUTTONS,
    button,
    button_actions,
    character_of,
    drawn,
    drawn_character,
    execute,
    finished,
    image_ids,
    private_answer,
    query,
    stored_picture,
)

VARY_MODEL = "gpt-image-2.5-sunburst"  # the default VARY_MODEL


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


# --------------------------------------------------------------------------- autocomplete


async def test_autocomplete_lists_own_then_shared_characters_never_others_private(
    bot: object, world: World
) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    _, _, aiko = await drawn_character(alice, world.data_dir, "Aiko", "silver hair")
    _, _, akane = await drawn_character(alice, world.data_dir, "Akane", "red ponytail")
    _, _, bobby = await drawn_character(bob, world.data_dir, "Bobby", "green cap")
    _, _, hidden = await drawn_character(bob, world.data_dir, "Hidden", "a secret look")
    execute(world.data_dir, "UPDATE characters SET private = 1 WHERE id = ?", hidden)

    choices = await alice.autocomplete("character vary", focused="character", value="")
    values = [c["value"] for c in choices]
    assert values[:2] == [str(aiko), str(akane)]  # her own first, by name
    assert str(bobby) in values and str(hidden) not in values
    names = {c["value"]: c["name"] for c in choices}
    assert names[str(aiko)] == f"Aiko #{aiko}"
    assert "someone else" in names[str(bobby)]

    # Filtered by what was typed: part of the name, any case, or the number.
    typed = await alice.autocomplete("character vary", focused="character", value="kan")
    assert [c["value"] for c in typed] == [str(akane)]
    by_id = await alice.autocomplete("character vary", focused="character", value=f"#{bobby}")
    assert [c["value"] for c in by_id] == [str(bobby)]
    # Bob sees his own private character.
    bobs = await bob.autocomplete("character vary", focused="character", value="hid")
    assert [c["value"] for c in bobs] == [str(hidden)]
    # /character main offers only the member's own characters.
    own = await alice.autocomplete("character main", focused="character", value="")
    assert {c["value"] for c in own} == {str(aiko), str(akane)}

    # Never more than 25, even with many matches.
    for number in range(30):
        execute(
            world.data_dir,
            "INSERT INTO characters (guild_id, owner_id, name, sheet_json, style, created_at)"
            " VALUES (?, ?, ?, '{}', 'cel', 0)",
            world.guild.id,
            alice.id,
            f"Extra {number:02d}",
        )
    many = await alice.autocomplete("character vary", focused="character", value="")
    assert len(many) == 25
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in many)
    # Every autocomplete was answered within Discord's 3 s.


# --------------------------------------------------------------------------- /character vary


async def test_vary_sends_the_main_picture_and_posts_the_result_with_lineage(
    bot: object, world: World
) -> None:
    alice = world.guild.add_member("alice")
    first, first_id, aiko = await drawn_character(
        alice, world.data_dir, "Aiko", "silver hair, red eyes"
    )
    main_picture = stored_picture(world.data_dir, first_id)

    h = await alice.slash(
        "character vary", character=str(aiko), change="waving, summer festival yukata"
    )
    assert (await h.wait_ack()).type == 5
    message = await h.wait_original(finished, timeout=20)

    edits = world.openai.requests_for("edits")
    assert len(edits) == 1
    edit = edits[0]
    assert edit.status == 200 and edit.model == VARY_MODEL
    assert edit.images[0].data == main_picture
    assert edit.images[0].content_type == "image/png"
    assert pixels(edit.images[0].data) == pixels(first.attachments[0].data)
    prompt = edit.prompt or ""
    for fact in ("Aiko", "silver hair, red eyes", "waving, summer festival yukata"):
        assert fact in prompt

    # Posted like a creation, with its lineage stored and shown.
    new_id = image_ids(message)[0]
    assert len(message.attachments) == 1
    assert pixels(message.attachments[0].data) == pixels(stored_picture(world.data_dir, new_id))
    assert query(
        world.data_dir, "SELECT character_id, parent_image_id FROM images WHERE id = ?", new_id
    )[0] == (aiko, first_id)
    embed = message.embeds[0]
    assert embed["title"] == "Aiko"
    assert f"Variation of** #{first_id}" in embed["description"]
    assert button_actions(message) == ONE_PICTURE_BUTTONS
    assert all(len(cid) <= 100 for cid in message.custom_ids)


async def test_subtle_and_strong_send_different_parameters(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    _, first_id = await drawn(alice, "Aiko", "silver hair")
    aiko = str(character_of(world.data_dir, first_id))

    h = await alice.slash("character vary", character=aiko, change="smiling", strength="subtle")
    await h.wait_original(finished, timeout=20)
    h = await alice.slash(
        "character vary", character=aiko, change="on a rooftop", strength="strong", count=2
    )
    strong_message = await h.wait_original(finished, timeout=20)

    subtle, strong = world.openai.requests_for("edits")
    assert (subtle.input_fidelity, subtle.complexity) == ("high", "low")
    assert (strong.input_fidelity, strong.complexity) == ("high", "high")
    assert "Make only the change asked for" in (subtle.prompt or "")
    assert "Pose, camera angle, expression and scene may change" in (strong.prompt or "")
    assert strong.n == 2 and len(strong_message.attachments) == 2
    # Two pictures: numbered Subtle and Strong rows, one of each per picture.
    first, second = image_ids(strong_message)
    assert button(strong_message, "varys", 0) == f"pic:varys:{first}"
    assert button(strong_message, "varys", 1) == f"pic:varys:{second}"
    rows = strong_message.components
    assert len(rows) <= 5 and all(len(row["components"]) <= 5 for row in rows)


async def test_vary_buttons_work_on_a_message_posted_before_a_restart(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot()
    alice = world.guild.add_member("alice")
    first, first_id = await drawn(alice, "Aiko", "silver hair")
    main_picture = stored_picture(world.data_dir, first_id)

    assert await bot.stop() == 0
    await start_bot()  # a new process: the old message's buttons are rebuilt from custom_ids

    opened = await alice.click(first, button(first, "varys"))
    await opened.wait_ack()
    assert opened.modal is not None and "Strong" in opened.modal["title"]
    submitted = await opened.submit_modal({"change": "sitting on a swing at dusk"})
    varied = await submitted.wait_original(finished, timeout=20)

    strong = world.openai.requests_for("edits")[-1]
    assert strong.complexity == "high"
    assert strong.images[0].data == main_picture
    assert "sitting on a swing at dusk" in (strong.prompt or "")
    varied_id = image_ids(varied)[0]
    assert query(world.data_dir, "SELECT parent_image_id FROM images WHERE id = ?", varied_id) == [
        (first_id,)
    ]

    # Subtle on the variation, with the change left empty: a fresh take of that picture,
    # which goes first, with the main picture after it.
    opened = await alice.click(varied, button(varied, "vary"))
    await opened.wait_ack()
    again = await (await opened.submit_modal({})).wait_original(finished, timeout=20)
    subtle = world.openai.requests_for("edits")[-1]
    assert subtle.complexity == "low" and subtle.input_fidelity == "high"
    assert [i.data for i in subtle.images] == [
        stored_picture(world.data_dir, varied_id),
        main_picture,
    ]
    assert "fresh take" in (subtle.prompt or "")
    assert f"Variation of** #{varied_id}" in again.embeds[0]["description"]


# --------------------------------------------------------------------------- forks


async def test_varying_someone_elses_character_forks_it_and_leaves_the_original(
    bot: object, world: World
) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    first, first_id, aiko = await drawn_character(alice, world.data_dir)
    original = query(world.data_dir, "SELECT * FROM characters WHERE id = ?", aiko)

    h = await bob.slash("character vary", character=str(aiko), change="holding an umbrella")
    message = await h.wait_original(finished, timeout=20)
    note = await h.wait_followup(lambda m: m.ephemeral, timeout=10)

    forks = query(
        world.data_dir,
        "SELECT id, owner_id, name, canonical_image_id FROM characters WHERE forked_from_id = ?",
        aiko,
    )
    assert len(forks) == 1
    fork_id, owner, name, canonical = forks[0]
    new_id = image_ids(message)[0]
    # The fork's main picture is its own first one, never the original's (issue #15).
    assert (owner, name, canonical) == (bob.id, "Aiko", new_id)
    assert f"#{fork_id}" in (note.content or "") and "own copy" in (note.content or "")
    assert query(
        world.data_dir,
        "SELECT character_id, owner_id, parent_image_id FROM images WHERE id = ?",
        new_id,
    ) == [(fork_id, bob.id, first_id)]
    assert world.openai.requests_for("edits")[-1].images[0].data == stored_picture(
        world.data_dir, first_id
    )

    # Varying the same character again (this time by its button) reuses Bob's fork.
    opened = await bob.click(first, button(first, "vary"))
    await opened.wait_ack()
    await (await opened.submit_modal({"change": "laughing"})).wait_original(finished, timeout=20)
    assert (
        len(query(world.data_dir, "SELECT id FROM characters WHERE forked_from_id = ?", aiko)) == 1
    )

    # Alice's character and pictures are untouched.
    assert query(world.data_dir, "SELECT * FROM characters WHERE id = ?", aiko) == original
    assert query(world.data_dir, "SELECT id FROM images WHERE character_id = ?", aiko) == [
        (first_id,)
    ]


async def test_with_forks_turned_off_others_are_refused_clearly(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    carol = world.guild.add_member("carol")
    first, _, aiko = await drawn_character(alice, world.data_dir)
    admin = world.guild.add_member("admin", admin=True)
    turned_off = await admin.slash("config forks", allowed=False)
    await turned_off.wait_original(lambda m: "Saved" in (m.content or ""), timeout=10)

    h = await carol.slash("character vary", character=str(aiko), change="dancing")
    assert "doesn't allow varying other members' characters" in await private_answer(h)
    # The button refuses before a modal opens, so Carol types nothing in vain.
    clicked = await carol.click(first, button(first, "varys"))
    assert "doesn't allow" in await private_answer(clicked)
    assert clicked.modal is None
    assert not world.openai.requests_for("edits")
    assert query(world.data_dir, "SELECT COUNT(*) FROM characters") == [(1,)]
    assert query(world.data_dir, "SELECT COUNT(*) FROM jobs WHERE kind = 'vary'") == [(0,)]

    # The owner still varies her own character.
    own = await alice.slash("character vary", character=str(aiko), change="dancing")
    await own.wait_original(finished, timeout=20)


# --------------------------------------------------------------------------- models


async def test_gpt_image_2_gets_no_input_fidelity_and_succeeds(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(vary_model="gpt-image-2")
    alice = world.guild.add_member("alice")
    _, first_id, aiko = await drawn_character(alice, world.data_dir, "Aiko", "silver hair")
    h = await alice.slash("character vary", character=str(aiko), change="reading")
    message = await h.wait_original(finished, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    assert edit.model == "gpt-image-2" and edit.status == 200
    assert edit.input_fidelity is None and "input_fidelity" not in edit.fields
    assert edit.complexity is None  # gpt-image-2 has no complexity either
    assert edit.images[0].data == stored_picture(world.data_dir, first_id)
    assert "gpt-image-2" in message.embeds[0]["description"]


async def test_webp_pictures_are_sent_as_png_references(bot: object, world: World) -> None:
    # A server that ran with OUTPUT_FORMAT=webp has WebP pictures on disk. (Seeded by
    # rewriting a stored picture, so this test covers only the reference conversion.)
    alice = world.guild.add_member("alice")
    _, first_id, aiko = await drawn_character(alice, world.data_dir, "Aiko", "silver hair")
    path = query(world.data_dir, "SELECT file_path FROM images WHERE id = ?", first_id)[0][0]
    webp = io.BytesIO()
    Image.open(io.BytesIO(stored_picture(world.data_dir, first_id))).save(
        webp, "WEBP", lossless=True
    )
    (world.data_dir / "images" / path).write_bytes(webp.getvalue())
    execute(world.data_dir, "UPDATE images SET mime = 'image/webp' WHERE id = ?", first_id)

    h = await alice.slash("character vary", character=str(aiko), change="reading")
    await h.wait_original(finished, timeout=20)
    reference = world.openai.requests_for("edits")[-1].images[0]
    assert reference.content_type == "image/png" and reference.data.startswith(b"\x89PNG")
    assert pixels(reference.data) == pixels(webp.getvalue())


# --------------------------------------------------------------------------- references


async def test_main_picture_and_favorites_become_the_references(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    _, first_id = await drawn(alice, "Aiko", "silver hair")
    aiko = str(character_of(world.data_dir, first_id))
    h = await alice.slash("character vary", character=aiko, change="in the rain")
    second = await h.wait_original(finished, timeout=20)
    second_id = image_ids(second)[0]

    # A favorite joins the references, after the main picture.
    fav = await bob.click(second, button(second, "fav"))
    await fav.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    h = await alice.slash("character vary", character=aiko, change="at the beach")
    await h.wait_original(finished, timeout=20)
    first_bytes, second_bytes = (
        stored_picture(world.data_dir, first_id),
        stored_picture(world.data_dir, second_id),
    )
    edit = world.openai.requests_for("edits")[-1]
    assert [i.data for i in edit.images] == [first_bytes, second_bytes]

    # /character main: the picture list offers the character's pictures; promote the second.
    choices = await alice.autocomplete(
        "character main", focused="picture", value="", options={"character": aiko}
    )
    assert str(second_id) in [c["value"] for c in choices]
    assert any(c["value"] == str(first_id) and "main" in c["name"] for c in choices)
    denied = await bob.slash("character main", character=aiko, picture=str(second_id))
    assert "Only the character's owner" in await private_answer(denied)
    done = await alice.slash("character main", character=aiko, picture=str(second_id))
    assert "main picture" in await private_answer(done)  # a private confirmation
    assert query(
        world.data_dir, "SELECT canonical_image_id FROM characters WHERE id = ?", int(aiko)
    ) == [(second_id,)]

    h = await alice.slash("character vary", character=aiko, change="at night", strength="strong")
    message = await h.wait_original(finished, timeout=20)
    edit = world.openai.requests_for("edits")[-1]
    assert edit.images[0].data == second_bytes
    assert f"Variation of** #{second_id}" in message.embeds[0]["description"]


async def test_a_deleted_parent_falls_back_to_the_main_picture(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    _, first_id = await drawn(alice, "Aiko", "silver hair")
    aiko = str(character_of(world.data_dir, first_id))
    h = await alice.slash("character vary", character=aiko, change="in the rain")
    second = await h.wait_original(finished, timeout=20)

    opened = await alice.click(second, button(second, "vary"))
    await opened.wait_ack()
    deleting = await alice.click(second, button(second, "del"))
    await deleting.wait_ack()
    await world.discord.wait_for(lambda _: world.discord.message(second.id).deleted, timeout=10)

    varied = await (await opened.submit_modal({"change": "smiling"})).wait_original(
        finished, timeout=20
    )
    edit = world.openai.requests_for("edits")[-1]
    assert [i.data for i in edit.images] == [stored_picture(world.data_dir, first_id)]
    new_id = image_ids(varied)[0]
    assert query(world.data_dir, "SELECT parent_image_id FROM images WHERE id = ?", new_id) == [
        (first_id,)
    ]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("#987654321", "couldn't find that character"),
        ("other-guild", "couldn't find that character"),
        ("nobody by that name", "Pick a character from the list"),
    ],
)
async def test_unknown_or_foreign_characters_get_a_clear_error(
    bot: object, world: World, typed: str, expected: str
) -> None:
    alice = world.guild.add_member("alice")
    if typed == "other-guild":
        execute(
            world.data_dir,
            "INSERT INTO characters (id, guild_id, owner_id, name, sheet_json, style, created_at)"
            " VALUES (4242, ?, ?, 'Elsewhere', '{}', 'cel', 0)",
            world.guild.id + 1,
            alice.id,
        )
        typed = "4242"
    h = await alice.slash("character vary", character=typed, change="waving")
    assert expected in await private_answer(h)
    assert not world.openai.image_requests
    assert query(world.data_dir, "SELECT COUNT(*) FROM jobs") == [(0,)]


async def test_a_failed_variation_is_refunded(start_bot: StartBot, world: World) -> None:
    await start_bot(max_attempts="1")
    alice = world.guild.add_member("alice")
    _, _, aiko = await drawn_character(alice, world.data_dir, "Aiko", "silver hair")
    world.openai.inject("server_error", times=10, endpoint="edits")
    h = await alice.slash("character vary", character=str(aiko), change="in the woods")
    notice = await h.wait_for_reply(
        lambda m: "Nothing was charged" in (m.content or ""), timeout=20
    )
    assert not notice.attachments
    assert world.openai.requests_for("edits")
    assert query(world.data_dir, "SELECT state, charged FROM jobs WHERE kind = 'vary'") == [
        ("failed", 0)
    ]
    assert query(world.data_dir, "SELECT COUNT(*) FROM images") == [(1,)]
