"""Stickers, emoji and avatar copies made to Discord's measure (bot/images/expressions.py),
and the rules for their names (bot/expressions.py).

The invariant, over random pictures and random limits: the file is a PNG of exactly the
square asked for and within the byte limit, or a clear refusal; never squashed.
"""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot import expressions as naming
from bot.errors import NotAllowed, UserInputError
from bot.images.expressions import (
    EMOJI,
    STICKER,
    ExpressionRefused,
    ExpressionSpec,
    avatar_copy,
    fit_expression,
    has_transparent_background,
)


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def noise(width: int, height: int, mode: str, seed: int) -> Image.Image:
    """Random pixels: the hardest picture to compress."""
    rng = random.Random(seed)
    bands = len(mode)
    data = bytes(rng.getrandbits(8) for _ in range(width * height * bands))
    return Image.frombytes(mode, (width, height), data)


@st.composite
def pictures(draw: st.DrawFn) -> tuple[bytes, tuple[int, int], bool]:
    # At least 16 pixels a side: the bot only fits its own pictures (1024 and up). A picture
    # one pixel thin is all anti-aliased edge, and colour reduction may clear a faint edge.
    width = draw(st.integers(16, 300))
    height = draw(st.integers(16, 300))
    mode = draw(st.sampled_from(["RGB", "RGBA"]))
    if draw(st.booleans()):
        image = noise(width, height, mode, draw(st.integers(0, 2**16)))
    else:
        colour = tuple(draw(st.integers(0, 255)) for _ in mode)
        image = Image.new(mode, (width, height), colour)
    fmt = draw(st.sampled_from(["PNG", "WEBP"]))
    return encoded(image, fmt), (width, height), mode == "RGB"


specs = st.one_of(
    st.just(STICKER),
    st.just(EMOJI),
    st.builds(ExpressionSpec, side=st.integers(8, 400), max_bytes=st.integers(200, 600_000)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picture=pictures(), spec=specs)
def test_always_within_limits_or_a_clear_refusal(
    picture: tuple[bytes, tuple[int, int], bool], spec: ExpressionSpec
) -> None:
    data, (width, height), opaque = picture
    try:
        fitted = fit_expression(data, spec)
    except ExpressionRefused as refused:
        assert refused.reason == "too_large"
        return
    assert len(fitted) <= spec.max_bytes
    image = Image.open(io.BytesIO(fitted))
    assert image.format == "PNG" and image.size == (spec.side, spec.side)
    # Never squashed: an opaque picture shows as itself scaled to fit, to a pixel of rounding.
    box = image.convert("RGBA").getchannel("A").getbbox()
    if opaque:
        assert box is not None
        scale = spec.side / max(width, height)
        assert abs((box[2] - box[0]) - width * scale) <= 1
        assert abs((box[3] - box[1]) - height * scale) <= 1


def test_the_real_limits_are_always_met_even_by_noise() -> None:
    """320 x 320 and 128 x 128 RGBA fit under 512 KiB and 256 KiB whatever the pixels."""
    worst = encoded(noise(1024, 1536, "RGBA", 7))
    for spec in (STICKER, EMOJI):
        fitted = fit_expression(worst, spec)
        assert len(fitted) <= spec.max_bytes
        assert Image.open(io.BytesIO(fitted)).size == (spec.side, spec.side)


def test_colours_are_reduced_when_full_colour_is_too_large() -> None:
    big = encoded(noise(300, 300, "RGB", 3))
    tight = ExpressionSpec(side=256, max_bytes=60_000)
    fitted = fit_expression(big, tight)
    assert len(fitted) <= 60_000
    assert Image.open(io.BytesIO(fitted)).mode == "P"  # a palette: fewer colours


@pytest.mark.parametrize("data", [b"", b"not a picture", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_unreadable_bytes_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(ExpressionRefused) as refused:
        fit_expression(data, STICKER)
    assert refused.value.reason == "unreadable"


def test_transparent_background_is_told_from_an_opaque_one() -> None:
    cutout = Image.new("RGBA", (200, 300), (0, 0, 0, 0))
    cutout.paste((200, 40, 90, 255), (50, 50, 150, 250))
    assert has_transparent_background(encoded(cutout))
    assert not has_transparent_background(encoded(Image.new("RGB", (200, 300), "white")))
    # An alpha channel that is opaque everywhere is not a cut-out.
    assert not has_transparent_background(encoded(Image.new("RGBA", (64, 64), (1, 2, 3, 255))))


def test_avatar_copy_is_a_centred_512_png() -> None:
    portrait = Image.new("RGB", (1024, 1536), "white")
    portrait.paste((255, 0, 0), (0, 256, 1024, 1280))  # the middle square is red
    copy = Image.open(io.BytesIO(avatar_copy(encoded(portrait))))
    assert copy.format == "PNG" and copy.size == (512, 512)
    assert copy.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.parametrize("name", ["ab", "aiko_smile", "A" * 32, "Aiko2"])
def test_emoji_names_discord_accepts(name: str) -> None:
    assert naming.emoji_name(f" {name} ") == name


@pytest.mark.parametrize("name", ["a", "A" * 33, "aiko smile", "aiko-smile", "小樱", "", "ai:ko"])
def test_emoji_names_discord_refuses(name: str) -> None:
    with pytest.raises(UserInputError) as refused:
        naming.emoji_name(name)
    assert refused.value.message_key == "creator.error_emoji_name"


@given(st.text(max_size=80))
def test_a_suggested_emoji_name_is_always_valid(character_name: str) -> None:
    assert naming.emoji_name(naming.suggested_emoji_name(character_name))


def test_sticker_name_description_and_tag() -> None:
    assert naming.sticker_name("  Aiko   waving ") == "Aiko waving"
    for bad in ("A", "x" * 31):
        with pytest.raises(UserInputError):
            naming.sticker_name(bad)
    assert naming.sticker_description("") == ""
    with pytest.raises(UserInputError):
        naming.sticker_description("x")
    with pytest.raises(UserInputError):
        naming.sticker_description("x" * 101)
    for tag in ("😊", "👍🏽", "❤️", "👩‍💻"):
        assert naming.sticker_tag(tag) == tag
    for bad in ("", "smile", "a😊", ":smile:", "😊" * 17):
        with pytest.raises(UserInputError):
            naming.sticker_tag(bad)


def test_slots_and_taken_names() -> None:
    naming.check_free_slot("sticker", 4, 5)
    with pytest.raises(NotAllowed) as full:
        naming.check_free_slot("sticker", 5, 5)
    assert full.value.message_key == "creator.error_sticker_slots_full"
    assert full.value.values == {"count": 5}
    naming.check_name_free("emoji", "aiko", ["aiko2"])
    with pytest.raises(NotAllowed):
        naming.check_name_free("emoji", "Aiko", ["aiko"])
