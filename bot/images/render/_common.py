"""Shared drawing primitives for the renderers (private to this package).

Shapes are drawn on a canvas twice the output size and downsampled once at the end
(:meth:`Canvas.to_png`). Pillow draws shapes without anti-aliasing; 2x supersampling
gives smooth rounded corners, circles and chart lines without a per-shape mask. A
renderer that reuses its shapes (the gallery's sheet) draws them once at 2x as
:func:`sprite` and composes them on a canvas at output size, where text is drawn
directly (FreeType anti-aliases glyphs at any size).
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from typing import Final, ParamSpec

from PIL import Image, ImageChops, ImageDraw

from bot.images.fonts import (
    FontLike,
    drawable,
    ellipsize,
    get_font,
    has_bold_face,
    line_height,
    locale_for_text,
    text_width,
    wrap_text,
)
from bot.images.render._palette import PALETTE, RGB, RGBA
from bot.images.render._pictures import letterbox, placeholder, vertical_gradient

SCALE: Final = 2
"""Supersampling factor: draw at 2x, downsample once when encoding."""

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


class Canvas:
    """An RGBA image at ``SCALE`` x the output size, addressed in output pixels.

    Renderers think in output pixels (what the member sees); the canvas scales every
    coordinate, stroke and font size, so layouts read like the final picture.
    :meth:`at_output_size` makes a canvas of scale 1 over a finished backdrop instead.
    ``locale`` is the reader's: text is drawn with the glyph shapes of their language
    (a Japanese reader's kanji from a JP face) where such a font is installed, except
    text with kana, which keeps its Japanese shapes for every reader.
    """

    def __init__(
        self, width: int, height: int, *, transparent: bool = False, locale: str | None = None
    ) -> None:
        self.width = width
        self.height = height
        self.scale = SCALE
        self.locale = locale
        size = (width * SCALE, height * SCALE)
        if transparent:
            self.image = Image.new("RGBA", size, (0, 0, 0, 0))
        else:
            self.image = _background(size).copy()
        self.draw = ImageDraw.Draw(self.image)

    @classmethod
    def at_output_size(cls, backdrop: Image.Image, *, locale: str | None = None) -> Canvas:
        """A canvas of scale 1 drawing on a copy of ``backdrop`` (RGB, output size).

        Translucent fills blend as they are drawn; shapes here would be jagged, so
        they come from :func:`sprite` and only text and pictures are drawn directly.
        """
        canvas = cls.__new__(cls)
        canvas.width, canvas.height = backdrop.size
        canvas.scale = 1
        canvas.locale = locale
        canvas.image = backdrop.convert("RGB") if backdrop.mode != "RGB" else backdrop.copy()
        canvas.draw = ImageDraw.Draw(canvas.image, "RGBA")
        return canvas

    # -- geometry -------------------------------------------------------------------

    def s(self, value: float) -> int:
        """Output pixels -> canvas pixels."""
        return round(value * self.scale)

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
        if fill is not None and len(fill) == 4 and fill[3] < 255 and self.image.mode == "RGBA":
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
        return art if art.size == full else art.resize(full, Image.Resampling.NEAREST)

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
        # On a canvas of scale 1 the mask itself is supersampled, or the corners would be
        # jagged.
        supersample = SCALE if self.scale == 1 else 1
        mask = _rounded_mask(picture.size, self.s(radius), corners, supersample)
        if picture.mode == "RGBA":
            mask = ImageChops.multiply(mask, picture.getchannel("A"))
        rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
        self.image.paste(rgb, (self.s(xy[0]), self.s(xy[1])), mask)

    def paste_sprite(self, sprite: Image.Image, xy: tuple[float, float]) -> None:
        """Blend a :func:`sprite` (RGBA, this canvas's scale) over the canvas at ``xy``."""
        self.image.paste(sprite, (self.s(xy[0]), self.s(xy[1])), sprite)

    # -- text -----------------------------------------------------------------------

    def font(self, size: float, *, bold: bool = False, text: str = "") -> FontLike:
        """A font of ``size`` output pixels (cached by :func:`get_font`), with the glyph
        shapes ``text`` needs (a Japanese name keeps Japanese shapes for every reader)."""
        return get_font(self.s(size), bold=bold, locale=locale_for_text(text, self.locale))

    def _faux_bold(self, size: float, bold: bool, text: str = "") -> float:
        """Stroke width (canvas px) that fakes bold when the font family has no bold file.

        WenQuanYi Micro Hei, for one, ships a single weight; without this, titles and
        names would lose their emphasis. The weight is the same at every scale: on a
        canvas of scale 1 the stroke may be half a pixel (FreeType strokes fractions).
        """
        if not bold or has_bold_face(locale_for_text(text, self.locale)):
            return 0
        return max(1, round(size * SCALE / 36)) * self.scale / SCALE

    def drawable(self, text: str, size: float, *, bold: bool = False) -> str:
        """``text`` as its font draws it: no empty boxes for emoji or styled letters (see
        :func:`bot.images.fonts.drawable`). Every measure, fit, wrap and draw goes through it."""
        return drawable(text, self.font(size, bold=bold, text=text))

    def measure(self, text: str, size: float, *, bold: bool = False) -> float:
        """Width of ``text`` in output pixels."""
        text = self.drawable(text, size, bold=bold)
        stroke = 2 * self._faux_bold(size, bold, text)
        return (text_width(self.font(size, bold=bold, text=text), text) + stroke) / self.scale

    def line_height(self, size: float, *, bold: bool = False) -> float:
        """Baseline-to-baseline distance in output pixels."""
        return line_height(self.font(size, bold=bold)) / self.scale

    def fit(self, text: str, size: float, max_width: float, *, bold: bool = False) -> str:
        """``text`` ellipsized to ``max_width`` output pixels."""
        text = self.drawable(text, size, bold=bold)
        room = max_width * self.scale - 2 * self._faux_bold(size, bold, text)
        return ellipsize(text, self.font(size, bold=bold, text=text), room)

    def wrap(
        self, text: str, size: float, max_width: float, max_lines: int, *, bold: bool = False
    ) -> list[str]:
        """``text`` wrapped to ``max_width`` output pixels, at most ``max_lines``."""
        text = self.drawable(text, size, bold=bold)
        room = max_width * self.scale - 2 * self._faux_bold(size, bold, text)
        return wrap_text(text, self.font(size, bold=bold, text=text), room, max_lines)

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
        text = self.drawable(text, size, bold=bold)
        if not text:
            return
        stroke = self._faux_bold(size, bold, text)
        self.draw.text(
            (self.s(xy[0]), self.s(xy[1])),
            text,
            font=self.font(size, bold=bold, text=text),
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

    def output(self) -> Image.Image:
        """The canvas at output size, RGB (a new image: the canvas stays drawable)."""
        if self.scale == 1:
            return self.image.copy()
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
        self.output().save(out, format="PNG", compress_level=1)
        return out.getvalue()

    def to_jpeg(self, *, max_bytes: int) -> bytes:
        """Downsample and encode as a JPEG of at most ``max_bytes`` (lower quality if need
        be). For pictures made of pictures (the gallery's sheet): a few ms, where a PNG takes
        about 30. Quality 92 without chroma subsampling keeps coloured text sharp."""
        final = self.image if self.scale == 1 else self.output()
        data = b""
        for quality in (92, 80, 65):
            out = io.BytesIO()
            final.save(out, format="JPEG", quality=quality, subsampling=0)
            data = out.getvalue()
            if len(data) <= max_bytes:
                break
        return data


def sprite(size: tuple[int, int], draw: Callable[[Canvas], None]) -> Image.Image:
    """Shapes drawn by ``draw`` on a transparent 2x canvas of ``size`` output pixels,
    brought down to output size: smooth edges, ready for :meth:`Canvas.paste_sprite`.

    Callers cache what they reuse; the result is read only.
    """
    canvas = Canvas(*size, transparent=True)
    draw(canvas)
    # Pillow resizes RGBA with premultiplied alpha, so edges keep their colour.
    return canvas.image.resize(size, Image.Resampling.BOX)


@functools.lru_cache(maxsize=16)
def _rounded_mask(
    size: tuple[int, int],
    radius: int,
    corners: tuple[bool, bool, bool, bool],
    supersample: int = 1,
) -> Image.Image:
    """A rounded picture's mask, made once per size (every tile shares it); read only."""
    big = (size[0] * supersample, size[1] * supersample)
    mask = Image.new("L", big, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, big[0] - 1, big[1] - 1), radius * supersample, fill=255, corners=corners
    )
    return mask if supersample == 1 else mask.reduce(supersample)


@functools.lru_cache(maxsize=8)
def _background(size: tuple[int, int]) -> Image.Image:
    """The canvas's backdrop for one size, made once: every gallery page of a grid shares
    it. Callers copy it before drawing."""
    return vertical_gradient(size, PALETTE.bg_top, PALETTE.bg_bottom).convert("RGBA")
