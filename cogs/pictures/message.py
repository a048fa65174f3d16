"""A picture message with the buttons under it (the parts live in cogs._shared.picture_message)."""

from __future__ import annotations

from bot.i18n import Catalog
from bot.images.store import ImageStore
from bot.records import Character, StoredImage
from cogs._shared import picture_message
from cogs._shared.picture_message import REQUEST_BUDGET, PictureMessage, truncate
from cogs.pictures.buttons import picture_view

__all__ = ["REQUEST_BUDGET", "PictureMessage", "build_picture_message", "truncate"]


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
    """Embeds, files within the upload limits, and the picture buttons under them."""
    return await picture_message.build_picture_message(
        catalog=catalog,
        store=store,
        locale=locale,
        character=character,
        images=images,
        requester_id=requester_id,
        style_key=style_key,
        size_key=size_key,
        file_limit=file_limit,
        view=picture_view(catalog, locale, images),
    )
