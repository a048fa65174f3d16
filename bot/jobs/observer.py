"""How the queue tells the Discord layer what happened to a job.

The core knows nothing of messages or buttons; a cog implements this protocol and turns each
event into an edit, a post or an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeAlias

from bot.errors import BotError
from bot.faults import log_failure
from bot.records import Character, Job, StoredImage

__all__ = ["JobObserver", "Notify", "tell"]

log = logging.getLogger(__name__)


class JobObserver(Protocol):
    async def job_queued(self, job: Job, position: int, eta_seconds: float | None) -> None: ...

    async def job_started(self, job: Job) -> None: ...

    async def job_progress(self, job: Job, preview: bytes) -> None: ...

    async def job_done(
        self, job: Job, character: Character, images: list[StoredImage]
    ) -> int | None:
        """Post the pictures; return the id of the message that shows them.

        Raises ``DeliveryFailed`` (permanent or not) when posting failed, and
        ``PostedElsewhere`` when another process took the job over and posts it.
        """
        ...

    async def job_failed(self, job: Job, error: BotError) -> None: ...

    async def job_undeliverable(self, job: Job, error: BotError) -> None:
        """The pictures exist but can never be posted here; tell the member where they are."""
        ...

    async def job_delayed(self, job: Job, error: BotError) -> None:
        """Storage trouble holds the job up; it is safe and finishes once storage works."""
        ...

    async def storage_alert(self, guild_id: int) -> None:
        """Tell the admins that DATA_DIR fails (once per incident; must not write to it)."""
        ...

    async def job_cancelled(self, job: Job) -> None:
        """The job was cancelled while waiting; nothing more will happen to it."""
        ...

    async def admin_alert(self, guild_id: int, error: BotError) -> None: ...


# How the queue's parts tell the observer one event: ``notify(lambda o: o.job_started(job))``.
# The queue's implementation skips it when no observer is set and never lets a failed notice
# break the queue.
Notify: TypeAlias = Callable[
    [Callable[[JobObserver], Awaitable[object]]], Coroutine[Any, Any, None]
]


async def tell(
    observer: JobObserver | None, notice: Callable[[JobObserver], Awaitable[object]]
) -> None:
    """Tell ``observer`` (if any) one event: ``notice`` calls one of its methods."""
    if observer is None:
        return
    try:
        await notice(observer)
    except Exception as exc:
        # A failed notice (a deleted channel, a Discord outage) never breaks the queue.
        log_failure(log, exc, "An observer notice failed")
