"""Reading a member's reference picture and starting a creation that uses it."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.errors import UserInputError
from bot.images.decode import MAX_UPLOAD_PIXELS
from bot.jobs.submit import MAX_UPLOAD_BYTES, CreateRequest
from cogs._shared.context import requester, services
from cogs._shared.start_job import start_job

__all__ = ["check_declared", "read_reference", "start_create"]

REFERENCE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
# Discord's CDN serves 20 MB in seconds; a download still going after this has stalled, and
# the member (waiting on "thinking…") is better told to attach it again than kept waiting for
# discord.py's 5-minute session timeout.
DOWNLOAD_SECONDS = 60.0


def check_declared(attachment: discord.Attachment) -> None:
    """Refuse from what Discord says about the file, before a byte of it is downloaded.

    Discord measures every attachment itself (type, bytes, and width and height of
    pictures), so a tiny file declaring a gigantic canvas is refused here, for free.
    The decoder checks the real header again after the download.
    """
    if attachment.content_type and attachment.content_type.split(";")[0] not in REFERENCE_TYPES:
        raise UserInputError("error.upload_not_image")
    if attachment.size > MAX_UPLOAD_BYTES:
        raise UserInputError("error.upload_too_large")
    width, height = attachment.width or 0, attachment.height or 0
    if width * height > MAX_UPLOAD_PIXELS:
        raise UserInputError("error.upload_too_many_pixels")


async def read_reference(attachment: discord.Attachment | None) -> bytes | None:
    if attachment is None:
        return None
    check_declared(attachment)
    try:
        async with asyncio.timeout(DOWNLOAD_SECONDS):
            return await attachment.read()
    # Discord refusing (an expired link: 404), and the connection breaking off or stalling,
    # which discord.py passes on as they are.
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
        raise UserInputError("error.upload_unreadable") from exc


async def start_create(
    interaction: discord.Interaction,
    request: CreateRequest,
    reference: discord.Attachment | None,
) -> None:
    """Ask for a new character after the interaction was deferred; the service downloads
    the reference (if any) only once the member's quota and queue room have been checked.
    The queue's observer shows where the job stands."""
    who = requester(interaction)

    async def fetch() -> bytes | None:
        return await read_reference(reference)

    await start_job(
        interaction, lambda: services(interaction).requests.request_create(who, request, fetch)
    )
