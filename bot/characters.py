"""Characters as members manage them: cards, privacy, deletion, and picking one by name.

Every rule about who may see a character is ``bot.access``'s; the rules here are who may
change one: only the owner hides it or chooses its main picture, the owner or an admin
deletes it. The Discord layer (``cogs/character``, ``cogs/_shared/characters.py``) parses
the interaction, calls one method and renders the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace

from bot.access import sees_others, visible_character
from bot.errors import NotAllowed, UserInputError
from bot.gallery import GalleryService, Lineage
from bot.i18n import Catalog, format_number
from bot.ids import id_in, trailing_id
from bot.images.prompts import CharacterSheet
from bot.images.render import CardData, render_character_card
from bot.images.store import ImageStore
from bot.records import Character, ImageKind, StoredImage
from bot.storage import Storage
from bot.storage.removal import Removed
from bot.takedowns import MessageTakedowns

__all__ = [
    "AmbiguousCharacter",
    "CharacterCard",
    "CharacterService",
    "DeletionPreview",
    "MainPictureChoices",
]

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class CharacterCard:
    character: Character
    png: bytes
    pictures: int
    favorites: int
    lineage: Lineage
    scenes: int = 0  # the scenes it is shown in (bot/scenes.py)
    # The newest reference sheet (issue #23), shown first with the card.
    sheet_id: int | None = None
    sheet_png: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class DeletionPreview:
    """What ``/character delete`` asks the member to confirm."""

    character: Character
    pictures: int


@dataclass(frozen=True, slots=True)
class MainPictureChoices:
    """The owner's character and those of its pictures that match what was typed."""

    character: Character
    pictures: list[StoredImage]


