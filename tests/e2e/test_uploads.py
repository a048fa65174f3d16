"""Reference uploads of every awkward kind, and a channel where the bot can't post pictures."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from tests.botproc import BotProcess
from tests.e2e.helpers import create, finished, picture_size
from tests.fakes.discord import ATTACH_FILES, Upload
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI
from tests.storage_helpers import raw_png


def bomb_png() -> bytes:
    """A tiny file whose header claims 30000 x 30000 pixels."""
    return raw_png(30000, 30000, zlib.compress(b"\x00" * 64))


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def truncated_png() -> bytes:
    data = encoded(Image.new("RGB", (200, 200), (200, 30, 30)), "PNG")
    return data[: len(data) // 2]


REJECTED = [
    (
        "not-an-image.png",
        b"this is plain text, not a picture" * 10,
        "image/png",
        "PNG, JPEG, WebP or GIF",
    ),
    ("half.png", truncated_png(), "image/png", "damaged"),
    ("bomb.png", bomb_png(), "image/png", "too large in pixels"),
    ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (30 * 1024 * 1024), "image/png", "under 20 MB"),
    ("notes.txt", b"hello", "text/plain", "PNG, JPEG, WebP or GIF"),
]


@pytest.mark.parametrize(
    ("upload", "expected"),
    [(Upload(*rejected[:3]), rejected[3]) for rejected in REJECTED],
    ids=[r[0] for r in REJECTED],
)
async def test_bad_uploads_get_a_clear_private_error_and_reach_nobody(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild, upload: Upload, expected: str
) -> None:
    if len(upload.data) > 10 * 1024 * 1024:
        guild.set_premium_tier(3)  # members of a boosted server may upload up to 100 MB
    alice = guild.add_member("alice")
    h = await create(alice, "Aiko", "like the reference", reference=upload)
    notice = await h.wait_for_reply(lambda m: m.ephemeral, timeout=15)
    assert expected in notice.content
    assert not fake_openai.requests  # not even the moderation check was paid for


def exif_rotated_jpeg() -> bytes:
    image = Image.new("RGB", (300, 100), (30, 200, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    return encoded(image, "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.new("P", (120, 80), colour) for colour in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


ACCEPTED = [
    (
        "cmyk.jpg",
        encoded(Image.new("CMYK", (160, 90), (0, 128, 255, 0)), "JPEG"),
        "image/jpeg",
        (160, 90),
    ),
    ("rotated.jpg", exif_rotated_jpeg(), "image/jpeg", (100, 300)),
    ("moving.gif", animated_gif(), "image/gif", (120, 80)),
]


@pytest.mark.parametrize(
    ("upload", "size"),
    [(Upload(*accepted[:3]), accepted[3]) for accepted in ACCEPTED],
    ids=[a[0] for a in ACCEPTED],
)
async def test_awkward_but_valid_uploads_are_converted_to_clean_png(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild, upload: Upload, size: tuple[int, int]
) -> None:
    alice = guild.add_member("alice")
    h = await create(alice, "Aiko", "like the reference", reference=upload)
    await h.wait_original(finished, timeout=20)
    sent = fake_openai.requests_for("edits")[0].images[0]
    assert sent.content_type == "image/png"
    assert picture_size(sent.data) == size
    assert Image.open(io.BytesIO(sent.data)).mode in ("RGB", "RGBA")


async def test_a_channel_without_attach_files_gets_a_clear_permission_message(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    guild.set_bot_channel_permissions(guild.default_channel, deny=ATTACH_FILES)
    alice = guild.add_member("alice")
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    notice = await h.wait_for_reply(lambda m: m.ephemeral, timeout=15)
    assert "Attach Files" in notice.content
    assert not fake_openai.requests
