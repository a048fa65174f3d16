"""What the Discord delivery of jobs reads and notes while it answers members.

The delivery (cogs/pictures/delivery.py) decides what to say; what it needs to know about a
job and what it must remember (which message shows a job, which pictures a post holds, that
admins were told about a problem today) goes through here, not through the storage layer.
"""

from __future__ import annotations

import time

from bot.records import Character, Job
from bot.storage import STORAGE_ERRORS, Storage
from bot.takedowns import MessageTakedowns

__all__ = ["JobPosts"]


class JobPosts:
    def __init__(
        self, storage: Storage, takedowns: MessageTakedowns, *, shares_queue: bool = False
    ) -> None:
        self._storage = storage
        self._takedowns = takedowns
        # Alone with its database, no other process can take a job over: nothing to read.
        self._shares_queue = shares_queue

    async def job(self, job_id: int) -> Job | None:
        """The job as it is now (its state may have moved on since the event was sent)."""
        return await self._storage.jobs.get(job_id)

    async def held_elsewhere(self, job_id: int) -> bool:
        """Whether another process took the job over while this one stalled past its lease:
        what its member sees of it now is that process's to post. Unreadable (storage
        failing), it counts as this process's, as it almost always is: the post goes on."""
        if not self._shares_queue:
            return False
        try:
            return bool(await self._storage.leases.held_elsewhere([job_id]))
        except STORAGE_ERRORS:
            return False

    async def character(self, job: Job) -> Character | None:
        return await self._storage.characters.get(job.character_id or 0)

    async def note_status_message(self, job_id: int, message_id: int) -> None:
        """The message that shows the job's progress (to tidy it up after a late post)."""
        await self._storage.jobs.set_response_message(job_id, message_id)

    async def note_posted(self, image_ids: list[int], channel_id: int, message_id: int) -> None:
        """The message that shows these pictures (favorites by reaction find them by it).
        A member who deleted them while it was being posted gets it taken down."""
        if await self._storage.images.set_message(image_ids, channel_id, message_id):
            self._takedowns.wake()

    async def claim_admin_alert(self, guild_id: int, reason: str) -> bool:
        """True if admins have not heard about ``reason`` today (and now will)."""
        return await self._storage.guilds.claim_alert(guild_id, reason, time.time())
