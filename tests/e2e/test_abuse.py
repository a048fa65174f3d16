"""Bounded under abuse (issue 18): hostile input gets a clear answer and costs no more than
its share. Each test here fails on the code before the fix it proves."""

from __future__ import annotations

import pytest

from tests.botproc import BotProcess
from tests.e2e.test_create import finished
from tests.e2e.test_hardening_authz import refusal, say
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI

# Characters str.isdigit() accepts but int() refuses (superscript, circled, and a mix).
ODD_DIGITS = ["²", "①", "#³", "1²", "⑫"]


@pytest.mark.parametrize("typed", ODD_DIGITS)
async def test_digits_that_are_not_ascii_get_the_pick_message_not_a_crash(
    bot: BotProcess, fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild, typed: str
) -> None:
    alice = guild.add_member("alice")
    pick = say("error.character_pick")
    for path in ("character show", "character private", "character delete", "character vary"):
        handle = await alice.slash(path, character=typed)
        assert pick in await refusal(handle), f"/{path} character:{typed!r}"
    handle = await alice.slash("gallery", character=typed)
    assert pick in await refusal(handle)
    handle = await alice.slash("character main", character=typed, picture=typed)
    assert pick in await refusal(handle)
    # Autocomplete reads the other option too: it must still answer (with nothing).
    choices = await alice.autocomplete(
        "character main", focused="picture", value="1", options={"character": typed}, timeout=3
    )
    assert choices == []
    assert not fake_openai.requests
    assert "unexpected" not in " ".join(m.content or "" for m in fake_discord.bot_messages())
    fake_discord.assert_no_violations()


async def test_a_crafted_size_or_style_is_refused_and_cannot_break_the_server(
    bot: BotProcess, fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    alice = guild.add_member("alice")
    carol = guild.add_member("carol", admin=True)

    # A patched client sends values that are not among the options' choices.
    for options, key in (
        ({"style": "hacked"}, "error.unknown_style"),
        ({"size": "9999x9999"}, "error.unknown_size"),
    ):
        handle = await carol.slash("config defaults", modified_client=True, options=options)
        assert say(key) in await refusal(handle)
        handle = await alice.slash(
            "character create",
            modified_client=True,
            name="Aiko",
            description="silver hair",
            options=options,
        )
        assert say(key) in await refusal(handle)
    assert not fake_openai.requests  # refused before moderation was paid for

    # Nothing was stored: every member still creates with the server's defaults.
    done = await alice.slash("character create", name="Aiko", description="silver hair")
    await done.wait_original(finished, timeout=20)
    fake_discord.assert_no_violations()
