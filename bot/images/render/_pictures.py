"""Pictures for the renderers' tiles and portraits: letterboxing and stand-ins (private).

Kept apart from the drawing primitives in ``_common`` because they work on plain Pillow
images at output size, whatever the canvas they end up on.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from bot.images.render._palette import PALETTE, RGB


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """An RGB image fading from ``top`` to ``bottom`` (one column, stretched: fast)."""
    width, height = size
    column = Image.new("RGB", (1, height))
    span = max(1, height - 1)
    for y in range(height):
        t = y / span
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize((width, height), Image.Resampling.NEAREST)


def letterbox(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Fit ``picture`` inside ``size`` without cropping, over a blurred copy of itself.

    Plain bars look like a bug next to square tiles; a dimmed, blurred fill of the same
    picture reads as intentional and keeps the tile's colours. Returns RGB.
    """
    width, height = size
    rgb = _flatten(picture)
    # The blur hides all detail anyway: blur a 1/8-size copy and scale it back up, which
    # looks the same and costs a small fraction of blurring the full tile.
    small = (max(1, width // 8), max(1, height // 8))
    backdrop = ImageOps.fit(rgb, small, Image.Resampling.BILINEAR)
    backdrop = backdrop.filter(ImageFilter.GaussianBlur(max(small) / 18))
    # Dimming commutes with the linear upscale, so dim the small copy: 64x fewer pixels.
    backdrop = Image.blend(backdrop, Image.new("RGB", small, (12, 12, 16)), 0.55)
    backdrop = backdrop.resize(size, Image.Resampling.BILINEAR)
    # Enlarging (a gallery thumbnail into a bigger tile) gains nothing from Lanczos's
    # wider kernel but costs a third more; shrinking keeps it for sharpness.
    enlarging = picture.width < width and picture.height < height
    resample = Image.Resampling.BICUBIC if enlarging else Image.Resampling.LANCZOS
    front = ImageOps.contain(picture, size, resample)
    offset = ((width - front.width) // 2, (height - front.height) // 2)
    if front.mode == "RGBA":
        backdrop.paste(front.convert("RGB"), offset, front.getchannel("A"))
    else:
        backdrop.paste(front.convert("RGB"), offset)
    return backdrop


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB version of ``picture``; transparent areas become the surface colour."""
    if picture.mode != "RGBA":
        return picture.convert("RGB")
    base = Image.new("RGB", picture.size, PALETTE.surface)
    base.paste(picture.convert("RGB"), (0, 0), picture.getchannel("A"))
    return base


def placeholder(size: tuple[int, int]) -> Image.Image:
    """A quiet stand-in for a missing picture: a soft gradient and a bust silhouette."""
    width, height = size
    img = vertical_gradient(size, PALETTE.placeholder_top, PALETTE.placeholder_bottom)
    draw = ImageDraw.Draw(img)
    unit = min(width, height)
    cx, cy = width / 2, height / 2
    head = unit * 0.10
    head_top = cy - unit * 0.22
    draw.ellipse(
        (cx - head, head_top, cx + head, head_top + 2 * head), fill=PALETTE.placeholder_icon
    )
    shoulders = unit * 0.20
    draw.rounded_rectangle(
        (cx - shoulders, head_top + 2 * head + unit * 0.04, cx + shoulders, cy + unit * 0.20),
        radius=round(unit * 0.09),
        fill=PALETTE.placeholder_icon,
    )
    return img
