"""The base of every button under a posted picture: the picture id in the custom_id.

Apart from cogs/_shared/picture_buttons.py so the creator tools' buttons
(cogs/_shared/creator_buttons.py) share it without a circular import.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.records import StoredImage
from cogs._shared.context import services
from cogs._shared.errors import handle_interaction_error

__all__ = ["PictureButton"]


class PictureButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"pic:base:(?P<id>\d+)"
):
    """Common parts: the image id in the custom_id, and error handling.

    Never registered itself; each subclass declares the template it answers to.
    """

    action: str = ""

    def __init__(self, image_id: int, label: str, *, style: discord.ButtonStyle, row: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=style,
                row=row,
                custom_id=f"pic:{self.action}:{image_id}",
            )
        )
        self.image_id = image_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PictureButton:
        return cls(int(match["id"]), getattr(item, "label", "") or "", style=item.style, row=0)  # type: ignore[attr-defined]

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error)

    async def handle(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def picture(self, interaction: discord.Interaction) -> StoredImage:
        return await services(interaction).pictures.get(interaction.guild_id or 0, self.image_id)
