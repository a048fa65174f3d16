"""Files and small leaks (issue #17.4): uploads go with their job; commands ack before writing."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import database_busy, finished
from tests.fakes.discord import InteractionHandle, Upload
from tests.fakes.discord.models import Guild, Member
from tests.fakes.openai import FakeOpenAI


def reference_png() -> Upload:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, "PNG")
    return Upload("ref.png", out.getvalue(), "image/png")


def uploaded_references(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "images").rglob("ref-*"))


async def create_with_reference(member: Member, name: str) -> InteractionHandle:
    return await member.slash(
        "character create", name=name, description="like this", reference=reference_png()
    )


async def test_a_failed_jobs_upload_is_removed(bot: object, world: World) -> None:
    world.openai.inject("moderation_blocked")
    h = await create_with_reference(world.guild.add_member("alice"), "Aiko")
    await h.wait_for_reply(lambda m: "Nothing was charged" in (m.content or ""), timeout=20)
    await world.discord.wait_for(
        lambda _f: not uploaded_references(world.data_dir), timeout=5, what="the upload removed"
    )


async def test_a_cancelled_jobs_upload_is_removed(start_bot: StartBot, world: World) -> None:
    await start_bot(max_concurrent_jobs=1)
    alice = world.guild.add_member("alice")
    first, cancel = await one_drawing_one_waiting(world.openai, alice, reference=True)
    assert len(uploaded_references(world.data_dir)) == 1
    clicked = await cancel()
    await clicked.wait_for_reply(lambda m: "cancelled" in (m.content or ""), timeout=10)
    assert uploaded_references(world.data_dir) == []
    world.openai.release()
    await first.wait_original(finished, timeout=20)


async def one_drawing_one_waiting(
    fake_openai: FakeOpenAI, member: Member, *, reference: bool = False
) -> tuple[InteractionHandle, Callable[[], Awaitable[InteractionHandle]]]:
    """A job drawing (held) and one waiting; returns the first and a press of Cancel on the
    second in the member's /queue."""
    fake_openai.hold()
    first = await member.slash("character create", name="One", description="silver hair")
    await fake_openai.wait_for_requests(1, endpoint="images")
    if reference:
        second = await create_with_reference(member, "Two")
    else:
        second = await member.slash("character create", name="Two", description="red eyes")
    await second.wait_original(lambda m: "position 1" in (m.content or ""), timeout=10)
    q = await member.slash("queue")
    listing = await q.wait_original(lambda m: bool(m.embeds), timeout=10)
    cancel = next(cid for cid in listing.custom_ids if cid.startswith("job:cancel:"))
    return first, lambda: member.click(listing, cancel)


@pytest.mark.parametrize(
    "command",
    ["character private", "config forks", "quota-admin set member", "quota-admin clear server"],
)
async def test_commands_that_write_acknowledge_first(
    bot: object, guild: Guild, data_dir: Path, command: str
) -> None:
    boss = guild.add_member("boss", admin=True)
    options: dict[str, object] = {}
    if command == "character private":
        made = await boss.slash("character create", name="Aiko", description="silver hair")
        await made.wait_original(finished, timeout=20)
        with sqlite3.connect(data_dir / "bot.sqlite3") as db:
            (character_id,) = db.execute("SELECT id FROM characters").fetchone()
        options = {"character": str(character_id)}
    elif command == "config forks":
        options = {"allowed": False}
    elif command == "quota-admin set member":
        options = {"member": boss, "per-day": 7}
    with database_busy(data_dir):
        h = await boss.slash(command, options=options)
        ack = await h.wait_ack(timeout=3.5)  # Discord's deadline holds while SQLite is busy
        assert ack.type == 5
    answer = await h.wait_original(timeout=15)  # the write lands once the lock is gone
    assert answer.ephemeral and not answer.loading


async def test_cancel_acknowledges_first(start_bot: StartBot, world: World) -> None:
    await start_bot(max_concurrent_jobs=1)
    first, cancel = await one_drawing_one_waiting(world.openai, world.guild.add_member("alice"))
    with database_busy(world.data_dir):
        clicked = await cancel()
        await clicked.wait_ack(timeout=3.5)
    await clicked.wait_for_reply(lambda m: "cancelled" in (m.content or ""), timeout=15)
    world.openai.release()
    await first.wait_original(finished, timeout=20)
