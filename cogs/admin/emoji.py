"""Recognising one emoji typed into a slash command option (Discord has no emoji option)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["parse_emoji"]

_CUSTOM = re.compile(r"<a?:[A-Za-z0-9_~]{2,32}:\d{15,21}>")
_ZWJ = 0x200D
_JOINERS = {_ZWJ, 0xFE0E, 0xFE0F, 0x20E3}  # joiner, variation selectors, keycap
_KEYCAP_BASES = set("#*0123456789")


def _modifier(cp: int) -> bool:
    # Skin tones and the tag characters of subdivision flags extend the emoji before them.
    return 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def parse_emoji(text: str) -> str | None:
    """The emoji in ``text`` if it is exactly one (unicode or a custom ``<:name:id>``)."""
    value = text.strip()
    if _CUSTOM.fullmatch(value):
        return value
    if not value or len(value) > 16:
        return None
    emojis = 0
    previous = 0
    pending_flag = False
    for index, char in enumerate(value):
        cp = ord(char)
        if cp in _JOINERS or _modifier(cp):
            if index == 0:
                return None
        elif char in _KEYCAP_BASES:
            if "\u20e3" not in value[index + 1 : index + 3]:
                return None
            emojis += 1
        elif _regional(cp):
            # Flags are two regional indicators: count the pair once.
            if not pending_flag:
                emojis += 1
            pending_flag = not pending_flag
        elif unicodedata.category(char) == "So":
            if previous != _ZWJ:
                emojis += 1
        else:
            return None
        previous = cp
    return value if emojis == 1 else None
