"""Render a character's profile card: portrait, name, facts and a footer.

The card is what members share, so it has to look good as a Discord attachment on both
themes and stay readable when Discord shrinks it to about 800x450. Its 16:9 shape
matches that preview, so the preview is a clean downscale rather than a crop.

Every string arrives already localized from the bot's i18n layer; this module draws
text and never writes any of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from PIL import Image, ImageFilter, ImageOps

from bot.images.convert import load_picture
from bot.images.render._common import Canvas, one_at_a_time
from bot.images.render._palette import PALETTE, with_alpha

__all__ = ["CARD_SIZE", "CardData", "render_character_card"]

CARD_SIZE: Final = (1200, 675)
"""Output size in pixels (16:9, like Discord's preview box)."""

_MARGIN: Final = 36
_PORTRAIT_W: Final = 440
_RADIUS: Final = 20
_COLUMN_GAP: Final = 44
_FOOTER_H: Final = 58
_CHIP_H: Final = 34

_NAME_SIZES: Final = (54, 46, 40)
_LABEL_SIZE: Final = 18
_VALUE_SIZE: Final = 21
_ROW_GAP: Final = 13


@dataclass(frozen=True, slots=True)
class CardData:
    """Everything on a card, already localized.

    ``facts`` are (label, value) pairs in display order, e.g. ("Age", "17"). Long
    values wrap; facts that do not fit are left off rather than squeezed.
    """

    name: str
    portrait: bytes | None
    facts: list[tuple[str, str]] = field(default_factory=list)
    creator: str = ""
    picture_count_text: str = ""
    favorites_text: str = ""
    style_text: str = ""
    locale: str | None = None  # the reader's, for the glyph shapes of their language


@one_at_a_time
def render_character_card(card: CardData) -> bytes:
    """Render ``card`` as a PNG of :data:`CARD_SIZE`."""
    width, height = CARD_SIZE
    canvas = Canvas(width, height, locale=card.locale)
    picture = load_picture(card.portrait, max_side=1536)
    if picture is not None:
        _wash_background(canvas, picture)

    _draw_portrait(canvas, picture)

    left = _MARGIN + _PORTRAIT_W + _COLUMN_GAP
    right = width - _MARGIN
    footer_top = height - _MARGIN - _FOOTER_H
    size, lines = _layout_name(canvas, card.name, right - left)
    has_chip = bool(card.style_text.strip())
    has_facts = any(label.strip() or value.strip() for label, value in card.facts)
    top = float(_MARGIN)
    if not has_facts:
        # Nothing below the name: centre the heading block instead of leaving a hole.
        block = _name_block_height(canvas, size, lines) + (14 + _CHIP_H if has_chip else 0)
        top = max(top, (footer_top - block) / 2)
    y = _draw_name(canvas, size, lines, left, top=top)
    if has_chip:
        canvas.pill(
            left,
            y + 14 + _CHIP_H / 2,
            canvas.fit(card.style_text, 18, right - left - 28),
            18,
            fill=with_alpha(PALETTE.accent, 44),
            color=PALETTE.accent_soft,
            height=_CHIP_H,
            pad_x=14,
        )
        y += 14 + _CHIP_H
    _draw_facts(canvas, card.facts, left, right, top=y + 26, bottom=footer_top - 12)
    _draw_footer(canvas, card, left, right, footer_top)
    return canvas.to_png()


def _wash_background(canvas: Canvas, picture: Image.Image) -> None:
    """Tint the card with a heavily blurred, dark copy of the portrait.

    Ties the card's colours to the character; kept dark so text contrast holds.
    """
    size = canvas.image.size
    rgb = picture.convert("RGB")
    small = ImageOps.fit(rgb, (size[0] // 8, size[1] // 8), Image.Resampling.BILINEAR)
    wash = small.filter(ImageFilter.GaussianBlur(12)).resize(size, Image.Resampling.BICUBIC)
    base = canvas.image.convert("RGB")
    blended = Image.blend(base, wash, 0.22).convert("RGBA")
    canvas.image.paste(blended)


def _draw_portrait(canvas: Canvas, picture: Image.Image | None) -> None:
    """The portrait, letterboxed in a rounded frame on the left."""
    x, y = _MARGIN, _MARGIN
    w, h = _PORTRAIT_W, CARD_SIZE[1] - 2 * _MARGIN
    art = canvas.picture_art(picture, (w, h))
    canvas.paste_rounded(art, (x, y), _RADIUS)
    canvas.rounded((x, y, x + w, y + h), _RADIUS, outline=with_alpha(PALETTE.border, 255))


def _layout_name(canvas: Canvas, name: str, max_w: float) -> tuple[int, list[str]]:
    """Largest name size that fits in at most two lines (ellipsized at the smallest)."""
    name = " ".join(name.split())
    for size in _NAME_SIZES:
        lines = canvas.wrap(name, size, max_w, 2, bold=True)
        if "".join(lines).replace(" ", "") == name.replace(" ", ""):
            return size, lines  # fits without an ellipsis
    size = _NAME_SIZES[-1]
    return size, canvas.wrap(name, size, max_w, 2, bold=True)


def _name_block_height(canvas: Canvas, size: int, lines: list[str]) -> float:
    """Height of the name lines plus the accent underline."""
    step = canvas.line_height(size, bold=True) * 0.98
    return size * 0.98 + (max(1, len(lines)) - 1) * step + size * 0.36 + 5


def _draw_name(canvas: Canvas, size: int, lines: list[str], left: float, *, top: float) -> float:
    """Draw the name and a short accent underline; returns the y below them."""
    step = canvas.line_height(size, bold=True) * 0.98
    # First baseline one ascent below ``top``; CJK and Latin share the baseline.
    baseline = top + size * 0.98
    for i, line in enumerate(lines):
        canvas.text((left, baseline + i * step), line, size, PALETTE.text, bold=True, anchor="ls")
    last_baseline = baseline + (max(1, len(lines)) - 1) * step
    accent_y = last_baseline + size * 0.36
    canvas.rounded((left, accent_y, left + 56, accent_y + 5), 2.5, fill=PALETTE.accent)
    return accent_y + 5


def _draw_facts(
    canvas: Canvas,
    facts: list[tuple[str, str]],
    left: float,
    right: float,
    *,
    top: float,
    bottom: float,
) -> None:
    """Label/value rows like a spec sheet; values wrap, overflow rows are dropped."""
    rows = [(" ".join(label.split()), " ".join(value.split())) for label, value in facts]
    rows = [(label, value) for label, value in rows if label or value]
    if not rows:
        return
    label_w = min(
        max(canvas.measure(label, _LABEL_SIZE) for label, _ in rows) + 22,
        (right - left) * 0.34,
    )
    value_w = right - left - label_w
    value_step = canvas.line_height(_VALUE_SIZE) * 0.95

    def layout(max_lines: int) -> list[tuple[str, list[str]]]:
        return [
            (
                canvas.fit(label, _LABEL_SIZE, label_w - 16),
                canvas.wrap(value, _VALUE_SIZE, value_w, max_lines) or [""],
            )
            for label, value in rows
        ]

    def row_height(lines: list[str]) -> float:
        return len(lines) * value_step + _ROW_GAP

    available = bottom - top
    laid = layout(2)
    if sum(row_height(lines) for _, lines in laid) > available:
        laid = layout(1)

    y = top
    for index, (label, lines) in enumerate(laid):
        height = row_height(lines)
        if y + height - _ROW_GAP > bottom:
            break
        if index > 0:
            canvas.line([(left, y - _ROW_GAP / 2), (right, y - _ROW_GAP / 2)], PALETTE.grid, 1)
        baseline = y + _VALUE_SIZE * 1.0
        canvas.text((left, baseline), label, _LABEL_SIZE, PALETTE.text_muted, anchor="ls")
        for i, line in enumerate(lines):
            canvas.text(
                (left + label_w, baseline + i * value_step),
                line,
                _VALUE_SIZE,
                PALETTE.text,
                anchor="ls",
            )
        y += height


def _draw_footer(canvas: Canvas, card: CardData, left: float, right: float, top: float) -> None:
    """Hairline, creator on the left, picture and favourite counts as chips on the right."""
    canvas.line([(left, top), (right, top)], PALETTE.border, 1)
    center_y = top + _FOOTER_H / 2 + 4
    x = right
    for text, color in (
        (card.favorites_text, PALETTE.gold),
        (card.picture_count_text, PALETTE.text),
    ):
        text = " ".join(text.split())
        if not text:
            continue
        text = canvas.fit(text, 18, (right - left) * 0.3)
        w = canvas.pill(
            x,
            center_y,
            text,
            18,
            fill=PALETTE.surface_hi,
            color=color,
            height=34,
            pad_x=14,
            align="right",
        )
        x -= w + 10
    creator = canvas.fit(" ".join(card.creator.split()), 18, x - left - 12)
    canvas.text((left, center_y), creator, 18, PALETTE.text_muted, anchor="lm")
