"""Papercuts a new member meets in their first ten minutes (issue #21), end to end."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import StartBot
from tests.e2e.helpers import (
    create,
    drawn_character,
    finished,
    held_at_openai,
    private_answer,
    query,
)
from tests.fakes.discord import InteractionHandle
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI

# --------------------------------------------------------------------------- typed names


async def test_a_typed_name_works_in_every_option_that_names_a_character(
    bot: object, guild: Guild, data_dir: Path
) -> None:
    alice, bob, carol = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("c")
    _, _, aiko = await drawn_character(alice, data_dir)
    _, _, bobs_aiko = await drawn_character(bob, data_dir, "Aiko", "short red hair")

    # Typed, not picked: her own Aiko first, in any case.
    shown = await alice.slash("character show", character="aiko")
    card = await shown.wait_original(lambda m: bool(m.embeds), timeout=15)
    assert card.embeds[0]["title"].startswith("Aiko")
    varied = await alice.slash("character vary", character="Aiko", change="waving")
    await varied.wait_original(finished, timeout=20)
    assert query(data_dir, "SELECT character_id FROM jobs ORDER BY id DESC LIMIT 1") == [(aiko,)]
    hidden = await alice.slash("character private", character="Aiko", hidden=True)
    assert "private" in await private_answer(hidden)
    assert query(data_dir, "SELECT private FROM characters WHERE id = ?", aiko) == [(1,)]
    gallery = await alice.slash("gallery", character="Aiko")
    page = await gallery.wait_original(lambda m: bool(m.embeds), timeout=15)
    assert "Aiko" in page.embeds[0]["title"]

    # Bob's Aiko is public, Alice's now private: for Carol the name is Bob's alone.
    theirs = await carol.slash("character show", character="Aiko")
    await theirs.wait_original(lambda m: bool(m.embeds), timeout=15)
    shared = await alice.slash("character private", character="Aiko", hidden=False)
    assert "visible to everyone" in await private_answer(shared)

    # Two public characters called Aiko, neither Carol's: she is shown both to pick from.
    ambiguous = await carol.slash("character show", character="Aiko")
    text = await private_answer(ambiguous)
    assert "Several characters" in text
    assert f"#{aiko}" in text and f"#{bobs_aiko}" in text

    # Nothing by that name: the usual friendly pick message, nothing drawn.
    nobody = await carol.slash("character delete", character="Nobody")
    assert "Pick a character from the list" in await private_answer(nobody)
    deleted = await bob.slash("character delete", character="Aiko")
    confirm = await deleted.wait_for_reply(lambda m: bool(m.buttons), timeout=10)
    assert "Aiko" in (confirm.content or "")


# --------------------------------------------------------------------------- positions


async def test_waiting_members_are_told_the_places_the_scheduler_will_use(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    # One job at a time, so the order jobs start in is the order OpenAI sees them.
    await start_bot(max_concurrent_jobs=1, member_pending_cap=10)
    alice, bob, carol = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("c")
    running = await held_at_openai(fake_openai, alice, "A1")
    # Each newcomer may go ahead of those already waiting: Bob and Carol were never served,
    # Alice was. A2 is told place 1 first, then 2, then 3 as Bob and Carol arrive.
    waiting: dict[str, InteractionHandle] = {}
    for member, name in ((alice, "A2"), (bob, "B1"), (carol, "C1"), (alice, "A3")):
        waiting[name] = await create(member, name)
        # Arrival order is the point: each job is queued before the next command is sent
        # (on a busy machine two moderations in flight could finish in either order).
        await waiting[name].wait_original(lambda m: "position " in (m.content or ""), timeout=15)
    expected = {"B1": 1, "C1": 2, "A2": 3, "A3": 4}
    for name, handle in waiting.items():
        place = expected[name]
        await handle.wait_original(  # type: ignore[attr-defined]
            lambda m, p=place: f"position {p}," in (m.content or ""), timeout=15
        )
    fake_openai.release()
    for handle in [running, *waiting.values()]:
        await handle.wait_original(finished, timeout=30)  # type: ignore[attr-defined]
    names = ["A1", *expected]
    started = [next(n for n in names if n in (r.prompt or "")) for r in fake_openai.image_requests]
    # The places members were told are the order the jobs actually started in.
    assert started == ["A1", *sorted(expected, key=expected.__getitem__)]


def position_of(content: str | None) -> int:
    text = (content or "").split("position ")[1]
    return int(text.split(",")[0])
