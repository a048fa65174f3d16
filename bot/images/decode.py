"""Decode untrusted picture bytes safely: the one place Pillow parses a stranger's file.

Members attach whatever their phone or browser produced: CMYK JPEGs, EXIF-rotated
photos, animated GIFs, 16-bit PNGs, files that are not images at all, and now and then
something hostile (a "decompression bomb" that declares a gigantic canvas in a few
bytes). :func:`decode` checks the cheap things first (bytes, declared pixels, format
allow-list), then decodes fully and returns an upright 8-bit sRGB image no larger than
asked, or raises :class:`ImageRejected` with a short machine ``reason`` the bot maps to a
friendly message. ``bot/images/convert.py`` builds the bot's PNGs and thumbnails on it.

Pure and synchronous: CPU-bound, so the bot calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import Final, Literal, cast

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_UPLOAD_PIXELS",
    "MAX_UPLOAD_SIDE",
    "PNG_SIGNATURE",
    "ImageRejected",
    "RejectReason",
    "decode",
]

RejectReason = Literal["not_image", "unsupported_format", "corrupt", "too_large", "too_many_pixels"]
"""Why an image was refused. The set is deliberately small; each maps to one message:

* ``not_image`` -- the bytes are not a picture at all (or not one we recognise).
* ``unsupported_format`` -- a real picture in a format we do not accept (HEIC/HEIF,
  AVIF, TIFF, BMP, PSD, SVG, JPEG XL); the member should export PNG or JPEG.
* ``corrupt`` -- it claims to be PNG/JPEG/WebP/GIF but cannot be decoded completely
  (truncated download, broken data, unreadable colour mode).
* ``too_large`` -- too many bytes. Checked before any decoding. :func:`fit_under` also
  uses it when a picture cannot be squeezed under a size limit.
* ``too_many_pixels`` -- the declared canvas is too big (decompression-bomb guard).
"""

ALLOWED_FORMATS: Final[tuple[str, ...]] = ("PNG", "JPEG", "WEBP", "GIF")
"""Pillow plugins we let parse untrusted bytes. The JPEG plugin also opens the
multi-picture JPEGs many phones write (Pillow reports them as format "MPO"). Keeping the
list short keeps rarely audited parsers (EPS, which shells out to Ghostscript, PSD,
TGA, ...) away from strangers' files."""

MAX_UPLOAD_SIDE: Final = 2048
"""The longest side an upload keeps: everything larger is shrunk to this."""

MAX_UPLOAD_PIXELS: Final = (2 * MAX_UPLOAD_SIDE) ** 2
"""The most pixels an upload may declare (4096 x 4096, about 16.8 megapixels).

Tied to what is kept: PNG, WebP and GIF must be decoded at full size before they can be
shrunk (only JPEG decodes at 1/2, 1/4 or 1/8 scale), so a cap far above the kept size
would cost memory for nothing. At this cap one decode needs about 64 MB (RGBA), and the
bot runs only a couple at a time; 12-megapixel phone photos and 4K screenshots fit."""

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"

# Signatures of the formats we accept: when Pillow cannot identify bytes that start
# like one of these, the file is damaged rather than "not an image".
_ALLOWED_MAGIC: Final[tuple[bytes, ...]] = (PNG_SIGNATURE, b"\xff\xd8\xff", b"GIF87a", b"GIF89a")

_SRGB_PROFILE: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRejected(Exception):
    """An upload that the bot refuses, with a machine-readable :attr:`reason`.

    The bot turns ``reason`` into a localized message; ``detail`` is for logs only and
    is never shown to members.
    """

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: RejectReason = reason
        self.detail = detail


# --------------------------------------------------------------------------- decoding


def _effective_pixel_limit(max_pixels: int) -> int:
    """Our limit, never looser than Pillow's own ``MAX_IMAGE_PIXELS`` bomb threshold.

    Pillow warns above ``MAX_IMAGE_PIXELS`` and raises above twice that; we promise to
    turn both into ``too_many_pixels``, so our own check must not let through what
    Pillow would have warned about.
    """
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return max_pixels if pillow_limit is None else min(max_pixels, pillow_limit)


def _sniff_unsupported(data: bytes) -> bool:
    """Recognise common picture formats we refuse, so members get a useful message."""
    head = data[:64]
    if head[4:8] == b"ftyp":  # ISO-BMFF: HEIC/HEIF/AVIF from phones (and videos).
        return True
    if head.startswith((b"II*\x00", b"MM\x00*", b"BM", b"8BPS", b"\xff\x0a")):
        return True  # TIFF, BMP, Photoshop, JPEG XL codestream.
    if head.startswith(b"\x00\x00\x00\x0cJXL "):
        return True  # JPEG XL container.
    prefix = data[:1024].lstrip().lower()
    return prefix.startswith((b"<svg", b"<?xml")) and b"<svg" in prefix


