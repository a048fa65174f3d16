"""What waiting members are told, over random lines: after every change to the line, each
waiting member knows their place and a wait that does not end clearly earlier than the
queue now expects; and nobody hears the same news twice. Pure: a stepped clock, no bot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.limiter import RateLimiter
from bot.jobs.places import LATER_BY_SECONDS, LATER_BY_SHARE, QueuePlaces
from bot.jobs.scheduler import FairScheduler
from bot.records import JobState
from bot.storage import Storage


@dataclass
class Heard:
    position: int
    ends_at: float  # on the test's clock
    wait: float


@dataclass
class Members:
    """The observer: the last thing each job's member heard, and how often they heard it."""

    clock: Callable[[], float]
    last: dict[int, Heard] = field(default_factory=dict)
    told: int = 0

    async def job_queued(self, job: Any, position: int, eta_seconds: float | None) -> None:
        wait = eta_seconds or 0.0
        self.last[job.id] = Heard(position, self.clock() + wait, wait)
        self.told += 1


# One step of the world: a member asks (to whom), the first in line starts, a 429's pause,
# other processes' spends learnt, time passing, a drawing that took so long.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(1, 4)),
        st.tuples(st.just("start"), st.just(0)),
        st.tuples(st.just("pause"), st.integers(1, 300)),
        st.tuples(st.just("others_spent"), st.integers(0, 12)),
        st.tuples(st.just("time"), st.integers(1, 120)),
        st.tuples(st.just("took"), st.integers(1, 200)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps)
def test_after_each_change_every_waiting_member_knows_a_wait_no_shorter_than_expected(
    steps: list[tuple[str, int]],
) -> None:
    asyncio.run(_walk(steps))


async def _walk(steps: list[tuple[str, int]]) -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    limiter = RateLimiter(concurrency=2, images_per_minute=10, clock=clock)
    scheduler = FairScheduler()
    members = Members(clock)
    jobs: dict[int, Any] = {}

    async def get(job_id: int) -> Any:
        return jobs.get(job_id)

    async def notify(notice: Callable[[Any], Awaitable[object]]) -> None:
        await notice(members)

    storage = cast(Storage, SimpleNamespace(jobs=SimpleNamespace(get=get)))
    places = QueuePlaces(scheduler, storage, limiter, notify)
    for action, value in steps:
        if action == "ask":
            job = SimpleNamespace(id=len(jobs) + 1, state=JobState.QUEUED)
            jobs[job.id] = job
            scheduler.add(job.id, guild_id=1, user_id=value)
            position = places.position(job.id) or 1
            await places.tell(job, position, places.eta(position))
        elif action == "start" and len(scheduler):
            started = scheduler.order()[0]
            scheduler.remove(started)
            jobs[started].state = JobState.RUNNING
        elif action == "pause":
            limiter.pause_for(value)
        elif action == "others_spent":
            limiter.share_window([(0.0, value)])
        elif action == "time":
            now[0] += value
        elif action == "took":
            places.record_duration(value)
        told_before = members.told
        await places.tell_moved()
        _assert_everyone_waiting_knows(places, scheduler, members, clock())
        # Nothing changed since: a second look tells nobody anything.
        told_after = members.told
        await places.tell_moved()
        assert members.told == told_after >= told_before


def _assert_everyone_waiting_knows(
    places: QueuePlaces, scheduler: FairScheduler, members: Members, now: float
) -> None:
    for position, job_id in enumerate(scheduler.order(), start=1):
        heard = members.last[job_id]
        assert heard.position == position
        expected_end = now + (places.eta(position) or 0.0)
        slack = max(LATER_BY_SECONDS, LATER_BY_SHARE * heard.wait)
        assert heard.ends_at >= expected_end - slack - 1e-6, (job_id, heard, expected_end)
