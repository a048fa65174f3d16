"""The gallery: pages of pictures as contact sheets, and where characters come from.

Pure core: plain values in, records and picture bytes out, our own errors for refusals.
``cogs/gallery`` turns a page into a message. Pillow work runs in threads, off the event
loop. Cards and character rules are in ``bot.characters``; one picture (open, favorite,
delete) in ``bot.pictures``; a member's export and erasure in ``bot.mydata``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.access import may_see, visible_character
from bot.errors import NotFound
from bot.i18n import Catalog, format_number
from bot.images.render import SheetItem, render_contact_sheet
from bot.images.store import ImageStore
from bot.jobs.references import lineage as character_lineage
from bot.records import Character, GallerySort, Keyset
from bot.storage import Storage
from bot.storage.gallery import GalleryEntry, GalleryFilter
from bot.thumbnails import ThumbnailCache

__all__ = [
    "PAGE_SIZE",
    "GalleryPage",
    "GalleryRequest",
    "GalleryService",
    "GallerySort",
    "Keyset",
    "Lineage",
    "PageSlice",
    "Scope",
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
    sheet: bytes  # the contact sheet, a JPEG
    title: str
    subtitle: str
    character: Character | None = None
    lineage: Lineage | None = None
    start: int = 0  # how many pictures come before the first tile
    has_next: bool = False
    favorite_emoji: str = ""  # the server's, for the hint under the sheet (see ``show``)
    # Each tile's name, as on the sheet: the character's, or a scene's cast (``tile_labels``).
    labels: list[str] = field(default_factory=list)

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


# --------------------------------------------------------------------------- the service


class GalleryService:
    def __init__(self, storage: Storage, store: ImageStore, catalog: Catalog) -> None:
        self.storage = storage
        self.store = store
        self.catalog = catalog
        self.thumbnails = ThumbnailCache(storage, store)

    # --- visibility ------------------------------------------------------------------------

    async def needs_private_answer(self, request: GalleryRequest) -> bool:
        """Whether the page would show the viewer's private characters (answer ephemerally)."""
        owner = request.owner_filter
        if owner is not None and owner != request.viewer_id:
            return False
        return await self.storage.gallery.has_private(
            request.guild_id, request.viewer_id, request.character_id
        )

    async def prepare(self, request: GalleryRequest, *, is_admin: bool = False) -> GalleryRequest:
        """Check the chosen character before answering; say whether the answer is private.

        A wrong pick then gets a short private message, and the member's private characters
        appear only in an answer nobody else sees (``include_private``).
        """
        await self._chosen_character(request, is_admin=is_admin)
        return replace(request, include_private=await self.needs_private_answer(request))

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

    async def show(
        self,
        request: GalleryRequest,
        locale: str,
        *,
        name_of: Callable[[int], Awaitable[str]],
        guild_name: str = "",
        is_admin: bool = False,
    ) -> GalleryPage:
        """The page a member sees: the server's gallery rule applied, then ``page``.

        ``name_of`` gives a member's display name, for the title of a member's pictures.
        """
        config = await self.storage.guilds.config(request.guild_id)
        if not config.gallery_public and not is_admin:
            # The server chose private galleries (/config gallery): members see only their own.
            request = replace(request, scope="mine", member_id=None)
        owner = request.owner_filter
        owner_name = await name_of(owner) if owner is not None else ""
        page = await self.page(
            request, locale, owner_name=owner_name, guild_name=guild_name, is_admin=is_admin
        )
        return replace(page, favorite_emoji=config.favorite_emoji)

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
        character, lineage = await self._shown_character(request, is_admin=is_admin)
        total = await self.storage.gallery.count(request.as_filter())
        pages = max(1, math.ceil(total / PAGE_SIZE))
        found = await self.read_page(request, total)
        request = replace(request, page=found.page)
        entries = found.entries
        pictures = await self.thumbnails.pictures(request.guild_id, [e.image for e in entries])

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
        labels = await self.tile_labels(entries, request, is_admin=is_admin)
        items = [
            SheetItem(
                number=found.start + index + 1,
                label=labels[index],
                stars=entry.image.favorite_count,
                picture=pictures[index],
            )
            for index, entry in enumerate(entries)
        ]
        sheet = await asyncio.to_thread(
            render_contact_sheet,
            items,
            title=title,
            subtitle=subtitle,
            columns=COLUMNS,
            rows=ROWS,
            empty_text=self.catalog.plain(locale, "gallery.empty"),
            locale=locale,
        )
        return GalleryPage(
            request,
            entries,
            total,
            pages,
            sheet,
            title,
            subtitle,
            character,
            lineage,
            start=found.start,
            has_next=found.has_next,
            labels=labels,
        )

    async def tile_labels(
        self, entries: list[GalleryEntry], request: GalleryRequest, *, is_admin: bool = False
    ) -> list[str]:
        """Each tile's name: its character's, or for a scene the characters in it that this
        member may see, in the order the scene named them. A private one is named only on a
        page nobody else sees (``include_private``), even to its owner: it may have been
        made private after the scene."""
        if not any(entry.image.scene_id is not None for entry in entries):
            return [entry.character_name for entry in entries]
        config = await self.storage.guilds.config(request.guild_id)
        casts = await self.storage.scenes.members_of(
            [entry.image.scene_id for entry in entries if entry.image.scene_id is not None]
        )
        labels = []
        for entry in entries:
            names = []
            if entry.image.scene_id is not None:
                names = [
                    member.character.name
                    for member in casts.get(entry.image.scene_id, [])
                    if not member.hidden
                    and (request.include_private or not member.character.private)
                    and may_see(member.character, request.viewer_id, config, is_admin=is_admin)
                ]
            labels.append(" & ".join(names) or entry.character_name)
        return labels

    async def _shown_character(
        self, request: GalleryRequest, *, is_admin: bool
    ) -> tuple[Character | None, Lineage | None]:
        """The character a page is filtered to (if any) and its lineage, as the viewer sees."""
        character = await self._chosen_character(request, is_admin=is_admin)
        if character is None:
            return None, None
        if character.private and not request.include_private:
            raise NotFound("error.character_not_found")
        return character, await self.lineage(request.guild_id, request.viewer_id, character)

    async def _chosen_character(
        self, request: GalleryRequest, *, is_admin: bool
    ) -> Character | None:
        """The character the request is filtered to, if any; NotFound if the viewer may not
        see it here."""
        if request.character_id is None:
            return None
        return await visible_character(
            self.storage,
            request.guild_id,
            request.viewer_id,
            request.character_id,
            is_admin=is_admin,
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
