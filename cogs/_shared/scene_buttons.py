"""Buttons under a posted scene: Vary scene, Re-roll, ⭐ Favorite, Hide from my listings,
Delete. Like every picture button they survive restarts (the custom_id carries the picture
id); ⭐ and Delete are the picture buttons themselves (cogs/_shared/picture_buttons.py).
"""

from __future__ import annotations

import discord

from bot.i18n import Catalog
from bot.records import StoredImage
from cogs._shared.context import requester, services, tr
from cogs._shared.permissions import require_picture_permissions
from cogs._shared.picture_buttons import FavoriteButton, _PictureButton, delete_button
from cogs._shared.reply import reply
from cogs._shared.start_job import start_job
from cogs._shared.variation import add_change_field

__all__ = ["SCENE_ITEMS", "scene_view"]


class SceneVaryModal(discord.ui.Modal):
    """What the edit of a scene changes; empty means a fresh take of the same moment."""

    def __init__(self, interaction: discord.Interaction, image_id: int) -> None:
        super().__init__(title=tr(interaction, "scene.modal.title", id=image_id)[:45], timeout=900)
        self.image_id = image_id
        self.change = add_change_field(
            self, interaction, label_key="scene.modal.change", hint_key="scene.modal.change_hint"
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        who = requester(interaction)
        scenes = services(interaction).scenes
        await start_job(
            interaction, lambda: scenes.request_vary(who, self.image_id, self.change.value)
        )


class SceneVaryButton(_PictureButton, template=r"pic:svary:(?P<id>\d+)"):
    action = "svary"

    async def handle(self, interaction: discord.Interaction) -> None:
        # Refuse now (no room to post, gone, scenes off, a character withdrawn) rather than
        # after typing.
        require_picture_permissions(interaction)
        await services(interaction).scenes.check_vary(requester(interaction), self.image_id)
        await interaction.response.send_modal(SceneVaryModal(interaction, self.image_id))


class SceneRerollButton(_PictureButton, template=r"pic:sreroll:(?P<id>\d+)"):
    action = "sreroll"

    async def handle(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        who = requester(interaction)
        scenes = services(interaction).scenes
        await start_job(interaction, lambda: scenes.request_reroll(who, self.image_id))


class SceneHideButton(_PictureButton, template=r"pic:shide:(?P<id>\d+)"):
    """An owner of a character in the scene takes it out of that character's listings."""

    action = "shide"

    async def handle(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        names = await services(interaction).scenes.hide_from_listings(
            requester(interaction), self.image_id
        )
        text = tr(interaction, "scene.hidden", names=", ".join(names))
        await reply(interaction, content=text, ephemeral=True)


SCENE_ITEMS: tuple[type[_PictureButton], ...] = (
    SceneVaryButton,
    SceneRerollButton,
    SceneHideButton,
)


def scene_view(catalog: Catalog, locale: str, images: list[StoredImage]) -> discord.ui.View:
    """One picture: every button in one row. Several: numbered Vary-scene and ⭐ rows, then
    Re-roll, Hide and Delete. Custom ids stay ``pic:<action>:<image id>``."""
    view = discord.ui.View(timeout=None)
    first = images[0].id
    primary = discord.ButtonStyle.primary
    secondary = discord.ButtonStyle.secondary
    several = len(images) > 1
    for number, image in enumerate(images, start=1):
        if several:
            vary = catalog.plain(locale, "scene.button.vary_n", n=number)
            star = catalog.plain(locale, "button.favorite_n", n=number)
        else:
            vary = catalog.plain(locale, "scene.button.vary")
            star = catalog.plain(locale, "button.favorite")
        view.add_item(SceneVaryButton(image.id, vary, style=primary, row=0))
        view.add_item(FavoriteButton(image.id, star, style=secondary, row=1 if several else 0))
    last_row = 2 if several else 0
    view.add_item(
        SceneRerollButton(
            first, catalog.plain(locale, "button.reroll"), style=secondary, row=last_row
        )
    )
    view.add_item(
        SceneHideButton(
            first, catalog.plain(locale, "scene.button.hide"), style=secondary, row=last_row
        )
    )
    view.add_item(delete_button(catalog, locale, first, row=last_row))
    return view
