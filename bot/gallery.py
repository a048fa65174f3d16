"""The gallery: pages of pictures, character cards, favorites by reaction, export, erasure.

Pure core: plain values in, records and PNG/ZIP bytes out, our own errors for refusals.
The Discord layer (``cogs/gallery``, ``cogs/mydata``, ``cogs/character/manage.py``)
turns these into messages. Pillow and zip work runs in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.access import may_see, visible_character
from bot.errors import NotAllowed, NotFound
from bot.i18n import Catalog, format_number
from bot.images.convert import load_picture, make_thumbnail
from bot.images.decode import ImageRejected
from bot.images.prompts import CharacterSheet
from bot.images.render import CardData, SheetItem, render_character_card, render_contact_sheet
from bot.images.store import ImageStore
from bot.jobs.references import lineage as character_lineage
from bot.records import Character, StoredImage
from bot.storage import Storage
from bot.storage.gallery import GalleryEntry, GalleryFilter, GallerySort, Keyset, Removed

__all__ = [
    "PAGE_SIZE",
    "CharacterCard",
    "ExportFile",
    "ExportPlan",
    "GalleryPage",
    "GalleryRequest",
    "GalleryService",
    "Lineage",
    "OpenedPicture",
    "PageSlice",
    "Scope",
    "build_export_part",
    "emoji_matches",
    "group_parts",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 9
COLUMNS = 3
ROWS = 3
LINEAGE_DEPTH = 5

Scope = Literal["mine", "server"]


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class GalleryRequest:
    """One page as a member asked for it; also what a page button carries.

    A page button carries a ``cursor``: the page starts just past that picture (▶, the
    last one shown) or ends just before it (◀, ``backward``, the first one shown). ``page``
    is then only the number to show, since pictures may have come or gone meanwhile.
    Without a cursor, ``page`` says which page (the first and the last are read from
    their end of an index; one in between, only from buttons posted before cursors
    existed, by offset).
    """

    guild_id: int
    viewer_id: int
    page: int = 0
    sort: GallerySort = "newest"
    scope: Scope = "server"
    member_id: int | None = None
    character_id: int | None = None
    include_private: bool = False
    cursor: Keyset | None = None
    backward: bool = False

    @property
    def owner_filter(self) -> int | None:
        """Whose pictures: ``scope=mine`` means the viewer's, else the chosen member's."""
        return self.viewer_id if self.scope == "mine" else self.member_id

    @property
    def is_hall_of_fame(self) -> bool:
        return self.sort == "favorites" and self.owner_filter is None and self.character_id is None

    def as_filter(self) -> GalleryFilter:
        return GalleryFilter(
            guild_id=self.guild_id,
            viewer_id=self.viewer_id,
            sort=self.sort,
            owner_id=self.owner_filter,
            character_id=self.character_id,
            include_private=self.include_private,
        )


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a character comes from and what was forked from it (visible ones only)."""

    ancestors: list[Character] = field(default_factory=list)  # nearest first
    forks: list[Character] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GalleryPage:
    request: GalleryRequest  # with the page number clamped to what exists
    entries: list[GalleryEntry]
    total: int
    pages: int
    png: bytes
    title: str
    subtitle: str
    character: Character | None = None
    lineage: Lineage | None = None
    start: int = 0  # how many pictures come before the first tile
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.request.page > 0

    def number_of(self, index: int) -> int:
        """The number drawn on a tile: counts across pages, so "#12" is unambiguous."""
        return self.start + index + 1


@dataclass(frozen=True, slots=True)
class PageSlice:
    """The pictures of one page and where they stand (see ``GalleryService.read_page``)."""

    entries: list[GalleryEntry]
    page: int
    start: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class CharacterCard:
    character: Character
    png: bytes
    pictures: int
    favorites: int
    lineage: Lineage


@dataclass(frozen=True, slots=True)
class OpenedPicture:
    image: StoredImage
    character: Character
    style_key: str
    size_key: str


# --------------------------------------------------------------------------- pure helpers

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


_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:40] or "character"


_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


