"""Pure renderers that turn bot data into shareable PNGs.

Each function takes plain data (already-localized strings, picture bytes) and returns
PNG bytes. They are CPU-bound and synchronous; the bot calls them through
``asyncio.to_thread``.
"""

from __future__ import annotations

from bot.images.render.character_card import CARD_SIZE, CardData, render_character_card
from bot.images.render.contact_sheet import (
    MAX_SHEET_BYTES,
    SHEET_WIDTH,
    SheetItem,
    render_contact_sheet,
    sheet_size,
)
from bot.images.render.usage_chart import CHART_SIZE, DayUsage, render_usage_chart

__all__ = [
    "CARD_SIZE",
    "CHART_SIZE",
    "MAX_SHEET_BYTES",
    "SHEET_WIDTH",
    "CardData",
    "DayUsage",
    "SheetItem",
    "render_character_card",
    "render_contact_sheet",
    "render_usage_chart",
    "sheet_size",
]
