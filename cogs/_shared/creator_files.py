"""Files the creator tools add to a picture message (issue #23)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import discord

from bot.images.expressions import AVATAR_COPY_SIDE, avatar_copy
from bot.images.store import ImageStore
from bot.records import ImageKind, StoredImage

__all__ = ["avatar_copies"]


async def avatar_copies(
    store: ImageStore, images: list[StoredImage], *, name: Callable[[StoredImage], str]
) -> list[discord.File]:
    """A 512 x 512 PNG beside every avatar: Discord's avatar uploader takes it as it is.

    ``name(image)`` is the picture's own file name without its extension.
    """
    files = []
    for image in images:
        if image.kind != ImageKind.AVATAR:
            continue
        data = await asyncio.to_thread(store.read, image.file_path)
        copy = await asyncio.to_thread(avatar_copy, data)
        filename = f"{name(image).rstrip('.')}-avatar-{AVATAR_COPY_SIDE}.png"
        files.append(discord.File(io.BytesIO(copy), filename=filename))
    return files
