"""Buttons under every posted picture. They survive restarts: the custom_id carries the id.

Each is a ``DynamicItem``: after a restart discord.py rebuilds it from the custom_id, and the
callback looks the picture up again and checks who pressed. Shared: every extension that
posts a picture (delivery, the gallery) puts them under it; ``cogs.pictures`` registers them.
Vary opens the shared vary form (cogs/_shared/variation.py) and Re-roll starts a job the way
every command does (cogs/_shared/start_job.py).
"""

from __future__ import annotations

import discord

from bot.errors import NotFound
from bot.i18n import Catalog
from bot.records import StoredImage
from cogs._shared.context import is_admin, requester, services, tr
from cogs._shared.creator_buttons import CREATOR_ITEMS, add_creator_buttons
from cogs._shared.permissions import require_picture_permissions
from cogs._shared.picture_button_base import PictureButton as _PictureButton
from cogs._shared.reply import reply
from cogs._shared.start_job import start_job
from cogs._shared.variation import VaryModal

__all__ = ["DYNAMIC_ITEMS", "delete_button", "picture_view"]


class VaryButton(_PictureButton, template=r"pic:vary:(?P<id>\d+)"):
    """Vary (Subtle): opens the change modal. Checks come first: a modal can't follow."""

    action = "vary"
    strength = "subtle"

    async def handle(self, interaction: discord.Interaction) -> None:
        # Refuse now (no room to post, unknown, private, forks off) rather than after the
        # member typed.
        require_picture_permissions(interaction)
        image = await self.picture(interaction)
        await services(interaction).requests.vary_target(requester(interaction), image.character_id)
        await interaction.response.send_modal(
            VaryModal(
                interaction,
                image_id=image.id,
                character_id=image.character_id,
                strength=self.strength,
            )
        )


class VaryStrongButton(VaryButton, template=r"pic:varys:(?P<id>\d+)"):
    """Vary (Strong): the same modal; pose and scene may change, the identity stays."""

    action = "varys"
    strength = "strong"


class RerollButton(_PictureButton, template=r"pic:reroll:(?P<id>\d+)"):
    action = "reroll"

    async def handle(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        who = requester(interaction)
        await start_job(
            interaction, lambda: services(interaction).requests.request_reroll(who, self.image_id)
        )


class FavoriteButton(_PictureButton, template=r"pic:fav:(?P<id>\d+)"):
    action = "fav"

    async def handle(self, interaction: discord.Interaction) -> None:
        # Acknowledge first: the 3 s deadline must not depend on how busy the database is.
        await interaction.response.defer(ephemeral=True, thinking=True)
        toggled = await services(interaction).pictures.toggle_favorite(
            interaction.guild_id or 0, interaction.user.id, self.image_id
        )
        key = "favorite.added" if toggled.favorite else "favorite.removed"
        text = tr(interaction, key, id=toggled.image_id, count=toggled.count)
        await reply(interaction, content=text, ephemeral=True)


class DeleteButton(_PictureButton, template=r"pic:del:(?P<id>\d+)"):
    action = "del"

    async def handle(self, interaction: discord.Interaction) -> None:
        pressed = interaction.message
        # A private picture (opened from the gallery) is a message only its member sees and
        # only this interaction may change: the picture leaves it in place. A public one is
        # taken off Discord with every other message showing it (bot/takedowns.py).
        in_place = pressed is not None and pressed.flags.ephemeral
        await interaction.response.defer(ephemeral=True, thinking=not in_place)
        # Every picture on this message goes, including when it is a gallery re-post.
        removed = await services(interaction).pictures.delete_from_message(
            interaction.guild_id or 0,
            interaction.user.id,
            self.image_id,
            pressed.id if pressed is not None else None,
            is_admin=is_admin(interaction),
        )
        if not removed.images:
            # A second press (a double click) that lost the race to the first one.
            raise NotFound("error.image_gone")
        said = tr(interaction, "picture.deleted", count=removed.images)
        if in_place:
            await interaction.edit_original_response(
                content=said, embeds=[], attachments=[], view=None
            )
        else:
            await reply(interaction, content=said, ephemeral=True)


DYNAMIC_ITEMS: tuple[type[_PictureButton], ...] = (
    VaryButton,
    VaryStrongButton,
    RerollButton,
    FavoriteButton,
    DeleteButton,
    *CREATOR_ITEMS,
)


def delete_button(catalog: Catalog, locale: str, image_id: int, *, row: int) -> DeleteButton:
    """The red Delete button, the same under a picture and under a scene."""
    return DeleteButton(
        image_id, catalog.plain(locale, "button.delete"), style=discord.ButtonStyle.danger, row=row
    )


def picture_view(catalog: Catalog, locale: str, images: list[StoredImage]) -> discord.ui.View:
    """The buttons under a picture message.

    One picture: Vary (Subtle), Vary (Strong), Re-roll, ⭐ Favorite and Delete in one row.
    Several: numbered rows of subtle and strong Vary buttons and of ⭐, then Re-roll and
    Delete. Every custom_id is ``pic:<action>:<image id>``, far below Discord's 100 chars.
    """
    view = discord.ui.View(timeout=None)
    first = images[0].id
    primary = discord.ButtonStyle.primary
    secondary = discord.ButtonStyle.secondary
    several = len(images) > 1
    if not several:
        view.add_item(
            VaryButton(first, catalog.t(locale, "button.vary_subtle"), style=primary, row=0)
        )
        view.add_item(
            VaryStrongButton(first, catalog.t(locale, "button.vary_strong"), style=primary, row=0)
        )
    else:
        for number, image in enumerate(images, start=1):
            label = catalog.t(locale, "button.vary_subtle_n", n=number)
            view.add_item(VaryButton(image.id, label, style=primary, row=0))
        for number, image in enumerate(images, start=1):
            label = catalog.t(locale, "button.vary_strong_n", n=number)
            view.add_item(VaryStrongButton(image.id, label, style=secondary, row=1))
        for number, image in enumerate(images, start=1):
            label = catalog.t(locale, "button.favorite_n", n=number)
            view.add_item(FavoriteButton(image.id, label, style=secondary, row=2))
    last_row = 3 if several else 0
    view.add_item(
        RerollButton(first, catalog.t(locale, "button.reroll"), style=secondary, row=last_row)
    )
    if not several:
        view.add_item(
            FavoriteButton(first, catalog.t(locale, "button.favorite"), style=secondary, row=0)
        )
    view.add_item(delete_button(catalog, locale, first, row=last_row))
    add_creator_buttons(view, catalog, locale, images, row=4 if several else 1)
    return view
