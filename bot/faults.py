"""Telling the bot's own storage failing apart from a bug.

A command that meets a database locked past its timeout, a full or read-only disk or a
PostgreSQL server restarting did nothing, and the same command works once storage does:
its member is told so (StorageUnavailable), not "something unexpected went wrong" with a
code for an admin to look up. Jobs have their own handling of the same faults (bot/jobs).
Everywhere such a failure is logged (a command, autocomplete, what jobs tell on the side,
takedowns, reactions) it is one warning in one wording rather than a traceback
(``log_failure``), and so is work left to run in the background (``log_task_failure``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.errors import StorageUnavailable
from bot.storage import STORAGE_ERRORS

__all__ = ["log_failure", "log_task_failure", "storage_unavailable"]

log = logging.getLogger(__name__)


def storage_unavailable(error: BaseException) -> StorageUnavailable | None:
    """What the member is told when ``error`` is storage failing; None when it is not."""
    # STORAGE_ERRORS holds OSError (a picture file that cannot be written), and so are
    # aiohttp's connection errors: Discord or its CDN unreachable is no storage fault.
    if isinstance(error, STORAGE_ERRORS) and not isinstance(error, aiohttp.ClientError):
        return StorageUnavailable()
    return None


def log_failure(logger: logging.Logger, error: BaseException, what: str, *args: object) -> None:
    """Log that ``what`` (a %-format, with ``args``) failed with ``error``.

    Storage failing is the host's trouble, which the storage-fault handling reports to admins
    when it lasts: one warning with its cause. Anything else is a bug: its traceback.
    """
    if storage_unavailable(error) is not None:
        logger.warning(what + ": storage failed (%s: %s)", *args, type(error).__name__, error)
    else:
        logger.error(what, *args, exc_info=error)


def log_task_failure(task: asyncio.Task[Any]) -> None:
    """A background task's done callback: its failure is logged as it ends (``log_failure``),
    instead of asyncio's "exception was never retrieved" whenever the task is collected."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log_failure(log, error, "Background work %s failed", task.get_name())
