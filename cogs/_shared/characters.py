"""Autocomplete for every option that names a character, and reading what was picked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.records import Character
from cogs._shared.context import is_admin, locale_of, services, tr
from cogs._shared.options import Autocomplete, Option
from cogs._shared.reply import acknowledge, reply

__all__ = [
    "OWN_CHARACTER",
    "OwnSwitch",
    "browsable_characters",
    "character_choices",
    "deletable_characters",
    "own_characters",
    "resolve_character",
    "scene_characters",
    "switch_own_character",
    "usable_characters",
]

# A service method that turns a switch of one of the actor's own characters on or off:
# (guild_id, actor_id, character_id, on) -> the character as it now is.
OwnSwitch = Callable[[int, int, int, bool], Awaitable[Character]]


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
    for_scene: bool = False,
) -> list[app_commands.Choice[str]]:
    """The member's characters (then others' they may see) matching the text, for autocomplete.

    What "may see" means (private characters, a private server gallery) is bot.access's rule,
    the same one every command applies when the choice comes back. ``browsing``: a command
    that only looks (a card, a gallery page), where admins see past a private gallery.
    ``for_scene``: others' only where they may be put in a scene.
    """
    svc = services(interaction)
    found = await svc.characters.choices(
        interaction.guild_id or 0,
        interaction.user.id,
        current,
        own_only=own_only,
        is_admin=browsing and is_admin(interaction),
        for_scene=for_scene,
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


# The autocomplete callbacks options name (cogs/_shared/options.py), one per rule, each the
# same rule the command applies when the choice comes back.


def _suggest(*, own_only: bool = False, browsing: bool = False) -> Autocomplete:
    async def suggest(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await character_choices(interaction, current, own_only=own_only, browsing=browsing)

    return suggest


# The member's own characters: for commands that change a character.
own_characters = _suggest(own_only=True)
# The option those commands name it by (/character main, private, scenes), declared once.
OWN_CHARACTER = Option(
    "character", "One of your characters", key="character", autocomplete=own_characters
)
# Own characters, then others' shared here: for commands that draw (others' are forked).
usable_characters = _suggest()
# What the member may look at; admins see past a private gallery.
browsable_characters = _suggest(browsing=True)


async def deletable_characters(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """A member's own characters; an admin's pick of any the admin may see."""
    return await character_choices(
        interaction, current, own_only=not is_admin(interaction), browsing=True
    )


async def scene_characters(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Characters the member may put in a scene: others' too where /config scenes and
    their owners let them."""
    return await character_choices(interaction, current, for_scene=True)


async def switch_own_character(
    interaction: discord.Interaction,
    character: str,
    set_switch: OwnSwitch,
    on: bool,
    *,
    on_key: str,
    off_key: str,
) -> None:
    """Turns a switch of one of the member's own characters (private, in scenes) on or off.

    Answers privately with ``on_key`` or ``off_key`` (each takes the character's ``name``).
    """
    await acknowledge(interaction)  # before the write: a busy database must not cost the 3 s
    updated = await set_switch(
        interaction.guild_id or 0,
        interaction.user.id,
        await resolve_character(interaction, character, own_only=True),
        on,
    )
    key = on_key if on else off_key
    await reply(interaction, content=tr(interaction, key, name=updated.name), ephemeral=True)
