"""Autocomplete that answers while storage fails.

An autocomplete callback that raises gets no answer at all: discord.py logs the error with
its traceback and members see "Loading options failed". While the bot's own storage fails
(see bot/faults.py) a callback answers with no suggestions instead and the log gets one
warning; the command itself then tells the member to try again later. Anything else still
raises: a bug should be seen.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from discord import app_commands

from bot.faults import log_failure, storage_unavailable

__all__ = ["answers_while_storage_fails"]

log = logging.getLogger(__name__)

Suggest = Callable[..., Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def answers_while_storage_fails(suggest: Suggest) -> Suggest:
    """``suggest`` (a function, or a cog's method), answering [] while storage fails."""

    # Wrapped, so discord.py reads the callback's own parameters (and binds a method).
    @functools.wraps(suggest)
    async def guarded(*args: Any) -> list[app_commands.Choice[str]]:
        try:
            return await suggest(*args)
        except Exception as error:
            if storage_unavailable(error) is None:
                raise
            log_failure(log, error, "Autocomplete")  # one warning, the host's trouble
            return []

    return guarded
