"""Turn untrusted uploads into clean PNGs and derive the smaller images the bot needs.

Everything downstream (the image model, the gallery, the renderers) wants one boring
thing: an sRGB, 8-bit, metadata-free PNG of a sane size. :func:`normalize_upload` is the
single gate that produces it from a member's attachment; the other functions make
thumbnails, measure pictures and squeeze them under Discord's upload limits. All of them
decode through ``bot/images/decode.py``.

Every function is pure and synchronous: bytes in, bytes out, no I/O. Decoding and
encoding are CPU-bound, so the bot calls them through ``asyncio.to_thread``.

Failures are reported as :class:`~bot.images.decode.ImageRejected`; nothing else escapes
:func:`normalize_upload`, whatever bytes it is given.
"""

from __future__ import annotations

import io
import struct

from PIL import Image

from bot.images.decode import (
    MAX_UPLOAD_PIXELS,
    MAX_UPLOAD_SIDE,
    PNG_SIGNATURE,
    ImageRejected,
    decode,
)

__all__ = [
    "fit_under",
    "load_picture",
    "make_preview",
    "make_thumbnail",
    "normalize_upload",
    "picture_size",
    "png_size",
]

# --------------------------------------------------------------------------- public API


def normalize_upload(
    data: bytes,
    *,
    max_bytes: int = 20 * 1024 * 1024,
    max_pixels: int = MAX_UPLOAD_PIXELS,
    max_side: int = MAX_UPLOAD_SIDE,
) -> bytes:
    """Turn a member's attachment into a clean PNG the rest of the bot can trust.

    Accepts PNG, JPEG (including CMYK and EXIF-rotated), WebP and GIF (first frame of
    an animation). The result is RGB or RGBA, 8-bit sRGB, upright, no side longer than
    ``max_side`` and free of metadata (EXIF/GPS, ICC, text chunks).

    Checks happen cheapest-first: byte size before decoding, declared pixel count
    before allocating, then a full decode so truncated files are caught here rather
    than later in the image model.

    Raises:
        ImageRejected: with ``reason`` in :data:`RejectReason`; never anything else.
    """
    try:
        im = decode(data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side)
        return _encode_png(im)
    except ImageRejected:
        raise
    except MemoryError as exc:  # encoding a huge-but-allowed image on a small container
        raise ImageRejected("too_many_pixels", "out of memory while encoding") from exc
    except Exception as exc:  # last line of defence: nothing but ImageRejected escapes
        raise ImageRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc


