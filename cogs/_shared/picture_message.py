"""What a picture message looks like: attachments, embeds and the buttons under it."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

import discord

from bot.i18n import Catalog, escape_member_text
from bot.images.convert import fit_under
from bot.images.store import ImageStore
from bot.records import Character, StoredImage
from cogs._shared.creator_files import avatar_copies
from cogs._shared.picture_buttons import picture_view

__all__ = ["REQUEST_BUDGET", "PictureMessage", "build_picture_message", "truncate"]

# Discord's whole-request cap is 25 MiB; leave room for the JSON part.
REQUEST_BUDGET = 24 * 1024 * 1024
_SAFE = re.compile(r"[^a-z0-9]+")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class PictureMessage:
    embeds: list[discord.Embed]
    files: list[discord.File]
    view: discord.ui.View


def _filename(character: Character, image: StoredImage, extension: str) -> str:
    slug = _SAFE.sub("-", character.name.lower()).strip("-")[:40] or "character"
    return f"{slug}-{image.id}.{extension}"


async def build_picture_message(
    *,
    catalog: Catalog,
    store: ImageStore,
    locale: str,
    character: Character,
    images: list[StoredImage],
    requester_id: int,
    style_key: str,
    size_key: str,
    file_limit: int,
) -> PictureMessage:
    """Embeds (one per picture, shown as a grid), files within the upload limits, buttons."""
    per_file = min(file_limit, REQUEST_BUDGET // max(1, len(images)))
    embeds: list[discord.Embed] = []
    files: list[discord.File] = []
    # Embeds that share a url are shown by Discord as one post with an image grid.
    group_url = f"https://discord.com/channels/@me/{images[0].id}"
    for index, image in enumerate(images):
        data = await asyncio.to_thread(store.read, image.file_path)
        data, extension = await asyncio.to_thread(fit_under, data, per_file)
        name = _filename(character, image, extension)
        files.append(discord.File(io.BytesIO(data), filename=name))
        embed = discord.Embed(url=group_url, colour=discord.Colour.from_rgb(255, 138, 171))
        embed.set_image(url=f"attachment://{name}")
        if index == 0:
            embed.title = truncate(escape_member_text(character.name), 256)
            lines = [
                catalog.t(locale, "picture.style", style=catalog.t(locale, f"style.{style_key}")),
                catalog.t(locale, "picture.size", size=catalog.t(locale, f"size.{size_key}")),
                catalog.t(locale, "picture.model", model=image.model),
                catalog.t(locale, "picture.by", user=f"<@{requester_id}>"),
            ]
            if image.parent_image_id:
                lines.append(catalog.t(locale, "picture.variation_of", id=image.parent_image_id))
            embed.description = truncate("\n".join(lines), 4096)
            numbers = ", ".join(f"#{img.id}" for img in images)
            footer = catalog.plain(locale, "picture.footer", ids=numbers)
            embed.set_footer(text=truncate(footer, 2048))
        embeds.append(embed)
    files.extend(await avatar_copies(store, images, name=lambda i: _filename(character, i, "")))
    view = picture_view(catalog, locale, images)
    return PictureMessage(embeds, files, view)
