"""The keys every job request stores, whatever its kind.

``bot.records.parse_job_request`` reads these three for every kind before the kind's own keys;
each request's ``to_json`` writes them through :func:`drawing_json`, so the two stay in step.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Drawing", "drawing_json"]


class Drawing(Protocol):
    """What every job request says about the picture: its size and style."""

    @property
    def size(self) -> str: ...

    @property
    def size_key(self) -> str | None: ...

    @property
    def style(self) -> str | None: ...


def drawing_json(request: Drawing, **own_keys: Any) -> dict[str, Any]:
    """A request's stored JSON object: the shared keys first, then the kind's ``own_keys``."""
    return {"style": request.style, "size": request.size, "size_key": request.size_key, **own_keys}
