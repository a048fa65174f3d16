"""Who may see which character: the one rule every reader of a character or picture asks.

A member always sees their own characters. Another member's character is visible only when
it is not private and the server's gallery is public (``/config gallery``): a server that
chose a private gallery shows members only their own, in every command, card, list and
reference. Admins are let through only where a caller says so: ``is_admin`` lifts the
private-gallery rule (admins browse the whole server), ``include_private`` also shows
private characters (to delete them). A picture is visible exactly when its character is.
"""

from __future__ import annotations

from bot.errors import NotFound
from bot.records import Character, GuildConfig
from bot.storage import Storage

__all__ = ["may_see", "sees_others", "visible_character"]


def sees_others(config: GuildConfig, *, is_admin: bool = False) -> bool:
    """Whether a member may see other members' (non-private) characters in this server."""
    return config.gallery_public or is_admin


def may_see(
    character: Character,
    viewer_id: int,
    config: GuildConfig,
    *,
    is_admin: bool = False,
    include_private: bool = False,
) -> bool:
    if character.guild_id != config.guild_id:
        return False
    if character.owner_id == viewer_id:
        return True
    if character.private:
        return include_private
    return sees_others(config, is_admin=is_admin)


async def visible_character(
    storage: Storage,
    guild_id: int,
    viewer_id: int,
    character_id: int,
    *,
    is_admin: bool = False,
    include_private: bool = False,
) -> Character:
    """The character if ``viewer_id`` may see it in this guild, else a clear NotFound."""
    character = await storage.characters.get(character_id)
    config = await storage.guilds.config(guild_id)
    if character is None or not may_see(
        character, viewer_id, config, is_admin=is_admin, include_private=include_private
    ):
        raise NotFound("error.character_not_found")
    return character
