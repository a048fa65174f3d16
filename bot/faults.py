"""Telling the bot's own storage failing apart from a bug, for a member's command.

A command that meets a database locked past its timeout, a full or read-only disk or a
PostgreSQL server restarting did nothing, and the same command works once storage does:
its member is told so (StorageUnavailable), not "something unexpected went wrong" with a
code for an admin to look up. Jobs have their own handling of the same faults (bot/jobs).
"""

from __future__ import annotations

import aiohttp

from bot.errors import StorageUnavailable
from bot.storage import STORAGE_ERRORS

__all__ = ["storage_unavailable"]


def storage_unavailable(error: BaseException) -> StorageUnavailable | None:
    """What the member is told when ``error`` is storage failing; None when it is not."""
    # STORAGE_ERRORS holds OSError (a picture file that cannot be written), and so are
    # aiohttp's connection errors: Discord or its CDN unreachable is no storage fault.
    if isinstance(error, STORAGE_ERRORS) and not isinstance(error, aiohttp.ClientError):
        return StorageUnavailable()
    return None
