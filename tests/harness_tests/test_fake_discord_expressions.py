"""The fake's Create Guild Sticker and Create Guild Emoji (tests/fakes/discord/expressions.py),
driven with raw HTTP so every request is exactly the one under test: Discord's limits, its
error codes, and slots that grow with the boost tier."""

from __future__ import annotations

import base64
import io
import random
from typing import Any

import aiohttp
from PIL import Image

from tests.fakes.discord import FakeDiscord, Guild
from tests.fakes.discord.expressions import expressions_of, fill_emojis, fill_stickers
from tests.fakes.discord.permissions import DEFAULT_BOT_PERMISSIONS, Permissions

ALLOWED = int(DEFAULT_BOT_PERMISSIONS) | int(Permissions.MANAGE_GUILD_EXPRESSIONS)


def png(side: int, *, noise: bool = False) -> bytes:
    image = Image.new("RGBA", (side, side), (200, 40, 90, 0))
    if noise:
        pixels = random.Random(side).randbytes(side * side * 4)  # incompressible
        image = Image.frombytes("RGBA", (side, side), pixels)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def post(fake: FakeDiscord, path: str, **body: Any) -> tuple[int, Any]:
    """POST to the fake's REST API as the bot; the status and the JSON answer."""
    headers = {"Authorization": f"Bot {fake.bot_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.api_base}{path}", headers=headers, **body) as response,
    ):
        return response.status, await response.json()


async def sticker(fake: FakeDiscord, guild: Guild, data: bytes, **fields: str) -> tuple[int, Any]:
    form = aiohttp.FormData()
    for name, value in {"name": "Aiko", "tags": "😊", "description": "", **fields}.items():
        form.add_field(name, value)
    form.add_field("file", data, filename="sticker.png", content_type="image/png")
    return await post(fake, f"/guilds/{guild.id}/stickers", data=form)


async def emoji(
    fake: FakeDiscord, guild: Guild, data: bytes, name: str = "aiko"
) -> tuple[int, Any]:
    image = "data:image/png;base64," + base64.b64encode(data).decode()
    return await post(fake, f"/guilds/{guild.id}/emojis", json={"name": name, "image": image})


async def test_without_manage_expressions_the_bot_gets_50013(
    fake: FakeDiscord, guild: Guild
) -> None:
    status, body = await sticker(fake, guild, png(320))
    assert (status, body["code"]) == (403, 50013)
    status, body = await emoji(fake, guild, png(128))
    assert (status, body["code"]) == (403, 50013)
    assert expressions_of(guild).created == []


async def test_a_sticker_within_limits_is_recorded_and_listed(
    fake: FakeDiscord, guild: Guild
) -> None:
    guild.set_bot_permissions(ALLOWED)
    status, body = await sticker(fake, guild, png(320), description="Aiko waves")
    assert status == 201 and body["name"] == "Aiko" and body["format_type"] == 1
    [made] = expressions_of(guild).created
    assert made.size == (320, 320) and made.fields["tags"] == "😊"
    url = f"{fake.api_base}/guilds/{guild.id}/stickers"
    headers = {"Authorization": f"Bot {fake.bot_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        assert [s["name"] for s in await r.json()] == ["Aiko"]
    assert fake.contract_violations == []


async def test_sticker_limits(fake: FakeDiscord, guild: Guild) -> None:
    guild.set_bot_permissions(ALLOWED)
    status, body = await sticker(fake, guild, png(256))
    assert (status, body["code"]) == (400, 50046)  # a PNG sticker is 320 x 320
    status, body = await sticker(fake, guild, png(320, noise=True) + b"\0" * 600_000)
    assert (status, body["code"]) == (400, 50045)  # over 512 KiB
    status, body = await sticker(fake, guild, png(320), name="A")
    assert (status, body["code"]) == (400, 50035) and "name" in body["errors"]
    fill_stickers(guild, 5)
    status, body = await sticker(fake, guild, png(320))
    assert (status, body["code"]) == (400, 30039)  # no boost: 5 slots
    guild.set_premium_tier(1)
    status, _ = await sticker(fake, guild, png(320))
    assert status == 201  # tier 1: 15 slots


async def test_emoji_limits(fake: FakeDiscord, guild: Guild) -> None:
    guild.set_bot_permissions(ALLOWED)
    status, body = await emoji(fake, guild, png(128), name="aiko smile")
    assert (status, body["code"]) == (400, 50035) and "name" in body["errors"]
    status, body = await emoji(fake, guild, png(600, noise=True))
    assert (status, body["code"]) == (400, 50035) and "image" in body["errors"]  # > 256 KiB
    fill_emojis(guild, 50)
    status, body = await emoji(fake, guild, png(128))
    assert (status, body["code"]) == (400, 30008)
    guild.set_premium_tier(2)
    status, body = await emoji(fake, guild, png(128), name="aiko_2")
    assert status == 201 and body["name"] == "aiko_2"
    assert expressions_of(guild).created[-1].size == (128, 128)
