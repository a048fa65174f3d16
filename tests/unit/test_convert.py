"""Tests for bot.images.convert and bot.images.decode: the gate every member upload passes."""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, PngImagePlugin

from bot.images import decode as decoding
from bot.images.convert import fit_under, load_picture, make_thumbnail, normalize_upload, png_size
from bot.images.decode import ImageRejected
from tests.storage_helpers import raw_png

# --------------------------------------------------------------------------- helpers


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, format=fmt, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def noise(size: tuple[int, int]) -> Image.Image:
    """Incompressible RGB content (so files are big and truncation bites)."""
    return Image.frombytes(
        "RGB", size, bytes((i * 7919) % 251 for i in range(size[0] * size[1] * 3))
    )


def forged_png(width: int, height: int) -> bytes:
    """A ~60 byte PNG whose IHDR declares ``width`` x ``height`` 8-bit RGB pixels."""
    return raw_png(width, height, zlib.compress(b"\x00" * 16))


def rejected(data: bytes, **kwargs: int) -> str:
    with pytest.raises(ImageRejected) as info:
        normalize_upload(data, **kwargs)
    return info.value.reason


# --------------------------------------------------------------------------- formats


def test_cmyk_jpeg_becomes_rgb_png() -> None:
    data = encode(Image.new("CMYK", (64, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    out = normalize_upload(data)
    im = decode(out)
    assert im.format == "PNG"
    assert im.mode == "RGB"
    assert im.size == (64, 32)
    r, g, b = im.getpixel((10, 10))  # type: ignore[misc]
    assert r > 230 and g < 30 and b < 30  # CMYK (0,255,255,0) is red


def test_exif_orientation_6_is_rotated_upright() -> None:
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    out = decode(normalize_upload(encode(stored, "JPEG", exif=exif.tobytes(), quality=95)))
    assert out.size == (20, 40)
    top = out.getpixel((10, 5))
    bottom = out.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60  # type: ignore[index]  # stored left -> top
    assert bottom[2] > 200 and bottom[0] < 60  # type: ignore[index]
    assert "exif" not in out.info


def test_animated_gif_gives_first_frame_only() -> None:
    frames = [Image.new("RGB", (30, 30), color) for color in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = decode(normalize_upload(data))
    assert out.format == "PNG"
    assert getattr(out, "n_frames", 1) == 1
    assert out.getpixel((5, 5))[:3] == (255, 0, 0)  # type: ignore[index]


def test_gif_transparency_survives_as_rgba() -> None:
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    im.paste(1, (0, 0, 10, 20))
    out = decode(normalize_upload(encode(im, "GIF", transparency=0)))
    assert out.mode == "RGBA"
    assert out.getpixel((15, 5))[3] == 0  # type: ignore[index]
    assert out.getpixel((5, 5))[3] == 255  # type: ignore[index]


def test_webp_and_alpha_png_keep_alpha_opaque_alpha_is_dropped() -> None:
    translucent = Image.new("RGBA", (16, 16), (10, 20, 30, 128))
    assert decode(normalize_upload(encode(translucent, "WEBP", lossless=True))).mode == "RGBA"
    assert decode(normalize_upload(encode(translucent, "PNG"))).mode == "RGBA"
    opaque = Image.new("RGBA", (16, 16), (10, 20, 30, 255))
    assert decode(normalize_upload(encode(opaque, "PNG"))).mode == "RGB"


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    im = Image.new("I;16", (4, 1))
    im.putpixel((1, 0), 32896)  # half of 65535
    im.putpixel((2, 0), 65535)
    out = decode(normalize_upload(encode(im, "PNG")))
    assert out.mode == "RGB"
    assert out.getpixel((0, 0)) == (0, 0, 0)
    assert 120 <= out.getpixel((1, 0))[0] <= 135  # type: ignore[index]
    assert out.getpixel((2, 0)) == (255, 255, 255)


def test_large_image_is_downscaled_to_max_side() -> None:
    data = encode(Image.new("RGB", (3000, 1000), "teal"), "PNG")
    assert decode(normalize_upload(data)).size == (2048, 683)
    assert decode(normalize_upload(data, max_side=300)).size == (300, 100)


def test_metadata_is_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "gps: 48.85, 2.35")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    data = encode(Image.new("RGB", (8, 8), "white"), "PNG", pnginfo=info, exif=exif.tobytes())
    out = decode(normalize_upload(data))
    assert "Comment" not in out.info
    assert "exif" not in out.info
    assert "icc_profile" not in out.info
    assert not out.getexif()


def test_broken_icc_profile_does_not_reject_the_picture() -> None:
    data = encode(Image.new("RGB", (8, 8), "white"), "JPEG", icc_profile=b"not a profile")
    out = decode(normalize_upload(data))
    assert out.mode == "RGB"
    assert "icc_profile" not in out.info


# --------------------------------------------------------------------------- rejections


def test_random_bytes_named_png_are_not_an_image() -> None:
    assert rejected(b"this is a text file renamed to cat.png" * 10) == "not_image"
    assert rejected(b"") == "not_image"


def test_heic_is_reported_as_unsupported() -> None:
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert rejected(heic) == "unsupported_format"


def test_truncated_png_is_corrupt() -> None:
    data = encode(noise((96, 96)), "PNG")
    assert rejected(data[: len(data) // 2]) == "corrupt"


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(noise((96, 96)), "JPEG", quality=95)
    assert rejected(data[: len(data) // 2]) == "corrupt"


def test_damaged_png_header_is_corrupt_not_not_image() -> None:
    data = encode(Image.new("RGB", (8, 8)), "PNG")
    assert rejected(data[:20]) == "corrupt"


def test_bomb_is_refused_before_any_pixel_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """30000x30000 declared in ~70 bytes: refused from the header alone."""

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    bomb = forged_png(30_000, 30_000)
    assert len(bomb) < 100
    assert rejected(bomb) == "too_many_pixels"


def test_our_pixel_limit_applies_below_pillows(monkeypatch: pytest.MonkeyPatch) -> None:
    # 7000x7000 = 49 Mpx: under Pillow's own threshold, over our default 40 Mpx.
    # The IDAT is tiny, so had it been decoded the answer would have been "corrupt".
    assert rejected(forged_png(7000, 7000)) == "too_many_pixels"
    assert rejected(encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=5000) == (
        "too_many_pixels"
    )


def test_pillow_bomb_warning_becomes_a_rejection_not_a_warning() -> None:
    # 10000x10000 = 100 Mpx: above Pillow's MAX_IMAGE_PIXELS (warning), below 2x (error).
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 100_000_000 < 2 * Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reason = rejected(forged_png(10_000, 10_000), max_pixels=10**9)
    assert reason == "too_many_pixels"
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_too_many_bytes_rejected_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("must not be opened")

    monkeypatch.setattr(Image, "open", no_open)
    data = b"\x89PNG\r\n\x1a\n" + bytes(30 * 1024 * 1024)
    assert rejected(data) == "too_large"
    assert rejected(b"x" * 101, max_bytes=100) == "too_large"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(
        [
            b"",
            b"\x89PNG\r\n\x1a\n",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            b"\xff\xd8\xff\xe0",
            b"GIF89a",
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            b"\x00\x00\x00\x18ftypheic",
        ]
    ),
    body=st.binary(max_size=512),
)
def test_normalize_upload_only_ever_raises_image_rejected(prefix: bytes, body: bytes) -> None:
    try:
        out = normalize_upload(prefix + body)
    except ImageRejected as exc:
        assert exc.reason in {
            "not_image",
            "unsupported_format",
            "corrupt",
            "too_large",
            "too_many_pixels",
        }
    else:
        assert out.startswith(b"\x89PNG\r\n\x1a\n")


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=400), flip=st.integers(min_value=0, max_value=399))
def test_mangled_real_png_only_raises_image_rejected(cut: int, flip: int) -> None:
    data = bytearray(_SMALL_PNG)
    data[flip % len(data)] ^= 0x5A
    with contextlib.suppress(ImageRejected):
        normalize_upload(bytes(data[: max(1, len(data) - cut)]))


_SMALL_PNG = encode(noise((12, 12)), "PNG")


# --------------------------------------------------------------------------- helpers API


def test_png_size_reads_header_only() -> None:
    assert png_size(forged_png(30_000, 20_000)) == (30_000, 20_000)
    assert png_size(encode(Image.new("RGB", (7, 3)), "PNG")) == (7, 3)
    with pytest.raises(ImageRejected):
        png_size(b"GIF89a" + bytes(40))


def test_thumbnail_is_webp_in_box_and_keeps_alpha() -> None:
    im = Image.new("RGBA", (600, 300), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 300, 300))  # left half fully transparent
    thumb = decode(make_thumbnail(encode(im, "PNG"), box=128))
    assert thumb.format == "WEBP"
    assert thumb.size == (128, 64)
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((10, 30))[3] == 0  # type: ignore[index]
    assert thumb.getpixel((120, 30))[3] == 255  # type: ignore[index]


def test_thumbnail_of_junk_is_rejected() -> None:
    with pytest.raises(ImageRejected):
        make_thumbnail(b"junk")


def test_fit_under_keeps_small_png_untouched() -> None:
    data = encode(Image.new("RGB", (10, 10)), "PNG")
    assert fit_under(data, 10_000) == (data, "png")


def test_fit_under_shrinks_to_the_limit() -> None:
    data = encode(noise((400, 400)), "PNG")
    limit = len(data) // 4
    out, ext = fit_under(data, limit)
    assert len(out) <= limit
    assert ext == "webp"
    assert decode(out).format == "WEBP"


def test_fit_under_gives_up_with_too_large() -> None:
    data = encode(noise((64, 64)), "PNG")
    with pytest.raises(ImageRejected) as info:
        fit_under(data, 10)
    assert info.value.reason == "too_large"


def test_load_picture_is_forgiving() -> None:
    assert load_picture(None) is None
    assert load_picture(b"") is None
    assert load_picture(b"not an image") is None
    picture = load_picture(encode(Image.new("RGB", (50, 20)), "PNG"), max_side=10)
    assert picture is not None and picture.size == (10, 4)


def test_allowed_formats_are_only_the_four_we_accept() -> None:
    assert set(decoding.ALLOWED_FORMATS) == {"PNG", "JPEG", "WEBP", "GIF"}
    bmp = encode(Image.new("RGB", (4, 4)), "BMP")
    assert rejected(bmp) == "unsupported_format"
