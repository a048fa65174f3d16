"""Reading a member's reference picture and submitting a creation that uses it."""

from __future__ import annotations

import dataclasses

import discord

from bot.errors import UserInputError
from bot.jobs.queue import Submitted
from bot.jobs.submit import MAX_UPLOAD_BYTES, CreateRequest
from cogs._shared.context import requester, services
from cogs.character.submit import submit_and_track

__all__ = ["read_reference", "submit_create"]

REFERENCE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


async def read_reference(attachment: discord.Attachment | None) -> bytes | None:
    if attachment is None:
        return None
    if attachment.content_type and attachment.content_type.split(";")[0] not in REFERENCE_TYPES:
        raise UserInputError("error.upload_not_image")
    if attachment.size > MAX_UPLOAD_BYTES:
        # Checked before downloading: nothing this large is read into memory.
        raise UserInputError("error.upload_too_large")
    try:
        return await attachment.read()
    except discord.HTTPException as exc:
        raise UserInputError("error.upload_unreadable") from exc


async def submit_create(
    interaction: discord.Interaction,
    request: CreateRequest,
    reference: discord.Attachment | None,
) -> None:
    """Download the reference (if any) and submit, after the interaction was deferred."""
    who = requester(interaction)

    async def submit() -> Submitted:
        data = await read_reference(reference)
        return await services(interaction).submit.create(
            who, dataclasses.replace(request, reference=data)
        )

    await submit_and_track(interaction, submit)
