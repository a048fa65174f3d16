"""Posting a finished job's pictures: retried through Discord trouble, redelivered at start.

The pictures are stored before they are posted; a crash, a restart or a Discord outage in
between never draws (or bills) them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Collection

from bot.config import Settings
from bot.errors import BotError, ConfigError, ContentRefused, DeliveryFailed, PostedElsewhere
from bot.faults import log_failure
from bot.images.store import ImageStore
from bot.jobs.observer import JobObserver, Notify
from bot.jobs.runner import DrawnElsewhere, JobRunner
from bot.jobs.scene_cast import SceneConsentWithdrawn
from bot.jobs.storage_faults import StorageFaults
from bot.records import PENDING_STATES, Character, Job, JobState, StoredImage
from bot.storage import NewImage, Storage
from bot.thumbnails import ThumbnailCache

__all__ = ["DELIVERY_ATTEMPTS", "REDELIVERY_CONCURRENCY", "JobPoster"]

log = logging.getLogger(__name__)

# Posting a finished job: tries in this process (backoff from RETRY_BASE_SECONDS, doubling:
# 2 + 4 + 8 + 16 + 32 s by default, about a minute of Discord trouble) before the next start
# takes over; and how many posts the start-up redelivery makes at once.
DELIVERY_ATTEMPTS = 6
REDELIVERY_CONCURRENCY = 3
# A new picture's gallery thumbnail waits (this long at most) until no other picture is on
# its way to Discord: nobody needs it before then, and those posts need the CPU.
THUMBNAILS_WAIT_SECONDS = 30.0


class JobPoster:
    def __init__(
        self,
        storage: Storage,
        store: ImageStore,
        runner: JobRunner,
        settings: Settings,
        faults: StorageFaults,
        notify: Notify,
        *,
        observer: Callable[[], JobObserver | None],
        stopping: Callable[[], bool],
    ) -> None:
        self._storage = storage
        self._store = store
        self._runner = runner
        self._settings = settings
        self._settle = faults.settle
        self._notify = notify
        self._observer = observer  # the queue's observer, set after the queue is built
        self._stopping = stopping  # the queue is shutting down: leave posts for next start
        self._redelivery_slots = asyncio.Semaphore(REDELIVERY_CONCURRENCY)
        # Makes new pictures' thumbnails; the composition root shares the gallery's (through
        # JobQueue.share_thumbnails), so a page repairing the same picture records it once.
        self.thumbnails = ThumbnailCache(storage, store)
        self._posting = 0  # new pictures on their way to Discord
        self._posts_done = asyncio.Condition()

    async def post_new(self, job: Job, character: Character, images: list[StoredImage]) -> None:
        """Post a job's new pictures, then make their gallery thumbnails once no other post
        is on its way. Nothing the member sees waits on a thumbnail, and one that fails
        loses nothing: the gallery makes a missing thumbnail when it first shows it."""
        self._posting += 1
        try:
            await self.deliver(job, character, images)
        finally:
            self._posting -= 1
            async with self._posts_done:
                self._posts_done.notify_all()
        with contextlib.suppress(TimeoutError):
            async with self._posts_done:
                quiet = self._posts_done.wait_for(lambda: self._posting == 0)
                await asyncio.wait_for(quiet, THUMBNAILS_WAIT_SECONDS)
        await self.thumbnails.make_after_post(job.guild_id, images)

    async def record_kept_answers(self, held: Collection[int], *, tidy: bool) -> list[int]:
        """Pictures paid for before a process stopped, of jobs this process now ``held``:
        record them rather than redraw them; return the jobs recorded. With ``tidy`` (at
        start) also drop the notes of jobs that will never be recorded."""
        notes = await asyncio.to_thread(self._store.kept_answers)
        recorded: list[int] = []
        for job_id, note in sorted(notes.items()):
            if job_id not in held and not tidy:
                continue
            saved = [NewImage(**image) for image in note.get("images", [])]
            job = await self._storage.jobs.get(job_id)
            character = await self._storage.characters.get(job.character_id or 0) if job else None
            if job is None or job.state not in PENDING_STATES or character is None:
                if job is None or job.state != JobState.DONE:  # never to be recorded: no orphans
                    paths = [p for i in saved for p in (i.file_path, i.thumb_path) if p]
                    await asyncio.to_thread(self._store.delete, paths)
                self._store.forget_answer(job_id)
                continue
            if job_id not in held:
                continue  # a live process holds it: its answer is that process's to record
            try:
                await self._runner.record(job, character, note["record"], saved)
            except (BotError, DrawnElsewhere):
                continue  # its character is gone, or another process took it over
            recorded.append(job_id)
            log.info("Job %s: recorded the pictures a previous run kept (not paid twice)", job_id)
        return recorded

    async def deliver(self, job: Job, character: Character, images: list[StoredImage]) -> None:
        """Post the pictures, trying again with backoff while Discord has trouble.

        A permanent refusal (a missing permission, a post Discord rejects) settles the job:
        the pictures stay stored (gallery, /mydata), the member and the admins are told.
        """
        observer = self._observer()
        if observer is None:
            log.error("No observer to deliver job %s; it stays undelivered", job.id)
            return
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
            except PostedElsewhere:
                # Taken over while this process stalled: posted once, by the other process.
                log.warning("Job %s: another process posts it; not posted here", job.id)
                return
            except Exception as exc:
                log_failure(log, exc, "Delivering job %s failed (try %d)", job.id, attempt)
                wait = delay
            else:
                posted = functools.partial(self._storage.jobs.mark_delivered, job.id, message_id)
                await self._settle(job, posted, tell=False)  # the member has the pictures
                return
            if attempt == DELIVERY_ATTEMPTS or self._stopping():
                break
            # The post may have gone out before what failed (its record, or Discord's answer
            # on the way back): the next try looks for it first, as a redelivery after a
            # restart does. The job is done: its pictures were recorded before any delivery.
            job = dataclasses.replace(job, state=JobState.DONE)
            await asyncio.sleep(wait)
            delay *= 2
        log.warning("Job %s is still not posted; the next start tries again", job.id)

    async def _undeliverable(self, job: Job, character: Character, exc: DeliveryFailed) -> None:
        log.warning("Job %s cannot be posted (%s); the pictures stay stored", job.id, exc.reason)
        # Settled first: no restart retries it (and logs a traceback) forever.
        settled = functools.partial(
            self._storage.jobs.mark_delivered, job.id, None, keep_token=True
        )
        await self._settle(job, settled, tell=False)
        undeliverable = BotError(f"error.delivery_{exc.reason}", name=character.name)
        await self._notify(lambda observer: observer.job_undeliverable(job, undeliverable))
        # Once per kind of problem per day (claim_alert), however many jobs hit it.
        alert = ConfigError(reason=f"delivery_{exc.reason}", channel=f"<#{job.channel_id}>")
        await self._notify(lambda observer: observer.admin_alert(job.guild_id, alert))
        forget = functools.partial(self._storage.jobs.forget_token, job.id)
        await self._settle(job, forget, tell=False)

    async def redeliver(self, job: Job) -> None:
        # A bounded number at a time: a restart after an outage must not fire every
        # undelivered post at Discord at once.
        async with self._redelivery_slots:
            if job.state == JobState.DONE:
                character = await self._storage.characters.get(job.character_id or 0)
                images = await self._storage.images.for_job(job.id)
                if character is not None and images:
                    await self.deliver(job, character, images)
                    return
                # Drawn and recorded, then deleted (the character, or every picture) before
                # a restart could post them: the member hears so, charged as drawn.
                error = BotError("error.deleted_before_posting")
            else:
                error = _stored_failure(job)
            await self._notify(lambda observer: observer.job_failed(job, error))
            # Told: a storage fault now must not leave it untold here (told again later).
            told = functools.partial(self._storage.jobs.mark_delivered, job.id, None)
            await self._settle(job, told, tell=False)


# Failures whose reason is told privately (delivery checks the class), by their stored key.
_REFUSALS: dict[str, type[BotError]] = {
    refusal.message_key: refusal for refusal in (ContentRefused, SceneConsentWithdrawn)
}


def _stored_failure(job: Job) -> BotError:
    """A failed job's error as the queue raised it: the queue stores its key without the
    "error." prefix, so a key of another family ("scene.error.withdrawn") is stored whole."""
    code = job.error_code or "generic"
    key = code if "." in code else f"error.{code}"
    return _REFUSALS.get(key, BotError)(key, **job.error_values)
