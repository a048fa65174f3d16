"""Paging the gallery by keyset (issue #21.4), end to end.

◀ and ▶ carry the picture they read past, so a page deep in 100,000 pictures is an index
seek (the plans are checked in tests/unit/test_gallery_storage.py). What a member sees:
▶ to the end and ◀ back show each picture once, in order, with the right page numbers
and tile numbers; and pictures made or deleted between two presses neither repeat a
picture nor lose one that was there all along.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from bot.images.store import ImageStore
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import cid, open_gallery, options, seed, wait_edited
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Member
from tests.fakes.discord.records import Message
from tests.storage_helpers import Seeder, open_storage

PICTURES = 30  # pages of 9, 9, 9 and 3


def stored_ids(data_dir: Path, order: str) -> list[int]:
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        return [row[0] for row in db.execute(f"SELECT id FROM images ORDER BY {order}")]


def footer(message: Message) -> str:
    return str((message.embed or {})["footer"]["text"])


def shown(message: Message) -> list[int]:
    return [int(o["value"]) for o in options(message, "gal:o:")]


def numbers(message: Message) -> list[int]:
    """The tile numbers, as the "open a picture" menu lists them ("10. Mira")."""
    return [int(re.match(r"(\d+)\.", o["label"])[1]) for o in options(message, "gal:o:")]  # type: ignore[index]


def disabled(message: Message, prefix: str) -> bool:
    component = message.component(cid(message, prefix))
    assert component is not None
    return bool(component.get("disabled"))


async def press(
    fake: FakeDiscord, member: Member, message: Message, prefix: str, page: int
) -> Message:
    """Press ◀ (``gal:p:``) or ▶ (``gal:n:``) and wait for page ``page`` (1-based)."""
    turn = await member.click(message, cid(message, prefix))
    await turn.wait_ack()
    return await wait_edited(fake, message, f"gallery-{page}.jpg")


async def test_forward_and_back_through_the_hall_of_fame_show_each_picture_once(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    await seed(data_dir, guild.id, [alice.id], PICTURES)
    # Many ties, so the order leans on (favorite count, id) together.
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        db.execute("UPDATE images SET favorite_count = id % 3")
    expected = stored_ids(data_dir, "favorite_count DESC, id DESC")
    await start_bot()

    message = await open_gallery(alice, sort="favorites", scope="server")
    pages = [shown(message)]
    assert "Page 1 of 4" in footer(message) and disabled(message, "gal:p:")
    for page in range(2, 5):
        message = await press(world.discord, alice, message, "gal:n:", page)
        assert f"Page {page} of 4" in footer(message)
        assert numbers(message)[0] == (page - 1) * 9 + 1
        pages.append(shown(message))
    assert disabled(message, "gal:n:")
    assert [i for page in pages for i in page] == expected  # each once, in order

    back = [shown(message)]
    for page in range(3, 0, -1):
        message = await press(world.discord, alice, message, "gal:p:", page)
        assert f"Page {page} of 4" in footer(message)
        assert numbers(message) == list(range((page - 1) * 9 + 1, page * 9 + 1))
        back.append(shown(message))
    assert back == pages[::-1]
    assert disabled(message, "gal:p:")


async def test_pictures_made_and_deleted_between_presses_neither_repeat_nor_vanish(
    start_bot: StartBot, world: World
) -> None:
    guild, data_dir = world.guild, world.data_dir
    alice = guild.add_member("alice")
    characters = await seed(data_dir, guild.id, [alice.id], PICTURES)
    await start_bot()

    message = await open_gallery(alice)
    first = shown(message)
    before = stored_ids(data_dir, "id DESC")
    assert first == before[:9]

    # While Alice looks at page 1: two new pictures (they go before page 1) and one of
    # page 2's deleted. With OFFSET, ▶ would show page 1's last two pictures again.
    async with open_storage(data_dir / "bot.sqlite3") as storage:
        seeder = Seeder(storage, ImageStore(data_dir / "images"))
        seeder.count = PICTURES
        for _ in range(2):
            await seeder.picture(guild.id, characters[0], alice.id)
    gone = before[12]
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        db.execute("DELETE FROM images WHERE id = ?", (gone,))

    walked = list(first)
    page = 1
    while not disabled(message, "gal:n:"):
        page += 1
        assert page <= 6, "▶ kept going"
        message = await press(world.discord, alice, message, "gal:n:", page)
        walked += shown(message)
    assert len(walked) == len(set(walked)), walked  # nothing shown twice
    assert walked == sorted(walked, reverse=True)  # still newest first
    assert walked == [i for i in before if i != gone]  # nothing lost that was there
    assert "31 pictures" in footer(message)
