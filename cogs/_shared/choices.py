"""Choices of slash-command options, each declared once as a value and its English name.

``localised_choices`` turns such a table into discord.py's choices, every name localised by
a catalog key made from the value. The art-style and picture-shape choices, shared by
/character and /config defaults, live here too: their names come from ``style.<key>`` and
``size.<key>``, the same keys the picture messages use. So do the ``style`` and ``count``
options that /character create, vary and scene all ask in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from discord import app_commands
from discord.app_commands import locale_str as _

from bot.guild_settings import MOST_PICTURES_PER_REQUEST
from bot.images.styles import SIZES, STYLES
from cogs._shared.options import Option

__all__ = [
    "COUNT",
    "SIZE_CHOICES",
    "SIZE_NAMES",
    "STYLE",
    "STYLE_CHOICES",
    "STYLE_NAMES",
    "Count",
    "localised_choices",
]

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


def localised_choices(
    key_template: str, names: Mapping[str, str], values: Iterable[str] | None = None
) -> list[app_commands.Choice[str]]:
    """One choice per value, named ``names[value]`` in English and localised by the catalog
    key ``key_template`` with ``{value}`` filled in (``"size.{value}"``). In ``names``' order,
    or in ``values``' when the values are declared elsewhere (each must then have a name)."""
    return [
        app_commands.Choice(name=_(names[value], key=key_template.format(value=value)), value=value)
        for value in (names if values is None else values)
    ]


STYLE_CHOICES = localised_choices("style.{value}", STYLE_NAMES, STYLES)
SIZE_CHOICES = localised_choices("size.{value}", SIZE_NAMES, SIZES)

# Options that ask for a style or a number of pictures in the same words wherever they appear.
STYLE = Option("style", "Art style", key="style")
COUNT = Option("count", "How many pictures (1-4)", key="count")
# What a request (or a server's "most pictures per request") may ask for.
Count = app_commands.Range[int, 1, MOST_PICTURES_PER_REQUEST]
