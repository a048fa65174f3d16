"""The one clamp every job passes: style, size and count against the server's settings."""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import UserInputError
from bot.images.styles import DEFAULT_SIZE, DEFAULT_STYLE, SIZES, STYLES
from bot.records import GuildConfig

__all__ = ["known", "shape_request"]


def known(key: object, table: Mapping[str, object]) -> str | None:
    """``key`` if it names an entry of ``table``, else None."""
    return key if isinstance(key, str) and key in table else None


def shape_request(
    config: GuildConfig,
    *,
    style: str | None,
    size_key: str | None,
    count: int,
    clamp_count: bool = False,
) -> tuple[str, str, int]:
    """Style, size and count against the server's settings as they are now (create, vary,
    re-roll and every button).

    Choices are suggestions a modified client can ignore: an unknown pick is refused, and a
    server default stored before /config checked it falls back to ours. A count over the
    server's maximum is refused when the member typed it, lowered when it was remembered
    (``clamp_count``: a re-roll of an older, bigger request).
    """
    if style is not None and style not in STYLES:
        raise UserInputError("error.unknown_style")
    if size_key is not None and size_key not in SIZES:
        raise UserInputError("error.unknown_size")
    style = style or known(config.default_style, STYLES) or DEFAULT_STYLE
    size_key = size_key or known(config.default_size, SIZES) or DEFAULT_SIZE
    if clamp_count:
        count = max(1, min(count, config.max_count))
    elif count < 1:
        raise UserInputError("error.bad_count", max=config.max_count)
    elif count > config.max_count:
        raise UserInputError("error.count_over_server_max", max=config.max_count)
    return style, size_key, count
