"""The job queue: persisted in the database, fair per guild and member, restart-safe.

Every request is a job row before the member hears it is queued. A dispatcher takes jobs in
fair order whenever the limiter has room; failures are retried with backoff when worth it,
and refunded (by state) when not. Its parts live beside it: places and estimates, previews,
failed drawings, storage faults, posting, the servers the bot is in (servers.py), and what
a restart or another process's death hands over (leases.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.config import Settings
from bot.errors import BotError, ContentRefused
from bot.images.store import ImageStore
from bot.jobs.failures import DrawingFailures
from bot.jobs.leases import Takeover
from bot.jobs.limiter import RateLimiter
from bot.jobs.line import WaitingLine
from bot.jobs.observer import JobObserver, tell
from bot.jobs.places import QueuePlaces
from bot.jobs.posting import JobPoster
from bot.jobs.previews import PreviewRelay
from bot.jobs.runner import Answer, DrawnElsewhere, JobRunner, Prepared
from bot.jobs.scheduler import FairScheduler
from bot.jobs.servers import ServerPresence
from bot.jobs.storage_faults import StorageFaults
from bot.logging_setup import log_context
from bot.ops.background import finish_or_cancel, start_beside
from bot.records import Character, Job, JobState, Submitted
from bot.storage import STORAGE_ERRORS, Limits, NewJob, Storage
from bot.storage.leases import Waiting
from bot.thumbnails import ThumbnailCache

__all__ = ["JobQueue", "Submitted"]

log = logging.getLogger(__name__)

# With other processes sharing DATA_DIR, a temp file younger than this may be one of theirs
# being written: only older ones are a crash's leftovers (a picture is written in seconds).
STALE_TEMP_SECONDS = 600.0
# A job with no room in the limits other processes share tries again this much later.
SHARED_RETRY_SECONDS = 0.5


class JobQueue:
    def __init__(
        self,
        storage: Storage,
        runner: JobRunner,
        limiter: RateLimiter,
        settings: Settings,
        store: ImageStore,
    ) -> None:
        self._storage = storage
        self._store = store
        self._runner = runner
        self._limiter = limiter
        self._settings = settings
        self._scheduler = FairScheduler()
        self._line = WaitingLine(self._scheduler)
        self._running: dict[int, asyncio.Task[None]] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._background: set[asyncio.Task[None]] = set()
        self._reconciler: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self.observer: JobObserver | None = None
        # Set by the composition root: raises the member's budget message when a waiting
        # job no longer fits the server's dollar budget (bot.quotas.QuotaService).
        self.budget_check: Callable[[Job, float], Awaitable[None]] | None = None
        # The servers the bot is still in: only their jobs are sent to OpenAI.
        self.servers = ServerPresence(storage, self.cancel)
        # The parts the queue hands work to, each in its own module.
        self.places = QueuePlaces(self._scheduler, storage, limiter, self._notify)
        self.faults = StorageFaults(
            storage, settings, self._notify, fail=self._fail, is_running=self._is_running
        )
        self._previews = PreviewRelay(settings, self._notify)
        self._failures = DrawingFailures(
            storage,
            limiter,
            settings,
            self.faults,
            self._notify,
            fail=self._fail,
            schedule=self._line.add,
            back_in_line=self._back_in_line,
            departed=self.servers.has_left,
        )
        self._poster = JobPoster(
            storage,
            store,
            runner,
            settings,
            self.faults,
            self._notify,
            observer=lambda: self.observer,
            stopping=lambda: self._stopping,
        )
        self._takeover = Takeover(
            storage,
            settings,
            self._poster,
            limiter,
            schedule=self._line_up,
            served=self._scheduler.served,
            scheduled=self._scheduler.order,
            unschedule=self._line.remove,
            running=lambda: self._running,
            redeliver=self._redeliver,
        )
        self.drawing = self._takeover.drawing  # (jobs claimed and not yet ended: the metrics)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover from the last run, then start dispatching."""
        # Another process sharing the folder may be writing a young temp file right now.
        young = STALE_TEMP_SECONDS if self._settings.shares_queue else 0.0
        stale = await asyncio.to_thread(self._store.clean_temporary, young)
        if stale:
            log.info("Removed %d half-written files a previous run left", stale)
        requeued = await self._takeover.at_start()
        pending = await self._storage.leases.waiting()
        for waiting in pending:
            self._line.add(waiting)
        await self.places.load_durations()
        if pending:
            log.info("Resuming %d queued jobs (%d were interrupted)", len(pending), requeued)
        for finished in await self._takeover.undelivered_at_start():
            # Finished but never confirmed posted (a crash in between): deliver, don't re-run.
            self._redeliver(finished)
        self._dispatcher = asyncio.create_task(self._dispatch(), name="job-dispatcher")
        self._reconciler = asyncio.create_task(
            self.faults.reconcile_forever(), name="job-reconciler"
        )
        self._keeper = asyncio.create_task(self._takeover.keep_forever(), name="job-leases")

    def _redeliver(self, job: Job) -> None:
        self._in_background(self._poster.redeliver(job), f"redeliver-{job.id}")

    async def stop(self, grace: float) -> None:
        """Stop taking jobs; let running ones finish for ``grace`` s, then leave them queued."""
        self._stopping = True
        self._line.wake()
        for task in (self._dispatcher, self._reconciler, self._keeper):
            if task is not None:
                task.cancel()
        running = list(self._running.values())
        if running:
            log.info("Waiting up to %.0f s for %d running jobs", grace, len(running))
        # A job cut short stays 'running' in its row: the next start puts it back in line.
        for task in await finish_or_cancel(running, grace, unwind=5):
            log.info("Left %s queued for the next start", task.get_name())
        # Posts in progress get a moment; an unfinished one is redelivered at next start.
        await finish_or_cancel(list(self._background), min(grace, 5), unwind=1)

    def _in_background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        start_beside(work, self._background, name)

    # --- members' requests -----------------------------------------------------------------

    async def enqueue(
        self, new_job: NewJob, limits: Limits, *, fork_of: Character | None = None
    ) -> Submitted:
        """Store ``new_job`` if it fits ``limits``, put it in line and tell its member where."""
        job = await self._storage.jobs.insert_job(new_job, limits, fork_of=fork_of)
        self._line_up(job)  # (unless a look for other processes' jobs got there first)
        position = self.position(job.id) or 1
        submitted = Submitted(job, position, self.eta(position))
        # A fork is always told its place: the private fork notice that follows needs the
        # job's message to exist (a first followup after a "thinking…" defer takes its place).
        at_once = position == 1 and fork_of is None and self._starts_at_once(job)
        await self.places.tell(job, position, submitted.eta_seconds, quietly=at_once)
        # A fair queue may put a newcomer ahead of others: they hear their new places.
        self._in_background(self.places.tell_moved(), f"positions-after-{job.id}")
        return submitted

    def _starts_at_once(self, job: Job) -> bool:
        """Whether the dispatcher starts ``job`` (first in line) without waiting."""
        free = len(self._running) < self._limiter.concurrency and not self._stopping
        ready = self.servers.known.is_set() and not self._line.waits(job.id)
        return free and ready and self._limiter.has_room_now(job.image_count)

    def share_thumbnails(self, thumbnails: ThumbnailCache) -> None:
        """New pictures' thumbnails are made by the gallery's cache (one repair lock)."""
        self._poster.thumbnails = thumbnails

    def position(self, job_id: int) -> int | None:
        return self.places.position(job_id)

    def eta(self, position: int) -> float | None:
        """Seconds until a job at ``position`` finishes, from recently measured durations."""
        return self.places.eta(position)

    def queued_ids(self, guild_id: int | None = None) -> list[int]:
        order = self._scheduler.order()
        if guild_id is None:
            return order
        mine = set(self._scheduler.jobs_of(guild_id))
        return [job_id for job_id in order if job_id in mine]

    async def cancel(self, job_id: int) -> bool:
        """Cancel a queued job; it is refunded. False if it already started or ended."""
        if not await self._storage.jobs.cancel(job_id):
            return False
        self._line.remove(job_id)
        await self._ended(job_id)
        self._in_background(self.places.tell_moved(), f"positions-cancel-{job_id}")
        return True

    async def _ended(self, job_id: int) -> None:
        """A job ended without pictures: its upload goes, and the Discord side forgets it."""
        reference = await self._storage.jobs.unused_reference(job_id)
        if reference is not None:
            await asyncio.to_thread(self._store.delete, [reference])
        job = await self._storage.jobs.get(job_id)
        if job is not None and job.state == JobState.CANCELLED:
            await self._notify(lambda observer: observer.job_cancelled(job))

    # --- the dispatcher --------------------------------------------------------------------

    def _line_up(self, job: Job | Waiting) -> None:
        """A job another process took in (or gave up), or this one: in line here, so any
        process with room draws it; not twice, nor while this process draws it."""
        if job.id not in self._line and job.id not in self._running:
            self._line.add(job)

    async def _dispatch(self) -> None:
        await self.servers.known.wait()
        while not self._stopping:
            await self._limiter.acquire_slot()
            job_id = await self._line.next_due(lambda: self._stopping)
            if job_id is None:
                self._limiter.release_slot()
                return
            task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
            self._running[job_id] = task
            task.add_done_callback(functools.partial(self._finished, job_id))

    def _is_running(self, job_id: int) -> bool:  # (or being taken over, for that moment)
        return job_id in self._running or self._takeover.holds(job_id)

    def _finished(self, job_id: int, task: asyncio.Task[None]) -> None:
        self._limiter.release_slot()  # (each start took one)
        if self._running.get(job_id) is task:  # (never another start's entry)
            del self._running[job_id]
            self.places.forget(job_id)

    async def _run(self, job_id: int) -> None:
        log_context(job_id=job_id)  # every line this job's task (and its tasks) logs says so
        queued = await self._storage.jobs.get(job_id)
        if queued is None or queued.state != JobState.QUEUED:
            return  # cancelled between being picked and starting
        if self.servers.has_left(queued.guild_id):
            await self.cancel(queued.id)
            return
        if not await self._still_fits_budget(queued):
            return
        # Wait for the images-per-minute budget (or a pause) while still 'queued', so the
        # member (told their place) and /queue see the truth and a cancel still works.
        await self.places.wait_for_budget(queued)
        try:
            # No room in the limits other processes share: it waits, not made ready in vain.
            if not await self._takeover.room_to_start(queued):
                await self._wait_for_room(queued)
                return
            prepared = await self._prepare(queued)
            if prepared is None:
                return
            request = prepared.request
            claimed = await self._takeover.claim(queued, prompt=request.prompt, model=request.model)
        except STORAGE_ERRORS as exc:
            log.warning("Job %s could not start (storage: %s); it waits", job_id, exc)
            self._wait_in_line(queued)
            return
        if claimed is None:  # the room went to another process meanwhile
            await self._wait_for_room(queued)
        if not claimed:
            return  # cancelled while waiting for the budget (or already claimed)
        job = await self._storage.jobs.get(job_id)
        if job is None or job.state != JobState.RUNNING:
            return  # cancelled between the claim and this read
        await self._draw(job, prepared)

    async def _still_fits_budget(self, queued: Job) -> bool:
        """Whether the dollar budget has room for ``queued``; if not it ends, or waits."""
        try:
            if self.budget_check is not None:
                await self.budget_check(queued, time.time())
            return True
        except BotError as exc:
            # Accepted within the budget, but it no longer fits (a lowered budget, or
            # pictures that cost more than estimated): refunded, and the member told.
            await self.faults.settle(queued, functools.partial(self._fail, queued, exc))
        except STORAGE_ERRORS as exc:
            log.warning("Job %s: budget not readable (storage: %s); it waits", queued.id, exc)
            self._wait_in_line(queued)
        return False

    async def _prepare(self, queued: Job) -> Prepared | None:
        """The request of a job about to be claimed (which notes its prompt); None if the
        job cannot be drawn (it ends). Storage errors reach the caller: the job waits."""
        try:
            return await self._runner.prepare(queued)
        except STORAGE_ERRORS:
            raise  # (a cancellation is no Exception: it goes up as well)
        except Exception as exc:  # its character gone, no usable reference left, ...
            await self._failures.handle(queued, exc)
        return None

    async def _draw(self, job: Job, prepared: Prepared) -> None:
        """Draw a claimed job: the paid step, then its pictures kept (or its failure settled)."""
        try:
            # Telling the member is a Discord round trip: it must not delay the API call.
            self._in_background(
                self._notify(lambda observer: observer.job_started(job)), f"started-{job.id}"
            )
            self._in_background(self.places.tell_moved(), f"positions-{job.id}")
            started = time.monotonic()
            try:
                answer = await self._runner.draw(job, prepared, self._previews.callback(job))
            finally:
                self._previews.drop(job.id)
            self.places.record_duration(time.monotonic() - started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failures.handle(job, exc)
            return
        # Paid for: from here the pictures are kept until they are recorded and posted.
        await self.faults.settle(job, functools.partial(self._keep, job, answer))

    async def _keep(self, job: Job, answer: Answer) -> None:
        try:
            character, images = await self._runner.keep(answer)
        except DrawnElsewhere:
            log.warning("Job %s was taken over by another process; its answer is theirs", job.id)
            return
        except BotError as exc:  # the character was deleted while drawing
            await self._fail(job, exc)
            return
        except STORAGE_ERRORS:
            raise  # _settle tries again; the answer stays held
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("Job %s: pictures not kept (reference %s)", job.id, reference)
            await self._fail(job, BotError("error.unexpected", reference=reference))
            return
        # Posting (and its retries) must not hold a drawing slot: it runs on its own.
        self._in_background(self._poster.post_new(job, character, images), f"deliver-{job.id}")

    async def _wait_for_room(self, queued: Job) -> None:
        self._wait_in_line(queued, SHARED_RETRY_SECONDS)
        await self.places.still_waiting(queued)

    def _wait_in_line(self, queued: Job, seconds: float | None = None) -> None:
        """Unpaid, it waits ``seconds`` (by default, as long as storage faults wait)."""
        self._line.add(queued, time.time() + (seconds or self.faults.period()))

    async def _back_in_line(self, retried: Job, delay: float) -> None:
        """A job to try again after ``delay`` s waits in line; its member hears where."""
        self._line.add(retried)
        position = self.position(retried.id) or 1
        # The member's message still says "drawing": tell them it is waiting again.
        await self.places.tell(retried, position, delay + (self.eta(position) or 0))
        self._in_background(self.places.tell_moved(), f"positions-retry-{retried.id}")

    async def _fail(self, job: Job, error: BotError) -> None:
        code = error.message_key.removeprefix("error.")
        if isinstance(error, ContentRefused):
            log.info("Job %s %s", job.id, error.log_reason)
        if await self._storage.jobs.fail(job.id, code, error.values):
            await self._ended(job.id)
            failed = await self._storage.jobs.get(job.id)
            await self._notify(lambda observer: observer.job_failed(failed or job, error))
            # Settled alone: a retry of this whole step would skip it (the job failed already).
            told = functools.partial(self._storage.jobs.mark_delivered, job.id, None)
            await self.faults.settle(job, told, tell=False)

    async def _notify(self, notice: Callable[[JobObserver], Awaitable[object]]) -> None:
        await tell(self.observer, notice)
