"""Fitting text into pixels: measure, ellipsize and wrap, for Latin and CJK alike.

Split from :mod:`bot.images.fonts` (which finds the font) and re-exported there, so the
renderers keep one import for fonts and the helpers that measure with them.
"""

from __future__ import annotations

import re
from typing import Final

from PIL import ImageFont

__all__ = ["ELLIPSIS", "FontLike", "ellipsize", "line_height", "text_width", "wrap_text"]

FontLike = ImageFont.FreeTypeFont | ImageFont.ImageFont

ELLIPSIS: Final = "…"

# Scripts written without spaces: a line may break between any two of these characters.
_NO_SPACE_SCRIPT = (
    r"\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af"
    r"\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)
_TOKEN_RE: Final = re.compile(rf"\s+|[{_NO_SPACE_SCRIPT}]|[^\s{_NO_SPACE_SCRIPT}]+")


def text_width(font: FontLike, text: str) -> float:
    """Advance width of ``text`` in pixels (what it occupies when drawn)."""
    return float(font.getlength(text))


def line_height(font: FontLike) -> int:
    """Distance between baselines for ``font``: ascent + descent."""
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 2


def ellipsize(text: str, font: FontLike, max_width: float) -> str:
    """Shorten ``text`` with a trailing "…" so it fits ``max_width`` pixels.

    Measures rather than counting characters because a kanji is about twice as wide as
    a Latin letter. Returns ``""`` if not even the ellipsis fits.
    """
    text = " ".join(text.split())
    if text_width(font, text) <= max_width:
        return text
    if text_width(font, ELLIPSIS) > max_width:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that still fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(font, text[:mid].rstrip() + ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def wrap_text(text: str, font: FontLike, max_width: float, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``max_width``.

    Breaks at spaces for Latin-like scripts and between any two characters of CJK
    text; over-long words are split. If the text does not fit, the last line ends
    with "…". Newlines in ``text`` are treated as spaces.
    """
    if max_lines <= 0:
        return []
    tokens = _TOKEN_RE.findall(" ".join(text.split()))
    lines: list[str] = []
    current = ""
    overflow = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        candidate = current + token
        if token.isspace() and not current:
            i += 1
            continue
        if text_width(font, candidate.rstrip()) <= max_width:
            current = candidate
            i += 1
            continue
        if not current.strip():
            # A single token wider than the line: split it at the widest prefix.
            cut = _fitting_prefix(token, font, max_width)
            current, tokens[i] = token[:cut], token[cut:]
        if len(lines) + 1 == max_lines:
            overflow = True
            break
        lines.append(current.rstrip())
        current = ""
    if overflow:
        lines.append(ellipsize(current + "".join(tokens[i:]), font, max_width))
    elif current.strip():
        lines.append(current.rstrip())
    return [line for line in lines if line]


def _fitting_prefix(token: str, font: FontLike, max_width: float) -> int:
    """Length of the longest prefix of ``token`` that fits (at least one character)."""
    lo, hi = 1, len(token)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(font, token[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo
