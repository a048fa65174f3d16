"""Server stickers and emoji from a picture (issue #23): the rules, not the Discord calls.

The Discord layer (cogs/_shared/expressions.py) checks permissions and talks to Discord;
this service says whether a name, a tag and a picture are acceptable, makes the file
(bot.images.expressions) and counts free slots. Every refusal is one of our errors with a
message key, so a member never sees Discord's raw answer.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.access import visible_character
from bot.errors import NotAllowed, NotFound, UserInputError
from bot.images.expressions import (
    EMOJI,
    STICKER,
    ExpressionRefused,
    ExpressionSpec,
    fit_expression,
    has_transparent_background,
)
from bot.images.store import ImageStore
from bot.pictures import PictureService
from bot.records import StoredImage
from bot.storage import Storage

__all__ = [
    "ExpressionFile",
    "ExpressionKind",
    "ExpressionService",
    "PictureCheck",
    "check_free_slot",
    "check_name_free",
    "emoji_name",
    "sticker_description",
    "sticker_name",
    "sticker_tag",
    "suggested_emoji_name",
]

ExpressionKind = Literal["sticker", "emoji"]
SPECS: dict[ExpressionKind, ExpressionSpec] = {"sticker": STICKER, "emoji": EMOJI}

# Discord: an emoji name is 2-32 letters, digits or underscores; a sticker name 2-30
# characters; a sticker description empty or 2-100 characters.
_EMOJI_NAME = re.compile(r"^[A-Za-z0-9_]{2,32}$")
STICKER_NAME_MAX = 30
DESCRIPTION_MAX = 100
# What may make up one emoji: symbols, skin tones, joiners, variation selectors, keycaps.
_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


@dataclass(frozen=True, slots=True)
class PictureCheck:
    """What the sticker and emoji forms need to know of a picture before they open."""

    image_id: int
    cutout: bool  # a transparent background; else a cut-out is suggested first
    character_name: str


@dataclass(frozen=True, slots=True)
class ExpressionFile:
    """A picture made into a sticker's or an emoji's file, with the picture it came from."""

    image: StoredImage
    data: bytes = field(repr=False)


def emoji_name(text: str) -> str:
    """The emoji name as typed, if Discord accepts it (no guessing what was meant)."""
    name = text.strip()
    if not _EMOJI_NAME.match(name):
        raise UserInputError("creator.error_emoji_name")
    return name


def suggested_emoji_name(character_name: str) -> str:
    """A valid emoji name from a character's name (``Aiko Mori`` → ``Aiko_Mori``)."""
    ascii_only = unicodedata.normalize("NFKD", character_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_only).strip("_")[:32]
    return slug if len(slug) >= 2 else "character"


def sticker_name(text: str) -> str:
    name = " ".join(text.split())
    if not 2 <= len(name) <= STICKER_NAME_MAX:
        raise UserInputError("creator.error_sticker_name")
    return name


def sticker_description(text: str) -> str:
    description = " ".join(text.split())
    if len(description) == 1 or len(description) > DESCRIPTION_MAX:
        raise UserInputError("creator.error_sticker_description")
    return description


def sticker_tag(text: str) -> str:
    """One Unicode emoji (Discord's "related emoji" of a sticker), e.g. 😊."""
    tag = text.strip()
    if not tag or len(tag) > 16 or not all(_emoji_part(ch) for ch in tag):
        raise UserInputError("creator.error_sticker_tag")
    if not any(unicodedata.category(ch) == "So" for ch in tag):
        raise UserInputError("creator.error_sticker_tag")
    return tag


def _emoji_part(ch: str) -> bool:
    return ch in _EMOJI_JOINERS or unicodedata.category(ch) in ("So", "Sk") or "0" <= ch <= "9"


def check_free_slot(kind: ExpressionKind, used: int, limit: int) -> None:
    """Refuse when the server's slots of ``kind`` (set by its boost level) are all used."""
    if used >= limit:
        raise NotAllowed(f"creator.error_{kind}_slots_full", count=limit)


def check_name_free(kind: ExpressionKind, name: str, taken: Iterable[str]) -> None:
    """Refuse a name the server already uses for one of its stickers or emoji."""
    if name.casefold() in {other.casefold() for other in taken}:
        raise NotAllowed(f"creator.error_{kind}_name_taken", name=name)


class ExpressionService:
    """Whether a posted picture can become a sticker or an emoji, and its file."""

    def __init__(self, storage: Storage, store: ImageStore, pictures: PictureService) -> None:
        self._storage = storage
        self._store = store
        # "Is this picture still in this server?" is the pictures service's rule.
        self.picture = pictures.get

    async def check_picture(self, guild_id: int, user_id: int, image_id: int) -> PictureCheck:
        """Whether the picture has a transparent background, and its character's name."""
        image = await self._visible_picture(guild_id, user_id, image_id)
        data = await self._read(image)
        cutout = await asyncio.to_thread(has_transparent_background, data)
        character = await self._storage.characters.get(image.character_id)
        return PictureCheck(image.id, cutout, character.name if character else "")

    async def make_file(
        self, guild_id: int, user_id: int, image_id: int, kind: ExpressionKind
    ) -> ExpressionFile:
        """The picture as the sticker's or emoji's file, within Discord's limits."""
        # Asked again when the form comes back: the owner may have hidden it meanwhile.
        image = await self._visible_picture(guild_id, user_id, image_id)
        data = await self._read(image)
        try:
            fitted = await asyncio.to_thread(fit_expression, data, SPECS[kind])
        except ExpressionRefused as exc:
            raise UserInputError(f"creator.error_file_{exc.reason}") from None
        return ExpressionFile(image, fitted)

    async def _visible_picture(self, guild_id: int, user_id: int, image_id: int) -> StoredImage:
        """The picture if ``user_id`` may see it: a sticker or an emoji shows it to the whole
        server, so a private character (or a private gallery) keeps it its owner's alone."""
        image = await self.picture(guild_id, image_id)
        await visible_character(self._storage, guild_id, user_id, image.character_id)
        return image

    async def _read(self, image: StoredImage) -> bytes:
        try:
            return await asyncio.to_thread(self._store.read, image.file_path)
        except OSError:
            raise NotFound("error.image_gone") from None
