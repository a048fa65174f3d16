"""The delivery's per-job locks: whatever order events arrive in, none outlives its job."""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import BotError
from bot.i18n import Catalog
from bot.records import Job, JobState
from cogs.pictures.delivery import DiscordDelivery
from tests.storage_helpers import JOB


def delivery(states: dict[int, str]) -> DiscordDelivery:
    """A delivery whose Discord side does nothing; only its bookkeeping is under test."""

    async def get(job_id: int) -> Job:
        return dataclasses.replace(JOB, id=job_id, state=states[job_id])

    async def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    async def held_elsewhere(_job_id: int) -> bool:
        return False  # one process: every job is its own

    job_posts = SimpleNamespace(job=get, held_elsewhere=held_elsewhere)
    bot = SimpleNamespace(services=SimpleNamespace(job_posts=job_posts, catalog=Catalog.load()))
    d = DiscordDelivery(bot)  # type: ignore[arg-type]
    d._job_started = nothing  # type: ignore[method-assign]
    d._job_done = nothing  # type: ignore[method-assign,assignment]
    d._job_failed = nothing  # type: ignore[method-assign]
    d._edit_original = nothing  # type: ignore[method-assign,assignment]
    return d


# Each job: some non-terminal notices, then how it ends.
jobs = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["queued", "started", "requeued"]), max_size=4),
        st.sampled_from(["done", "failed", "cancelled"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(jobs=jobs, interleave=st.randoms())
def test_no_lock_outlives_its_job(jobs: list[tuple[list[str], str]], interleave: Any) -> None:
    states = {job_id: "queued" for job_id in range(len(jobs))}
    d = delivery(states)

    async def follow(job_id: int, notices: list[str], end: str) -> None:
        job = dataclasses.replace(JOB, id=job_id)
        for notice in notices:
            if notice == "queued":
                await d.job_queued(job, 1, None)
            elif notice == "started":
                await d.job_started(job)
            else:  # waiting again (a retry), still queued
                await d.job_failed(dataclasses.replace(job, state=JobState.QUEUED), BotError("x"))
            await asyncio.sleep(0)
        states[job_id] = end
        ended = dataclasses.replace(job, state=end)
        if end == "done":
            await d.job_done(ended, None, [])  # type: ignore[arg-type]
        elif end == "failed":
            await d.job_failed(ended, BotError("x"))
        else:
            await d.job_cancelled(ended)

    async def run() -> None:
        order = list(enumerate(jobs))
        interleave.shuffle(order)
        await asyncio.gather(*(follow(i, notices, end) for i, (notices, end) in order))

    asyncio.run(run())
    assert d._locks == {}
