"""Autocomplete for every option that names a character, and reading what was picked."""

from __future__ import annotations

import discord
from discord import app_commands

from cogs._shared.context import is_admin, locale_of, services

__all__ = ["character_choices", "resolve_character"]


async def resolve_character(
    interaction: discord.Interaction,
    value: str,
    *,
    own_only: bool = False,
    browsing: bool = False,
) -> int:
    """The character id a member picked or typed (an id or an exact name), for any option.

    The same rule and the same list as the autocomplete (``browsing`` as there).
    """
    return await services(interaction).characters.resolve_id(
        interaction.guild_id or 0,
        interaction.user.id,
        value,
        own_only=own_only,
        is_admin=browsing and is_admin(interaction),
    )


async def character_choices(
    interaction: discord.Interaction,
    current: str,
    *,
    own_only: bool = False,
    browsing: bool = False,
) -> list[app_commands.Choice[str]]:
    """The member's characters (then others' they may see) matching the text, for autocomplete.

    What "may see" means (private characters, a private server gallery) is bot.access's rule,
    the same one every command applies when the choice comes back. ``browsing``: a command
    that only looks (a card, a gallery page), where admins see past a private gallery.
    """
    svc = services(interaction)
    found = await svc.characters.choices(
        interaction.guild_id or 0,
        interaction.user.id,
        current,
        own_only=own_only,
        is_admin=browsing and is_admin(interaction),
    )
    locale = locale_of(interaction)
    choices = []
    for character in found:
        label = character.name
        if character.owner_id != interaction.user.id:
            label = svc.catalog.plain(locale, "autocomplete.others", name=character.name)
        choices.append(
            app_commands.Choice(name=f"{label[:90]} #{character.id}", value=str(character.id))
        )
    return choices[:25]
