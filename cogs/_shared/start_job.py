"""Starting a job from an interaction: the one place a member's request reaches the queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.jobs.queue import Submitted
from cogs._shared.errors import handle_interaction_error
from cogs._shared.permissions import require_picture_permissions

__all__ = ["start_job"]


async def start_job(
    interaction: discord.Interaction, request_job: Callable[[], Awaitable[Submitted]]
) -> Submitted | None:
    """Call ``request_job`` after the interaction was deferred; a refusal becomes a private
    message and None is returned (the member has been told why).

    Where the job stands ("queued", its place) is shown by the queue's observer
    (cogs/pictures/delivery.py), which serialises its edits of the member's message with the
    worker's, so "queued" never lands after "drawing". The caller gets what was queued, for
    what only it can say (e.g. that a variation went to the member's own copy).
    """
    try:
        require_picture_permissions(interaction)
        return await request_job()
    except Exception as error:
        await handle_interaction_error(interaction, error)
        return None