def _thumbnail_or_repair(
    store: ImageStore, guild_id: int, image: StoredImage
) -> tuple[bytes | None, str | None]:
    """The cached thumbnail; if it is missing or unreadable, a new one from the picture.

    Returns ``(thumbnail bytes or None, path of a newly stored thumbnail or None)``.
    Runs in a thread: file reads and Pillow.
    """
    if image.thumb_path:
        try:
            data = store.read(image.thumb_path)
        except (OSError, ValueError):
            data = b""
        if data and load_picture(data, max_side=256) is not None:
            return data, None
    try:
        original = store.read(image.file_path)
        thumbnail = make_thumbnail(original)
    except (OSError, ValueError, ImageRejected):
        log.warning("Picture %s has no readable file; showing a placeholder", image.id)
        return None, None
    return thumbnail, store.save(guild_id, thumbnail, "image/webp", kind="thumb")


# --------------------------------------------------------------------------- export


@dataclass(frozen=True, slots=True)
class ExportFile:
    arcname: str
    path: str  # relative to the image store
    size: int


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """A member's data split into zip files that each fit one upload."""

    manifest: bytes
    parts: list[list[ExportFile]]  # parts[0] also holds the manifest
    estimates: list[int]  # upper bound of each zip's size in bytes
    skipped: int  # pictures whose file is missing or too large for any upload
    characters: int
    pictures: int
    favorites: int

    @property
    def empty(self) -> bool:
        return self.characters == 0 and self.pictures == 0 and self.favorites == 0


MANIFEST_NAME = "characters.json"
_ZIP_END = 22 + 512  # end-of-central-directory record plus a safety margin


def _entry_overhead(arcname: str) -> int:
    """Local header + central directory entry for one stored file (plus slack)."""
    name = len(arcname.encode("utf-8"))
    return 30 + 46 + 2 * name + 64


def build_export_part(store: ImageStore, plan: ExportPlan, index: int) -> bytes:
    """Zip one part of ``plan``. Synchronous (file reads): call it in a thread.

    Pictures are stored uncompressed: they are PNG/WebP already and would not shrink.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if index == 0:
            archive.writestr(MANIFEST_NAME, plan.manifest, compress_type=zipfile.ZIP_DEFLATED)
        for item in plan.parts[index]:
            try:
                data = store.read(item.path)
            except (OSError, ValueError):
                continue  # deleted meanwhile: the manifest still lists it
            archive.writestr(item.arcname, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def group_parts(sizes: list[int], *, max_files: int, max_bytes: int) -> list[list[int]]:
    """Indexes of parts grouped into messages of at most ``max_files``/``max_bytes``."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if current and (len(current) >= max_files or total + size > max_bytes):
            groups.append(current)
            current, total = [], 0
        current.append(index)
        total += size
    if current:
        groups.append(current)
    return groups


def _image_record(image: StoredImage, arcname: str | None, user_id: int) -> dict[str, Any]:
    return {
        "id": image.id,
        "file": arcname,
        "prompt": image.prompt,
        "model": image.model,
        "width": image.width,
        "height": image.height,
        "variation_of": image.parent_image_id,
        "favorites": image.favorite_count,
        "made_by_you": image.owner_id == user_id,
        "created_at": image.created_at,
    }


def _plan_export(
    store: ImageStore,
    guild_id: int,
    user_id: int,
    characters: list[Character],
    images: list[StoredImage],
    favorites: list[tuple[int, float]],
    part_limit: int,
) -> ExportPlan:
    """Decide which file goes in which zip; reads only file sizes. Runs in a thread."""
    names = {c.id: f"{_slug(c.name)}-{c.id}" for c in characters}
    files: list[ExportFile] = []
    records: dict[int, list[dict[str, Any]]] = {}
    others: list[dict[str, Any]] = []
    skipped = 0
    for image in images:
        folder = names.get(image.character_id, f"other-{image.character_id}")
        arcname: str | None = f"{folder}/{image.id}.{_EXTENSIONS.get(image.mime, 'png')}"
        try:
            size = store.path(image.file_path).stat().st_size
        except (OSError, ValueError):
            size = -1
        assert arcname is not None
        if size < 0 or size + _entry_overhead(arcname) + _ZIP_END > part_limit:
            skipped += 1
            arcname = None
        else:
            files.append(ExportFile(arcname, image.file_path, size))
        record = _image_record(image, arcname, user_id)
        if image.character_id in names:
            records.setdefault(image.character_id, []).append(record)
        else:
            others.append(record)
    manifest = {
        "format": 1,
        "exported_at": time.time(),
        "guild_id": str(guild_id),
        "user_id": str(user_id),
        "characters": [
            {
                "id": c.id,
                "name": c.name,
                "sheet": c.sheet,
                "style": c.style,
                "private": c.private,
                "forked_from": c.forked_from_id,
                "portrait": c.canonical_image_id,
                "created_at": c.created_at,
                "pictures": records.get(c.id, []),
            }
            for c in characters
        ],
        "pictures_of_other_characters": others,
        "favorites": [{"picture": image_id, "at": at} for image_id, at in favorites],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    manifest_size = len(zlib.compress(manifest_bytes, 6)) + 64 + _entry_overhead(MANIFEST_NAME)

    parts: list[list[ExportFile]] = [[]]
    estimates = [_ZIP_END + manifest_size]
    for item in files:
        cost = item.size + _entry_overhead(item.arcname)
        if estimates[-1] + cost > part_limit:
            # A file alone always fits an empty part (checked above).
            parts.append([])
            estimates.append(_ZIP_END)
        parts[-1].append(item)
        estimates[-1] += cost
    return ExportPlan(
        manifest_bytes, parts, estimates, skipped, len(characters), len(images), len(favorites)
    )


# --------------------------------------------------------------------------- the service


class GalleryService:
    def __init__(self, storage: Storage, store: ImageStore, catalog: Catalog) -> None:
        self.storage = storage
        self.store = store
        self.catalog = catalog
        self._repair_lock = asyncio.Lock()

    # --- visibility ------------------------------------------------------------------------

    async def visible_character(
        self,
        guild_id: int,
        viewer_id: int,
        character_id: int,
        *,
        is_admin: bool = False,
        include_private: bool = False,
    ) -> Character:
        """The character if the member may see it here (see bot.access for admins)."""
        return await visible_character(
            self.storage,
            guild_id,
            viewer_id,
            character_id,
            is_admin=is_admin,
            include_private=include_private,
        )

    async def needs_private_answer(self, request: GalleryRequest) -> bool:
        """Whether the page would show the viewer's private characters (answer ephemerally)."""
        owner = request.owner_filter
        if owner is not None and owner != request.viewer_id:
            return False
        return await self.storage.gallery.has_private(
            request.guild_id, request.viewer_id, request.character_id
        )

    async def lineage(self, guild_id: int, viewer_id: int, character: Character) -> Lineage:
        """Where a character comes from and what was forked from it, as the viewer may see."""
        config = await self.storage.guilds.config(guild_id)
        chain = await character_lineage(self.storage, character, viewer_id)
        forks = [
            fork
            for fork in await self.storage.gallery.forks(guild_id, character.id, viewer_id)
            if may_see(fork, viewer_id, config)
        ]
        return Lineage(chain[1 : LINEAGE_DEPTH + 1], forks)

    # --- pages ---------------------------------------------------------------------------

    async def page(
        self,
        request: GalleryRequest,
        locale: str,
        *,
        owner_name: str = "",
        guild_name: str = "",
        is_admin: bool = False,
    ) -> GalleryPage:
        """Query, fetch (or repair) thumbnails and render one contact sheet."""
        character = None
        lineage = None
        if request.character_id is not None:
            character = await self.visible_character(
                request.guild_id, request.viewer_id, request.character_id, is_admin=is_admin
            )
            if character.private and not request.include_private:
                raise NotFound("error.character_not_found")
            lineage = await self.lineage(request.guild_id, request.viewer_id, character)
        f = request.as_filter()
        total = await self.storage.gallery.count(f)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        found = await self.read_page(request, total)
        request = replace(request, page=found.page)
        entries = found.entries
        thumbnails = await self._thumbnails(request.guild_id, [e.image for e in entries])

        title = self._title(request, locale, character, owner_name, guild_name)
        # Drawn into the picture (and shown in a footer): plain text, no markdown escapes.
        order = self.catalog.plain(locale, f"gallery.sort.{request.sort}")
        subtitle = self.catalog.plain(
            locale,
            "gallery.subtitle",
            page=request.page + 1,
            pages=pages,
            total=format_number(total, locale),
            order=order,
        )
        items = [
            SheetItem(
                number=found.start + index + 1,
                label=entry.character_name,
                stars=entry.image.favorite_count,
                thumbnail=thumbnails[index],
            )
            for index, entry in enumerate(entries)
        ]
        png = await asyncio.to_thread(
            render_contact_sheet,
            items,
            title=title,
            subtitle=subtitle,
            columns=COLUMNS,
            rows=ROWS,
            empty_text=self.catalog.plain(locale, "gallery.empty"),
        )
        return GalleryPage(
            request,
            entries,
            total,
            pages,
            png,
            title,
            subtitle,
            character,
            lineage,
            start=found.start,
            has_next=found.has_next,
        )

    async def read_page(self, request: GalleryRequest, total: int) -> PageSlice:
        """The pictures of the requested page, read by keyset (no OFFSET walk).

        Pictures come and go between two presses, so a cursor can point past the end or
        before the start; both ends are then read afresh, never an empty or repeated page.
        """
        gallery = self.storage.gallery
        f = request.as_filter()
        pages = max(1, math.ceil(total / PAGE_SIZE))
        last = pages - 1
        page = min(max(0, request.page), last)
        if request.cursor is not None and not request.backward:
            # One more than a page tells whether ▶ has anywhere to go.
            entries = await gallery.seek(f, PAGE_SIZE + 1, request.cursor)
            if entries:
                more = len(entries) > PAGE_SIZE
                page = page if more else last
                if more and page == last:
                    page = max(0, last - 1)  # pictures were added: more pages follow
                start = page * PAGE_SIZE if more else max(0, total - len(entries))
                return PageSlice(entries[:PAGE_SIZE], page, start, more)
            # Everything past the cursor is gone: show the last page.
            return await self._last_page(request, total)
        if request.cursor is not None:
            entries = await gallery.seek(f, PAGE_SIZE + 1, request.cursor, backward=True)
            if len(entries) > PAGE_SIZE:
                page = max(1, min(page, last))  # something still comes before it
                return PageSlice(entries[1:], page, page * PAGE_SIZE, True)
            # Nothing (or less than a page) before the cursor: that is the first page.
            page = 0
        if page == 0:
            entries = await gallery.seek(f, PAGE_SIZE + 1, None)
            return PageSlice(entries[:PAGE_SIZE], 0, 0, len(entries) > PAGE_SIZE)
        if page == last:
            return await self._last_page(request, total)
        # A button from before cursors existed: it carries only the page number.
        entries = await gallery.page(f, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        return PageSlice(entries, page, page * PAGE_SIZE, True)

    async def _last_page(self, request: GalleryRequest, total: int) -> PageSlice:
        """The last page, read from the end of the index (as fast as the first)."""
        last = max(0, math.ceil(total / PAGE_SIZE) - 1)
        size = max(1, total - last * PAGE_SIZE)
        entries = await self.storage.gallery.seek(request.as_filter(), size, None, backward=True)
        return PageSlice(entries, last, max(0, total - len(entries)), False)

    def _title(
        self,
        request: GalleryRequest,
        locale: str,
        character: Character | None,
        owner_name: str,
        guild_name: str,
    ) -> str:
        t = self.catalog.plain  # drawn into the picture; escaped where an embed shows it
        if character is not None:
            return t(locale, "gallery.title.character", name=character.name)
        if request.owner_filter is not None:
            name = owner_name or t(locale, "gallery.someone")
            return t(locale, "gallery.title.member", name=name)
        if request.is_hall_of_fame:
            return t(locale, "gallery.title.hall_of_fame", server=guild_name)
        return t(locale, "gallery.title.server", server=guild_name)

    async def _thumbnails(self, guild_id: int, images: list[StoredImage]) -> list[bytes | None]:
        """Thumbnails from the disk cache, rebuilding (and storing) any missing or broken."""
        results = await asyncio.to_thread(
            lambda: [_thumbnail_or_repair(self.store, guild_id, image) for image in images]
        )
        repaired = [(image, path) for image, (_, path) in zip(images, results, strict=True) if path]
        if repaired:
            async with self._repair_lock:
                for image, path in repaired:
                    current = await self.storage.images.get(image.id)
                    if current is None or current.thumb_path != image.thumb_path:
                        # Deleted, or repaired by another page meanwhile: keep theirs.
                        await asyncio.to_thread(self.store.delete, [path])
                        continue
                    await self.storage.gallery.set_thumbnail(guild_id, image.id, path)
                    if image.thumb_path:
                        await asyncio.to_thread(self.store.delete, [image.thumb_path])
                    log.info("Rebuilt the thumbnail of picture %s", image.id)
        return [data for data, _ in results]

    # --- opening one picture ------------------------------------------------------------------

    async def open_picture(
        self, guild_id: int, viewer_id: int, image_id: int, *, is_admin: bool = False
    ) -> OpenedPicture:
        entry = await self.storage.gallery.entry(guild_id, image_id)
        if entry is None:
            raise NotFound("error.image_gone")
        character = await self.visible_character(
            guild_id, viewer_id, entry.image.character_id, is_admin=is_admin
        )
        size_key = await self.storage.gallery.size_key_of(entry.image.job_id)
        return OpenedPicture(
            entry.image, character, character.style, size_key or _size_key(entry.image)
        )

    async def record_post(
        self, *, guild_id: int, channel_id: int, message_id: int, image_id: int
    ) -> None:
        await self.storage.gallery.record_post(
            guild_id=guild_id, channel_id=channel_id, message_id=message_id, image_id=image_id
        )

    # --- character cards -------------------------------------------------------------------

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
            picture_count_text=t(locale, "count.pictures", count=format_number(pictures, locale)),
            favorites_text=t(locale, "card.favorites", count=format_number(favorites, locale)),
            style_text=t(locale, f"style.{character.style}"),
        )
        png = await asyncio.to_thread(render_character_card, data)
        lineage = await self.lineage(guild_id, viewer_id, character)
        return CharacterCard(character, png, pictures, favorites, lineage)

    # --- managing characters -------------------------------------------------------------

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
        character = await self.visible_character(
            guild_id, actor_id, character_id, is_admin=is_admin, include_private=is_admin
        )
        if character.owner_id != actor_id and not is_admin:
            raise NotAllowed("gallery.error.delete_not_owner")
        return character

    async def delete_character(
        self, guild_id: int, actor_id: int, character_id: int, *, is_admin: bool
    ) -> Removed:
        """Delete the character, its pictures and their files; return messages to remove."""
        await self.check_can_delete(guild_id, actor_id, character_id, is_admin=is_admin)
        removed = await self.storage.gallery.delete_character(guild_id, character_id)
        await asyncio.to_thread(self.store.delete, removed.files)
        log.info(
            "Character %s deleted by %s in guild %s (%d pictures)",
            character_id,
            actor_id,
            guild_id,
            removed.images,
        )
        return removed

    # --- favorites by reaction -----------------------------------------------------------

    async def react(
        self,
        *,
        guild_id: int,
        message_id: int,
        user_id: int,
        emoji_id: int | None,
        emoji_text: str,
        added: bool,
    ) -> list[int]:
        """Favorite (or un-favorite) the pictures on a bot message; return the ids changed."""
        images = await self.storage.gallery.images_on_message(guild_id, message_id)
        if not images:
            return []
        config = await self.storage.guilds.config(guild_id)
        if not emoji_matches(config.favorite_emoji, emoji_id, emoji_text):
            return []
        changed = []
        for image in images:
            character = await self.storage.characters.get(image.character_id)
            if added and (character is None or not may_see(character, user_id, config)):
                continue  # made private (or hidden by a private gallery) since it was posted
            await self.storage.images.set_favorite(image.id, user_id, added)
            changed.append(image.id)
        return changed

    # --- a member's own data --------------------------------------------------------------

    async def export_plan(self, guild_id: int, user_id: int, *, part_limit: int) -> ExportPlan:
        data = await self.storage.gallery.export_data(guild_id, user_id)
        return await asyncio.to_thread(
            _plan_export,
            self.store,
            guild_id,
            user_id,
            data.characters,
            data.images,
            data.favorites,
            part_limit,
        )

    async def export_part(self, plan: ExportPlan, index: int) -> bytes:
        return await asyncio.to_thread(build_export_part, self.store, plan, index)

    async def delete_member_data(self, guild_id: int, user_id: int) -> Removed:
        removed = await self.storage.gallery.delete_member_data(guild_id, user_id)
        await asyncio.to_thread(self.store.delete, removed.files)
        log.info(
            "Erased the data of member %s in guild %s (%d characters, %d pictures)",
            user_id,
            guild_id,
            removed.characters,
            removed.images,
        )
        return removed
