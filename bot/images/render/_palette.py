"""The renderers' one palette and colour helpers (private to this package).

One palette keeps the contact sheet, the character card and the usage chart looking like
parts of the same product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


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
