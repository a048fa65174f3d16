"""Reading the ids members pick from autocomplete or type themselves ("12", "#12").

One parser for every command: ``str.isdigit()`` accepts "²" and "①", which ``int()``
rejects, so ids are matched against ASCII digits only and anything else gets the
command's own friendly "pick from the list" message instead of a crash.
"""

from __future__ import annotations

import re

from bot.errors import UserInputError

__all__ = ["id_in", "parse_id", "trailing_id"]

# 18 digits fit in SQLite's signed 64-bit INTEGER; a longer number is no id of ours.
_ID = re.compile(r"#*([0-9]{1,18})")
_TRAILING = re.compile(r"#([0-9]{1,18})\s*$")


def id_in(value: str) -> int | None:
    """The id in "12" or "#12" (surrounding spaces allowed), else None."""
    match = _ID.fullmatch(value.strip())
    return int(match.group(1)) if match else None


def parse_id(value: str, error_key: str) -> int:
    """The id in "12" or "#12"; :class:`UserInputError` with ``error_key`` otherwise."""
    found = id_in(value)
    if found is None:
        raise UserInputError(error_key)
    return found


def trailing_id(value: str) -> int | None:
    """The id at the end of an autocomplete label such as "Aiko #12", if there is one."""
    match = _TRAILING.search(value)
    return int(match.group(1)) if match else None
