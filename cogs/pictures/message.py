"""What a picture message looks like; shared by every extension that posts pictures, so it
lives in ``cogs/_shared/picture_message.py``."""

from __future__ import annotations

from cogs._shared.picture_message import (
    REQUEST_BUDGET,
    PictureMessage,
    build_picture_message,
    truncate,
)

__all__ = ["REQUEST_BUDGET", "PictureMessage", "build_picture_message", "truncate"]
