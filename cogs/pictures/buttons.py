"""The picture buttons this extension registers; they live in ``cogs/_shared`` because every
extension that posts a picture puts them under it."""

from __future__ import annotations

from cogs._shared.picture_buttons import DYNAMIC_ITEMS, picture_view

__all__ = ["DYNAMIC_ITEMS", "picture_view"]
