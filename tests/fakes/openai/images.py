"""Cheap but real pictures, partial previews and token usage for the fake.

Every picture is a flat background whose colour comes from a hash of ``(prompt, index)``
(:func:`expected_color`), a couple of shapes, and a short label. The top-left corner pixel is
always pure background, so a test can tell pictures apart with
``decode_image(b64).getpixel((0, 0))``. PNG output also carries ``fake-openai:*`` text chunks
(prompt, index, endpoint, request id, partial index) readable from ``Image.info``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFont
from PIL.PngImagePlugin import PngInfo

_PIL_FORMAT = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}


def decode_image(b64: str) -> Image.Image:
    """Decode a ``b64_json`` value into a loaded Pillow image."""
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _digest(prompt: str, index: int) -> bytes:
    return hashlib.sha256(f"{prompt}\x00{index}".encode()).digest()


def expected_color(prompt: str, index: int = 0) -> tuple[int, int, int]:
    """Background RGB of the final picture ``index`` (0-based) for ``prompt``."""
    d = _digest(prompt, index)
    # Keep channels in 32..223 so "darker" partials and contrasting shapes stay distinct.
    return (32 + d[0] % 192, 32 + d[1] % 192, 32 + d[2] % 192)


@dataclass(frozen=True)
class PictureTag:
    """Provenance written into PNG text chunks."""

    endpoint: str
    request_id: str
    prompt: str
    index: int


def render_picture(
    prompt: str,
    index: int,
    width: int,
    height: int,
    *,
    transparent: bool,
    reference: Image.Image | None = None,
) -> Image.Image:
    """The final picture ``index`` of a request (RGBA when ``transparent``)."""
    d = _digest(prompt, index)
    background = expected_color(prompt, index)
    accent = tuple(255 - c for c in background)
    second = (d[3], d[4], d[5])
    image = Image.new("RGBA", (width, height), (*background, 0 if transparent else 255))
    draw = ImageDraw.Draw(image)

    short = min(width, height)
    margin = max(short // 10, 2)
    radius = max(short // 6, 1)
    cx = margin + radius + d[6] * max(width - 2 * (margin + radius), 1) // 255
    cy = margin + radius + d[7] * max(height - 2 * (margin + radius), 1) // 255
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(*accent, 255))
    box_w, box_h = max(width // 4, 1), max(height // 5, 1)
    bx = margin + d[8] * max(width - 2 * margin - box_w, 1) // 255
    by = margin + d[9] * max(height - 2 * margin - box_h, 1) // 255
    draw.rectangle((bx, by, bx + box_w, by + box_h), fill=(*second, 255))

    if reference is not None:
        thumb = reference.convert("RGBA")
        thumb.thumbnail((max(width // 4, 1), max(height // 4, 1)))
        image.alpha_composite(thumb, (width - margin - thumb.width, height - margin - thumb.height))

    font = ImageFont.load_default(size=max(short // 24, 10))
    label = f"#{index} {prompt[:40]}"
    draw.text((margin, height - margin - short // 20), label, fill=(*accent, 255), font=font)
    return image if transparent else image.convert("RGB")


def render_partial(final: Image.Image, partial_index: int, partial_total: int) -> Image.Image:
    """A complete, same-size preview: blockier and darker the earlier it comes."""
    steps_left = partial_total - partial_index  # 1 for the last partial
    factor = 2 ** (steps_left + 2)
    width, height = final.size
    small = final.resize((max(width // factor, 1), max(height // factor, 1)), Image.Resampling.BOX)
    blocky = small.resize((width, height), Image.Resampling.NEAREST)
    brightness = 1.0 - 0.15 * steps_left
    if blocky.mode == "RGBA":
        rgb = ImageEnhance.Brightness(blocky.convert("RGB")).enhance(brightness)
        rgb.putalpha(blocky.getchannel("A"))
        return rgb
    return ImageEnhance.Brightness(blocky).enhance(brightness)


def encode(
    image: Image.Image,
    output_format: str,
    *,
    compression: int | None,
    tag: PictureTag | None = None,
    partial_index: int | None = None,
) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        info = PngInfo()
        if tag is not None:
            info.add_text("fake-openai:endpoint", tag.endpoint)
            info.add_text("fake-openai:request_id", tag.request_id)
            info.add_text("fake-openai:index", str(tag.index))
            info.add_text("fake-openai:prompt", tag.prompt[:200])
        if partial_index is not None:
            info.add_text("fake-openai:partial_index", str(partial_index))
        image.save(buffer, "PNG", compress_level=1, pnginfo=info)
    elif output_format == "jpeg":
        quality = 95 if compression is None else max(compression, 1)
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    else:
        quality = 100 if compression is None else compression
        image.save(buffer, _PIL_FORMAT[output_format], quality=quality, method=0)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Token usage: plausible and deterministic.

# Output tokens for one 1024x1024 picture, scaled by area for other sizes.
OUTPUT_TOKENS_1024: dict[str, int] = {
    "low": 272,
    "medium": 1056,
    "high": 4160,
    "xhigh": 6240,
    "max": 8320,
}
PARTIAL_IMAGE_TOKENS = 100


def text_tokens(prompt: str) -> int:
    return max(1, math.ceil(len(prompt) / 4))


def output_image_tokens(quality: str, width: int, height: int) -> int:
    return round(OUTPUT_TOKENS_1024[quality] * width * height / (1024 * 1024))


def input_image_tokens(width: int, height: int) -> int:
    """Vision-style cost: fit in 2048x2048, short side 768, 129 tokens per 512 tile + 65."""
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 65 + 129 * math.ceil(w / 512) * math.ceil(h / 512)


def usage(
    *,
    prompt: str,
    quality: str,
    width: int,
    height: int,
    pictures: int,
    input_sizes: list[tuple[int, int]],
    input_fidelity: str | None,
    partial_images: int,
) -> dict[str, object]:
    text = text_tokens(prompt)
    image_in = sum(input_image_tokens(w, h) for w, h in input_sizes)
    if input_fidelity == "high":
        image_in *= 2
    image_out = pictures * (
        output_image_tokens(quality, width, height) + PARTIAL_IMAGE_TOKENS * partial_images
    )
    return {
        "input_tokens": text + image_in,
        "input_tokens_details": {"image_tokens": image_in, "text_tokens": text},
        "output_tokens": image_out,
        "total_tokens": text + image_in + image_out,
    }
