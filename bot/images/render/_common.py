"""Shared look and drawing primitives for the renderers (private to this package).

One palette and one set of primitives keep the contact sheet, the character card and
the usage chart looking like parts of the same product.

Everything is drawn on a canvas twice the output size and downsampled once at the
end (:meth:`Canvas.to_png`). Pillow draws shapes without anti-aliasing; 2x
supersampling gives smooth rounded corners, circles and chart lines without a
per-shape mask.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, ParamSpec

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from bot.images.fonts import (
    FontLike,
    ellipsize,
    get_font,
    has_bold_face,
    line_height,
    text_width,
    wrap_text,
)

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]

SCALE: Final = 2
# One picture is drawn at a time: each needs tens of MB while drawing, and two cores gain
# nothing from running several CPU-bound renders at once.
RENDER_SLOT: Final = threading.BoundedSemaphore(1)

_P = ParamSpec("_P")


def one_at_a_time(render: Callable[_P, bytes]) -> Callable[_P, bytes]:
    """Run a renderer under :data:`RENDER_SLOT` (renders are called from worker threads)."""

    @functools.wraps(render)
    def serialised(*args: _P.args, **kwargs: _P.kwargs) -> bytes:
        with RENDER_SLOT:
            return render(*args, **kwargs)

    return serialised


"""Supersampling factor: draw at 2x, downsample once when encoding."""


@dataclass(frozen=True, slots=True)
class Palette:
    """Dark theme that stays readable on Discord's dark and light themes.

    The background is darker than Discord's dark chat (#313338) so images stand out as
    cards, and text keeps at least 4.5:1 contrast against every surface it sits on.
    """

    bg_top: RGB = (30, 31, 40)
    bg_bottom: RGB = (19, 20, 26)
    surface: RGB = (36, 38, 48)
    surface_hi: RGB = (46, 49, 61)
    border: RGB = (56, 60, 74)
    grid: RGB = (44, 47, 58)
    text: RGB = (240, 241, 245)
    text_muted: RGB = (160, 165, 180)
    text_faint: RGB = (118, 123, 140)
    accent: RGB = (255, 107, 165)  # pink
    accent_soft: RGB = (255, 170, 205)
    accent_2: RGB = (124, 140, 255)  # indigo, for chart bars
    gold: RGB = (255, 200, 87)
    placeholder_top: RGB = (49, 52, 66)
    placeholder_bottom: RGB = (34, 36, 46)
    placeholder_icon: RGB = (72, 77, 95)


PALETTE: Final = Palette()


def with_alpha(color: RGB, alpha: int) -> RGBA:
    """``color`` with an alpha channel, for translucent overlays."""
    return (color[0], color[1], color[2], alpha)


class Canvas:
    """An RGBA image at ``SCALE`` x the output size, addressed in output pixels.

    Renderers think in output pixels (what the member sees); the canvas scales every
    coordinate, stroke and font size, so layouts read like the final picture.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.image = _background((width * SCALE, height * SCALE)).copy()
        self.draw = ImageDraw.Draw(self.image)

    # -- geometry -------------------------------------------------------------------

    @staticmethod
    def s(value: float) -> int:
        """Output pixels -> canvas pixels."""
        return round(value * SCALE)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """An output-pixel box as canvas pixels."""
        return (self.s(x0), self.s(y0), self.s(x1) - 1, self.s(y1) - 1)

    # -- shapes ---------------------------------------------------------------------

    def rounded(
        self,
        box: tuple[float, float, float, float],
        radius: float,
        fill: RGB | RGBA | None = None,
        outline: RGB | RGBA | None = None,
        width: float = 1,
    ) -> None:
        """A rounded rectangle; translucent fills are blended, not overwritten."""
        rect = self.box(*box)
        if fill is not None and len(fill) == 4 and fill[3] < 255:
            # Blend through a layer the size of the shape, not of the whole canvas.
            x0, y0, x1, y1 = rect
            layer = Image.new("RGBA", (x1 - x0 + 1, y1 - y0 + 1), (0, 0, 0, 0))
            ImageDraw.Draw(layer).rounded_rectangle(
                (0, 0, x1 - x0, y1 - y0), self.s(radius), fill=fill
            )
            self.image.alpha_composite(layer, (x0, y0))
            fill = None
        if fill is not None or outline is not None:
            self.draw.rounded_rectangle(
                rect,
                self.s(radius),
                fill=fill,
                outline=outline,
                width=max(1, self.s(width)) if outline is not None else 0,
            )

    def line(self, points: list[tuple[float, float]], fill: RGB | RGBA, width: float = 1) -> None:
        """A polyline with rounded joints."""
        scaled = [(self.s(x), self.s(y)) for x, y in points]
        self.draw.line(scaled, fill=fill, width=max(1, self.s(width)), joint="curve")

    def circle(
        self,
        center: tuple[float, float],
        radius: float,
        fill: RGB | RGBA | None = None,
        outline: RGB | RGBA | None = None,
        width: float = 1,
    ) -> None:
        """A circle given its centre and radius in output pixels."""
        cx, cy = center
        self.draw.ellipse(
            self.box(cx - radius, cy - radius, cx + radius, cy + radius),
            fill=fill,
            outline=outline,
            width=max(1, self.s(width)) if outline is not None else 0,
        )

    def picture_art(self, picture: Image.Image | None, size: tuple[float, float]) -> Image.Image:
        """``picture`` letterboxed to ``size`` output pixels, at canvas scale (a placeholder
        if there is none).

        A picture gains nothing from being drawn at 2x: the canvas averages every 2x2 block
        straight back down. So it is letterboxed at output size and each pixel doubled,
        which gives the same final pixels for a quarter of the resampling work.
        """
        full = (self.s(size[0]), self.s(size[1]))
        if picture is None:
            return placeholder(full)
        art = letterbox(picture, (round(size[0]), round(size[1])))
        return art.resize(full, Image.Resampling.NEAREST)

    def paste_rounded(
        self,
        picture: Image.Image,
        xy: tuple[float, float],
        radius: float,
        *,
        corners: tuple[bool, bool, bool, bool] = (True, True, True, True),
    ) -> None:
        """Paste a picture (already at canvas scale) with rounded corners.

        ``corners`` is (top-left, top-right, bottom-right, bottom-left), as in Pillow.
        """
        mask = _rounded_mask(picture.size, self.s(radius), corners)
        if picture.mode == "RGBA":
            mask = ImageChops.multiply(mask, picture.getchannel("A"))
        rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
        self.image.paste(rgb, (self.s(xy[0]), self.s(xy[1])), mask)

    # -- text -----------------------------------------------------------------------

    def font(self, size: float, *, bold: bool = False) -> FontLike:
        """A font of ``size`` output pixels (cached by :func:`get_font`)."""
        return get_font(self.s(size), bold=bold)

    def _faux_bold(self, size: float, bold: bool) -> int:
        """Stroke width (canvas px) that fakes bold when the font family has no bold file.

        WenQuanYi Micro Hei, for one, ships a single weight; without this, titles and
        names would lose their emphasis.
        """
        if not bold or has_bold_face():
            return 0
        return max(1, round(self.s(size) / 36))

    def measure(self, text: str, size: float, *, bold: bool = False) -> float:
        """Width of ``text`` in output pixels."""
        stroke = 2 * self._faux_bold(size, bold)
        return (text_width(self.font(size, bold=bold), text) + stroke) / SCALE

    def line_height(self, size: float, *, bold: bool = False) -> float:
        """Baseline-to-baseline distance in output pixels."""
        return line_height(self.font(size, bold=bold)) / SCALE

    def fit(self, text: str, size: float, max_width: float, *, bold: bool = False) -> str:
        """``text`` ellipsized to ``max_width`` output pixels."""
        room = max_width * SCALE - 2 * self._faux_bold(size, bold)
        return ellipsize(text, self.font(size, bold=bold), room)

    def wrap(
        self, text: str, size: float, max_width: float, max_lines: int, *, bold: bool = False
    ) -> list[str]:
        """``text`` wrapped to ``max_width`` output pixels, at most ``max_lines``."""
        room = max_width * SCALE - 2 * self._faux_bold(size, bold)
        return wrap_text(text, self.font(size, bold=bold), room, max_lines)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: float,
        fill: RGB | RGBA,
        *,
        bold: bool = False,
        anchor: str = "la",
    ) -> None:
        """Draw ``text``; ``anchor`` as in Pillow ("ls" = left/baseline, "mm" = centre)."""
        if not text:
            return
        stroke = self._faux_bold(size, bold)
        self.draw.text(
            (self.s(xy[0]), self.s(xy[1])),
            text,
            font=self.font(size, bold=bold),
            fill=fill,
            anchor=anchor,
            stroke_width=stroke,
            stroke_fill=fill if stroke else None,
        )

    def pill(
        self,
        x: float,
        center_y: float,
        text: str,
        size: float,
        *,
        fill: RGB | RGBA,
        color: RGB,
        pad_x: float = 12,
        height: float | None = None,
        bold: bool = False,
        align: str = "left",
    ) -> float:
        """A rounded label; returns its width. ``align="right"`` makes ``x`` the right edge."""
        h = height if height is not None else size * 1.75
        w = self.measure(text, size, bold=bold) + 2 * pad_x
        left = x - w if align == "right" else x
        self.rounded((left, center_y - h / 2, left + w, center_y + h / 2), h / 2, fill=fill)
        self.text((left + w / 2, center_y), text, size, color, bold=bold, anchor="mm")
        return w

    # -- output ---------------------------------------------------------------------

    def _output(self) -> Image.Image:
        """The canvas at output size, RGB."""
        rgb = self.image.convert("RGB")
        # Drawn at 2x for smooth edges; averaging each 2x2 block is the right way back down
        # and ten times faster than a Lanczos resize of the whole canvas.
        if rgb.size == (self.width * SCALE, self.height * SCALE):
            return rgb.reduce(SCALE)
        return rgb.resize((self.width, self.height), Image.Resampling.LANCZOS)

    def to_png(self) -> bytes:
        """Downsample to the output size and encode as an opaque PNG."""
        out = io.BytesIO()
        # Light compression: the picture is sent once and thrown away; encoding time
        # matters more than a few hundred kilobytes.
        self._output().save(out, format="PNG", compress_level=1)
        return out.getvalue()

    def to_jpeg(self, *, max_bytes: int) -> bytes:
        """Downsample and encode as a JPEG of at most ``max_bytes`` (lower quality if need
        be). For pictures made of pictures (the gallery's sheet): a few ms, where a PNG takes
        about 30. Quality 92 without chroma subsampling keeps coloured text sharp."""
        final = self._output()
        data = b""
        for quality in (92, 80, 65):
            out = io.BytesIO()
            final.save(out, format="JPEG", quality=quality, subsampling=0)
            data = out.getvalue()
            if len(data) <= max_bytes:
                break
        return data


@functools.lru_cache(maxsize=16)
def _rounded_mask(
    size: tuple[int, int], radius: int, corners: tuple[bool, bool, bool, bool]
) -> Image.Image:
    """A rounded picture's mask, made once per size (every tile shares it); read only."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, size[0] - 1, size[1] - 1), radius, fill=255, corners=corners
    )
    return mask


@functools.lru_cache(maxsize=8)
def _background(size: tuple[int, int]) -> Image.Image:
    """The canvas's backdrop for one size, made once: every gallery page of a grid shares
    it. Callers copy it before drawing."""
    return vertical_gradient(size, PALETTE.bg_top, PALETTE.bg_bottom).convert("RGBA")


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
    backdrop = backdrop.resize(size, Image.Resampling.BILINEAR)
    backdrop = Image.blend(backdrop, Image.new("RGB", size, (12, 12, 16)), 0.55)
    front = ImageOps.contain(picture, size, Image.Resampling.LANCZOS)
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
