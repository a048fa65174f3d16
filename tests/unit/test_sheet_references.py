"""The reference sheet leads a variation's references (bot.jobs.references, issue #23).

Invariant, over random sequences of pictures, sheets, deletions and privacy changes on a
character and a member's fork of it: the first reference is the newest sheet the member may
use (the fork's own before its original's), no picture is sent twice, at most
MAX_VARIATION_REFERENCES are sent, and every one is a picture of the lineage the member may
see. Without ``sheet_first`` (the picture a variation starts from) no sheet is put first
unless it was asked for.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.images.store import ImageStore
from bot.jobs.references import MAX_VARIATION_REFERENCES, variation_references
from bot.records import ImageKind
from tests.storage_helpers import Seeder, open_storage

GUILD, ALICE, BOB = 100, 1, 2

actions = st.lists(
    st.one_of(
        st.tuples(st.just("picture"), st.sampled_from(["original", "fork"])),
        st.tuples(st.just("sheet"), st.sampled_from(["original", "fork"])),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("private"), st.booleans()),
        st.tuples(st.just("favorite"), st.integers(0, 30)),
    ),
    max_size=14,
)


async def _check(steps: list[tuple[str, object]], folder: Path) -> None:
    async with open_storage(folder / "bot.sqlite3") as storage:
        seeder = Seeder(storage, ImageStore(folder / "images"))
        original = await seeder.character(GUILD, ALICE, "Aiko")
        fork = await seeder.character(GUILD, BOB, "Aiko (Bob)", forked_from=original)
        owners = {original: ALICE, fork: BOB}
        pictures: list[int] = [await seeder.picture(GUILD, original, ALICE)]
        sheets: dict[int, list[int]] = {original: [], fork: []}
        for action, value in steps:
            if action in ("picture", "sheet"):
                character = original if value == "original" else fork
                image_id = await seeder.picture(GUILD, character, owners[character])
                pictures.append(image_id)
                if action == "sheet":
                    await storage.db.execute(
                        "UPDATE images SET kind = 'sheet' WHERE id = ?", (image_id,)
                    )
                    sheets[character].append(image_id)
            elif action == "delete" and pictures:
                gone = pictures[int(str(value)) % len(pictures)]
                await storage.deletions.delete_images(GUILD, [gone], take_down_messages=True)
                pictures.remove(gone)
                for kept in sheets.values():
                    if gone in kept:
                        kept.remove(gone)
            elif action == "private":
                await storage.gallery.set_private(GUILD, original, bool(value))
            elif action == "favorite" and pictures:
                await storage.images.set_favorite(
                    pictures[int(str(value)) % len(pictures)], ALICE, True
                )
        character = await storage.characters.get(fork)
        assert character is not None
        original_row = await storage.characters.get(original)
        assert original_row is not None
        reachable = [fork] if original_row.private else [fork, original]

        chosen = await variation_references(storage, character, BOB, parent_image_id=None)
        ids = [image.id for image in chosen]
        assert len(ids) == len(set(ids)) <= MAX_VARIATION_REFERENCES
        assert all(image.character_id in reachable for image in chosen)
        expected = next((sheets[c][-1] for c in reachable if sheets[c]), None)
        if expected is not None:
            assert ids[0] == expected
            assert chosen[0].kind == ImageKind.SHEET
        else:
            assert all(image.kind != ImageKind.SHEET for image in chosen[:1])

        plain = await variation_references(
            storage, character, BOB, parent_image_id=None, sheet_first=False
        )
        main = character.canonical_image_id
        if plain and plain[0].kind == ImageKind.SHEET:
            # Only a sheet that is the main picture itself, or the fallback picture.
            assert plain[0].id == main or len(plain) == 1


@settings(max_examples=40, deadline=None)
@given(steps=actions)
# The fork's own sheet beats its original's, even an older one.
@example(steps=[("sheet", "fork"), ("sheet", "original"), ("picture", "fork")])
def test_the_newest_usable_sheet_always_leads(steps: list[tuple[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_check(steps, Path(folder)))
