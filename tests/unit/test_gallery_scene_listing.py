"""A character's gallery filter with scenes (issue #22): its own pictures and every scene
it is in, paged by keyset (``character_pictures``, migration 0011).

Property: whatever happens (pictures and scenes made, starred and deleted, a scene hidden
from one character by its owner, characters deleted or members erased with /mydata
delete, which takes their characters out of others' scenes), each character's filter,
walked ▶ from the first page to the last and ◀ back from the last, shows exactly the
pictures a plain model says it lists, each once, in page order, and the page count
agrees. The model knows nothing of the table or its triggers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from bot.gallery import GalleryRequest, GalleryService
from bot.i18n import Catalog
from bot.images.store import ImageStore
from bot.records import GallerySort
from tests.storage_helpers import StorageMachine, run_machine
from tests.unit.test_gallery_keyset import walk

GUILD, VIEWER = 1, 10
ALICE, BOB, CAROL = 21, 22, 23
# (owner, name, private): Bob's Ren is in most scenes; Alice's Secret is private.
CHARACTERS = [(BOB, "Ren", False), (ALICE, "Aiko", False), (ALICE, "Secret", True),
              (CAROL, "Mika", False)]  # fmt: skip
CATALOG = Catalog.load()


@dataclass(slots=True)
class Picture:
    filed: int  # the character it is filed under
    maker: int
    stars: int
    scene: int | None = None


@dataclass(slots=True)
class Model:
    """What the gallery should list, kept by hand."""

    owners: dict[int, int] = field(default_factory=dict)  # alive character -> owner
    private: set[int] = field(default_factory=set)
    pictures: dict[int, Picture] = field(default_factory=dict)
    scenes: dict[int, list[tuple[int, bool]]] = field(default_factory=dict)  # (character, hidden)

    def listed(self, character: int, sort: GallerySort) -> list[int]:
        def shown(p: Picture) -> bool:
            if p.filed in self.private:
                return False  # filed under a private character: not for this viewer
            if p.scene is None:
                return p.filed == character
            return (character, False) in self.scenes[p.scene]

        ids = [i for i, p in self.pictures.items() if shown(p)]
        if sort == "favorites":
            return sorted(ids, key=lambda i: (self.pictures[i].stars, i), reverse=True)
        return sorted(ids, reverse=True)

    def remove_characters(self, going: set[int]) -> None:
        """As bot/storage/removal.py: out of every scene first (each scene refiled under
        its first character left), then the pictures still filed under them go."""
        for scene, cast in self.scenes.items():
            self.scenes[scene] = [(c, hidden) for c, hidden in cast if c not in going]
            if self.scenes[scene]:
                for picture in self.pictures.values():
                    if picture.scene == scene:
                        picture.filed = self.scenes[scene][0][0]
        self.pictures = {i: p for i, p in self.pictures.items() if p.filed not in going}
        for character in going:
            del self.owners[character]


class CharacterListings(StorageMachine):
    @initialize()
    def start(self) -> None:
        self.model = Model()
        self.service = GalleryService(self.storage, ImageStore(self.folder / "images"), CATALOG)
        self.jobs = 0
        for owner, name, private in CHARACTERS:
            character = self.run(
                self.storage.characters.create(
                    guild_id=GUILD, owner_id=owner, name=name, sheet={}, style="cel"
                )
            )
            if private:
                self.run(self.storage.gallery.set_private(GUILD, character, True))
                self.model.private.add(character)
            self.model.owners[character] = owner

    def insert(self, picture: Picture) -> None:
        image_id = self.run(
            self.storage.db.insert(
                "INSERT INTO images (guild_id, character_id, owner_id, file_path, width, height,"
                " mime, prompt, model, favorite_count, created_at, scene_id)"
                " VALUES (?, ?, ?, 'x.png', 1, 1, 'image/png', 'p', 'm', ?, 0, ?)",
                (GUILD, picture.filed, picture.maker, picture.stars, picture.scene),
            )
        )
        self.model.pictures[image_id] = picture

    # --- the world changes ---------------------------------------------------------------

    @rule(data=st.data(), stars=st.integers(0, 3), count=st.integers(1, 6))
    def own_pictures(self, data: st.DataObject, stars: int, count: int) -> None:
        character = data.draw(st.sampled_from(sorted(self.model.owners)))
        for n in range(count):
            self.insert(Picture(character, self.model.owners[character], (stars + n) % 4))

    @precondition(lambda self: len(self.model.owners) >= 2)
    @rule(data=st.data(), stars=st.integers(0, 3), count=st.integers(1, 3))
    def scene(self, data: st.DataObject, stars: int, count: int) -> None:
        """A scene as the runner records it: the cast linked, then its pictures, filed
        under the first character (bot/jobs/runner.py)."""
        cast = data.draw(
            st.lists(
                st.sampled_from(sorted(self.model.owners)), min_size=2, max_size=3, unique=True
            )
        )
        maker = data.draw(st.sampled_from([ALICE, BOB, CAROL]))
        self.jobs += 1
        self.run(
            self.storage.db.execute(
                "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, request_json,"
                " image_count, created_at) VALUES (?, ?, 1, ?, 'scene', '{}', 1, 0)",
                (self.jobs, GUILD, maker),
            )
        )
        scene = self.run(
            self.storage.scenes.record_cast(
                job_id=self.jobs, guild_id=GUILD, maker_id=maker, character_ids=cast
            )
        )
        self.model.scenes[scene] = [(c, False) for c in cast]
        for n in range(count):
            self.insert(Picture(cast[0], maker, (stars + n) % 4, scene))

    @precondition(lambda self: self.model.scenes)
    @rule(data=st.data(), owner=st.sampled_from([ALICE, BOB, CAROL]))
    def hide(self, data: st.DataObject, owner: int) -> None:
        """An owner takes a scene out of their characters' listings (the scene stays)."""
        scene = data.draw(st.sampled_from(sorted(self.model.scenes)))
        self.run(self.storage.scenes.hide_for_owner(scene, owner))
        self.model.scenes[scene] = [
            (c, hidden or self.model.owners[c] == owner) for c, hidden in self.model.scenes[scene]
        ]

    @precondition(lambda self: self.model.pictures)
    @rule(data=st.data(), stars=st.integers(0, 4), delete=st.booleans())
    def star_or_delete(self, data: st.DataObject, stars: int, delete: bool) -> None:
        picture = data.draw(st.sampled_from(sorted(self.model.pictures)))
        if delete:
            self.run(
                self.storage.deletions.delete_images(GUILD, [picture], take_down_messages=True)
            )
            del self.model.pictures[picture]
        else:
            self.run(
                self.storage.db.execute(
                    "UPDATE images SET favorite_count = ? WHERE id = ?", (stars, picture)
                )
            )
            self.model.pictures[picture].stars = stars

    @precondition(lambda self: len(self.model.owners) > 1)
    @rule(data=st.data())
    def delete_character(self, data: st.DataObject) -> None:
        """/character delete (Ren stays: there is always a listing to walk)."""
        character = data.draw(st.sampled_from(sorted(self.model.owners)[1:]))
        self.run(self.storage.deletions.delete_character(GUILD, character))
        self.model.remove_characters({character})

    @rule(member=st.sampled_from([ALICE, CAROL]))
    def erase_member(self, member: int) -> None:
        """/mydata delete: the member's pictures go, then their characters (out of others'
        scenes first)."""
        self.run(self.storage.deletions.delete_member_data(GUILD, member))
        self.model.pictures = {i: p for i, p in self.model.pictures.items() if p.maker != member}
        self.model.remove_characters({c for c, o in self.model.owners.items() if o == member})

    # --- what members see ----------------------------------------------------------------

    @invariant()
    def every_scenes_cast_reads_back_in_one_query_in_order(self) -> None:
        # The gallery names a page's scene tiles from this one read (GalleryService.tile_labels).
        if not hasattr(self, "model"):
            return
        casts = self.run(self.storage.scenes.members_of(list(self.model.scenes)))
        for scene, cast in self.model.scenes.items():
            read = [(m.character.id, m.hidden) for m in casts.get(scene, [])]
            assert read == cast, scene

    @invariant()
    def every_listing_pages_forward_and_back_once_in_order(self) -> None:
        if not hasattr(self, "model"):
            return
        for character in sorted(set(self.model.owners) - self.model.private):
            for sort in ("newest", "favorites"):
                request = GalleryRequest(GUILD, VIEWER, sort=sort, character_id=character)
                expected = self.model.listed(character, sort)
                total = self.run(self.storage.gallery.count(request.as_filter()))
                assert total == len(expected), (character, sort)
                forward, backward = self.run(walk(self.service, request, total))
                assert [i for page in forward for i in page] == expected, (character, sort)
                assert backward == forward[::-1]


def test_each_characters_filter_lists_its_pictures_and_visible_scenes_once_in_order(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(CharacterListings, tmp_path, storage_dialect, request, examples=50, steps=20)
