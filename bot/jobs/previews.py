"""A running job's partial pictures, passed on to the member's message as previews."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.jobs.observer import Notify
from bot.records import Job

__all__ = ["PREVIEWS_UP_TO", "PreviewRelay"]

# With more drawings than this at once, a job that starts asks OpenAI for no partial
# pictures at all: each preview costs output tokens, a Discord edit and the bot's CPU, and
# with many jobs running that is better spent on the finished pictures.
PREVIEWS_UP_TO = 4


class PreviewRelay:
    """Throttles previews to what Discord takes, and never lets one hold up the drawing."""

    def __init__(self, settings: Settings, notify: Notify) -> None:
        self._settings = settings
        self._notify = notify
        # The progress preview on its way to Discord, per running job.
        self._sending: dict[int, asyncio.Task[None]] = {}
        # Jobs drawing now (from callback() until drop()).
        self._drawing: set[int] = set()

    def callback(self, job: Job) -> Callable[[bytes], Awaitable[None]] | None:
        """What the runner calls with each partial picture of ``job``; ``None`` (no partial
        pictures asked for) while more than PREVIEWS_UP_TO jobs draw. Pair with drop()."""
        self._drawing.add(job.id)
        if len(self._drawing) > PREVIEWS_UP_TO:
            return None
        last = 0.0

        async def on_partial(preview: bytes) -> None:
            nonlocal last
            # Discord throttles edits: at most one preview per interval, and one at a time;
            # the rest are dropped. The preview is posted beside the stream, never in its
            # way: reading the next event (the final picture) does not wait for Discord.
            now = time.monotonic()
            sending = self._sending.get(job.id)
            if now - last < self._settings.progress_edit_seconds or (
                sending is not None and not sending.done()
            ):
                return
            last = now
            task = asyncio.create_task(
                self._notify(lambda observer: observer.job_progress(job, preview)),
                name=f"preview-{job.id}",
            )
            self._sending[job.id] = task
            task.add_done_callback(functools.partial(self._sent, job.id))

        return on_partial

    def _sent(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._sending.get(job_id) is task:
            del self._sending[job_id]

    def drop(self, job_id: int) -> None:
        """The drawing is over: a preview still on its way is dropped, so the picture (or the
        failure notice) is not queued behind it at Discord."""
        self._drawing.discard(job_id)
        task = self._sending.pop(job_id, None)
        if task is not None and not task.done():
            task.cancel()
