"""The art-style and picture-shape choices, shared by /character and /config defaults.

English names here; every locale's name comes from the catalog (``style.<key>``,
``size.<key>``), the same keys the picture messages use.
"""

from __future__ import annotations

from discord import app_commands
from discord.app_commands import locale_str as _

from bot.images.styles import SIZES, STYLES

__all__ = ["SIZE_CHOICES", "SIZE_NAMES", "STYLE_CHOICES", "STYLE_NAMES"]

STYLE_NAMES = {
    "cel": "Classic cel-shaded TV anime",
    "watercolor": "Soft watercolor",
    "retro90s": "90s retro anime",
    "chibi": "Chibi",
    "lightnovel": "Light-novel cover",
    "manga": "Ink & screentone manga",
    "fantasy": "Painterly fantasy",
    "pixel": "Pixel-art sprite",
}
SIZE_NAMES = {
    "portrait": "Portrait (2:3)",
    "square": "Square (1:1)",
    "landscape": "Landscape (3:2)",
}

STYLE_CHOICES = [
    app_commands.Choice(name=_(STYLE_NAMES[key], key=f"style.{key}"), value=key) for key in STYLES
]
SIZE_CHOICES = [
    app_commands.Choice(name=_(SIZE_NAMES[key], key=f"size.{key}"), value=key) for key in SIZES
]
