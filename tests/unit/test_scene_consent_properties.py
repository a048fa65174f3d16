"""The invariant of scenes: no reference picture crosses owners without consent.

Random sequences of characters (some forks, some with favorites, some filed-under scene
pictures), privacy, opt-out, gallery and server-setting changes, and scene requests (new
ones and edits of earlier scenes) run against the real storage layer. Every picture a
scene job would send, as the runner picks them (bot/jobs/scene_cast.py), must belong to
the requester's own character, or to a character that at that moment is public, opted in,
and allowed by the server, and must be a picture of that very character, never a scene.
A plain variation (or a sheet, avatar or cut-out) started from any picture, a scene's
included, sends no scene picture either (bot/jobs/references.py).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from bot.access import may_see
from bot.images.store import ImageStore
from bot.jobs.references import lineage, variation_references
from bot.jobs.scene_cast import SceneConsentWithdrawn, cast_at_run, scene_base
from bot.records import Character, GuildConfig, JobKind, SceneJobRequest, StoredImage
from bot.storage import Storage
from tests.storage_helpers import JOB, Seeder, StorageMachine, run_machine

GUILD = 7
MEMBERS = (101, 102)


class SceneConsent(StorageMachine):
    @initialize()
    def start(self) -> None:
        self.seeder = Seeder(self.storage, ImageStore(self.folder / "images"))
        self.characters: list[int] = []
        self.scene_pictures: list[int] = []
        self.jobs = 0
        self.checked = 0
        # Open by default, so most requests get far enough to send something.
        self.run(self.storage.guilds.update(GUILD, scenes="any", gallery_public=True))

    # --- the world changes ---------------------------------------------------------------

    @rule(owner=st.sampled_from(MEMBERS), pictures=st.integers(1, 3))
    def add_character(self, owner: int, pictures: int) -> None:
        character = self.run(self.seeder.character(GUILD, owner, f"C{len(self.characters)}"))
        for _ in range(pictures):
            self.run(self.seeder.picture(GUILD, character, owner))
        self.characters.append(character)

    @precondition(lambda self: self.characters)
    @rule(owner=st.sampled_from(MEMBERS), data=st.data())
    def fork(self, owner: int, data: st.DataObject) -> None:
        """A fork starts with no picture of its own: the original's would be its fallback."""
        source = data.draw(st.sampled_from(self.characters))
        fork = self.run(self.seeder.character(GUILD, owner, "Fork", forked_from=source))
        self.characters.append(fork)

    @precondition(lambda self: self.characters)
    @rule(data=st.data(), private=st.booleans())
    def set_private(self, data: st.DataObject, private: bool) -> None:
        character = data.draw(st.sampled_from(self.characters))
        self.run(self.storage.gallery.set_private(GUILD, character, private))

    @precondition(lambda self: self.characters)
    @rule(data=st.data(), allowed=st.booleans())
    def opt(self, data: st.DataObject, allowed: bool) -> None:
        character = data.draw(st.sampled_from(self.characters))
        self.run(self.storage.scenes.set_allowed(GUILD, character, allowed))

    @precondition(lambda self: getattr(self, "scene_pictures", None))
    @rule(data=st.data(), private=st.booleans())
    def withdraw_from_a_scene(self, data: st.DataObject, private: bool) -> None:
        """One character of an earlier scene is made private or taken out of scenes."""
        picture = self.run(self.storage.images.get(data.draw(st.sampled_from(self.scene_pictures))))
        assert picture is not None
        members = self.run(self.storage.scenes.members(picture.scene_id or 0))
        character = data.draw(st.sampled_from(members)).character.id
        if private:
            self.run(self.storage.gallery.set_private(GUILD, character, True))
        else:
            self.run(self.storage.scenes.set_allowed(GUILD, character, False))

    @rule(
        mode=st.sampled_from(["any", "any", "own", "off"]),
        public=st.sampled_from([True, True, False]),
    )
    def server(self, mode: str, public: bool) -> None:
        self.run(self.storage.guilds.update(GUILD, scenes=mode, gallery_public=public))

    @precondition(lambda self: self.characters)
    @rule(data=st.data(), fan=st.sampled_from(MEMBERS))
    def favorite(self, data: st.DataObject, fan: int) -> None:
        character = data.draw(st.sampled_from(self.characters))
        pictures = self.run(self.storage.images.for_character(character))
        if pictures:
            self.run(self.storage.images.set_favorite(pictures[-1].id, fan, True))

    # --- members ask for scenes ---------------------------------------------------------

    @precondition(lambda self: len(self.characters) >= 2)
    @rule(requester=st.sampled_from(MEMBERS), data=st.data())
    def request_scene(self, requester: int, data: st.DataObject) -> None:
        # Mostly three or four: a scene that loses one character still has two to draw.
        size = min(len(self.characters), data.draw(st.sampled_from([2, 3, 4, 4])))
        chosen = data.draw(
            st.lists(st.sampled_from(self.characters), min_size=size, max_size=size, unique=True)
        )
        self.check_scene(requester, chosen, None)

    @precondition(lambda self: getattr(self, "scene_pictures", None))
    @rule(requester=st.sampled_from(MEMBERS), data=st.data())
    def vary_scene(self, requester: int, data: st.DataObject) -> None:
        """An edit of an earlier scene, asking for the characters it shows (as the Vary
        scene button does): the earlier picture must not carry a withdrawn character."""
        base = data.draw(st.sampled_from(self.scene_pictures))
        image = self.run(self.storage.images.get(base))
        assert image is not None
        members = self.run(self.storage.scenes.members(image.scene_id or 0))
        self.check_scene(requester, [m.character.id for m in members], base)

    @precondition(lambda self: getattr(self, "scene_pictures", None))
    @rule(requester=st.sampled_from(MEMBERS), data=st.data(), strong=st.booleans())
    def vary_from_a_picture(self, requester: int, data: st.DataObject, strong: bool) -> None:
        """A variation from a posted picture, a scene's among them (a scene is filed under
        its first character; opened from the gallery it once had plain Vary buttons): it
        sends only pictures of the character's own lineage that the member may see, and
        never a scene, which would carry the other characters in it past their owners'
        consent."""
        pictures = [*self.scene_pictures]
        for character_id in self.characters:
            pictures += [i.id for i in self.run(self.storage.images.for_character(character_id))]
        if not pictures:
            return
        parent = self.run(self.storage.images.get(data.draw(st.sampled_from(pictures))))
        assert parent is not None
        # The button varies the character the picture is filed under.
        character = self.run(self.storage.characters.get(parent.character_id))
        assert character is not None
        config = self.run(self.storage.guilds.config(GUILD))
        if not may_see(character, requester, config):
            return  # refused before anything is chosen (bot.access)
        chosen = self.run(
            variation_references(
                self.storage, character, requester, parent_image_id=parent.id, strong=strong
            )
        )
        chain = {c.id for c in self.run(lineage(self.storage, character, requester))}
        for image in chosen:
            assert image.scene_id is None, f"scene picture {image.id} sent by a variation"
            assert image.guild_id == GUILD and image.character_id in chain

    def check_scene(self, requester: int, chosen: list[int], base: int | None) -> None:
        self.jobs += 1
        job = dataclasses.replace(
            JOB,
            id=self.jobs,
            guild_id=GUILD,
            user_id=requester,
            kind=JobKind.SCENE,
            character_id=chosen[0],
            request=SceneJobRequest(
                size="1536x1024",
                setting="a picnic",
                character_ids=tuple(chosen),
                base_image_id=base,
            ),
        )
        try:
            cast = self.run(cast_at_run(self.storage, job))
        except SceneConsentWithdrawn:
            return
        config = self.run(self.storage.guilds.config(GUILD))
        sent: list[StoredImage] = []
        picture = self.run(scene_base(self.storage, job, cast))
        if picture is not None:
            sent.append(picture)
            for member in self.run(self.storage.scenes.members(picture.scene_id or 0)):
                self.assert_consents(member.character, requester, config)
        for member in cast:
            assert member.character.id in chosen
            for image in member.references:
                assert image.character_id == member.character.id and image.scene_id is None
                sent.append(image)
        for image in sent:
            assert image.guild_id == GUILD
            owner = self.run(self.storage.characters.get(image.character_id))
            assert owner is not None
            self.assert_consents(owner, requester, config)
        self.checked += 1
        self.record_scene(job.id, requester, [m.character.id for m in cast])

    def assert_consents(self, character: Character, requester: int, config: GuildConfig) -> None:
        assert config.scenes != "off"
        if character.owner_id == requester:
            return
        assert not character.private and character.scenes_allowed
        assert config.scenes == "any" and config.gallery_public

    def record_scene(self, job_id: int, maker: int, cast: list[int]) -> None:
        """The drawn scene as the runner records it: a favorited picture filed under the
        first character (a character's favorite, were scene pictures not kept apart)."""
        self.run(
            self.storage.db.execute(  # a job row, as the queue would have written it
                "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, request_json,"
                " image_count, created_at) VALUES (?, ?, 1, ?, 'scene', '{}', 1, ?)",
                (job_id, GUILD, maker, time.time()),
            )
        )
        scene_id = self.run(
            self.storage.scenes.record_cast(
                job_id=job_id, guild_id=GUILD, maker_id=maker, character_ids=cast
            )
        )
        picture = self.run(self.seeder.picture(GUILD, cast[0], maker))
        self.run(
            self.storage.db.execute(
                "UPDATE images SET scene_id = ?, favorite_count = 9 WHERE id = ?",
                (scene_id, picture),
            )
        )
        self.scene_pictures.append(picture)

    @invariant()
    def scene_pictures_are_never_main_pictures(self) -> None:
        if not getattr(self, "scene_pictures", None):
            return
        for character_id in self.characters:
            character = self.run(self.storage.characters.get(character_id))
            assert character is not None
            assert character.canonical_image_id not in self.scene_pictures