def picture_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or WebP the image API returned, from its header only."""
    if data.startswith(PNG_SIGNATURE):
        return png_size(data)
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except (OSError, ValueError) as exc:
        raise ImageRejected("not_image", str(exc)) from None


def png_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` of a PNG by reading its IHDR header only.

    Cheap enough to call on every gallery row without decoding pixels.

    Raises:
        ImageRejected: ``not_image`` if ``data`` does not start with a PNG header.
    """
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ImageRejected("not_image", "no PNG IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def make_thumbnail(data: bytes, *, box: int = 256) -> bytes:
    """Make a WebP thumbnail (quality 80) fitting in ``box`` x ``box`` for the gallery.

    WebP keeps alpha and is several times smaller than PNG for pictures, which matters
    because contact sheets decode nine of these at a time. Input is normally our own
    normalized PNG, but it is decoded with the same guards as an upload anyway.

    Raises:
        ImageRejected: if ``data`` is not a decodable picture.
    """
    return thumbnail_and_image(data, box=box)[0]


def thumbnail_and_image(data: bytes, *, box: int = 256) -> tuple[bytes, Image.Image]:
    """:func:`make_thumbnail`'s WebP and the decoded picture it was made from, for a
    renderer that draws the thumbnail at once (and need not decode it again).

    Raises:
        ImageRejected: if ``data`` is not a decodable picture.
    """
    im = decode(data, max_bytes=64 * 1024 * 1024, max_pixels=40_000_000, max_side=box)
    out = io.BytesIO()
    im.save(out, format="WEBP", quality=80, alpha_quality=90, method=4)
    return out.getvalue(), im


def make_preview(data: bytes, *, box: int = 512) -> bytes:
    """A drawing's partial picture shrunk to a small WebP fitting in ``box`` x ``box``, for
    the member's "drawing" message; cheap rather than fine, since the finished picture
    replaces it within seconds.

    About a third of :func:`make_thumbnail`'s CPU for a 1024 x 1536 partial: a block-average
    reduction does most of the shrinking (``reducing_gap=1.0``) and WebP's fastest method
    encodes it. A JPEG partial is also decoded at a reduced scale by libjpeg.

    Raises:
        ImageRejected: if ``data`` is not a decodable picture.
    """
    im = decode(
        data, max_bytes=64 * 1024 * 1024, max_pixels=40_000_000, max_side=box, reducing_gap=1.0
    )
    out = io.BytesIO()
    im.save(out, format="WEBP", quality=75, alpha_quality=80, method=0)
    return out.getvalue()


def fit_under(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """Make a PNG fit under an upload limit; return ``(bytes, extension)``.

    The format decision is kept simple on purpose:

    1. Already small enough: returned unchanged, with the extension of its own format.
    2. Re-encoded as PNG with maximum compression; if it fits, ``"png"``.
    3. Otherwise WebP (Discord shows it inline, alpha kept): lossless first, then
       lossy quality 90, then lossy quality 85 while shrinking by 20% per step.
       The extension is then ``"webp"``.

    Raises:
        ImageRejected: ``too_large`` if even a 64 px WebP does not fit; or the usual
            reasons if ``data`` is not a decodable picture.
    """
    if len(data) <= max_bytes:
        return data, "webp" if data[8:12] == b"WEBP" and data[:4] == b"RIFF" else "png"
    im = decode(data, max_bytes=256 * 1024 * 1024, max_pixels=40_000_000, max_side=1 << 15)

    png = _encode_png(im, optimize=True)
    if len(png) <= max_bytes:
        return png, "png"

    lossless = _encode_webp(im, lossless=True)
    if len(lossless) <= max_bytes:
        return lossless, "webp"

    quality = 90
    current = im
    while True:
        encoded = _encode_webp(current, quality=quality)
        if len(encoded) <= max_bytes:
            return encoded, "webp"
        if max(current.size) <= 64:
            raise ImageRejected("too_large", f"cannot fit under {max_bytes} bytes")
        quality = 85
        new_size = (max(1, round(current.width * 0.8)), max(1, round(current.height * 0.8)))
        current = im.resize(new_size, Image.Resampling.LANCZOS)


def load_picture(data: bytes | None, *, max_side: int = 2048) -> Image.Image | None:
    """Decode picture bytes for a renderer, or ``None`` if absent or unusable.

    Renderers draw a placeholder rather than failing a whole contact sheet because
    one stored thumbnail is damaged. Returns an RGB or RGBA image.
    """
    if not data:
        return None
    try:
        return decode(data, max_bytes=64 * 1024 * 1024, max_pixels=40_000_000, max_side=max_side)
    except ImageRejected:
        return None


# --------------------------------------------------------------------------- encoding


def _encode_png(im: Image.Image, *, optimize: bool = False) -> bytes:
    """Encode as PNG. ``optimize`` trades a lot of CPU for a few percent of bytes."""
    out = io.BytesIO()
    if optimize:
        im.save(out, format="PNG", optimize=True)
    else:
        im.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _encode_webp(im: Image.Image, *, lossless: bool = False, quality: int = 90) -> bytes:
    """Encode as WebP; alpha survives both the lossless and lossy modes."""
    out = io.BytesIO()
    if lossless:
        im.save(out, format="WEBP", lossless=True, quality=80, method=4)
    else:
        im.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue()
