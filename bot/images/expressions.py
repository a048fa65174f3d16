"""Pictures made to Discord's measure: server stickers, emoji and avatar copies (issue #23).

Pure functions, bytes in and bytes out, CPU-bound: call them through ``asyncio.to_thread``.
A picture is never squashed: it is scaled to fit the square and centred on transparency.
When the file is still too large, the colours are reduced step by step; a file that cannot
be brought under the limit is refused with :class:`ExpressionRefused`, never sent too big.

Discord's limits (Create Guild Sticker / Create Guild Emoji): a sticker is a PNG of
320 x 320 of at most 512 KiB; an emoji at most 256 KiB (128 x 128 is what Discord shows).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from bot.images.decode import ImageRejected, decode

__all__ = [
    "AVATAR_COPY_SIDE",
    "EMOJI",
    "STICKER",
    "ExpressionRefused",
    "ExpressionSpec",
    "avatar_copy",
    "fit_expression",
    "has_transparent_background",
]

AVATAR_COPY_SIDE = 512
# Transparent: at least this share of the picture is see-through (a cut-out's background).
_TRANSPARENT_SHARE = 0.05
_COLOUR_STEPS = (256, 128, 64, 32, 16, 8)


@dataclass(frozen=True, slots=True)
class ExpressionSpec:
    """A square PNG of ``side`` pixels, at most ``max_bytes`` long."""

    side: int
    max_bytes: int


STICKER = ExpressionSpec(side=320, max_bytes=512 * 1024)
EMOJI = ExpressionSpec(side=128, max_bytes=256 * 1024)


class ExpressionRefused(Exception):
    """The picture cannot become this file: ``reason`` is "unreadable" or "too_large"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _open(data: bytes) -> Image.Image:
    try:
        return decode(data, max_bytes=64 * 1024 * 1024, max_pixels=40_000_000, max_side=4096)
    except ImageRejected:
        raise ExpressionRefused("unreadable") from None


def _contained(image: Image.Image, side: int) -> Image.Image:
    """``image`` scaled to fit a ``side`` square (aspect kept), centred on transparency."""
    rgba = image.convert("RGBA")
    scale = min(side / rgba.width, side / rgba.height)
    size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
    scaled = rgba.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(scaled, ((side - size[0]) // 2, (side - size[1]) // 2))
    return canvas


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def fit_expression(data: bytes, spec: ExpressionSpec) -> bytes:
    """A PNG of exactly ``spec.side`` square and at most ``spec.max_bytes``, or a refusal.

    Full colour first; then fewer and fewer colours (alpha kept) until it fits.
    """
    square = _contained(_open(data), spec.side)
    encoded = _png(square)
    for colours in _COLOUR_STEPS:
        if len(encoded) <= spec.max_bytes:
            return encoded
        encoded = _png(square.quantize(colours, method=Image.Quantize.FASTOCTREE))
    if len(encoded) <= spec.max_bytes:
        return encoded
    raise ExpressionRefused("too_large")


def has_transparent_background(data: bytes) -> bool:
    """Whether a picture is a cut-out: a real share of it is see-through."""
    image = _open(data)
    if "A" not in image.getbands():
        return False
    alpha = image.getchannel("A").resize((64, 64))
    # The histogram of an 8-bit channel: counts of each alpha value 0..255.
    see_through = sum(alpha.histogram()[:128])
    return see_through >= _TRANSPARENT_SHARE * 64 * 64


def avatar_copy(data: bytes) -> bytes:
    """A 512 x 512 PNG of a picture, for a Discord avatar (centre-cropped, never squashed)."""
    image = _open(data).convert("RGBA")
    side = min(image.width, image.height)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return _png(square.resize((AVATAR_COPY_SIDE, AVATAR_COPY_SIDE), Image.Resampling.LANCZOS))
