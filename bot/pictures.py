"""One posted picture: open it from the gallery, favorite it (button or reaction), delete it.

The rules live here, not in the buttons: who may favorite (whoever may see the character),
who may delete (the picture's owner or an admin), and which pictures a Delete removes
(every picture on that message). The Discord layer only reads the press and renders.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from bot.access import may_see, visible_character
from bot.errors import NotAllowed, NotFound
from bot.images.store import ImageStore
from bot.records import Character, StoredImage
from bot.storage import Storage
from bot.storage.removal import Removed
from bot.takedowns import MessageTakedowns

__all__ = ["FavoriteToggled", "OpenedPicture", "PictureService", "Reaction", "emoji_matches"]


@dataclass(frozen=True, slots=True)
class OpenedPicture:
    image: StoredImage
    character: Character
    style_key: str
    size_key: str


@dataclass(frozen=True, slots=True)
class Reaction:
    """One reaction event from Discord: a member added (or removed) an emoji on a message."""

    guild_id: int
    message_id: int
    user_id: int
    emoji_id: int | None
    emoji_text: str
    added: bool


@dataclass(frozen=True, slots=True)
class FavoriteToggled:
    image_id: int
    favorite: bool  # True: now a favorite of the member; False: no longer
    count: int  # the picture's favorites after the change


_CUSTOM_EMOJI = re.compile(r"<a?:[\w~]+:(\d+)>|[\w~]+:(\d+)|(\d{15,21})")


def _plain_emoji(text: str) -> str:
    # "⭐" and "⭐️" (with VARIATION SELECTOR-16) are the same reaction to a member.
    return text.strip().replace("\ufe0f", "")


def emoji_matches(configured: str, emoji_id: int | None, emoji_text: str) -> bool:
    """Whether a reaction is the guild's favorite emoji.

    ``configured`` is a unicode emoji ("⭐") or a custom one ("<:star:123>", "star:123"
    or a bare id). Custom emoji are compared by id (names change), unicode by text.
    """
    match = _CUSTOM_EMOJI.fullmatch(configured.strip())
    if match:
        wanted = next(group for group in match.groups() if group)
        return emoji_id is not None and emoji_id == int(wanted)
    if emoji_id is not None:
        return False
    return bool(configured.strip()) and _plain_emoji(configured) == _plain_emoji(emoji_text)


def _size_key(image: StoredImage) -> str:
    if image.width > image.height:
        return "landscape"
    if image.width < image.height:
        return "portrait"
    return "square"


class PictureService:
    def __init__(self, storage: Storage, store: ImageStore, takedowns: MessageTakedowns) -> None:
        self.storage = storage
        self.store = store
        self.takedowns = takedowns

    async def get(self, guild_id: int, image_id: int) -> StoredImage:
        """The picture if it still exists in this server, else a clear NotFound."""
        image = await self.storage.images.get(image_id)
        if image is None or image.guild_id != guild_id:
            raise NotFound("error.image_gone")
        return image

    # --- opening from the gallery ------------------------------------------------------

    async def open_picture(
        self, guild_id: int, viewer_id: int, image_id: int, *, is_admin: bool = False
    ) -> OpenedPicture:
        entry = await self.storage.gallery.entry(guild_id, image_id)
        if entry is None:
            raise NotFound("error.image_gone")
        character = await visible_character(
            self.storage, guild_id, viewer_id, entry.image.character_id, is_admin=is_admin
        )
        size_key = await self.storage.gallery.size_key_of(entry.image.job_id)
        return OpenedPicture(
            entry.image, character, character.style, size_key or _size_key(entry.image)
        )

    async def record_post(
        self, *, guild_id: int, channel_id: int, message_id: int, image_id: int
    ) -> None:
        """Remember a re-post, so reactions on it count and a deletion removes it too; if
        the picture was deleted while it was being posted, the re-post is taken down."""
        if await self.storage.gallery.record_post(
            guild_id=guild_id, channel_id=channel_id, message_id=message_id, image_id=image_id
        ):
            self.takedowns.wake()

    # --- favorites -----------------------------------------------------------------------

    async def toggle_favorite(self, guild_id: int, user_id: int, image_id: int) -> FavoriteToggled:
        """The ⭐ button: favorite the picture, or un-favorite it if it already was."""
        image = await self.get(guild_id, image_id)
        # A picture made private (or hidden by a private gallery) since it was posted.
        await visible_character(self.storage, image.guild_id, user_id, image.character_id)
        toggled = await self.storage.images.toggle_favorite(image.id, user_id)
        if toggled is None:  # deleted meanwhile
            raise NotFound("error.image_gone")
        return FavoriteToggled(image.id, *toggled)

    async def react(self, reaction: Reaction) -> list[int]:
        """Favorite (or un-favorite) the pictures on a bot message; return the ids changed."""
        guild_id, user_id, added = reaction.guild_id, reaction.user_id, reaction.added
        images = await self.storage.gallery.images_on_message(guild_id, reaction.message_id)
        if not images:
            return []
        config = await self.storage.guilds.config(guild_id)
        if not emoji_matches(config.favorite_emoji, reaction.emoji_id, reaction.emoji_text):
            return []
        changed = []
        for image in images:
            character = await self.storage.characters.get(image.character_id)
            if added and (character is None or not may_see(character, user_id, config)):
                continue  # made private (or hidden by a private gallery) since it was posted
            await self.storage.images.set_favorite(image.id, user_id, added)
            changed.append(image.id)
        return changed

    # --- deleting ------------------------------------------------------------------------

    async def delete_from_message(
        self,
        guild_id: int,
        actor_id: int,
        image_id: int,
        message_id: int | None,
        *,
        is_admin: bool,
    ) -> Removed:
        """The Delete button: every picture on its message goes, including a gallery re-post.

        Only the picture's owner or an admin may; the files go too, and the messages that
        showed them (the pressed one included) are taken down from Discord.
        """
        image = await self.get(guild_id, image_id)
        if image.owner_id != actor_id and not is_admin:
            raise NotAllowed("error.delete_not_owner")
        shown = (
            await self.storage.gallery.images_on_message(guild_id, message_id)
            if message_id is not None
            else []
        )
        doomed = [picture.id for picture in shown] or [image.id]
        removed = await self.storage.deletions.delete_images(
            guild_id, doomed, take_down_messages=True
        )
        self.takedowns.wake()
        await asyncio.to_thread(self.store.delete, removed.files)
        return removed
