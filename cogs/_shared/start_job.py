"""Starting a job from an interaction: the one place a member's request reaches the queue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from bot.errors import NotFound
from bot.faults import log_failure
from bot.records import Submitted
from cogs._shared.context import services, tr
from cogs._shared.errors import handle_interaction_error
from cogs._shared.permissions import require_picture_permissions
from cogs._shared.reply import reply

__all__ = ["start_job"]

log = logging.getLogger(__name__)


async def start_job(
    interaction: discord.Interaction,
    request_job: Callable[[], Awaitable[Submitted]],
    *,
    character_id: int | None = None,
    forked_key: str = "creator.forked",
) -> Submitted | None:
    """Call ``request_job`` after the interaction was deferred; a refusal becomes a private
    message and None is returned (the member has been told why).

    Where the job stands ("queued", its place) is shown by the queue's observer
    (cogs/pictures/delivery.py), which serialises its edits of the member's message with the
    worker's, so "queued" never lands after "drawing". The caller gets what was queued, for
    what only it can say.

    ``character_id``: the character the member asked for. When it is someone else's, the job
    draws the member's own copy (a fork), and they are told so privately (``forked_key``).
    """
    try:
        require_picture_permissions(interaction)
        submitted = await request_job()
    except Exception as error:
        await handle_interaction_error(interaction, error)
        return None
    if character_id is not None and submitted.job.character_id != character_id:
        await _tell_forked(interaction, submitted.job.character_id or 0, forked_key)
    return submitted


async def _tell_forked(interaction: discord.Interaction, fork_id: int, key: str) -> None:
    """A courtesy about a job already queued: if it cannot be said (storage or Discord
    failing right now), it is left out, never turned into an error that would tell the
    member their request failed while the job goes on and is charged."""
    try:
        fork = await services(interaction).characters.visible_character(
            interaction.guild_id or 0, interaction.user.id, fork_id
        )
        await reply(
            interaction, content=tr(interaction, key, name=fork.name, id=fork.id), ephemeral=True
        )
    except NotFound:
        pass  # deleted already: nothing to point at
    except Exception as exc:
        log_failure(log, exc, "The notice of fork %s was not sent", fork_id)
