"""The job queue: persisted in SQLite, fair per guild and member, limited, restart-safe.

Every request is a job row before the member hears it is queued. A dispatcher takes jobs in
fair order whenever the limiter has room; a restart re-queues whatever was running; failures
are retried with backoff when worth it, and refunded (by state) when not.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.errors import BotError, ConfigError, ContentRefused, DeliveryFailed, UpstreamBusy
from bot.images.store import ImageStore
from bot.jobs.limiter import RateLimiter
from bot.jobs.observer import JobObserver
from bot.jobs.runner import Answer, JobRunner
from bot.jobs.scheduler import FairScheduler
from bot.records import PENDING_STATES, Character, Job, JobState, StoredImage
from bot.storage import STORAGE_ERRORS, Limits, NewImage, NewJob, Storage

__all__ = ["JobQueue", "Submitted"]

log = logging.getLogger(__name__)

# A billing problem stops every call until someone tops up; look again this often.
BILLING_PAUSE_SECONDS = 600.0
DEFAULT_JOB_SECONDS = 30.0
# How far down the line waiting members hear that their place changed (a server's waiting
# jobs are capped at GUILD_PENDING_CAP, 50 by default, so every member of a server is told).
POSITION_UPDATES = 100
# A job's bookkeeping write is tried this often (backoff from RETRY_BASE_SECONDS) before
# the reconciler takes it over; the reconciler looks again every RETRY_BASE_SECONDS x factor.
STORAGE_TRIES = 3
RECONCILE_FACTOR = 5
# Posting a finished job: tries in this process (backoff from RETRY_BASE_SECONDS, doubling:
# 2 + 4 + 8 + 16 + 32 s by default, about a minute of Discord trouble) before the next start
# takes over; and how many posts the start-up redelivery makes at once.
DELIVERY_ATTEMPTS = 6
REDELIVERY_CONCURRENCY = 3


@dataclass(frozen=True, slots=True)
class Submitted:
    job: Job
    position: int
    eta_seconds: float | None


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
        self._not_before: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._durations: list[float] = []
        self._background: set[asyncio.Task[None]] = set()
        self._redelivery_slots = asyncio.Semaphore(REDELIVERY_CONCURRENCY)
        # Bookkeeping a storage fault held up, by job id, and the guilds told about it.
        self._unsettled: dict[int, Callable[[], Awaitable[None]]] = {}
        self._incident_guilds: set[int] = set()
        self._reconciler: asyncio.Task[None] | None = None
        self.observer: JobObserver | None = None
        # Set by the composition root: raises the member's budget message when a waiting
        # job no longer fits the server's dollar budget (bot.quotas.QuotaService).
        self.budget_check: Callable[[Job, float], Awaitable[None]] | None = None
        # Servers the bot was removed from: nothing more is sent to OpenAI for them.
        self._departed: set[int] = set()
        # Nothing is dispatched before the bot knows which servers it is still in.
        self._guilds_known = asyncio.Event()
        # The place each waiting job's member was last told, and one teller at a time so an
        # older order never lands after a newer one.
        self._told: dict[int, int] = {}
        # The progress preview on its way to Discord, per running job.
        self._previews: dict[int, asyncio.Task[None]] = {}
        self._positions_lock = asyncio.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover from the last run, then start dispatching."""
        stale = await asyncio.to_thread(self._store.clean_temporary)
        if stale:
            log.info("Removed %d half-written files a previous run left", stale)
        await self._record_kept_answers()
        requeued = await self._storage.jobs.requeue_running()
        pending = await self._storage.jobs.pending()
        for job in pending:
            self._schedule(job)
        self._durations = await self._storage.jobs.recent_durations()
        if pending:
            log.info("Resuming %d queued jobs (%d were interrupted)", len(pending), requeued)
        for job in await self._storage.jobs.undelivered():
            # Finished but never confirmed posted (a crash in between): deliver, don't re-run.
            self._in_background(self._redeliver(job), f"redeliver-{job.id}")
        self._dispatcher = asyncio.create_task(self._dispatch(), name="job-dispatcher")
        self._reconciler = asyncio.create_task(self._reconcile_forever(), name="job-reconciler")

    async def _record_kept_answers(self) -> None:
        """Pictures a previous run was paid for but never recorded: record them, don't redraw."""
        notes = await asyncio.to_thread(self._store.kept_answers)
        for job_id, note in sorted(notes.items()):
            saved = [NewImage(**image) for image in note.get("images", [])]
            job = await self._storage.jobs.get(job_id)
            character = await self._storage.characters.get(job.character_id or 0) if job else None
            if job is None or job.state not in PENDING_STATES or character is None:
                if job is None or job.state != JobState.DONE:  # never to be recorded: no orphans
                    paths = [p for i in saved for p in (i.file_path, i.thumb_path) if p]
                    await asyncio.to_thread(self._store.delete, paths)
                self._store.forget_answer(job_id)
                continue
            try:
                await self._runner.record(job, character, note["record"], saved)
            except BotError:
                continue  # its character is gone; record() removed the files
            log.info("Job %s: recorded the pictures a previous run kept (not paid twice)", job_id)

    async def stop(self, grace: float) -> None:
        """Stop taking jobs; let running ones finish for ``grace`` s, then leave them queued."""
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        if self._reconciler is not None:
            self._reconciler.cancel()
        running = list(self._running.values())
        if running:
            log.info("Waiting up to %.0f s for %d running jobs", grace, len(running))
            _, still = await asyncio.wait(running, timeout=grace)
            for task in still:
                log.info("Leaving %s queued for the next start", task.get_name())
                task.cancel()
            if still:
                # Their rows stay 'running'; the next start puts them back in the queue.
                await asyncio.wait(still, timeout=5)
        background = list(self._background)
        if background:
            # Posts in progress get a moment; an unfinished one is redelivered at next start.
            _, unfinished = await asyncio.wait(background, timeout=min(grace, 5))
            for task in unfinished:
                task.cancel()
            if unfinished:
                # Let them unwind before the loop closes ("Task was destroyed" otherwise).
                await asyncio.wait(unfinished, timeout=1)

    def _in_background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)  # a reference, so the task is not garbage-collected
        task.add_done_callback(self._background.discard)

    # --- members' requests -----------------------------------------------------------------

    async def enqueue(
        self, new_job: NewJob, limits: Limits, *, fork_of: Character | None = None
    ) -> Submitted:
        """Store ``new_job`` if it fits ``limits``, put it in line and tell its member where."""
        job_id = await self._storage.jobs.insert_job(new_job, limits, fork_of=fork_of)
        job = await self._storage.jobs.get(job_id)
        assert job is not None
        self._schedule(job)
        self._wake.set()
        position = self.position(job.id) or 1
        submitted = Submitted(job, position, self.eta(position))
        self._told[job.id] = position
        await self._tell_place(job, position, submitted.eta_seconds)
        # A fair queue may put a newcomer ahead of others: they hear their new places.
        self._in_background(self._tell_positions(), f"positions-after-{job.id}")
        return submitted

    def position(self, job_id: int) -> int | None:
        return self._scheduler.position(job_id)

    def eta(self, position: int) -> float | None:
        """Seconds until a job at ``position`` finishes, from recently measured durations."""
        typical = statistics.median(self._durations) if self._durations else DEFAULT_JOB_SECONDS
        rounds = math.ceil(position / self._limiter.concurrency)
        return rounds * typical + self._limiter.paused_for()

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
        await self._storage.jobs.forget_token(job_id)
        self._scheduler.remove(job_id)
        self._not_before.pop(job_id, None)
        await self._ended(job_id)
        self._in_background(self._tell_positions(), f"positions-cancel-{job_id}")
        return True

    async def _ended(self, job_id: int) -> None:
        """A job ended without pictures: its upload goes, and the Discord side forgets it."""
        reference = await self._storage.jobs.unused_reference(job_id)
        if reference is not None:
            await asyncio.to_thread(self._store.delete, [reference])
        job = await self._storage.jobs.get(job_id)
        if job is not None and job.state == JobState.CANCELLED:
            await self._notify(lambda observer: observer.job_cancelled(job))

    # --- servers joining and leaving ----------------------------------------------------------

    async def leave_guild(self, guild_id: int) -> int:
        """The bot was removed from a server: cancel (refund) its waiting jobs at once.

        Running jobs finish (their request is already paid for) but are not retried; nothing
        more is sent to OpenAI for this server. Its characters and pictures stay, for when
        it comes back. Returns how many jobs were cancelled.
        """
        self._departed.add(guild_id)
        cancelled = 0
        for job in await self._storage.jobs.pending_for_guild(guild_id):
            if job.state == JobState.QUEUED and await self.cancel(job.id):
                cancelled += 1
        if cancelled:
            log.info("Left guild %s: cancelled %d waiting jobs", guild_id, cancelled)
        return cancelled

    def join_guild(self, guild_id: int) -> None:
        """The bot is (again) in this server: its members' jobs may run."""
        self._departed.discard(guild_id)

    async def keep_only_guilds(self, guild_ids: set[int]) -> None:
        """Once connected: jobs of servers the bot is no longer in are cancelled, then the
        queue starts dispatching (until now it waited, so a departed server pays nothing)."""
        for job in await self._storage.jobs.pending():
            if job.guild_id not in guild_ids and job.guild_id not in self._departed:
                await self.leave_guild(job.guild_id)
        self._guilds_known.set()

    # --- the dispatcher --------------------------------------------------------------------

    def _schedule(self, job: Job) -> None:
        self._scheduler.add(job.id, job.guild_id, job.user_id)
        if job.not_before > time.time():
            self._not_before[job.id] = job.not_before

    async def _dispatch(self) -> None:
        await self._guilds_known.wait()
        while not self._stopping:
            await self._limiter.acquire_slot()
            job_id = await self._next_runnable()
            if job_id is None:
                self._limiter.release_slot()
                return
            task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
            self._running[job_id] = task
            task.add_done_callback(functools.partial(self._finished, job_id))

    def _finished(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)
        self._limiter.release_slot()

    async def _next_runnable(self) -> int | None:
        while not self._stopping:
            now = time.time()
            waiting = {j: t for j, t in self._not_before.items() if t > now}
            self._not_before = waiting
            job_id = self._scheduler.pop(lambda j, w=waiting: j not in w)  # type: ignore[misc]
            if job_id is not None:
                return job_id
            self._wake.clear()
            timeout = min(waiting.values()) - now if waiting else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        return None

    async def _run(self, job_id: int) -> None:
        queued = await self._storage.jobs.get(job_id)
        if queued is None or queued.state != JobState.QUEUED:
            return  # cancelled between being picked and starting
        if queued.guild_id in self._departed:
            await self.cancel(queued.id)
            return
        try:
            if self.budget_check is not None:
                await self.budget_check(queued, time.time())
        except BotError as exc:
            # Accepted within the budget, but it no longer fits (a lowered budget, or
            # pictures that cost more than estimated): refunded, and the member told.
            await self._settle(queued, functools.partial(self._fail, queued, exc))
            return
        except STORAGE_ERRORS as exc:
            log.warning("Job %s: budget not readable (storage: %s); it waits", job_id, exc)
            self._wait_for_storage(queued)
            return
        # Wait for the images-per-minute budget (or a pause) while still 'queued', so the
        # member and /queue see the truth and a cancel still works.
        await self._limiter.take(queued.image_count)
        try:
            await self._storage.jobs.mark_running(job_id)
        except STORAGE_ERRORS as exc:
            log.warning("Job %s could not start (storage: %s); it waits", job_id, exc)
            self._wait_for_storage(queued)
            return
        job = await self._storage.jobs.get(job_id)
        if job is None or job.state != JobState.RUNNING:
            return  # cancelled while waiting for the budget
        try:
            # Telling the member is a Discord round trip: it must not delay the API call.
            self._in_background(
                self._notify(lambda observer: observer.job_started(job)), f"started-{job.id}"
            )
            self._in_background(self._tell_positions(), f"positions-{job.id}")
            started = time.monotonic()
            try:
                answer = await self._runner.draw(job, self._progress_callback(job))
            finally:
                self._drop_preview(job.id)
            self._durations = [*self._durations[-19:], time.monotonic() - started]
        except asyncio.CancelledError:
            raise
        except UpstreamBusy as exc:
            await self._settle(job, functools.partial(self._retry_or_fail, job, exc))
            return
        except STORAGE_ERRORS as exc:
            # Before the API call (nothing paid): try again later, like a busy upstream.
            log.warning("Job %s: storage failed before drawing (%s)", job.id, exc)
            busy = UpstreamBusy("error.storage_failed")
            await self._settle(job, functools.partial(self._retry_or_fail, job, busy))
            return
        except ConfigError as exc:
            await self._settle(job, functools.partial(self._config_problem, job, exc))
            return
        except BotError as exc:
            await self._settle(job, functools.partial(self._fail, job, exc))
            return
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("Job %s crashed (reference %s)", job.id, reference)
            crashed = BotError("error.unexpected", reference=reference)
            await self._settle(job, functools.partial(self._fail, job, crashed))
            return
        # Paid for: from here the pictures are kept until they are recorded and posted.
        await self._settle(job, functools.partial(self._keep, job, answer))

    async def _keep(self, job: Job, answer: Answer) -> None:
        try:
            character, images = await self._runner.keep(answer)
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
        self._in_background(self._deliver(job, character, images), f"deliver-{job.id}")

    # --- storage faults ----------------------------------------------------------------------

    def _reconcile_period(self) -> float:
        return max(0.2, self._settings.retry_base_seconds * RECONCILE_FACTOR)

    async def _settle(
        self, job: Job, step: Callable[[], Awaitable[None]], *, tell: bool = True
    ) -> None:
        """Run a job's bookkeeping ``step``; a storage fault never strands the job.

        The write is tried a few times with backoff (a lock held past busy_timeout often
        clears); if storage still fails, the reconciler keeps trying, the member hears that
        their request is safe (``tell``) and the admins are alerted once per incident.
        """
        delay = self._settings.retry_base_seconds
        for attempt in range(1, STORAGE_TRIES + 1):
            try:
                await step()
            except STORAGE_ERRORS as exc:
                log.warning(
                    "Job %s: storage write failed (%s), try %d of %d",
                    job.id,
                    exc,
                    attempt,
                    STORAGE_TRIES,
                )
                if attempt < STORAGE_TRIES:
                    await asyncio.sleep(delay)
                    delay *= 2
            else:
                return
        self._unsettled[job.id] = step
        if not self._incident_guilds:
            log.error("Storage incident: writes to DATA_DIR fail; the reconciler keeps trying")
        if tell:
            await self._notify(
                lambda observer: observer.job_delayed(job, BotError("error.storage_trouble"))
            )
        if job.guild_id not in self._incident_guilds:
            self._incident_guilds.add(job.guild_id)
            await self._notify(lambda observer: observer.storage_alert(job.guild_id))

    async def _reconcile_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._reconcile_period())
            try:
                await self._reconcile()
            except Exception:
                log.exception("The reconciler failed; it tries again")

    async def _reconcile(self) -> None:
        """Settle what storage faults left: held bookkeeping first, then stray 'running' rows."""
        for job_id, step in list(self._unsettled.items()):
            try:
                await step()
            except STORAGE_ERRORS:
                return  # still failing: next round
            self._unsettled.pop(job_id, None)
            log.info("Job %s settled after a storage fault", job_id)
        if self._incident_guilds:
            log.warning("Storage works again; every job it held up is settled")
            self._incident_guilds.clear()
        try:
            running = await self._storage.jobs.running_ids()
        except STORAGE_ERRORS:
            return
        for job_id in running:
            if job_id in self._running or job_id in self._unsettled:
                continue
            # Left 'running' by this process with nobody working on it: end it, refunded.
            job = await self._storage.jobs.get(job_id)
            if job is None or job.state != JobState.RUNNING or job_id in self._running:
                continue
            log.warning("Job %s was left running; settling it as failed", job_id)
            stray = BotError("error.unexpected", reference=f"job-{job_id}")
            await self._settle(job, functools.partial(self._fail, job, stray))

    def _wait_for_storage(self, queued: Job) -> None:
        """Nothing is paid yet: the job waits in line again until storage answers."""
        self._schedule(queued)
        self._not_before[queued.id] = time.time() + self._reconcile_period()
        self._wake.set()

    async def _tell_positions(self) -> None:
        """The line changed: every waiting member whose place moved sees the new one.

        Places come from the scheduler's own order (the order jobs will start in), so no two
        members are told the same place. Each job's message is edited through its own
        interaction webhook, so these edits do not queue behind each other at Discord.
        """
        async with self._positions_lock:
            order = self._scheduler.order()
            waiting = set(order)
            self._told = {j: p for j, p in self._told.items() if j in waiting}
            for position, job_id in enumerate(order[:POSITION_UPDATES], start=1):
                if self._told.get(job_id) == position:
                    continue
                job = await self._storage.jobs.get(job_id)
                if job is None or job.state != JobState.QUEUED:
                    continue
                self._told[job_id] = position
                await self._tell_place(job, position, self.eta(position))

    def _progress_callback(self, job: Job) -> Callable[[bytes], Awaitable[None]]:
        last = 0.0

        async def on_partial(preview: bytes) -> None:
            nonlocal last
            # Discord throttles edits: at most one preview per interval, and one at a time;
            # the rest are dropped. The preview is posted beside the stream, never in its
            # way: reading the next event (the final picture) does not wait for Discord.
            now = time.monotonic()
            sending = self._previews.get(job.id)
            if now - last < self._settings.progress_edit_seconds or (
                sending is not None and not sending.done()
            ):
                return
            last = now
            task = asyncio.create_task(
                self._notify(lambda observer: observer.job_progress(job, preview)),
                name=f"preview-{job.id}",
            )
            self._previews[job.id] = task
            task.add_done_callback(functools.partial(self._preview_sent, job.id))

        return on_partial

    def _preview_sent(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._previews.get(job_id) is task:
            del self._previews[job_id]

    def _drop_preview(self, job_id: int) -> None:
        """The drawing is over: a preview still on its way is dropped, so the picture (or the
        failure notice) is not queued behind it at Discord."""
        task = self._previews.pop(job_id, None)
        if task is not None and not task.done():
            task.cancel()

    async def _deliver(self, job: Job, character: Character, images: list[StoredImage]) -> None:
        """Post the pictures, trying again with backoff while Discord has trouble.

        A permanent refusal (a missing permission, a post Discord rejects) settles the job:
        the pictures stay stored (gallery, /mydata), the member and the admins are told.
        """
        observer = self.observer
        if observer is None:
            log.error("No observer to deliver job %s; it stays undelivered", job.id)
            return
        if not images:
            # Seen once under heavy load in CI: the record's read-back came back empty while
            # the rows exist (cause not yet found). Read them again rather than post nothing.
            images = await self._storage.images.for_job(job.id)
            if not images:
                log.warning("Job %s has no stored pictures to post", job.id)
                return
        delay = self._settings.retry_base_seconds
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                message_id = await observer.job_done(job, character, images)
            except DeliveryFailed as exc:
                if exc.permanent:
                    await self._undeliverable(job, character, exc)
                    return
                # A 429 says how long to wait; honour it rather than our own guess.
                wait = exc.retry_after if exc.retry_after is not None else delay
                log.info("Job %s: posting failed (%s), try %d", job.id, exc.reason, attempt)
            except Exception:
                log.exception("Delivering job %s failed (try %d)", job.id, attempt)
                wait = delay
            else:
                posted = functools.partial(self._storage.jobs.mark_delivered, job.id, message_id)
                await self._settle(job, posted, tell=False)  # the member has the pictures
                await self._storage.jobs.forget_token(job.id)
                return
            if attempt == DELIVERY_ATTEMPTS or self._stopping:
                break
            await asyncio.sleep(wait)
            delay *= 2
        log.warning("Job %s is still not posted; the next start tries again", job.id)

    async def _undeliverable(self, job: Job, character: Character, exc: DeliveryFailed) -> None:
        log.warning("Job %s cannot be posted (%s); the pictures stay stored", job.id, exc.reason)
        # Settled first: no restart retries it (and logs a traceback) forever.
        settled = functools.partial(self._storage.jobs.mark_delivered, job.id, None)
        await self._settle(job, settled, tell=False)
        undeliverable = BotError(f"error.delivery_{exc.reason}", name=character.name)
        await self._notify(lambda observer: observer.job_undeliverable(job, undeliverable))
        # Once per kind of problem per day (claim_alert), however many jobs hit it.
        alert = ConfigError(reason=f"delivery_{exc.reason}", channel=f"<#{job.channel_id}>")
        await self._notify(lambda observer: observer.admin_alert(job.guild_id, alert))
        await self._storage.jobs.forget_token(job.id)

    async def _redeliver(self, job: Job) -> None:
        # A bounded number at a time: a restart after an outage must not fire every
        # undelivered post at Discord at once.
        async with self._redelivery_slots:
            if job.state == JobState.DONE:
                character = await self._storage.characters.get(job.character_id or 0)
                images = await self._storage.images.for_job(job.id)
                if character is not None and images:
                    await self._deliver(job, character, images)
                    return
            error = BotError(f"error.{job.error_code or 'generic'}", **job.error_values)
            await self._notify(lambda observer: observer.job_failed(job, error))
            await self._storage.jobs.mark_delivered(job.id, None)
            await self._storage.jobs.forget_token(job.id)

    async def _retry_or_fail(self, job: Job, exc: UpstreamBusy) -> None:
        if exc.maybe_billed:
            await self._storage.jobs.note_maybe_billed(job.id)
        if job.guild_id in self._departed:
            await self._fail(job, exc)  # the server removed the bot: no more paid attempts
            return
        if exc.retry_after:
            self._limiter.pause_for(exc.retry_after)
        if job.attempts >= self._settings.max_attempts:
            await self._fail(job, exc)
            return
        delay = exc.retry_after or self._settings.retry_base_seconds * 2 ** (job.attempts - 1)
        not_before = time.time() + delay
        log.info("Job %s: upstream busy, retry %d in %.1f s", job.id, job.attempts, delay)
        await self._storage.jobs.retry_later(job.id, not_before, "upstream_busy")
        retried = await self._storage.jobs.get(job.id)
        if retried is not None:
            self._schedule(retried)
            self._wake.set()
            position = self.position(retried.id) or 1
            self._told[retried.id] = position
            # The member's message still says "drawing": tell them it is waiting again.
            await self._tell_place(retried, position, delay + (self.eta(position) or 0))
            self._in_background(self._tell_positions(), f"positions-retry-{retried.id}")

    async def _config_problem(self, job: Job, exc: ConfigError) -> None:
        log.error("Job %s stopped by a configuration problem: %s", job.id, exc.reason)
        await self._notify(lambda observer: observer.admin_alert(job.guild_id, exc))
        if exc.reason == "insufficient_quota":
            # Out of credit: keep the job (uncharged) and pause everyone until billing is fixed.
            self._limiter.pause_for(BILLING_PAUSE_SECONDS)
            await self._storage.jobs.retry_later(job.id, time.time(), "billing")
            retried = await self._storage.jobs.get(job.id)
            if retried is not None:
                self._schedule(retried)
                await self._notify(lambda observer: observer.job_failed(retried, exc))
            return
        await self._fail(job, exc)

    async def _fail(self, job: Job, error: BotError) -> None:
        code = error.message_key.removeprefix("error.")
        if isinstance(error, ContentRefused):
            log.info("Job %s refused by moderation", job.id)
        if await self._storage.jobs.fail(job.id, code, error.values):
            await self._ended(job.id)
            failed = await self._storage.jobs.get(job.id)
            await self._notify(lambda observer: observer.job_failed(failed or job, error))
            await self._storage.jobs.mark_delivered(job.id, None)
            await self._storage.jobs.forget_token(job.id)

    async def _tell_place(self, job: Job, position: int, eta_seconds: float | None) -> None:
        await self._notify(lambda observer: observer.job_queued(job, position, eta_seconds))

    async def _notify(self, notice: Callable[[JobObserver], Awaitable[object]]) -> None:
        """Tell the observer (if any) one event: ``notice`` calls one of its methods."""
        observer = self.observer
        if observer is None:
            return
        try:
            await notice(observer)
        except Exception:
            # A failed notice (a deleted channel, a Discord outage) never breaks the queue.
            log.exception("An observer notice failed")
