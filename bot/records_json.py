"""The keys every job request stores, whatever its kind.

``bot.records.parse_job_request`` reads these three through :func:`drawing_keys` for every
kind before the kind's own keys; each request's ``to_json`` writes them through
:func:`drawing_json`, so the two stay in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypedDict

from bot.images.styles import DEFAULT_SIZE, SIZES

__all__ = ["Drawing", "DrawingKeys", "drawing_json", "drawing_keys"]


class Drawing(Protocol):
    """What every job request says about the picture: its size and style."""

    @property
    def size(self) -> str: ...

    @property
    def size_key(self) -> str | None: ...

    @property
    def style(self) -> str | None: ...


class DrawingKeys(TypedDict):
    """The shared keys as read back, ready to pass to any request's constructor (``**``)."""

    size: str
    size_key: str | None
    style: str | None


def drawing_json(request: Drawing, **own_keys: Any) -> dict[str, Any]:
    """A request's stored JSON object: the shared keys first, then the kind's ``own_keys``."""
    return {"style": request.style, "size": request.size, "size_key": request.size_key, **own_keys}


def drawing_keys(stored: Mapping[str, Any]) -> DrawingKeys:
    """The shared keys of a stored request, the reverse of :func:`drawing_json`. A missing
    or blank one is None; a missing API size follows from ``size_key`` (or the default)."""
    size_key = _text_or_none(stored.get("size_key"))
    size = _text_or_none(stored.get("size")) or SIZES.get(size_key or DEFAULT_SIZE, "")
    return DrawingKeys(size=size, size_key=size_key, style=_text_or_none(stored.get("style")))


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
