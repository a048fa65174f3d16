"""Random sequences against the real storage layer: no reference ever crosses a line.

Several members create, vary (forking each other's characters), delete pictures and
characters, make characters private, switch the server's gallery, erase their data, and
jobs run or fail in any order. After every step:

- no reference points at a missing row (SQLite's own foreign-key check, and the job and
  main-picture references the foreign keys do not cover);
- a main picture is always one of the character's own, and a character with pictures has one;
- no character or picture id is ever issued twice;
- the references a waiting variation would send now are pictures of its character's lineage
  that its member may see: another member's picture only through a fork of a character
  that is public in a public gallery;
- a character that was ever drawn is never removed by a failed job;
- nothing an erased member typed is left in any sheet or prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from bot.access import may_see, visible_character
from bot.errors import BotError
from bot.jobs.references import lineage, variation_references
from bot.records import CreateJobRequest, VaryJobRequest
from bot.storage import NewJob
from tests.storage_helpers import (
    StorageMachine,
    finish_with_one_picture,
    roomy_limits,
    run_machine,
)

GUILD = 10
MEMBERS = (1, 2, 3)


class TrustMachine(StorageMachine):
    def __init__(self) -> None:
        super().__init__()
        self.character_ids: set[int] = set()
        self.image_ids: set[int] = set()
        self.drawn: set[int] = set()
        self.deleted_on_purpose: set[int] = set()
        self.erased_words: set[str] = set()
        self.counter = 0

    # --- helpers ---------------------------------------------------------------------------

    def word(self, member: int) -> str:
        self.counter += 1
        return f"w{member}x{self.counter}q"

    def issued(self, kind: set[int], new_id: int) -> None:
        assert new_id not in kind, f"id {new_id} issued twice"
        kind.add(new_id)

    def rows(self, sql: str, *params: Any) -> list[Any]:
        return list(self.run(self.storage.db.fetch_all(sql, params)))

    def any_id(self, data: st.DataObject, table: str) -> int | None:
        ids = [
            r[0] for r in self.rows(f"SELECT id FROM {table} WHERE guild_id = ? ORDER BY id", GUILD)
        ]
        return data.draw(st.sampled_from(ids)) if ids else None

    async def finish(self, job_id: int) -> None:
        """Run a waiting job as the runner would: references chosen now, then stored."""
        job = await self.storage.jobs.get(job_id)
        assert job is not None
        character = await self.storage.characters.get(job.character_id or 0)
        if character is None:
            await self.storage.jobs.fail(job_id, "character_gone")
            return
        if job.kind == "vary":
            references = await variation_references(
                self.storage, character, job.user_id, parent_image_id=job.parent_image_id
            )
            await self.check_references(job.user_id, character.id, references)
            if not references:
                await self.storage.jobs.fail(job_id, "no_reference")
                return
        prompt = json.dumps(character.sheet)
        ids = await finish_with_one_picture(
            self.storage,
            job,
            f"{GUILD}/{job_id}.png",
            prompt=prompt,
            input_tokens=0,
            output_tokens=0,
        )
        for new_id in ids or []:
            self.issued(self.image_ids, new_id)
        if ids:
            self.drawn.add(character.id)

    async def check_references(self, member: int, character_id: int, refs: list[Any]) -> None:
        config = await self.storage.guilds.config(GUILD)
        character = await self.storage.characters.get(character_id)
        assert character is not None and character.owner_id == member
        chain = {c.id for c in await lineage(self.storage, character, member)}
        for image in refs:
            owner_of_picture = await self.storage.characters.get(image.character_id)
            assert owner_of_picture is not None
            assert image.guild_id == GUILD
            assert image.character_id in chain, "a reference outside the character's lineage"
            assert may_see(owner_of_picture, member, config)
            if owner_of_picture.owner_id != member:
                # Only through a fork of a character that is public in a public gallery.
                assert not owner_of_picture.private and config.gallery_public

    # --- what members do -------------------------------------------------------------------

    @rule(member=st.sampled_from(MEMBERS), private=st.booleans(), draw_now=st.booleans())
    def create(self, member: int, private: bool, draw_now: bool) -> None:
        async def go() -> None:
            word = self.word(member)
            character_id = await self.storage.characters.create(
                guild_id=GUILD,
                owner_id=member,
                name=f"C{self.counter}",
                sheet={"name": f"C{self.counter}", "appearance": word},
                style="cel",
            )
            self.issued(self.character_ids, character_id)
            if private:
                await self.storage.gallery.set_private(GUILD, character_id, True)
            job_id = (
                await self.storage.jobs.insert_job(
                    NewJob(
                        GUILD,
                        5,
                        member,
                        "create",
                        CreateJobRequest("1024x1024"),
                        1,
                        "en",
                        character_id=character_id,
                    ),
                    roomy_limits(),
                )
            ).id
            if draw_now:
                await self.finish(job_id)

        self.run(go())

    @rule(data=st.data(), member=st.sampled_from(MEMBERS), draw_now=st.booleans())
    def vary(self, data: st.DataObject, member: int, draw_now: bool) -> None:
        character_id = self.any_id(data, "characters")
        image_id = self.any_id(data, "images") if data.draw(st.booleans()) else None
        if character_id is None:
            return

        async def go() -> None:
            try:
                character = await visible_character(self.storage, GUILD, member, character_id)
            except BotError:
                return
            refs = await variation_references(
                self.storage, character, member, parent_image_id=image_id
            )
            if not refs:
                return  # the member is told there is nothing to work from
            mine = character.owner_id == member
            job_id = (
                await self.storage.jobs.insert_job(
                    NewJob(
                        GUILD,
                        5,
                        member,
                        "vary",
                        VaryJobRequest("1024x1024", change="waving"),
                        1,
                        "en",
                        character_id=character.id if mine else None,
                        parent_image_id=refs[0].id,
                    ),
                    roomy_limits(),
                    fork_of=None if mine else character,
                )
            ).id
            job = await self.storage.jobs.get(job_id)
            assert job is not None and job.character_id is not None
            if job.character_id not in self.character_ids:
                self.issued(self.character_ids, job.character_id)
            if draw_now:
                await self.finish(job_id)

        self.run(go())

    @rule(data=st.data(), succeed=st.booleans())
    def run_waiting_job(self, data: st.DataObject, succeed: bool) -> None:
        waiting = [
            r[0] for r in self.rows("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id")
        ]
        if not waiting:
            return
        job_id = data.draw(st.sampled_from(waiting))
        if succeed:
            self.run(self.finish(job_id))
        else:
            self.run(self.storage.jobs.fail(job_id, "upstream"))

    @rule(data=st.data())
    def cancel_waiting_job(self, data: st.DataObject) -> None:
        waiting = [
            r[0] for r in self.rows("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id")
        ]
        if waiting:
            self.run(self.storage.jobs.cancel(data.draw(st.sampled_from(waiting))))

    @rule(data=st.data())
    def delete_picture(self, data: st.DataObject) -> None:
        image_id = self.any_id(data, "images")
        if image_id is not None:
            self.run(
                self.storage.deletions.delete_images(GUILD, [image_id], take_down_messages=True)
            )

    @rule(data=st.data())
    def delete_character(self, data: st.DataObject) -> None:
        character_id = self.any_id(data, "characters")
        if character_id is not None:
            self.deleted_on_purpose.add(character_id)
            self.run(self.storage.deletions.delete_character(GUILD, character_id))

    @rule(data=st.data(), private=st.booleans())
    def make_private(self, data: st.DataObject, private: bool) -> None:
        character_id = self.any_id(data, "characters")
        if character_id is not None:
            self.run(self.storage.gallery.set_private(GUILD, character_id, private))

    @rule(public=st.booleans())
    def switch_gallery(self, public: bool) -> None:
        self.run(self.storage.guilds.update(GUILD, gallery_public=public))

    @rule(member=st.sampled_from(MEMBERS))
    def erase_my_data(self, member: int) -> None:
        owned = self.rows(
            "SELECT id, sheet_json FROM characters WHERE guild_id = ? AND owner_id = ?",
            GUILD,
            member,
        )
        for character_id, sheet in owned:
            self.deleted_on_purpose.add(character_id)
            appearance = json.loads(sheet).get("appearance", "")
            if appearance.startswith(f"w{member}x"):  # their own words, not a fork's copy
                self.erased_words.add(appearance)
        self.run(self.storage.deletions.delete_member_data(GUILD, member))

    # --- what must always hold ---------------------------------------------------------------

    @invariant()
    def no_reference_points_at_a_missing_row(self) -> None:
        if self.storage.db.dialect == "sqlite":  # PostgreSQL checks every key as it goes
            assert self.rows("PRAGMA foreign_key_check") == []
        dangling = self.rows(
            "SELECT id FROM jobs WHERE state IN ('queued', 'running')"
            " AND parent_image_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM images WHERE images.id = jobs.parent_image_id)"
        )
        assert dangling == []

    @invariant()
    def main_pictures_are_the_characters_own(self) -> None:
        foreign = self.rows(
            "SELECT c.id FROM characters AS c JOIN images AS i ON i.id = c.canonical_image_id"
            " WHERE i.character_id != c.id"
        )
        assert foreign == []
        missing = self.rows(
            "SELECT c.id FROM characters AS c WHERE c.canonical_image_id IS NULL"
            " AND EXISTS (SELECT 1 FROM images WHERE images.character_id = c.id)"
        )
        assert missing == []

    @invariant()
    def waiting_variations_reference_only_what_their_member_may_see(self) -> None:
        async def check() -> None:
            for job in await self.storage.jobs.pending():
                if job.kind != "vary" or job.character_id is None:
                    continue
                character = await self.storage.characters.get(job.character_id)
                if character is None:
                    continue
                refs = await variation_references(
                    self.storage, character, job.user_id, parent_image_id=job.parent_image_id
                )
                await self.check_references(job.user_id, character.id, refs)

        self.run(check())

    @invariant()
    def drawn_characters_stay_until_deleted(self) -> None:
        present = {r[0] for r in self.rows("SELECT id FROM characters")}
        assert self.drawn - self.deleted_on_purpose <= present

    @invariant()
    def erased_words_are_gone(self) -> None:
        if not self.erased_words:
            return
        text = "\n".join(
            f"{row[0]}: {value}"
            for row in self.rows(
                "SELECT 'character ' || id, sheet_json, NULL FROM characters"
                " UNION ALL SELECT 'picture ' || id, prompt, NULL FROM images"
                " UNION ALL SELECT 'job ' || id, prompt, request_json FROM jobs"
            )
            for value in row[1:]
            if value is not None
        )
        for word in self.erased_words:
            assert word not in text, f"{word!r} survived /mydata delete"


def test_trust_holds_under_random_sequences(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(
        TrustMachine,
        tmp_path,
        storage_dialect,
        request,
        examples=100,
        steps=30,
        also_suppress=(HealthCheck.filter_too_much,),
    )
