"""Submitting a job from an interaction and telling the member where it stands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.jobs.queue import Submitted
from cogs._shared.context import locale_of, services, tr
from cogs._shared.errors import handle_interaction_error
from cogs._shared.eta import eta_text
from cogs._shared.permissions import require_picture_permissions

__all__ = ["format_eta", "submit_and_track"]


def format_eta(interaction: discord.Interaction, seconds: float | None) -> str:
    return eta_text(services(interaction).catalog, locale_of(interaction), seconds)


async def submit_and_track(
    interaction: discord.Interaction, submit: Callable[[], Awaitable[Submitted]]
) -> None:
    """Call ``submit`` (after the interaction was deferred) and show the queue position."""
    try:
        require_picture_permissions(interaction)
        submitted = await submit()
    except Exception as error:
        await handle_interaction_error(interaction, error)
        return
    text = tr(
        interaction,
        "queue.queued",
        position=submitted.position,
        eta=format_eta(interaction, submitted.eta_seconds),
        job=submitted.job.id,
    )
    # The worker may already have started and edited this message; never move it backwards.
    job = await services(interaction).storage.jobs.get(submitted.job.id)
    if job is not None and job.state == "queued":
        message = await interaction.edit_original_response(content=text)
        await services(interaction).storage.jobs.set_response_message(job.id, message.id)
