"""The servers the queue may spend on: those the bot is still in.

A server that removes the bot has its waiting jobs cancelled (refunded) at once and nothing
more sent to OpenAI for it; its characters and pictures stay, for when it comes back. Until
the bot has connected and knows its servers, nothing is dispatched, so a server that left
while the bot was away pays for nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.records import JobState
from bot.storage import Storage

__all__ = ["ServerPresence"]

log = logging.getLogger(__name__)


class ServerPresence:
    def __init__(self, storage: Storage, cancel: Callable[[int], Awaitable[bool]]) -> None:
        self._storage = storage
        self._cancel = cancel  # the queue's cancel: refunds, tells and tidies
        self._departed: set[int] = set()
        # Set once the bot knows which servers it is still in: dispatching waits for it.
        self.known = asyncio.Event()

    def has_left(self, guild_id: int) -> bool:
        return guild_id in self._departed

    async def leave(self, guild_id: int) -> int:
        """The bot was removed from a server: cancel (refund) its waiting jobs at once.

        Running jobs finish (their request is already paid for) but are not retried.
        Returns how many jobs were cancelled.
        """
        self._departed.add(guild_id)
        cancelled = 0
        for job in await self._storage.jobs.pending_for_guild(guild_id):
            if job.state == JobState.QUEUED and await self._cancel(job.id):
                cancelled += 1
        if cancelled:
            log.info("Left guild %s: cancelled %d waiting jobs", guild_id, cancelled)
        return cancelled

    def join(self, guild_id: int) -> None:
        """The bot is (again) in this server: its members' jobs may run."""
        self._departed.discard(guild_id)

    async def keep_only(
        self, guild_ids: set[int], served: Callable[[int], bool] = lambda _guild_id: True
    ) -> None:
        """Once connected: jobs of servers the bot is no longer in are cancelled, then the
        queue starts dispatching. Only servers on this process's shards (``served``) are
        judged: other processes connect the rest, and their jobs are theirs to cancel."""
        for job in await self._storage.jobs.pending():
            gone = job.guild_id not in guild_ids and served(job.guild_id)
            if gone and not self.has_left(job.guild_id):
                await self.leave(job.guild_id)
        self.known.set()