@dataclass(frozen=True, slots=True)
class CharacterService:
    storage: Storage
    store: ImageStore
    catalog: Catalog
    gallery: GalleryService
    takedowns: MessageTakedowns

    # --- seeing and picking ------------------------------------------------------------

    async def visible_character(
        self, guild_id: int, viewer_id: int, character_id: int, *, is_admin: bool = False
    ) -> Character:
        """The character if the member may see it here (the rule is bot.access's)."""
        return await visible_character(
            self.storage, guild_id, viewer_id, character_id, is_admin=is_admin
        )

    async def choices(
        self,
        guild_id: int,
        viewer_id: int,
        text: str = "",
        *,
        own_only: bool = False,
        is_admin: bool = False,
        for_scene: bool = False,
        limit: int = 25,
    ) -> list[Character]:
        """Characters a member may pick by typing ``text`` (own first), for lists and names.

        ``for_scene``: others' only where the server lets members use them in scenes and
        their owner has not switched them out (bot/jobs/scene_cast.py's rule)."""
        config = await self.storage.guilds.config(guild_id)
        others = sees_others(config, is_admin=is_admin) and (
            not for_scene or config.scenes == "any"
        )
        return await self.storage.characters.search_visible(
            guild_id,
            viewer_id,
            text,
            own_only=own_only or not others,
            scenes_only=for_scene,
            limit=limit,
        )

    async def resolve_id(
        self,
        guild_id: int,
        viewer_id: int,
        value: str,
        *,
        own_only: bool = False,
        is_admin: bool = False,
    ) -> int:
        """The character a member picked or typed in any option that names one.

        Autocomplete sends the id; members also type "12", "#12", "Aiko #12" or just "Aiko"
        and press Enter. An exact name (any case) is looked up among the characters the
        member may pick, their own first: one own match wins; else one match among the
        others. Several: :class:`AmbiguousCharacter` with a short list to pick from. None:
        the pick message. Whether the member may use the character is checked again by the
        command's service.
        """
        text = value.strip()
        picked = trailing_id(text)
        if picked is None:
            picked = id_in(text)
        if picked is not None:
            return picked
        if not text:
            raise UserInputError("error.character_pick")
        found = await self.choices(
            guild_id, viewer_id, text, own_only=own_only, is_admin=is_admin, limit=25
        )
        named = [c for c in found if c.name.casefold() == text.casefold()]
        own = [c for c in named if c.owner_id == viewer_id]
        candidates = own or named
        if len(candidates) == 1:
            return candidates[0].id
        if candidates:
            raise AmbiguousCharacter(candidates[:5], viewer_id)
        raise UserInputError("error.character_pick")

    async def main_picture_choices(
        self, guild_id: int, viewer_id: int, character_id: int, text: str
    ) -> MainPictureChoices | None:
        """The pictures ``/character main`` offers: only the owner's character's, else None."""
        character = await self.storage.characters.get(character_id)
        if character is None or character.guild_id != guild_id or character.owner_id != viewer_id:
            return None
        pictures = await self.storage.images.for_character(character.id, text, limit=25)
        return MainPictureChoices(character, pictures)

    # --- the card ------------------------------------------------------------------------

    async def card(
        self,
        guild_id: int,
        viewer_id: int,
        character_id: int,
        locale: str,
        *,
        creator_name: str,
        is_admin: bool = False,
    ) -> CharacterCard:
        character = await self.visible_character(
            guild_id, viewer_id, character_id, is_admin=is_admin
        )
        pictures, favorites = await self.storage.gallery.character_stats(guild_id, character.id)
        scenes = await self.storage.scenes.count_for_character(character.id)
        portrait = None
        if character.canonical_image_id is not None:
            image = await self.storage.images.get(character.canonical_image_id)
            if image is not None and image.guild_id == guild_id:
                try:
                    portrait = await asyncio.to_thread(self.store.read, image.file_path)
                except (OSError, ValueError):
                    portrait = None
        t = self.catalog.plain  # drawn into the card
        sheet = CharacterSheet.from_dict(character.sheet)
        data = CardData(
            name=character.name,
            portrait=portrait,
            facts=[(t(locale, f"card.fact.{key}"), value) for key, value in sheet.facts()],
            creator=t(locale, "card.creator", name=creator_name or t(locale, "gallery.someone")),
            picture_count_text=_with_scenes(
                t(locale, "count.pictures", count=format_number(pictures, locale)),
                t(locale, "scene.card.count", count=format_number(scenes, locale)),
                scenes,
            ),
            favorites_text=t(locale, "card.favorites", count=format_number(favorites, locale)),
            style_text=t(locale, f"style.{character.style}"),
            locale=locale,
        )
        png = await asyncio.to_thread(render_character_card, data)
        lineage = await self.gallery.lineage(guild_id, viewer_id, character)
        sheet_image = await self.storage.images.newest_of_kind([character.id], ImageKind.SHEET)
        sheet_png = None
        if sheet_image is not None:
            with contextlib.suppress(OSError):
                sheet_png = await asyncio.to_thread(self.store.read, sheet_image.file_path)
        return CharacterCard(
            character,
            png,
            pictures,
            favorites,
            lineage,
            scenes,
            sheet_id=sheet_image.id if sheet_png is not None and sheet_image else None,
            sheet_png=sheet_png,
        )

    # --- managing ------------------------------------------------------------------------

    async def set_private(
        self, guild_id: int, actor_id: int, character_id: int, private: bool
    ) -> Character:
        character = await self.visible_character(guild_id, actor_id, character_id)
        if character.owner_id != actor_id:
            raise NotAllowed("gallery.error.private_not_owner")
        await self.storage.gallery.set_private(guild_id, character.id, private)
        return replace(character, private=private)

    async def check_can_delete(
        self, guild_id: int, actor_id: int, character_id: int, *, is_admin: bool
    ) -> Character:
        """The character if this member may delete it: its owner, or an admin (even private)."""
        character = await visible_character(
            self.storage,
            guild_id,
            actor_id,
            character_id,
            is_admin=is_admin,
            include_private=is_admin,
        )
        if character.owner_id != actor_id and not is_admin:
            raise NotAllowed("gallery.error.delete_not_owner")
        return character

    async def deletion_preview(
        self, guild_id: int, actor_id: int, character_id: int, *, is_admin: bool
    ) -> DeletionPreview:
        """The character and how many pictures would go, if this member may delete it."""
        character = await self.check_can_delete(guild_id, actor_id, character_id, is_admin=is_admin)
        pictures, _favorites = await self.storage.gallery.character_stats(guild_id, character.id)
        return DeletionPreview(character, pictures)

    async def delete_character(
        self, guild_id: int, actor_id: int, character_id: int, *, is_admin: bool
    ) -> Removed:
        """Delete the character, its pictures and their files; its messages are taken down."""
        await self.check_can_delete(guild_id, actor_id, character_id, is_admin=is_admin)
        removed = await self.storage.deletions.delete_character(guild_id, character_id)
        self.takedowns.wake()
        await asyncio.to_thread(self.store.delete, removed.files)
        log.info(
            "Character %s deleted by %s in guild %s (%d pictures)",
            character_id,
            actor_id,
            guild_id,
            removed.images,
        )
        return removed


def _with_scenes(pictures: str, scenes_text: str, scenes: int) -> str:
    """The card's count line: its pictures, and the scenes it is in when there are any."""
    return f"{pictures} · {scenes_text}" if scenes else pictures
