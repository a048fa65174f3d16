"""A job's bookkeeping survives any finite run of storage faults (issue #17.2).

Property: whatever number of jobs, guilds and failed writes per job, once storage works
again every job's bookkeeping has run to success exactly once, a member hears about a hold-up
at most once (and only if the quick retries were not enough), and each guild's admins are
alerted at most once per incident.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections import Counter
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.queue import JobQueue
from bot.jobs.storage_faults import STORAGE_TRIES
from tests.storage_helpers import JOB

faults = st.lists(
    st.tuples(st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=8,
)


def queue_told_by(job_delayed: Any, storage_alert: Any) -> JobQueue:
    """A queue with no job running, retrying at once, whose observer hears hold-ups and
    alerts through the two callables."""

    async def no_running() -> list[int]:
        return []

    storage = SimpleNamespace(jobs=SimpleNamespace(running_ids=no_running))
    settings = SimpleNamespace(retry_base_seconds=0, shares_queue=False)
    parts: list[Any] = [storage, None, None, settings, None]
    queue = JobQueue(*parts)
    queue.observer = SimpleNamespace(  # type: ignore[assignment]
        job_delayed=job_delayed, storage_alert=storage_alert
    )
    return queue


@settings(max_examples=80, deadline=None)
@given(faults=faults)
def test_every_job_settles_once_storage_works_again(faults: list[tuple[int, int]]) -> None:
    succeeded: Counter[int] = Counter()
    told: Counter[int] = Counter()
    alerted: Counter[int] = Counter()
    left = {job_id: failures for job_id, (failures, _guild) in enumerate(faults)}

    def step_for(job_id: int) -> Any:
        async def step() -> None:
            if left[job_id] > 0:
                left[job_id] -= 1
                raise sqlite3.OperationalError("database is locked")
            succeeded[job_id] += 1

        return step

    async def job_delayed(job: Any, _error: Any) -> None:
        told[job.id] += 1

    async def storage_alert(guild_id: int) -> None:
        alerted[guild_id] += 1

    queue = queue_told_by(job_delayed, storage_alert)

    async def run() -> None:
        jobs = [
            dataclasses.replace(JOB, id=job_id, guild_id=guild)
            for job_id, (_failures, guild) in enumerate(faults)
        ]
        await asyncio.gather(*(queue.faults.settle(job, step_for(job.id)) for job in jobs))
        for _ in range(sum(left.values()) + len(faults) + 1):
            await queue.faults.reconcile()
        assert queue.faults.unsettled == {}

    asyncio.run(run())
    assert succeeded == Counter({job_id: 1 for job_id in range(len(faults))})
    for job_id, (failures, _guild) in enumerate(faults):
        assert told[job_id] == (1 if failures >= STORAGE_TRIES else 0)
    assert all(count == 1 for count in alerted.values())
    held_guilds = {guild for failures, guild in faults if failures >= STORAGE_TRIES}
    assert set(alerted) == held_guilds


@settings(max_examples=80, deadline=None)
@given(failures=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=4))
def test_every_held_step_of_one_job_settles_in_its_order(failures: list[int]) -> None:
    # One job's bookkeeping in steps (recorded as delivered, then its token forgotten): a
    # step held up by storage never takes the place of another held before it.
    left = dict(enumerate(failures))
    ran: list[int] = []

    def step_for(index: int) -> Any:
        async def step() -> None:
            if left[index] > 0:
                left[index] -= 1
                raise sqlite3.OperationalError("database is locked")
            ran.append(index)

        return step

    async def told(*_args: Any) -> None:
        return None

    queue = queue_told_by(told, told)

    async def run() -> None:
        job = dataclasses.replace(JOB, id=1)
        for index in range(len(failures)):
            await queue.faults.settle(job, step_for(index))
        for _ in range(sum(failures) + 1):
            await queue.faults.reconcile()
        assert queue.faults.unsettled == {}

    asyncio.run(run())
    assert sorted(ran) == list(range(len(failures)))  # every step, exactly once
    held = [i for i, count in enumerate(failures) if count >= STORAGE_TRIES]
    assert [i for i in ran if i in held] == held  # the held ones in the order they came