def test_no_reference_crosses_owners_without_consent(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(SceneConsent, tmp_path, storage_dialect, request, examples=40, steps=40)


async def test_an_earlier_scene_is_not_sent_once_one_of_its_characters_withdrew(
    tmp_path: Path,
) -> None:
    """The case the machine above reaches only now and then, spelled out: Carol's Mika
    leaves scenes after the picnic; Alice's edit of the picnic still draws Aiko and Ren,
    but the picnic picture, which shows Mika, is not sent."""
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    try:
        await storage.guilds.update(GUILD, scenes="any")
        seeder = Seeder(storage, ImageStore(tmp_path / "images"))
        cast = []
        for owner, name in ((101, "Aiko"), (102, "Ren"), (103, "Mika")):
            character = await seeder.character(GUILD, owner, name)
            await seeder.picture(GUILD, character, owner)
            cast.append(character)
        await storage.db.execute(
            "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, request_json,"
            " image_count, created_at) VALUES (1, ?, 1, 101, 'scene', '{}', 1, 0)",
            (GUILD,),
        )
        scene_id = await storage.scenes.record_cast(
            job_id=1, guild_id=GUILD, maker_id=101, character_ids=cast
        )
        picnic = await seeder.picture(GUILD, cast[0], 101)
        await storage.db.execute("UPDATE images SET scene_id = ? WHERE id = ?", (scene_id, picnic))
        edit = dataclasses.replace(
            JOB,
            guild_id=GUILD,
            user_id=101,
            kind=JobKind.SCENE,
            request=SceneJobRequest(
                size="1536x1024", setting="x", character_ids=tuple(cast), base_image_id=picnic
            ),
        )
        allowed = await cast_at_run(storage, edit)
        assert await scene_base(storage, edit, allowed) is not None

        await storage.scenes.set_allowed(GUILD, cast[2], False)
        allowed = await cast_at_run(storage, edit)
        assert [m.character.id for m in allowed] == cast[:2]
        assert await scene_base(storage, edit, allowed) is None
    finally:
        await storage.close()


async def test_a_variation_started_from_a_scene_picture_never_sends_it(tmp_path: Path) -> None:
    """The case the machine above shrinks slowly, spelled out: Alice's picnic is filed
    under Aiko and shows Bob's Ren, who then leaves scenes. Carol varies Aiko from the
    picnic picture (a Vary button under it): Aiko's own main picture is sent, the picnic
    is not."""
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    try:
        await storage.guilds.update(GUILD, scenes="any")
        seeder = Seeder(storage, ImageStore(tmp_path / "images"))
        aiko = await seeder.character(GUILD, 101, "Aiko")
        aiko_main = await seeder.picture(GUILD, aiko, 101)
        ren = await seeder.character(GUILD, 102, "Ren")
        await seeder.picture(GUILD, ren, 102)
        await storage.db.execute(
            "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, request_json,"
            " image_count, created_at) VALUES (1, ?, 1, 101, 'scene', '{}', 1, 0)",
            (GUILD,),
        )
        scene_id = await storage.scenes.record_cast(
            job_id=1, guild_id=GUILD, maker_id=101, character_ids=[aiko, ren]
        )
        picnic = await seeder.picture(GUILD, aiko, 101)
        await storage.db.execute("UPDATE images SET scene_id = ? WHERE id = ?", (scene_id, picnic))
        await storage.scenes.set_allowed(GUILD, ren, False)

        character = await storage.characters.get(aiko)
        assert character is not None
        for strong in (False, True):
            chosen = await variation_references(
                storage, character, 103, parent_image_id=picnic, strong=strong
            )
            assert [image.id for image in chosen] == [aiko_main]
    finally:
        await storage.close()
