"""A failed job's notice is told once, even when recording that it was told meets a storage
fault: the record is settled on its own, never by running the whole failure again."""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import BotError
from bot.i18n import LOCALES, Catalog
from bot.jobs.limiter import RateLimiter
from bot.jobs.queue import JobQueue
from bot.jobs.storage_faults import STORAGE_TRIES
from bot.records import Job, JobState
from cogs.pictures import delivery
from tests.storage_helpers import JOB


@given(
    failing_fail_writes=st.integers(0, STORAGE_TRIES - 1),
    failing_delivered_writes=st.integers(0, STORAGE_TRIES - 1),
)
async def test_a_failure_is_told_once_and_recorded_as_told(
    failing_fail_writes: int, failing_delivered_writes: int
) -> None:
    running = dataclasses.replace(JOB, id=5, state=JobState.RUNNING)
    row: dict[str, Any] = {"state": JobState.RUNNING, "delivered": False}
    faults_left = {"fail": failing_fail_writes, "delivered": failing_delivered_writes}
    told: list[str] = []

    def storage_fault(write: str) -> None:
        if faults_left[write] > 0:
            faults_left[write] -= 1
            raise sqlite3.OperationalError("database is locked")

    async def fail(_job_id: int, _code: str, _values: dict[str, Any]) -> bool:
        storage_fault("fail")
        if row["state"] != JobState.RUNNING:
            return False
        row["state"] = JobState.FAILED
        return True

    async def get(_job_id: int) -> Job:
        return dataclasses.replace(running, state=row["state"])

    async def unused_reference(_job_id: int) -> None:
        return None

    async def mark_delivered(_job_id: int, _message_id: int | None) -> None:
        storage_fault("delivered")
        row["delivered"] = True

    async def job_failed(_job: Job, error: BotError) -> None:
        told.append(error.message_key)

    storage = SimpleNamespace(
        jobs=SimpleNamespace(
            fail=fail, get=get, unused_reference=unused_reference, mark_delivered=mark_delivered
        )
    )
    settings = SimpleNamespace(retry_base_seconds=0.0, shares_queue=False)
    limiter = RateLimiter(concurrency=1, images_per_minute=10)
    queue = JobQueue(
        cast(Any, storage), cast(Any, None), limiter, cast(Any, settings), cast(Any, None)
    )
    queue.observer = cast(Any, SimpleNamespace(job_failed=job_failed))
    # As the queue ends a job that failed: the failure is one settled step.
    refused = BotError("error.content_refused")
    await queue.faults.settle(running, functools.partial(queue._fail, running, refused))
    assert told == ["error.content_refused"]
    assert row == {"state": JobState.FAILED, "delivered": True}


@pytest.fixture
def late_posts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the channel hears of jobs whose member's 15 minutes are over."""
    posted: list[str] = []

    class DeadToken:
        token_alive = False

        def __init__(self, _bot: object, _job: Job) -> None: ...

        async def edit_original(self, **_fields: Any) -> None:
            return None  # the token is dead

        async def post(self, text: str) -> None:
            posted.append(text)

        async def delete_stale(self, _message_id: int | None) -> None: ...

    monkeypatch.setattr(delivery, "JobReply", DeadToken)
    return posted


async def tell_late(catalog: Catalog, job: Job, error: BotError) -> None:
    """The delivery tells ``job``'s failure after the token died."""

    async def no_post(_job_id: int) -> None:
        return None

    async def ours(_job_id: int) -> bool:
        return False  # no other process took the job over

    job_posts = SimpleNamespace(job=no_post, held_elsewhere=ours)
    services = SimpleNamespace(catalog=catalog, job_posts=job_posts)
    await delivery.DiscordDelivery(cast(Any, SimpleNamespace(services=services))).job_failed(
        job, error
    )


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_failure_posted_after_the_token_died_shows_its_text_as_written(
    locale: str, late_posts: list[str]
) -> None:
    """The channel hears a failure after the member's 15 minutes with its reason as the
    member would have read it: the reference code for an admin in code marks, not with
    backslashes before them (the reason is the bot's own text, not escaped again)."""
    catalog = Catalog.load()
    failed = dataclasses.replace(JOB, id=5, state=JobState.FAILED, locale=locale)
    await tell_late(catalog, failed, BotError("error.unexpected", reference="ab12cd34"))
    assert len(late_posts) == 1
    assert catalog.t(locale, "error.unexpected", reference="ab12cd34") in late_posts[0]
    assert "`ab12cd34`" in late_posts[0] and "\\" not in late_posts[0]
    assert catalog.t(locale, "error.refunded") in late_posts[0]


@pytest.mark.parametrize("locale", LOCALES)
async def test_pictures_deleted_before_their_post_are_not_told_as_refunded(
    locale: str, late_posts: list[str]
) -> None:
    """A job drawn (and charged) whose pictures were deleted before a restart could post
    them: the member hears they were deleted, never that nothing was charged."""
    catalog = Catalog.load()
    drawn = dataclasses.replace(JOB, id=5, state=JobState.DONE, locale=locale)
    await tell_late(catalog, drawn, BotError("error.deleted_before_posting"))
    assert len(late_posts) == 1
    assert catalog.t(locale, "error.deleted_before_posting") in late_posts[0]
    assert catalog.t(locale, "error.refunded") not in late_posts[0]
