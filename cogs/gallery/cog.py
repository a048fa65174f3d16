"""/gallery: browse the server's pictures as contact sheets, page by page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.gallery import GalleryRequest, Scope
from bot.records import GallerySort
from cogs._shared.characters import browsable_characters, resolve_character
from cogs._shared.choices import localised_choices
from cogs._shared.components import component_error
from cogs._shared.context import is_admin, services
from cogs._shared.members import remember_name
from cogs._shared.options import Autocompleted, Option, command, options
from cogs.gallery.views import show_page

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["GalleryCog"]

SORT_CHOICES = localised_choices(
    "gallery.choice.{value}", {"newest": "Newest first", "favorites": "Most favorited first"}
)
SCOPE_CHOICES = localised_choices(
    "gallery.choice.{value}", {"server": "Everyone in this server", "mine": "Only mine"}
)


# This file's slash-command options, each declared once (cogs/_shared/options.py).
GALLERY_CHARACTER = Option(
    "character",
    "Only this character's pictures",
    key="gallery_character",
    autocomplete=browsable_characters,
)
GALLERY_MEMBER = Option("member", "Only this member's pictures", key="gallery_member")
GALLERY_SCOPE = Option("scope", "Everyone's pictures or only yours", key="gallery_scope")
GALLERY_SORT = Option("sort", "Newest or most favorited first", key="gallery_sort")


class GalleryCog(commands.Cog):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot

    # On the command: on a plain Cog's class guild_only marks nothing (only a GroupCog's
    # group carries it), and a server's pictures have no meaning in a DM.
    @command(
        "gallery", "Browse pictures as a contact sheet; open one, see the favorites", key="gallery"
    )
    @app_commands.guild_only()
    @options(
        member=GALLERY_MEMBER,
        character=GALLERY_CHARACTER,
        sort=GALLERY_SORT,
        scope=GALLERY_SCOPE,
    )
    @app_commands.choices(sort=SORT_CHOICES, scope=SCOPE_CHOICES)
    async def gallery(
        self,
        interaction: discord.Interaction,
        member: discord.Member | None = None,
        character: Autocompleted | None = None,
        sort: str = "newest",
        scope: str = "server",
    ) -> None:
        guild_id = interaction.guild_id or 0
        sort_value: GallerySort = "favorites" if sort == "favorites" else "newest"
        scope_value: Scope = "mine" if scope == "mine" else "server"
        if member is not None:
            remember_name(guild_id, member.id, member.display_name)
        request = GalleryRequest(
            guild_id=guild_id,
            viewer_id=interaction.user.id,
            sort=sort_value,
            scope=scope_value,
            member_id=member.id if member is not None else None,
            character_id=(
                await resolve_character(interaction, character, browsing=True)
                if character
                else None
            ),
        )
        # Checked before answering, so a wrong pick gets a short private message; the
        # member's private characters appear only in an answer nobody else sees.
        request = await services(interaction).gallery.prepare(
            request, is_admin=is_admin(interaction)
        )
        await interaction.response.defer(thinking=True, ephemeral=request.include_private)
        await show_page(interaction, request)

    @commands.Cog.listener()
    async def on_gallery_page(
        self, interaction: discord.Interaction, request: GalleryRequest
    ) -> None:
        """A page button was pressed (and deferred), here or under a character card."""
        try:
            await show_page(interaction, request)
        except Exception as error:
            await component_error(interaction, error)
