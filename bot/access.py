"""Who may see which character: the one rule every reader of a character or picture asks.

A member always sees their own characters. Another member's character is visible only when
it is not private and the server's gallery is public (``/config gallery``): a server that
chose a private gallery shows members only their own, in every command, card, list and
reference. Admins are let through only where a caller says so: ``is_admin`` lifts the
private-gallery rule (admins browse the whole server), ``include_private`` also shows
private characters (to delete them). A picture is visible exactly when its character is.
"""

from __future__ import annotations

from bot.errors import NotFound, UserInputError
from bot.ids import id_in, trailing_id
from bot.records import Character, GuildConfig
from bot.storage import Storage

__all__ = [
    "AmbiguousCharacter",
    "choosable_characters",
    "may_see",
    "resolve_character_id",
    "sees_others",
    "visible_character",
]


class AmbiguousCharacter(UserInputError):
    """A typed name that several characters share: the member picks one from the list."""

    message_key = "error.character_ambiguous"

    def __init__(self, characters: list[Character], viewer_id: int) -> None:
        # "Aiko #12", one per line, the member's own marked: what to type or pick instead.
        lines = "\n".join(
            f"• {c.name} #{c.id}" + (" ★" if c.owner_id == viewer_id else "") for c in characters
        )
        super().__init__(self.message_key, choices=lines)
        self.characters = characters


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


async def choosable_characters(
    storage: Storage,
    guild_id: int,
    viewer_id: int,
    text: str = "",
    *,
    own_only: bool = False,
    is_admin: bool = False,
    limit: int = 25,
) -> list[Character]:
    """Characters a member may pick by typing ``text`` (own first), for lists and names."""
    config = await storage.guilds.config(guild_id)
    return await storage.characters.search_visible(
        guild_id,
        viewer_id,
        text,
        own_only=own_only or not sees_others(config, is_admin=is_admin),
        limit=limit,
    )


async def resolve_character_id(
    storage: Storage,
    guild_id: int,
    viewer_id: int,
    value: str,
    *,
    own_only: bool = False,
    is_admin: bool = False,
) -> int:
    """The character a member picked or typed in any option that names one.

    Autocomplete sends the id; members also type "12", "#12", "Aiko #12" or just "Aiko" and
    press Enter. An exact name (any case) is looked up among the characters the member may
    pick, their own first: one own match wins; else one match among the others. Several:
    :class:`AmbiguousCharacter` with a short list to pick from. None: the pick message.
    Whether the member may use the character is checked again by the command's service.
    """
    text = value.strip()
    picked = trailing_id(text)
    if picked is None:
        picked = id_in(text)
    if picked is not None:
        return picked
    if not text:
        raise UserInputError("error.character_pick")
    found = await choosable_characters(
        storage, guild_id, viewer_id, text, own_only=own_only, is_admin=is_admin, limit=25
    )
    named = [c for c in found if c.name.casefold() == text.casefold()]
    own = [c for c in named if c.owner_id == viewer_id]
    candidates = own or named
    if len(candidates) == 1:
        return candidates[0].id
    if candidates:
        raise AmbiguousCharacter(candidates[:5], viewer_id)
    raise UserInputError("error.character_pick")
