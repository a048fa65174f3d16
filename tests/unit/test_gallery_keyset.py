"""Gallery pages by keyset (issue #21.4): ◀ and ▶ show every picture once, in order.

Property: whatever the pictures (many with the same favorite count), walking ▶ from the
first page reaches the last showing each visible picture exactly once in page order, with
the right numbers, and walking ◀ from the last page shows the same pages in reverse.
Pictures added, deleted or starred between presses never crash a page, never show a
picture out of order on it, and ▶ always reaches the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.gallery import PAGE_SIZE, GalleryRequest, GalleryService, PageSlice
from bot.i18n import Catalog
from bot.images.store import ImageStore
from bot.records import GallerySort, Keyset
from bot.storage import Storage
from bot.storage.gallery import GalleryEntry

GUILD, VIEWER, OTHER = 1, 10, 11
CATALOG = Catalog.load()

# Sizes drawn evenly up to five pages: lists alone stay mostly shorter than two pages.
pictures = st.integers(min_value=0, max_value=45).flatmap(
    lambda n: st.lists(
        st.tuples(st.integers(min_value=0, max_value=3), st.booleans()),  # (stars, private)
        min_size=n,
        max_size=n,
    )
)
sorts = st.sampled_from(["newest", "favorites"])
steps = st.lists(
    st.tuples(
        st.sampled_from(["next", "next", "previous", "add", "delete", "star"]),
        st.integers(min_value=0, max_value=1000),
    ),
    max_size=25,
)


async def _add(storage: Storage, characters: tuple[int, int], stars: int, private: bool) -> None:
    character = characters[1] if private else characters[0]
    await storage.db.execute(
        "INSERT INTO images (guild_id, character_id, owner_id, file_path, width, height, mime,"
        " prompt, model, favorite_count, created_at)"
        " VALUES (?, ?, ?, 'x.png', 1, 1, 'image/png', 'p', 'm', ?, 0)",
        (GUILD, character, OTHER, stars),
    )


async def _open(tmp: Path, seed: list[tuple[int, bool]]) -> tuple[Storage, tuple[int, int]]:
    storage = Storage(tmp / "bot.sqlite3")
    await storage.open()
    public = await storage.characters.create(
        guild_id=GUILD, owner_id=OTHER, name="Aiko", sheet={}, style="cel"
    )
    hidden = await storage.characters.create(
        guild_id=GUILD, owner_id=OTHER, name="Secret", sheet={}, style="cel"
    )
    await storage.gallery.set_private(GUILD, hidden, True)
    for stars, private in seed:
        await _add(storage, (public, hidden), stars, private)
    return storage, (public, hidden)


@contextlib.asynccontextmanager
async def _gallery(
    seed: list[tuple[int, bool]],
) -> AsyncIterator[tuple[Storage, tuple[int, int], GalleryService]]:
    """A fresh database seeded with ``seed`` and the gallery service over it; closed after."""
    with tempfile.TemporaryDirectory() as tmp:
        storage, characters = await _open(Path(tmp), seed)
        service = GalleryService(storage, ImageStore(Path(tmp) / "images"), CATALOG)
        try:
            yield storage, characters, service
        finally:
            await storage.close()


def _key(sort: GallerySort, entries: Sequence[GalleryEntry]) -> list[tuple[int, int]]:
    return [(e.image.favorite_count if sort == "favorites" else 0, e.image.id) for e in entries]


async def _read(service: GalleryService, request: GalleryRequest) -> PageSlice:
    total = await service.storage.gallery.count(request.as_filter())
    return await service.read_page(request, total)


def _after(request: GalleryRequest, page: PageSlice, *, backward: bool) -> GalleryRequest:
    """What ▶ (or ◀ with ``backward``) on this page asks for, as the buttons carry it."""
    entry = page.entries[0] if backward else page.entries[-1]
    target = page.page - 1 if backward else page.page + 1
    # The same filter (a character's, too), from this page's edge.
    return replace(request, page=max(0, target), cursor=Keyset.of(entry.image), backward=backward)


async def walk(
    service: GalleryService, request: GalleryRequest, total: int
) -> tuple[list[list[int]], list[list[int]]]:
    """The pages ▶ shows from the first to the last, and ◀ from the last to the first,
    checking each page's number and where its tiles' numbers start."""
    pages = max(1, -(-total // PAGE_SIZE))
    forward: list[list[int]] = []
    page: PageSlice = await _read(service, request)
    while True:
        assert page.page == len(forward) and page.start == len(forward) * PAGE_SIZE
        forward.append([e.image.id for e in page.entries])
        if not page.has_next:
            break
        assert len(forward) < pages  # no endless ▶
        page = await _read(service, _after(request, page, backward=False))
    assert len(forward) == pages
    backward: list[list[int]] = []
    page = await _read(service, replace(request, page=pages - 1))
    while True:
        assert page.page == pages - 1 - len(backward)
        backward.append([e.image.id for e in page.entries])
        if page.page == 0:
            break
        page = await _read(service, _after(request, page, backward=True))
    return forward, backward


@settings(max_examples=60, deadline=None)
@given(seed=pictures, sort=sorts)
def test_forward_and_back_show_each_picture_once_in_order(
    seed: list[tuple[int, bool]], sort: GallerySort
) -> None:
    async def run() -> None:
        async with _gallery(seed) as (storage, _, service):
            request = GalleryRequest(GUILD, VIEWER, sort=sort)
            everything = await storage.gallery.page(request.as_filter(), limit=1000, offset=0)
            expected = [e.image.id for e in everything]
            total = len(expected)
            assert _key(sort, everything) == sorted(_key(sort, everything), reverse=True)
            forward, backward = await walk(service, request, total)
            assert [i for ids in forward for i in ids] == expected
            assert backward == forward[::-1]

    asyncio.run(run())


@settings(max_examples=60, deadline=None)
@given(seed=pictures, sort=sorts, moves=steps)
def test_pictures_coming_and_going_between_presses_never_break_a_page(
    seed: list[tuple[int, bool]], sort: GallerySort, moves: list[tuple[str, int]]
) -> None:
    async def run() -> None:
        async with _gallery(seed) as (storage, characters, service):
            request = GalleryRequest(GUILD, VIEWER, sort=sort)
            page = await _read(service, request)

            async def visible() -> list[int]:
                rows = await storage.gallery.page(request.as_filter(), limit=1000, offset=0)
                return [e.image.id for e in rows]

            for move, n in moves:
                if move == "add":
                    await _add(storage, characters, n % 4, n % 5 == 0)
                elif move in ("delete", "star"):
                    shown = await visible()
                    if shown:
                        target = shown[n % len(shown)]
                        if move == "delete":
                            await storage.db.execute("DELETE FROM images WHERE id = ?", (target,))
                        else:
                            await storage.db.execute(
                                "UPDATE images SET favorite_count = ? WHERE id = ?",
                                (n % 4, target),
                            )
                elif page.entries and (
                    (move == "next" and page.has_next) or (move == "previous" and page.page > 0)
                ):
                    backward = move == "previous"
                    cursor = _after(request, page, backward=backward)
                    page = await _read(service, cursor)
                    now = await visible()
                    ids = [e.image.id for e in page.entries]
                    assert 0 < len(ids) <= PAGE_SIZE and set(ids) <= set(now)
                    assert _key(sort, page.entries) == sorted(
                        _key(sort, page.entries), reverse=True
                    )
                    # Consecutive in the current order: no gap or repeat inside a page.
                    first = now.index(ids[0])
                    assert now[first : first + len(ids)] == ids
                    pages = max(1, -(-len(now) // PAGE_SIZE))
                    assert 0 <= page.page < pages and 0 <= page.start < max(1, len(now))

            # However the gallery changed, ▶ from here reaches the end, each step forward.
            now = await visible()
            for _ in range(len(now) // PAGE_SIZE + 2):
                if not page.has_next or not page.entries:
                    break
                cursor = _after(request, page, backward=False)
                page = await _read(service, cursor)
                assert cursor.cursor is not None
                past = (
                    cursor.cursor.favorite_count if sort == "favorites" else 0,
                    cursor.cursor.image_id,
                )
                # Strictly past the cursor, unless everything past it is gone (the last page).
                assert all(key < past for key in _key(sort, page.entries)) or not page.has_next
            else:
                raise AssertionError("▶ never reached the last page")

    asyncio.run(run())


async def test_a_page_button_with_a_cursor_fits_discord_and_reads_back() -> None:
    """The longest ▶ custom_id stays within Discord's 100 characters and parses back."""
    from cogs.gallery.views import GalleryNavButton

    snowflake = 2**64 - 1  # the largest id Discord can give (20 digits)
    button = GalleryNavButton(
        "n", snowflake, 11_111, "favorites", "server", snowflake, 9_999_999_999,
        Keyset(9_999_999_999, 999_999),
    )  # fmt: skip
    custom_id = button.item.custom_id
    assert custom_id is not None and len(custom_id) <= 100
    match = button.template.fullmatch(custom_id)
    assert match is not None
    back = await GalleryNavButton.from_custom_id(None, button.item, match)  # type: ignore[arg-type]
    assert (back.cursor, back.page, back.backward) == (
        Keyset(9_999_999_999, 999_999),
        11_111,
        False,
    )
    # Buttons posted before cursors existed still parse (no cursor: by page number).
    old = button.template.fullmatch("gal:p:5:3:n:s:0:0")
    assert old is not None
    before = await GalleryNavButton.from_custom_id(None, button.item, old)  # type: ignore[arg-type]
    assert before.cursor is None and before.backward and before.page == 3
