"""Counts read as English: "1 picture" and "2 pictures", never "1 pictures" or "picture(s)".

The member sees the count in the drawing progress, on the character card (its embed; the
drawn card takes the same catalog text, checked in tests/unit/test_plurals.py) and in the
gallery footer (the subtitle drawn on the contact sheet).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.botproc import BotProcess
from tests.e2e.conftest import World
from tests.e2e.helpers import confirm, created, db_value, open_gallery
from tests.fakes.discord.models import Member
from tests.fakes.discord.records import Message

# What a careless plural looks like: "1 pictures", "picture(s)", "favorite(s)".
WRONG = re.compile(r"\b1 pictures\b|\(s\)")


def texts(message: Message) -> list[str]:
    """Every text the member saw in a message: its states' contents, embed texts, footers."""
    found = []
    for state in [*message.history, message]:
        found.append(state.content or "")
        for embed in getattr(state, "embeds", None) or []:
            found += [embed.get("description") or "", (embed.get("footer") or {}).get("text", "")]
    return found


async def card_text(member: Member, data_dir: Path, name: str) -> str:
    character = db_value(data_dir, "SELECT id FROM characters WHERE name = ?", name)
    shown = await member.slash("character show", character=str(character))
    card = await shown.wait_original(lambda m: m.attachments, timeout=15)
    assert card.attachments[0].filename == "card.png"
    return str((card.embed or {}).get("description", ""))


async def gallery_footer(member: Member, data_dir: Path, name: str) -> str:
    character = db_value(data_dir, "SELECT id FROM characters WHERE name = ?", name)
    view = await open_gallery(member, character=str(character))
    return str((view.embed or {})["footer"]["text"])


async def test_one_picture_is_one_picture_and_two_are_two_pictures(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")

    one = await created(alice, "Aiko", count=1)
    progress = [t for t in texts(one) if "Drawing" in t]
    assert progress and all("(1 picture)" in t for t in progress), texts(one)
    two = await created(alice, "Mira", count=2)
    progress = [t for t in texts(two) if "Drawing" in t]
    assert progress and all("(2 pictures)" in t for t in progress), texts(two)

    aiko_card = await card_text(alice, world.data_dir, "Aiko")
    assert "1 picture · ★ 0 favorites" in aiko_card, aiko_card
    mira_card = await card_text(alice, world.data_dir, "Mira")
    assert "2 pictures · ★ 0 favorites" in mira_card, mira_card

    assert "· 1 picture ·" in await gallery_footer(alice, world.data_dir, "Aiko")
    assert "· 2 pictures ·" in await gallery_footer(alice, world.data_dir, "Mira")

    everything = world.discord.messages(include_ephemeral=True)
    seen = [text for message in everything if message.by_bot for text in texts(message)]
    assert not [text for text in seen if WRONG.search(text)], seen


async def test_export_and_deletions_count_each_thing_in_its_own_form(
    bot: BotProcess, world: World
) -> None:
    """Messages that count two or three things (characters, pictures, zip files)."""
    alice = world.guild.add_member("alice")
    await created(alice, "Aiko", count=1)
    await created(alice, "Mira", count=2)

    export = await alice.slash("mydata export")
    ready = await export.wait_original(lambda m: m.attachments, timeout=30)
    assert "2 characters and 3 pictures in 1 zip file." in ready.content, ready.content

    aiko = db_value(world.data_dir, "SELECT id FROM characters WHERE name = ?", "Aiko")
    ask = await alice.slash("character delete", character=str(aiko))
    prompt = await ask.wait_original(lambda m: m.buttons, timeout=10)
    assert "**Aiko** and its 1 picture?" in prompt.content, prompt.content
    done = await confirm(alice, prompt, world.discord, "🗑️")
    assert "Deleted **Aiko** and 1 picture." in done.content, done.content

    ask = await alice.slash("mydata delete")
    prompt = await ask.wait_original(lambda m: m.buttons, timeout=10)
    erased = await confirm(alice, prompt, world.discord, "✅")
    assert "Erased 1 character and 2 pictures," in erased.content, erased.content

    everything = world.discord.messages(include_ephemeral=True)
    seen = [text for message in everything if message.by_bot for text in texts(message)]
    assert not [text for text in seen if WRONG.search(text)], seen
