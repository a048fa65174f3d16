"""Submitting a job from an interaction and telling the member where it stands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.jobs.queue import Submitted
from cogs._shared.context import locale_of, services
from cogs._shared.errors import handle_interaction_error
from cogs._shared.eta import eta_text
from cogs._shared.permissions import require_picture_permissions

__all__ = ["format_eta", "submit_and_track"]


def format_eta(interaction: discord.Interaction, seconds: float | None) -> str:
    return eta_text(services(interaction).catalog, locale_of(interaction), seconds)


async def submit_and_track(
    interaction: discord.Interaction, submit: Callable[[], Awaitable[Submitted]]
) -> None:
    """Call ``submit`` after the interaction was deferred; errors become private messages.

    Where the job stands is shown by the queue's observer (cogs/pictures/delivery.py), which
    serialises its edits of the member's message with the worker's, so "queued" never lands
    after "drawing".
    """
    try:
        require_picture_permissions(interaction)
        await submit()
    except Exception as error:
        await handle_interaction_error(interaction, error)
