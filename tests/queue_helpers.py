"""The job queue driven without a bot: a stub runner that only notes which job it was asked
to draw and holds it until the test lets it go, an observer that notes what members would
hear, and a started queue on real storage."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

from bot.errors import ContentRefused
from bot.jobs.limiter import RateLimiter
from bot.jobs.queue import JobQueue
from bot.jobs.runner import Prepared
from bot.records import Job
from bot.storage import Limits, Storage
from tests.storage_helpers import new_job

GUILD, OTHER_GUILD = 10, 20
ALICE, BOB, CAROL = 1, 2, 3
ROOMY = Limits(100, 100, None, None, None, 0.0, 0.0)


class StubRunner:
    """Draws nothing: notes the job and holds it until the test lets it go, then refuses it
    (a refusal ends a job at once, with nothing to keep or post)."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}  # job id -> the name the test gave it
        self.drawn_ids: list[int] = []
        self.release = asyncio.Semaphore(0)
        self.started = asyncio.Condition()

    async def prepare(self, job: Job) -> Prepared:
        """The claim notes the prompt and model: the only parts of a request the queue reads."""
        request = SimpleNamespace(prompt=f"drawing job {job.id}", model="stub-model")
        return cast(Prepared, SimpleNamespace(request=request))

    async def draw(
        self, job: Job, _prepared: Prepared, _progress: Callable[[bytes], Awaitable[None]]
    ) -> None:
        async with self.started:
            self.drawn_ids.append(job.id)
            self.started.notify_all()
        await self.release.acquire()
        raise ContentRefused()

    @property
    def drawn(self) -> list[str]:
        """The names of the jobs drawn, in the order they were drawn (named once enqueued,
        which may be after the drawing started)."""
        return [self.names.get(job_id, f"#{job_id}") for job_id in self.drawn_ids]

    async def wait_drawn(self, count: int) -> None:
        async with self.started:
            await asyncio.wait_for(self.started.wait_for(lambda: len(self.drawn) >= count), 5)

    async def finish_until(self, *, drawn: int) -> None:
        """Let the job being drawn end, one at a time, until ``drawn`` jobs were started."""
        while len(self.drawn) < drawn:
            self.release.release()
            await self.wait_drawn(len(self.drawn) + 1)


class Told:
    """The queue's observer: what members would hear, by event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.waits: dict[int, list[float]] = {}  # job id -> each waiting time its member heard
        self.changed = asyncio.Condition()

    def __getattr__(self, event: str) -> Callable[..., Awaitable[None]]:
        async def record(job: Any = None, *args: Any) -> None:
            async with self.changed:
                job_id = getattr(job, "id", job)
                self.events.append((event, job_id))
                if event == "job_queued":  # (job, position, eta_seconds)
                    self.waits.setdefault(job_id, []).append(args[1])
                self.changed.notify_all()

        return record

    async def wait_for(self, event: str, job_id: int, times: int = 1) -> None:
        """Until the member of ``job_id`` was told ``event`` (e.g. "job_queued"), ``times``
        times."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: self.events.count((event, job_id)) >= times), 10
            )


@contextlib.asynccontextmanager
async def running_queue(
    storage: Storage,
    *,
    shares_queue: bool = False,
    max_running: int = 1,
    runner: StubRunner | None = None,
    limiter: RateLimiter | None = None,
) -> AsyncIterator[tuple[JobQueue, StubRunner, Told]]:
    """A started queue with one drawing slot; stopped (every held drawing let go) on leaving.
    ``shares_queue``: one of several processes (``max_running`` drawings for all together;
    the test calls the look for other processes' jobs itself). ``limiter``: one the test
    holds (600 pictures a minute)."""
    runner = runner or StubRunner()
    settings = SimpleNamespace(
        max_attempts=1,
        progress_edit_seconds=1.0,
        retry_base_seconds=0.01,
        shares_queue=shares_queue,
        job_lease_seconds=60.0,
        queue_poll_seconds=600.0,
        max_concurrent_jobs=max_running,
        images_per_minute=600,
    )
    store = SimpleNamespace(clean_temporary=lambda _older_than=0: 0, kept_answers=lambda: {})
    limiter = limiter or RateLimiter(concurrency=1, images_per_minute=600)
    parts: list[Any] = [storage, runner, limiter, settings, store]
    jobs = JobQueue(*parts)
    told = Told()
    jobs.observer = cast(Any, told)
    await jobs.start()
    await jobs.servers.keep_only({GUILD, OTHER_GUILD})
    try:
        yield jobs, runner, told
    finally:
        for _ in range(len(runner.drawn) + 10):
            runner.release.release()
        await jobs.stop(grace=1)


async def submit(
    jobs: JobQueue, runner: StubRunner, name: str, user_id: int, guild_id: int = GUILD
) -> int:
    job_id = (await jobs.enqueue(new_job(user_id, guild_id=guild_id), ROOMY)).job.id
    runner.names[job_id] = name
    return job_id
