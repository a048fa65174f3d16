"""Fair ordering of queued jobs: round-robin across guilds, and across members inside a guild.

Pure data structure, no I/O: the database is the truth about which jobs exist, this decides
which runs next. The guild served longest ago goes first, and inside it the member served
longest ago (never served counts as longest), oldest request breaking ties. So one member's
four jobs never starve another's one, and one busy guild never starves another.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

__all__ = ["FairScheduler"]

Member = tuple[int, int]  # (guild_id, user_id)


class FairScheduler:
    def __init__(self) -> None:
        self._where: dict[int, Member] = {}
        self._queues: dict[Member, deque[int]] = {}
        self._member_served: dict[Member, int] = {}
        self._guild_served: dict[int, int] = {}
        self._tick = 0

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._where

    def add(self, job_id: int, guild_id: int, user_id: int) -> None:
        if job_id in self._where:
            return
        member = (guild_id, user_id)
        queue = self._queues.setdefault(member, deque())
        queue.append(job_id)
        if len(queue) > 1 and queue[-2] > job_id:
            # A job re-queued after a retry keeps its original place among the member's jobs.
            self._queues[member] = deque(sorted(queue))
        self._where[job_id] = member

    def remove(self, job_id: int) -> bool:
        member = self._where.pop(job_id, None)
        if member is None:
            return False
        queue = self._queues[member]
        queue.remove(job_id)
        if not queue:
            del self._queues[member]
        return True

    def pop(self, runnable: Callable[[int], bool] | None = None) -> int | None:
        """Take the next job to run; ``runnable`` (if given) skips jobs not yet allowed."""
        best: tuple[tuple[int, int, int], Member, int] | None = None
        for member, queue in self._queues.items():
            job_id = next((j for j in queue if runnable is None or runnable(j)), None)
            if job_id is None:
                continue
            key = (
                self._guild_served.get(member[0], -1),
                self._member_served.get(member, -1),
                job_id,
            )
            if best is None or key < best[0]:
                best = (key, member, job_id)
        if best is None:
            return None
        _, member, job_id = best
        self.remove(job_id)
        self._tick += 1
        self._guild_served[member[0]] = self._tick
        self._member_served[member] = self._tick
        return job_id

    def served(self, guild_id: int, user_id: int) -> None:
        """Another process started a job of this member: they were served now, as if here
        (so every process sharing the queue keeps one fair order)."""
        self._tick += 1
        self._guild_served[guild_id] = self._tick
        self._member_served[(guild_id, user_id)] = self._tick

    def order(self) -> list[int]:
        """Every queued job id in the order they would run if nothing else arrived."""
        guild_members: dict[int, list[tuple[int, int, int, deque[int]]]] = {}
        for (guild_id, user_id), queue in self._queues.items():
            entry = (
                self._member_served.get((guild_id, user_id), -1),
                queue[0],
                user_id,
                deque(queue),
            )
            guild_members.setdefault(guild_id, []).append(entry)
        guilds: list[tuple[int, int, int]] = []
        for guild_id, members in guild_members.items():
            heapq.heapify(members)
            guilds.append((self._guild_served.get(guild_id, -1), members[0][1], guild_id))
        heapq.heapify(guilds)
        tick = self._tick
        ordered: list[int] = []
        while guilds:
            _, _, guild_id = heapq.heappop(guilds)
            members = guild_members[guild_id]
            _, _, user_id, queue = heapq.heappop(members)
            ordered.append(queue.popleft())
            tick += 1
            if queue:
                heapq.heappush(members, (tick, queue[0], user_id, queue))
            if members:
                heapq.heappush(guilds, (tick, members[0][1], guild_id))
        return ordered

    def position(self, job_id: int) -> int | None:
        """1-based place in the queue, or None when the job is not queued."""
        if job_id not in self._where:
            return None
        return self.order().index(job_id) + 1

    def jobs_of(self, guild_id: int) -> list[int]:
        return [job for (g, _), queue in self._queues.items() if g == guild_id for job in queue]
