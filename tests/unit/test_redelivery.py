"""Start-up redelivery posts a bounded number of jobs at a time (issue #17.3)."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.errors import BotError, ContentRefused
from bot.i18n import LOCALES, Catalog
from bot.jobs.posting import REDELIVERY_CONCURRENCY
from bot.jobs.queue import JobQueue
from bot.records import JobState
from tests import queue_helpers
from tests.queue_helpers import ALICE, ROOMY, running_queue
from tests.storage_helpers import JOB, finish_with_one_picture, new_job, open_storage


async def test_start_up_redelivery_is_bounded() -> None:
    waiting = [dataclasses.replace(JOB, id=i, state=JobState.DONE) for i in range(1, 13)]
    delivered: list[int] = []
    active = 0
    most = 0
    gate = asyncio.Event()
    changed = asyncio.Condition()

    async def job_done(job: Any, _character: Any, _images: Any) -> int:
        nonlocal active, most
        async with changed:
            active += 1
            most = max(most, active)
            changed.notify_all()
        await gate.wait()
        active -= 1
        return 1000 + job.id

    async def mark_delivered(job_id: int, _message_id: int | None) -> None:
        async with changed:
            delivered.append(job_id)
            changed.notify_all()

    async def returns(value: Any) -> Any:
        return value

    jobs = SimpleNamespace(
        recent_durations=lambda: returns([]),
        running_ids=lambda: returns([]),
        mark_delivered=mark_delivered,
    )
    leases = SimpleNamespace(
        take_over_running=lambda own: returns([]),
        requeue=lambda _ids: returns(0),
        waiting=lambda: returns([]),
        take_over_undelivered=lambda own: returns(waiting if own else []),
    )
    storage = SimpleNamespace(
        jobs=jobs,
        leases=leases,
        characters=SimpleNamespace(get=lambda _id: returns(SimpleNamespace(name="Aiko"))),
        images=SimpleNamespace(for_job=lambda _id: returns([SimpleNamespace(id=1)])),
    )
    store = SimpleNamespace(clean_temporary=lambda _older_than=0: 0, kept_answers=lambda: {})
    limiter = SimpleNamespace(acquire_slot=lambda: asyncio.Event().wait())
    settings = SimpleNamespace(
        retry_base_seconds=0.01, shares_queue=False, job_lease_seconds=60.0, queue_poll_seconds=2
    )
    parts: list[Any] = [storage, None, limiter, settings, store]
    queue = JobQueue(*parts)
    queue.observer = cast(Any, SimpleNamespace(job_done=job_done))
    await queue.start()
    async with changed:
        await asyncio.wait_for(
            changed.wait_for(lambda: active == REDELIVERY_CONCURRENCY), timeout=5
        )
    for _ in range(20):
        await asyncio.sleep(0)  # let any unbounded task show itself
    assert most == REDELIVERY_CONCURRENCY
    gate.set()
    async with changed:
        await asyncio.wait_for(changed.wait_for(lambda: len(delivered) == 12), timeout=5)
    assert most == REDELIVERY_CONCURRENCY and sorted(delivered) == list(range(1, 13))
    await queue.stop(grace=0.1)


async def test_a_failure_told_at_start_is_recorded_once_storage_works_again(
    tmp_path: Path,
) -> None:
    """A failure left untold by the last run is told at start; recording that its member
    was told meets a locked database: it is kept for the reconciler, not dropped (the job
    would stay untold in the database, and its member hear it again at the next start)."""
    async with open_storage(tmp_path / "bot.sqlite3") as storage:
        job_id = (await storage.jobs.insert_job(new_job(ALICE), ROOMY)).id
        assert await storage.jobs.fail(job_id, "unexpected")  # the run stopped before telling
        mark_delivered = storage.jobs.mark_delivered
        faults = [sqlite3.OperationalError("database is locked")]
        recorded = asyncio.Event()

        async def told_once_storage_works(job_id: int, message_id: int | None) -> None:
            if faults:
                raise faults.pop()
            await mark_delivered(job_id, message_id)
            recorded.set()

        storage.jobs.mark_delivered = told_once_storage_works  # type: ignore[method-assign]
        async with running_queue(storage) as (_, _, told):
            await told.wait_for("job_failed", job_id)
            await asyncio.wait_for(recorded.wait(), timeout=5)
        job = await storage.jobs.get(job_id)
        assert job is not None and job.delivered
        assert told.events.count(("job_failed", job_id)) == 1


async def test_a_failure_told_at_start_reads_as_it_would_have_and_a_refusal_stays_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure left untold by the last run is told at start with its own message in the
    member's language (a scene's stored key has no "error." prefix), and a refusal is still
    a refusal: its reason goes privately, never into the channel. Pictures drawn, then
    deleted before the last run posted them, are told as deleted, not as a failure."""
    heard: dict[int, BotError] = {}

    class Hearing(queue_helpers.Told):
        async def job_failed(self, job: Any, error: BotError) -> None:
            heard[job.id] = error
            await super().__getattr__("job_failed")(job)

    monkeypatch.setattr(queue_helpers, "Told", Hearing)
    catalog = Catalog.load()
    async with open_storage(tmp_path / "bot.sqlite3") as storage:
        withdrawn = (await storage.jobs.insert_job(new_job(ALICE), ROOMY)).id
        refused = (await storage.jobs.insert_job(new_job(ALICE), ROOMY)).id
        assert await storage.jobs.fail(withdrawn, "scene.error.withdrawn")
        assert await storage.jobs.fail(refused, "content_refused", {"categories": "violence"})
        character = await storage.characters.create(
            guild_id=JOB.guild_id, owner_id=ALICE, name="Aiko", sheet={}, style="cel"
        )
        drawn = await storage.jobs.insert_job(new_job(ALICE, character_id=character), ROOMY)
        assert await finish_with_one_picture(storage, drawn, "drawn.png")
        await storage.deletions.delete_character(JOB.guild_id, character)  # before its post
        async with queue_helpers.running_queue(storage) as (_, _, told):
            for job_id in (withdrawn, refused, drawn.id):
                await told.wait_for("job_failed", job_id)
    for locale in LOCALES:
        text = catalog.t(locale, heard[withdrawn].message_key, **heard[withdrawn].values)
        assert text == catalog.t(locale, "scene.error.withdrawn")
    assert heard[refused].message_key == "error.content_refused"
    assert isinstance(heard[withdrawn], ContentRefused)
    assert isinstance(heard[refused], ContentRefused)
    assert heard[drawn.id].message_key == "error.deleted_before_posting"
