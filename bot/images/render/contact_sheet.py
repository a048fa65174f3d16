"""Render a page of a member's gallery as one picture: a numbered grid of tiles.

Discord shows one attachment far better than nine, and a grid with big numbers lets a
member say "show me 4" without scrolling. Each tile shows the picture (letterboxed,
never cropped, since cropping a portrait cuts off the face), a number badge, the
character's name and its star count.

The sheet keeps the same size for every page of the same grid, even a half-empty last
page: when the bot edits the message to flip pages, nothing jumps around.

Speed matters here (a page is drawn on every press of ◀ or ▶), so every shape a grid
shares (backdrop, tile frames, badges) is drawn once at 2x and cached at output size;
a page only pastes its pictures and those shapes and writes its text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PIL import Image

from bot.images.render._common import Canvas, one_at_a_time, sprite
from bot.images.render._palette import PALETTE, with_alpha

__all__ = ["MAX_SHEET_BYTES", "SHEET_WIDTH", "SheetItem", "render_contact_sheet", "sheet_size"]

SHEET_WIDTH: Final = 1000
"""Output width in pixels; the height follows from the grid (see :func:`sheet_size`)."""

MAX_SHEET_BYTES: Final = 1_000_000
"""The most a sheet may weigh, so it uploads and loads quickly (see ``Canvas.to_jpeg``)."""

_MARGIN: Final = 28
_GAP: Final = 18
_HEADER_H: Final = 108
_LABEL_H: Final = 56
_RADIUS: Final = 14
_EMPTY_BODY_H: Final = 300
_BADGE_H: Final = 36


@dataclass(frozen=True, slots=True)
class SheetItem:
    """One tile: the number members type, the name, stars, and the decoded thumbnail.

    ``picture`` is normally a gallery thumbnail decoded by the thumbnail cache (which
    had to decode it anyway to know it is sound); ``None`` draws a placeholder.
    """

    number: int
    label: str
    stars: int
    picture: Image.Image | None


def _tile_width(columns: int) -> int:
    return (SHEET_WIDTH - 2 * _MARGIN - (columns - 1) * _GAP) // columns


def sheet_size(columns: int = 3, rows: int = 3, *, empty: bool = False) -> tuple[int, int]:
    """Output size of a sheet with this grid (or of the empty-gallery sheet)."""
    if empty:
        return SHEET_WIDTH, _HEADER_H + _EMPTY_BODY_H + _MARGIN
    tile_h = _tile_width(columns) + _LABEL_H
    return SHEET_WIDTH, _HEADER_H + rows * tile_h + (rows - 1) * _GAP + _MARGIN


@one_at_a_time
def render_contact_sheet(
    items: Sequence[SheetItem],
    *,
    title: str,
    subtitle: str,
    columns: int = 3,
    rows: int = 3,
    empty_text: str,
    locale: str | None = None,
) -> bytes:
    """Render up to ``columns * rows`` items as a JPEG contact sheet.

    All text arrives already localized; ``locale`` (the reader's) picks the glyph
    shapes. Items beyond the grid are ignored (the bot pages its gallery); unused cells
    are drawn as faint empty slots. With no items at all, a shorter sheet shows
    ``empty_text`` instead of the grid.
    """
    columns = max(1, columns)
    rows = max(1, rows)
    shown = list(items)[: columns * rows]
    if not shown:
        canvas = Canvas(*sheet_size(columns, rows, empty=True), locale=locale)
        _draw_accent_bar(canvas)
        _draw_header(canvas, title, subtitle)
        _draw_empty(canvas, empty_text)
        return canvas.to_jpeg(max_bytes=MAX_SHEET_BYTES)

    canvas = Canvas.at_output_size(_grid_backdrop(columns, rows), locale=locale)
    _draw_header(canvas, title, subtitle)
    for slot, item in enumerate(shown):
        _draw_tile(canvas, item, *_slot_origin(columns, slot), _tile_width(columns))
    return canvas.to_jpeg(max_bytes=MAX_SHEET_BYTES)


def _slot_origin(columns: int, slot: int) -> tuple[int, int]:
    """Top-left corner of grid cell ``slot`` (row by row), in output pixels."""
    tile_w = _tile_width(columns)
    grid_w = columns * tile_w + (columns - 1) * _GAP
    left = (SHEET_WIDTH - grid_w) // 2
    x = left + (slot % columns) * (tile_w + _GAP)
    y = _HEADER_H + (slot // columns) * (tile_w + _LABEL_H + _GAP)
    return x, y


@functools.lru_cache(maxsize=4)
def _grid_backdrop(columns: int, rows: int) -> Image.Image:
    """Backdrop, accent bar and a faint empty slot in every cell, at output size; read
    only. Tiles cover the slots they fill."""
    tile_w = _tile_width(columns)
    canvas = Canvas(*sheet_size(columns, rows))
    _draw_accent_bar(canvas)
    for slot in range(columns * rows):
        x, y = _slot_origin(columns, slot)
        box = (x, y, x + tile_w, y + tile_w + _LABEL_H)
        canvas.rounded(box, _RADIUS, fill=with_alpha(PALETTE.surface, 90))
    return canvas.output()


@functools.lru_cache(maxsize=4)
def _tile_frame(tile_w: int) -> tuple[Image.Image, Image.Image]:
    """A tile's card (under its picture) and its border (over it), as sprites."""
    size = (tile_w, tile_w + _LABEL_H)
    box = (0, 0, size[0], size[1])
    card = sprite(size, lambda c: c.rounded(box, _RADIUS, fill=PALETTE.surface))
    border = sprite(
        size,
        lambda c: c.rounded(box, _RADIUS, outline=with_alpha(PALETTE.border, 255), width=1),
    )
    return card, border


@functools.lru_cache(maxsize=16)
def _badge(width: int) -> Image.Image:
    """The number badge's dark glass pill with its accent rim, as a sprite."""

    def draw(canvas: Canvas) -> None:
        box = (0, 0, width, _BADGE_H)
        canvas.rounded(box, _BADGE_H / 2, fill=(16, 17, 22, 200))
        canvas.rounded(box, _BADGE_H / 2, outline=with_alpha(PALETTE.accent, 255), width=1.5)

    return sprite((width, _BADGE_H), draw)


def _draw_accent_bar(canvas: Canvas) -> None:
    """The pink bar that marks the header."""
    canvas.rounded((_MARGIN, 30, _MARGIN + 6, 80), 3, fill=PALETTE.accent)


def _draw_header(canvas: Canvas, title: str, subtitle: str) -> None:
    """Bold title and a muted subtitle line, beside the accent bar."""
    x = _MARGIN + 18
    max_w = canvas.width - x - _MARGIN
    canvas.text(
        (x, 56), canvas.fit(title, 32, max_w, bold=True), 32, PALETTE.text, bold=True, anchor="ls"
    )
    canvas.text((x, 84), canvas.fit(subtitle, 19, max_w), 19, PALETTE.text_muted, anchor="ls")


def _draw_tile(canvas: Canvas, item: SheetItem, x: int, y: int, tile_w: int) -> None:
    """One card: picture on top, name and stars underneath, number badge on top."""
    card, border = _tile_frame(tile_w)
    canvas.paste_sprite(card, (x, y))
    art = canvas.picture_art(item.picture, (tile_w, tile_w))
    canvas.paste_rounded(art, (x, y), _RADIUS, corners=(True, True, False, False))
    canvas.paste_sprite(border, (x, y))

    # Number badge: top-left over the picture, dark glass so it reads on any art.
    number = str(item.number)
    badge_w = max(_BADGE_H, round(canvas.measure(number, 20, bold=True)) + 24)
    bx, by = x + 10, y + 10
    canvas.paste_sprite(_badge(badge_w), (bx, by))
    canvas.text(
        (bx + badge_w / 2, by + _BADGE_H / 2), number, 20, PALETTE.text, bold=True, anchor="mm"
    )

    # Label strip: name (ellipsized by measurement) on the left, stars on the right.
    center_y = y + tile_w + _LABEL_H / 2
    stars = f"★ {max(0, item.stars):,}"  # grouped as the footer's totals are
    stars_w = canvas.measure(stars, 18, bold=True)
    pad = 14
    canvas.text((x + tile_w - pad, center_y), stars, 18, PALETTE.gold, bold=True, anchor="rm")
    name_w = tile_w - 2 * pad - stars_w - 12
    name = canvas.fit(item.label, 20, name_w, bold=True)
    canvas.text((x + pad, center_y), name, 20, PALETTE.text, bold=True, anchor="lm")


def _draw_empty(canvas: Canvas, empty_text: str) -> None:
    """An inviting empty state: a framed picture icon and the localized message."""
    top = _HEADER_H
    left, right = _MARGIN, canvas.width - _MARGIN
    bottom = top + _EMPTY_BODY_H
    canvas.rounded((left, top, right, bottom), _RADIUS, fill=with_alpha(PALETTE.surface, 150))
    canvas.rounded(
        (left, top, right, bottom), _RADIUS, outline=with_alpha(PALETTE.border, 255), width=1
    )
    cx = canvas.width / 2
    icon_w, icon_h = 96, 72
    iy = top + 84
    canvas.rounded(
        (cx - icon_w / 2, iy, cx + icon_w / 2, iy + icon_h),
        12,
        outline=PALETTE.text_faint,
        width=3,
    )
    canvas.circle((cx + 20, iy + 22), 8, fill=PALETTE.text_faint)
    canvas.line(
        [
            (cx - 34, iy + 58),
            (cx - 10, iy + 34),
            (cx + 6, iy + 50),
            (cx + 16, iy + 42),
            (cx + 34, iy + 58),
        ],
        PALETTE.text_faint,
        width=3,
    )
    lines = canvas.wrap(empty_text, 24, right - left - 80, 2)
    step = canvas.line_height(24)
    for i, line in enumerate(lines):
        canvas.text((cx, iy + icon_h + 48 + i * step), line, 24, PALETTE.text_muted, anchor="ms")
