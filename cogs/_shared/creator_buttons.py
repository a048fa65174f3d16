"""The creator tools' buttons under a posted picture (issue #23).

Reference sheet and Avatar queue a job like Re-roll does (cogs/_shared/start_job.py); the
avatar first asks, privately, which background. Add as sticker and Add as emoji check the
member's and the bot's Manage Expressions, then open a form (cogs/_shared/expressions.py);
an opaque picture gets a cut-out suggestion instead. Every custom_id is
``pic:<action>:<image id>``, far below Discord's 100 characters.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import discord

from bot.expressions import PictureCheck
from bot.i18n import Catalog
from bot.jobs.creator import CreatorRequests
from bot.jobs.submit import Requester
from bot.records import StoredImage, Submitted
from cogs._shared.context import requester, services, tr
from cogs._shared.expressions import EmojiModal, StickerModal, require_expression_permissions
from cogs._shared.picture_button_base import PictureButton
from cogs._shared.reply import reply
from cogs._shared.start_job import start_job

__all__ = ["CREATOR_ITEMS", "add_creator_buttons"]


class _CreatorJobButton(PictureButton, template=r"pic:creatorjob:(?P<id>\d+)"):
    """A button that queues one creator job for this picture's character."""

    async def handle(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        image = await self.picture(interaction)
        who = requester(interaction)
        creator = services(interaction).creator
        await start_job(
            interaction,
            lambda: self.request(creator, who, image),
            character_id=image.character_id,
        )

    def request(
        self, creator: CreatorRequests, who: Requester, image: StoredImage
    ) -> Awaitable[Submitted]:
        raise NotImplementedError


class SheetButton(_CreatorJobButton, template=r"pic:sheet:(?P<id>\d+)"):
    """A reference sheet of this picture's character."""

    action = "sheet"

    def request(
        self, creator: CreatorRequests, who: Requester, image: StoredImage
    ) -> Awaitable[Submitted]:
        return creator.request_sheet(who, image.character_id, image_id=image.id)


class AvatarButton(PictureButton, template=r"pic:avatar:(?P<id>\d+)"):
    """Asks privately which background the avatar gets; nothing is queued yet."""

    action = "avatar"

    async def handle(self, interaction: discord.Interaction) -> None:
        await self.picture(interaction)  # gone already: say so now, not after the choice
        await _offer(
            interaction,
            tr(interaction, "creator.avatar_ask"),
            self.image_id,
            (AvatarTransparentButton, "creator.avatar_transparent", discord.ButtonStyle.primary),
            (AvatarOpaqueButton, "creator.avatar_opaque", discord.ButtonStyle.secondary),
        )


class AvatarTransparentButton(_CreatorJobButton, template=r"pic:avatart:(?P<id>\d+)"):
    action = "avatart"
    transparent = True

    def request(
        self, creator: CreatorRequests, who: Requester, image: StoredImage
    ) -> Awaitable[Submitted]:
        return creator.request_avatar(
            who, image.character_id, image_id=image.id, transparent=self.transparent
        )


class AvatarOpaqueButton(AvatarTransparentButton, template=r"pic:avataro:(?P<id>\d+)"):
    action = "avataro"
    transparent = False


class CutoutButton(_CreatorJobButton, template=r"pic:cutout:(?P<id>\d+)"):
    """The picture drawn again on a transparent background (charged as one picture)."""

    action = "cutout"

    def request(
        self, creator: CreatorRequests, who: Requester, image: StoredImage
    ) -> Awaitable[Submitted]:
        return creator.request_cutout(who, image.id)


class _ExpressionButton(PictureButton, template=r"pic:expr:(?P<id>\d+)"):
    """Add as sticker / Add as emoji: checks, then the form or a cut-out suggestion."""

    async def handle(self, interaction: discord.Interaction) -> None:
        require_expression_permissions(interaction)
        picture = await services(interaction).expressions.check_picture(
            interaction.guild_id or 0, interaction.user.id, self.image_id
        )
        if not picture.cutout:
            await self._suggest_cutout(interaction)
            return
        await interaction.response.send_modal(self.modal(interaction, picture))

    def modal(self, interaction: discord.Interaction, picture: PictureCheck) -> discord.ui.Modal:
        raise NotImplementedError

    async def _suggest_cutout(self, interaction: discord.Interaction) -> None:
        await _offer(
            interaction,
            tr(interaction, "creator.cutout_suggestion", id=self.image_id),
            self.image_id,
            (CutoutButton, "creator.cutout_button", discord.ButtonStyle.primary),
        )


class StickerButton(_ExpressionButton, template=r"pic:sticker:(?P<id>\d+)"):
    action = "sticker"

    def modal(self, interaction: discord.Interaction, picture: PictureCheck) -> discord.ui.Modal:
        return StickerModal(interaction, picture)


class EmojiButton(_ExpressionButton, template=r"pic:emoji:(?P<id>\d+)"):
    action = "emoji"

    def modal(self, interaction: discord.Interaction, picture: PictureCheck) -> discord.ui.Modal:
        return EmojiModal(interaction, picture)


CREATOR_ITEMS: tuple[type[PictureButton], ...] = (
    SheetButton,
    AvatarButton,
    AvatarTransparentButton,
    AvatarOpaqueButton,
    CutoutButton,
    StickerButton,
    EmojiButton,
)


# A button offered in a private answer: its class, its label's key, its style.
_Offered = tuple[type[PictureButton], str, discord.ButtonStyle]


async def _offer(
    interaction: discord.Interaction, text: str, image_id: int, *buttons: _Offered
) -> None:
    """A private answer with buttons for one picture, in one row; they survive restarts
    (their custom_ids carry the id)."""
    view = discord.ui.View(timeout=None)
    for button, label_key, style in buttons:
        item: Any = button(image_id, tr(interaction, label_key), style=style, row=0)
        view.add_item(item)
    await reply(interaction, content=text, view=view, ephemeral=True)


def add_creator_buttons(
    view: discord.ui.View, catalog: Catalog, locale: str, images: list[StoredImage], *, row: int
) -> None:
    """Reference sheet, Avatar, Add as sticker and Add as emoji, for the first picture."""
    first = images[0].id
    secondary = discord.ButtonStyle.secondary
    buttons: list[tuple[type[PictureButton], str]] = [
        (SheetButton, "creator.button_sheet"),
        (AvatarButton, "creator.button_avatar"),
        (StickerButton, "creator.button_sticker"),
        (EmojiButton, "creator.button_emoji"),
    ]
    for button, key in buttons:
        item: Any = button(first, catalog.t(locale, key), style=secondary, row=row)
        view.add_item(item)