def _open_first_frame(data: bytes, max_pixels: int) -> ImageFile.ImageFile:
    """Identify ``data`` and check its declared size, without decoding pixels.

    Image.open only parses headers, which is what makes the pixel check a real
    bomb guard: a PNG declaring 30000x30000 is refused before anything is allocated.
    """
    try:
        im = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except Image.DecompressionBombWarning as exc:  # promoted to an error by _bomb_guard
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except UnidentifiedImageError as exc:
        if data.startswith(_ALLOWED_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise ImageRejected("corrupt", "recognised signature, unreadable header") from exc
        reason: RejectReason = "unsupported_format" if _sniff_unsupported(data) else "not_image"
        raise ImageRejected(reason, str(exc)) from exc
    except Exception as exc:  # any parser failure while reading headers
        raise ImageRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc

    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageRejected("corrupt", f"declared size {width}x{height}")
    if width * height > _effective_pixel_limit(max_pixels):
        raise ImageRejected("too_many_pixels", f"declared size {width}x{height}")
    return im


@contextlib.contextmanager
def _bomb_guard() -> Iterator[None]:
    """Promote Pillow's DecompressionBombWarning to an exception inside the block.

    ``warnings.catch_warnings`` swaps process-global state and is not thread-safe in
    Python 3.11. The race is benign here: at worst the "error" filter for this one
    warning class outlives the block, which is the behaviour we want anyway. Our own
    declared-size check (stricter than Pillow's threshold) is the primary guard.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _scale_high_bit_depth(im: Image.Image) -> Image.Image:
    """Map 16/32-bit grey (I;16, I, F) onto 8-bit L by scaling, not clipping.

    Pillow's plain ``convert("L")`` clips at 255, which turns most 16-bit PNGs white.
    """
    if im.mode == "F":
        lo, hi = cast("tuple[float, float]", im.getextrema())
        span = float(hi) - float(lo) or 1.0
        return im.point(lambda v: (v - lo) * 255.0 / span).convert("L")
    as_int = im if im.mode == "I" else im.convert("I")
    top = as_int.getextrema()[1]
    divisor = 257.0 if isinstance(top, int) and top > 255 else 1.0
    return as_int.point(lambda v: v / divisor).convert("L")


def _to_resizable_mode(im: Image.Image) -> Image.Image:
    """Convert modes that resample badly (palette, bilevel, high bit depth) early."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return im
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":
        return _scale_high_bit_depth(im)
    if mode in ("La", "RGBa"):
        return im.convert("RGBA")
    return im.convert("RGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert to 8-bit sRGB RGB/RGBA, honouring an embedded ICC profile if possible.

    We strip metadata, so a Display-P3 or CMYK picture must be converted now or its
    colours shift. A broken profile is not worth refusing the upload for: we fall back
    to Pillow's naive conversion.
    """
    has_alpha = im.mode in ("RGBA", "LA")
    target = "RGBA" if has_alpha else "RGB"
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in ImageCms.getProfileDescription(src).lower():
                converted = ImageCms.profileToProfile(im, src, _SRGB_PROFILE, outputMode=target)
                if converted is not None:
                    return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    return im if im.mode == target else im.convert(target)


def _drop_opaque_alpha(im: Image.Image) -> Image.Image:
    """RGBA whose alpha is all 255 is just RGB with 25% more bytes."""
    if im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
        return im.convert("RGB")
    return im


def _clean_copy(im: Image.Image) -> Image.Image:
    """A copy with no metadata (EXIF, ICC, XMP, text chunks, GPS...) left to leak."""
    clean = im.copy()
    clean.info = {}
    return clean


def decode(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_side: int,
    reducing_gap: float = 2.0,
) -> Image.Image:
    """Decode the first frame fully, upright, in sRGB, fitting in ``max_side``.

    Shared by every entry point so uploads, thumbnails and renderer inputs all get the
    same protections. Returns RGB or RGBA with empty ``info``. ``reducing_gap`` is
    Pillow's: how close to ``max_side`` a cheap block-average reduction may go before the
    Lanczos filter; 1.0 (the fastest) suits a throwaway preview, 2.0 (Pillow's default)
    keeps fine lines for what is kept.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_large", f"{len(data)} bytes > {max_bytes}")
    if not data:
        raise ImageRejected("not_image", "empty")
    with _bomb_guard():
        im = _open_first_frame(data, max_pixels)
        try:
            if im.format in ("JPEG", "MPO"):
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result would
                # be downscaled anyway: much faster and smaller for huge photos.
                im.draft(None, (max_side, max_side))
            im.load()  # decodes every byte of frame 0: truncation is caught here
            if im.size[0] * im.size[1] > _effective_pixel_limit(max_pixels):
                raise ImageRejected("too_many_pixels", f"frame size {im.size}")
            work = _to_resizable_mode(im)
            work.thumbnail(
                (max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=reducing_gap
            )
            work = _upright(work)
            work = _drop_opaque_alpha(_to_srgb(work))
            return _clean_copy(work)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected("too_many_pixels", str(exc)) from exc
        except MemoryError as exc:  # huge-but-allowed image on a small container
            raise ImageRejected("too_many_pixels", "out of memory while decoding") from exc
        except Exception as exc:  # truncated data, bad CRC, zlib errors, odd modes...
            raise ImageRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc
        finally:
            im.close()


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phones store portraits sideways plus a tag).

    Runs after downscaling so the transpose copies a small image. A mangled EXIF block
    is not worth refusing a picture over, so failures leave the image as it is.
    """
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        return im
