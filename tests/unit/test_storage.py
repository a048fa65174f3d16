"""Migrations, the command-sync hash and atomic quota reservation against real SQLite."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.app import command_tree_hash
from bot.errors import BudgetReached, QueueFull, QuotaExhausted
from bot.records import CreateJobRequest, Job
from bot.storage import Limits, NewJob, Storage
from bot.storage.database import migration_scripts
from tests.storage_helpers import finish_with_one_picture, new_job


async def open_storage(path: Path) -> Storage:
    storage = Storage(path)
    await storage.open()
    return storage


async def test_migrations_apply_once_and_are_idempotent(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    storage = await open_storage(db_path)
    latest = migration_scripts()[-1][0]
    assert await storage.db.fetch_value("PRAGMA user_version") == latest
    assert await storage.db.fetch_value("PRAGMA journal_mode") == "wal"
    await storage.meta.set("probe", "kept")
    assert await storage.db.migrate() == []  # nothing left to apply
    await storage.close()

    again = await open_storage(db_path)  # a restart
    assert await again.meta.get("probe") == "kept"
    assert await again.db.fetch_value("PRAGMA user_version") == latest
    await again.close()


def test_command_hash_changes_only_with_the_payload() -> None:
    a = [{"name": "character", "options": [{"name": "create"}]}]
    b = [{"options": [{"name": "create"}], "name": "character"}]
    c = [{"name": "character", "options": [{"name": "vary"}]}]
    assert command_tree_hash(a) == command_tree_hash(b)
    assert command_tree_hash(a) != command_tree_hash(c)


def limits(**overrides: object) -> Limits:
    values: dict[str, object] = {
        "member_pending_cap": 100,
        "guild_pending_cap": 100,
        "member_daily": 5,
        "member_hourly": None,
        "server_daily": None,
        "day_start": time.time() - 60,
        "hour_start": time.time() - 60,
    }
    values.update(overrides)
    return Limits(**values)  # type: ignore[arg-type]


async def test_twenty_simultaneous_reservations_against_five_accept_exactly_five(
    storage: Storage,
) -> None:
    results = await asyncio.gather(
        *(storage.jobs.insert_job(new_job(), limits()) for _ in range(20)), return_exceptions=True
    )
    accepted = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, QuotaExhausted)]
    assert len(accepted) == 5 and len(refused) == 15
    # A failed job is refunded: one more fits afterwards.
    assert await storage.jobs.fail(accepted[0].id, "upstream_busy")
    assert isinstance(await storage.jobs.insert_job(new_job(), limits()), Job)
    with pytest.raises(QuotaExhausted):
        await storage.jobs.insert_job(new_job(), limits())


async def test_jobs_that_fill_a_dollar_budget_exactly_are_all_accepted(storage: Storage) -> None:
    # Three $0.10 jobs sum to $0.30000000000000004 in floats: none may be refused for that.
    budget = limits(member_daily=None, server_daily_usd=0.3)
    accepted = [
        await storage.jobs.insert_job(new_job(user_id=n, reserved_usd=0.1), budget)
        for n in range(3)
    ]
    assert all(isinstance(job, Job) for job in accepted)
    with pytest.raises(BudgetReached):
        await storage.jobs.insert_job(new_job(user_id=9, reserved_usd=0.01), budget)


async def test_pending_caps(storage: Storage) -> None:
    await storage.jobs.insert_job(new_job(user_id=1), limits(member_pending_cap=1))
    with pytest.raises(QueueFull) as info:
        await storage.jobs.insert_job(new_job(user_id=1), limits(member_pending_cap=1))
    assert info.value.message_key == "error.member_queue_full"
    with pytest.raises(QueueFull) as guild_info:
        await storage.jobs.insert_job(new_job(user_id=2), limits(guild_pending_cap=1))
    assert guild_info.value.message_key == "error.guild_queue_full"


async def finish(storage: Storage, job_id: int, character_id: int) -> list[int] | None:
    """Finish a job with one tiny picture of ``character_id``, as the runner would (the id
    it read when it started: the character may have been deleted since)."""
    job = await storage.jobs.get(job_id)
    assert job is not None
    return await finish_with_one_picture(storage, job, "10/a.png", character_id=character_id)


async def test_deleting_a_character_keeps_its_jobs_counted_against_the_quota(
    storage: Storage,
) -> None:
    character_id = await storage.characters.create(
        guild_id=10, owner_id=1, name="Aiko", sheet={"name": "Aiko"}, style="cel"
    )
    job_id = (
        await storage.jobs.insert_job(
            NewJob(
                guild_id=10,
                channel_id=20,
                user_id=1,
                kind="create",
                request=CreateJobRequest("1024x1024"),
                image_count=1,
                locale="en",
                character_id=character_id,
            ),
            limits(),
        )
    ).id
    ids = await finish(storage, job_id, character_id)
    assert ids and len(ids) == 1
    await storage.deletions.delete_character(10, character_id)
    assert await storage.images.get(ids[0]) is None  # the pictures go with the character
    job = await storage.jobs.get(job_id)
    assert job is not None and job.charged and job.character_id is None
    assert await storage.quotas.server_images(10, 0) == 1  # deleting is no way to get quota back


async def test_finishing_a_job_whose_character_was_deleted_stores_nothing(storage: Storage) -> None:
    character_id = await storage.characters.create(
        guild_id=10, owner_id=1, name="Aiko", sheet={"name": "Aiko"}, style="cel"
    )
    job_id = (
        await storage.jobs.insert_job(
            NewJob(
                10,
                20,
                1,
                "create",
                CreateJobRequest("1024x1024"),
                1,
                "en",
                character_id=character_id,
            ),
            limits(),
        )
    ).id
    await storage.deletions.delete_character(10, character_id)
    result = await finish(storage, job_id, character_id)
    assert result is None
    assert await storage.db.fetch_value("SELECT COUNT(*) FROM images") == 0


async def test_migration_5_keeps_ids_and_never_reissues_a_remembered_one(tmp_path: Path) -> None:
    """A database made before ids were protected: ids kept, dangling references cleared,
    and the next ids start above every id that anything still mentions."""
    import sqlite3

    db_path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(db_path) as raw:
        for version, _name, sql in migration_scripts()[:4]:
            raw.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        raw.executescript(
            "INSERT INTO characters (id, guild_id, owner_id, name, sheet_json, style,"
            " canonical_image_id, created_at) VALUES (1, 10, 1, 'Aiko', '{}', 'cel', 2, 0),"
            " (2, 10, 2, 'Bea', '{}', 'cel', 1, 0);"
            "INSERT INTO images (id, guild_id, character_id, owner_id, file_path, width, height,"
            " mime, prompt, model, created_at) VALUES"
            " (1, 10, 1, 1, 'a.png', 8, 8, 'image/png', 'p', 'm', 0),"
            " (2, 10, 1, 1, 'b.png', 8, 8, 'image/png', 'p', 'm', 0);"
            # A queued variation of picture 7, deleted before this migration (its id freed).
            "INSERT INTO jobs (id, guild_id, channel_id, user_id, kind, state, character_id,"
            " parent_image_id, request_json, image_count, created_at)"
            " VALUES (1, 10, 5, 1, 'vary', 'queued', 1, 7, '{}', 1, 0);"
        )
    storage = await open_storage(db_path)
    assert await storage.db.fetch_value("PRAGMA user_version") >= 5
    aiko, bea = await storage.characters.get(1), await storage.characters.get(2)
    assert aiko is not None and aiko.canonical_image_id == 2  # kept: her own picture
    # Bea's main picture was someone else's: she has none of her own, so none.
    assert bea is not None and bea.canonical_image_id is None
    job = await storage.jobs.get(1)
    assert job is not None and job.parent_image_id is None  # pointed at a deleted picture
    assert await storage.db.fetch_value("PRAGMA foreign_key_check") is None
    job_id = (
        await storage.jobs.insert_job(
            NewJob(10, 20, 1, "create", CreateJobRequest("1024x1024"), 1, "en", character_id=1),
            limits(),
        )
    ).id
    ids = await finish(storage, job_id, 1)
    assert ids is not None and ids[0] > 7  # never the id the old job remembered
    await storage.deletions.delete_images(10, ids, take_down_messages=True)
    again = await finish(
        storage,
        (
            await storage.jobs.insert_job(
                NewJob(10, 20, 1, "create", CreateJobRequest("1024x1024"), 1, "en", character_id=1),
                limits(),
            )
        ).id,
        1,
    )
    assert again is not None and again[0] > ids[0]  # the newest id, deleted, stays retired
    await storage.close()


async def test_a_delivered_or_cancelled_job_forgets_its_token_unless_a_notice_needs_it(
    storage: Storage,
) -> None:
    token = {"application_id": 5, "interaction_token": "secret", "interaction_at": time.time()}
    answered, refused, cancelled = [
        (await storage.jobs.insert_job(new_job(user_id=n, **token), limits())).id for n in (1, 2, 3)
    ]
    assert isinstance(answered, int) and isinstance(refused, int) and isinstance(cancelled, int)
    await storage.jobs.mark_delivered(answered, 77)
    await storage.jobs.mark_delivered(refused, None, keep_token=True)
    assert await storage.jobs.cancel(cancelled)
    done, kept, gone = [await storage.jobs.get(i) for i in (answered, refused, cancelled)]
    assert done is not None and done.delivered and done.interaction_token is None
    assert done.response_message_id == 77
    assert kept is not None and kept.delivered and kept.interaction_token == "secret"
    assert gone is not None and gone.interaction_token is None
