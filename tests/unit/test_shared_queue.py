"""Two processes, one queue on PostgreSQL (issue 25): the fair order holds across processes.

Each process lines up every waiting job, whichever process took it in; whom the other
process served counts in its order too, so one member's four jobs never starve another's
one because a different process happens to draw next.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.errors import UpstreamBusy
from bot.jobs.runner import Prepared
from bot.records import Job
from tests.postgres_server import PostgresServer
from tests.queue_helpers import ALICE, BOB, CAROL, OTHER_GUILD, StubRunner, running_queue, submit
from tests.storage_helpers import two_processes

# One of several processes sharing the queue; three drawings at once for all of them.
SHARED: dict[str, Any] = {"shares_queue": True, "max_running": 3}


async def test_a_member_served_by_one_process_waits_behind_others_in_the_other(
    postgres_server: PostgresServer,
) -> None:
    async with (
        two_processes(postgres_server) as (first, second),
        running_queue(first, **SHARED) as (one, one_runner, _),
        running_queue(second, **SHARED) as (two, two_runner, _),
    ):
        # The second process is busy drawing a member of another server.
        await submit(two, two_runner, "C1", CAROL, guild_id=OTHER_GUILD)
        await two_runner.wait_drawn(1)
        # The first process draws Alice's first of four.
        alice = [await submit(one, one_runner, f"A{n}", ALICE) for n in range(1, 5)]
        await one_runner.wait_drawn(1)
        # Bob asks (through the second process) after Alice's others.
        bob = await submit(two, two_runner, "B1", BOB)
        two_runner.names.update({job_id: f"A{n}" for n, job_id in enumerate(alice, 1)})
        await two._takeover.pick_up()  # the second process's look at the shared line
        assert set(two.queued_ids()) == {*alice[1:], bob}
        # The second process is free again: Bob goes before Alice's second, though
        # Alice asked first: the first process already served her.
        await two_runner.finish_until(drawn=2)
        assert two_runner.drawn == ["C1", "B1"]


class RateLimitedRunner(StubRunner):
    """OpenAI answers the first drawing with a 429 that says: come back in a minute."""

    async def draw(self, job: Job, prepared: Any, progress: Any) -> None:
        async with self.started:
            self.drawn_ids.append(job.id)
            self.started.notify_all()
        raise UpstreamBusy(retry_after=60)


async def test_a_429_one_process_hears_pauses_the_other(
    postgres_server: PostgresServer,
) -> None:
    async with (
        two_processes(postgres_server) as (first, second),
        running_queue(first, **SHARED, runner=RateLimitedRunner()) as (
            one,
            one_runner,
            one_told,
        ),
        running_queue(second, **SHARED) as (two, two_runner, two_told),
    ):
        alice = await submit(one, one_runner, "A1", ALICE)
        await one_told.wait_for("job_failed", alice)  # one attempt allowed: it is over
        bob = await submit(two, two_runner, "B1", BOB)
        # The second process never heard the 429, yet it waits it out: its member hears
        # their place, and nothing is sent to OpenAI before the minute is over.
        await two_told.wait_for("job_queued", bob)
        assert await second.meta.drawing_paused_for() > 50
        assert two_runner.drawn == []
        assert two._limiter.paused_for() > 50  # it waits without asking the database


async def test_a_renewal_stops_only_a_drawing_another_process_took_over(
    postgres_server: PostgresServer,
) -> None:
    async with (
        two_processes(postgres_server) as (first, second),
        running_queue(first, **SHARED) as (one, runner, _),
    ):
        job_id = await submit(one, runner, "A1", ALICE)
        await runner.wait_drawn(1)
        drawing = one._running[job_id]
        renew_leases = first.leases.renew_leases

        async def renewed_before_the_claim() -> set[int]:
            await renew_leases()
            return set()  # as read a moment before this process claimed the job

        first.leases.renew_leases = renewed_before_the_claim  # type: ignore[method-assign]
        await one._takeover.renew()
        assert drawing.cancelling() == 0  # its own claim: it goes on drawing
        # This process stalled past its lease, and the second took the job over.
        await second.db.execute("UPDATE jobs SET worker = ? WHERE id = ?", ("shards-1", job_id))
        await one._takeover.renew()
        assert drawing.cancelling() == 1  # not drawn (nor paid for) twice


class CountingRunner(StubRunner):
    """Counts how often each job's request is made ready (references read and converted)."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared: list[int] = []

    async def prepare(self, job: Job) -> Prepared:
        self.prepared.append(job.id)
        return await super().prepare(job)


async def test_a_job_waiting_for_room_other_processes_hold_is_made_ready_once(
    postgres_server: PostgresServer,
) -> None:
    counting = CountingRunner()
    looks = asyncio.Condition()
    looked = 0
    async with (
        two_processes(postgres_server) as (first, second),
        running_queue(first, shares_queue=True, max_running=1) as (one, one_runner, _),
        running_queue(second, shares_queue=True, max_running=1, runner=counting) as (two, _, _),
    ):
        room_to_draw = second.leases.room_to_draw

        async def counted(job_id: int, within: Any) -> bool:
            nonlocal looked
            room = await room_to_draw(job_id, within)
            async with looks:
                looked += 1
                looks.notify_all()
            return room

        second.leases.room_to_draw = counted  # type: ignore[method-assign]
        await submit(one, one_runner, "A1", ALICE)
        await one_runner.wait_drawn(1)  # the one drawing all processes may have at once
        bob = await submit(two, counting, "B1", BOB)
        async with looks:  # the second process looked for room three times, in vain
            await asyncio.wait_for(looks.wait_for(lambda: looked >= 3), 10)
        assert counting.prepared == []  # nothing read or converted while it waits
        one_runner.release.release()  # A1 ends: the slot is free
        await counting.wait_drawn(1)
        assert counting.drawn_ids == [bob]
        assert counting.prepared == [bob]
