"""/character show, delete and private, as a mixin for the /character group.

``CharacterCog`` in ``cogs/character/cog.py`` gets these commands by listing
``CharacterManageCommands`` among its bases; nothing else is needed (discord.py collects
app commands from every class in the cog's MRO). Their persistent buttons are registered
by the ``cogs.gallery`` extension.
"""

from __future__ import annotations

import io

import discord
from discord.ext import commands

from bot.characters import CharacterCard
from bot.i18n import escape_member_text
from cogs._shared.characters import (
    OWN_CHARACTER,
    browsable_characters,
    deletable_characters,
    resolve_character,
    switch_own_character,
)
from cogs._shared.confirm import ask_before_deleting
from cogs._shared.context import is_admin, locale_of, services, tr, tr_plain
from cogs._shared.gallery_nav import GALLERY_COLOUR, GalleryNavButton, lineage_lines
from cogs._shared.members import display_name
from cogs._shared.options import Autocompleted, Option, command, options
from cogs._shared.picture_message import truncate

__all__ = ["CharacterManageCommands"]


# This file's slash-command options, each declared once (cogs/_shared/options.py).
DELETE_CHARACTER = Option(
    "character",
    "The character to delete",
    key="delete_character",
    name_key="manage_character",
    autocomplete=deletable_characters,
)
MANAGE_CHARACTER = Option(
    "character",
    "A character in this server",
    key="manage_character",
    autocomplete=browsable_characters,
)
PRIVATE_HIDDEN = Option(
    "hidden", "True: only you see it. False: everyone here sees it", key="private_hidden"
)


class CharacterManageCommands(commands.Cog):
    """Commands to look at, hide and delete characters. Mix into the /character GroupCog."""

    @command(
        "show", "A character's card: portrait, sheet, creator and favorites", key="character_show"
    )
    @options(character=MANAGE_CHARACTER)
    async def show_character(
        self, interaction: discord.Interaction, character: Autocompleted
    ) -> None:
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        admin = is_admin(interaction)
        found = await svc.characters.visible_character(
            guild_id,
            interaction.user.id,
            await resolve_character(interaction, character, browsing=True),
            is_admin=admin,
        )
        # A private character's card is shown only to its owner.
        await interaction.response.defer(thinking=True, ephemeral=found.private)
        creator = await display_name(interaction, found.owner_id)
        card = await svc.characters.card(
            guild_id,
            interaction.user.id,
            found.id,
            locale_of(interaction),
            creator_name=creator,
            is_admin=admin,
        )
        embed, file, view = _card_message(interaction, card)
        embeds, files = [embed], [file]
        if card.sheet_png is not None:
            # The reference sheet first: it shows more of the character than any one pose.
            sheet_embed, sheet_file = sheet_attachment(interaction, card)
            embeds, files = [sheet_embed, embed], [sheet_file, file]
        await interaction.edit_original_response(embeds=embeds, attachments=files, view=view)

    @command(
        "delete",
        "Delete a character with all its pictures (admins: any character here)",
        key="character_delete",
    )
    @options(character=DELETE_CHARACTER)
    async def delete_character(
        self, interaction: discord.Interaction, character: Autocompleted
    ) -> None:
        svc = services(interaction)
        guild_id = interaction.guild_id or 0
        admin = is_admin(interaction)
        preview = await svc.characters.deletion_preview(
            guild_id,
            interaction.user.id,
            await resolve_character(interaction, character, own_only=not admin, browsing=True),
            is_admin=admin,
        )
        found = preview.character

        async def confirmed(press: discord.Interaction) -> None:
            await press.response.edit_message(
                content=tr(press, "manage.deleting", name=found.name), view=None
            )
            removed = await svc.characters.delete_character(
                guild_id, press.user.id, found.id, is_admin=admin
            )
            await press.edit_original_response(
                content=tr(press, "manage.deleted", name=found.name, count=removed.images)
            )

        question = tr(interaction, "manage.delete_confirm", name=found.name, count=preview.pictures)
        await ask_before_deleting(interaction, question, keys="manage", on_confirm=confirmed)

    @command(
        "private",
        "Hide one of your characters from everyone else, or show it again",
        key="character_private",
    )
    @options(character=OWN_CHARACTER, hidden=PRIVATE_HIDDEN)
    async def set_character_private(
        self,
        interaction: discord.Interaction,
        character: Autocompleted,
        hidden: bool = True,
    ) -> None:
        await switch_own_character(
            interaction,
            character,
            services(interaction).characters.set_private,
            hidden,
            on_key="manage.private_on",
            off_key="manage.private_off",
        )


def sheet_attachment(
    interaction: discord.Interaction, card: CharacterCard
) -> tuple[discord.Embed, discord.File]:
    """The character's reference sheet as an embed of its own, shown above the card."""
    assert card.sheet_png is not None
    embed = discord.Embed(
        title=tr_plain(interaction, "creator.card_sheet", id=card.sheet_id)[:256],
        colour=GALLERY_COLOUR,
    )
    embed.set_image(url="attachment://sheet.png")
    return embed, discord.File(io.BytesIO(card.sheet_png), filename="sheet.png")


def _card_message(
    interaction: discord.Interaction, card: CharacterCard
) -> tuple[discord.Embed, discord.File, discord.ui.View]:
    character = card.character
    embed = discord.Embed(
        title=truncate(escape_member_text(character.name), 256), colour=GALLERY_COLOUR
    )
    lines = [
        tr(interaction, "card.embed.owner", user=f"<@{character.owner_id}>"),
        tr(
            interaction,
            "card.embed.stats",
            pictures=tr(interaction, "count.pictures", count=card.pictures),
            favorites=tr(interaction, "count.favorites", count=card.favorites),
        ),
    ]
    if card.scenes:
        lines.append(tr(interaction, "scene.card.count", count=card.scenes))
    lines.extend(lineage_lines(interaction, card.lineage))
    if character.private:
        lines.append(tr(interaction, "card.embed.private"))
    embed.description = truncate("\n".join(lines), 4096)
    embed.set_image(url="attachment://card.png")
    embed.set_footer(text=tr(interaction, "card.embed.footer", id=character.id))
    file = discord.File(io.BytesIO(card.png), filename="card.png")
    view = discord.ui.View(timeout=None)
    view.add_item(
        GalleryNavButton(
            "a",
            interaction.user.id,
            0,
            "newest",
            "server",
            0,
            character.id,
            emoji="🖼️",
            label=tr(interaction, "card.button.gallery"),
            disabled=card.pictures == 0,
        )
    )
    return embed, file, view
