"""The job queue through its public API: real storage on a temporary database, a stub runner
that only notes which job it was asked to draw, one drawing slot. Fast: no bot, no network."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.errors import NotAllowed, NotFound
from bot.jobs.board import QueueBoard
from bot.jobs.limiter import RateLimiter
from bot.jobs.queue import JobQueue
from bot.records import Job, JobState
from bot.storage import Storage
from bot.storage.jobs import JobRepository
from bot.storage.leases import WorkerLease
from tests.queue_helpers import (
    ALICE,
    BOB,
    CAROL,
    GUILD,
    OTHER_GUILD,
    ROOMY,
    StubRunner,
    Told,
    running_queue,
    submit,
)
from tests.storage_helpers import new_job, open_storage


@pytest.fixture
async def queue(storage: Storage) -> AsyncIterator[tuple[JobQueue, StubRunner, Told]]:
    async with running_queue(storage) as running:
        yield running


async def first_drawing(jobs: JobQueue, runner: StubRunner) -> None:
    """Alice's A1 is being drawn: it holds the only slot, so what follows waits in line."""
    await submit(jobs, runner, "A1", ALICE)
    await runner.wait_drawn(1)


async def test_one_members_jobs_take_turns_with_anothers(
    queue: tuple[JobQueue, StubRunner, Told],
) -> None:
    jobs, runner, _ = queue
    await first_drawing(jobs, runner)
    for name in ("A2", "A3"):
        await submit(jobs, runner, name, ALICE)
    bob = await submit(jobs, runner, "B1", BOB)
    assert jobs.position(bob) == 1  # Bob was never served: he goes ahead of Alice's next
    await runner.finish_until(drawn=4)
    assert runner.drawn == ["A1", "B1", "A2", "A3"]


async def test_servers_take_turns_and_positions_tell_the_order(
    queue: tuple[JobQueue, StubRunner, Told],
) -> None:
    jobs, runner, _ = queue
    await first_drawing(jobs, runner)
    waiting = {name: await submit(jobs, runner, name, ALICE) for name in ("A2", "A3")}
    waiting["C1"] = await submit(jobs, runner, "C1", CAROL, guild_id=OTHER_GUILD)
    told_order = sorted(waiting, key=lambda name: jobs.position(waiting[name]) or 0)
    assert told_order == ["C1", "A2", "A3"]
    assert jobs.queued_ids(OTHER_GUILD) == [waiting["C1"]]
    await runner.finish_until(drawn=4)
    assert runner.drawn == ["A1", *told_order]


async def test_a_job_to_start_at_once_that_finds_the_budget_full_tells_its_member(
    storage: Storage,
) -> None:
    limiter = RateLimiter(concurrency=1, images_per_minute=600)
    async with running_queue(storage, limiter=limiter) as (jobs, runner, told):
        job_id = await submit(jobs, runner, "A1", ALICE)
        assert told.events == []  # to start at once: straight to "drawing", nothing before
        # Before it starts, other processes' drawings fill the minute's budget.
        limiter.share_window([(0.0, 600)])  # (seconds ago, pictures)
        await told.wait_for("job_queued", job_id)  # not "thinking…" for a minute
        assert runner.drawn == []


async def test_a_waiting_member_hears_a_longer_wait_when_the_budget_turns_out_spent(
    storage: Storage,
) -> None:
    """A member told a short wait whose job then finds the minute's budget spent (by other
    processes, which this one learns of only when the job is about to start) hears how long
    it really waits, not the few seconds they were told."""
    limiter = RateLimiter(concurrency=1, images_per_minute=600)
    async with running_queue(storage, limiter=limiter) as (jobs, runner, told):
        await first_drawing(jobs, runner)
        waiting = await submit(jobs, runner, "A2", ALICE)
        await told.wait_for("job_queued", waiting)
        limiter.share_window([(0.0, 600)])  # (seconds ago, pictures)
        runner.release.release()  # A1 ends: A2 is next, and finds no room
        await told.wait_for("job_queued", waiting, times=2)
        first, now = told.waits[waiting]
        assert first < 60 <= now
        assert runner.drawn == ["A1"]


async def test_a_member_whose_place_holds_hears_a_wait_that_grew_but_not_a_small_slip(
    storage: Storage,
) -> None:
    limiter = RateLimiter(concurrency=1, images_per_minute=600)
    async with running_queue(storage, limiter=limiter) as (jobs, runner, told):
        await first_drawing(jobs, runner)
        waiting = await submit(jobs, runner, "A2", ALICE)
        behind = [await submit(jobs, runner, name, ALICE) for name in ("A3", "A4")]
        # The line changes behind A2: its place and its wait are as told, so no news.
        assert await jobs.cancel(behind[0])
        await jobs.places.tell_moved()
        assert len(told.waits[waiting]) == 1
        # A pause (a 429 another app caused) holds everyone a minute: A2 hears it at the
        # line's next change, though its place is the same.
        limiter.pause_for(60)
        assert await jobs.cancel(behind[1])
        await told.wait_for("job_queued", waiting, times=2)
        assert told.waits[waiting][-1] >= 60
        assert jobs.position(waiting) == 1


async def test_a_job_a_look_at_the_line_started_meanwhile_is_not_lined_up_twice(
    storage: Storage, queue: tuple[JobQueue, StubRunner, Told]
) -> None:
    """The look for waiting jobs (every few seconds when processes share the queue) may
    find a new job between its insert and the enqueue's own line-up, and the dispatcher
    may start it at once. The enqueue then must not line it up again: a second start
    would take the first one's place in the running jobs, and the reconciler would fail
    the drawing as a stray ("something unexpected went wrong")."""
    jobs, runner, told = queue
    insert = storage.jobs.insert_job

    async def a_look_comes_first(*args: Any, **kwargs: Any) -> Job:
        stored = await insert(*args, **kwargs)
        await jobs._takeover.pick_up()
        await runner.wait_drawn(1)  # started from the look
        return stored

    storage.jobs.insert_job = a_look_comes_first  # type: ignore[method-assign]
    job_id = await submit(jobs, runner, "A1", ALICE)
    assert jobs.queued_ids() == []  # drawing, not waiting to be drawn again
    await jobs.faults.reconcile()
    assert ("job_failed", job_id) not in told.events
    await runner.finish_until(drawn=1)
    assert runner.drawn == ["A1"]


async def test_a_cancelled_job_is_never_drawn(
    queue: tuple[JobQueue, StubRunner, Told],
) -> None:
    jobs, runner, told = queue
    await first_drawing(jobs, runner)
    cancelled = await submit(jobs, runner, "A2", ALICE)
    await submit(jobs, runner, "A3", ALICE)
    assert await jobs.cancel(cancelled)
    assert jobs.position(cancelled) is None
    await runner.finish_until(drawn=2)
    assert runner.drawn == ["A1", "A3"]
    assert ("job_cancelled", cancelled) in told.events


async def test_at_ready_only_this_processs_shards_servers_are_judged_absent(
    queue: tuple[JobQueue, StubRunner, Told],
) -> None:
    """With several processes, READY lists only this process's shards' servers: a server
    on another process's shard is not gone, and its members' jobs are not cancelled."""
    jobs, runner, told = queue
    await first_drawing(jobs, runner)
    ours = await submit(jobs, runner, "A2", ALICE)
    theirs = await submit(jobs, runner, "B1", BOB, guild_id=OTHER_GUILD)
    # A reconnect's READY: GUILD is gone; OTHER_GUILD lives on another process's shard.
    await jobs.servers.keep_only(set(), served=lambda guild_id: guild_id == GUILD)
    assert ("job_cancelled", ours) in told.events
    assert ("job_cancelled", theirs) not in told.events
    await runner.finish_until(drawn=2)
    assert runner.drawn == ["A1", "B1"]


async def test_a_job_being_taken_over_is_no_stray_to_the_reconciler(
    storage: Storage, queue: tuple[JobQueue, StubRunner, Told]
) -> None:
    """A dead process's running job, taken over here, is held in this process's name for
    a moment before it is recorded or put back in line: the stray-job reconciler, running
    in that moment, must not settle it as a failure."""
    jobs, runner, told = queue
    dead = JobRepository(storage.db, WorkerLease("shards-9", -1))  # its lease ran out
    job_id = (await dead.insert_job(new_job(ALICE), ROOMY)).id
    assert await dead.mark_running(job_id)
    reading = asyncio.Event()
    go_on = asyncio.Event()
    record = jobs._poster.record_kept_answers

    async def slow_record(held: list[int], *, tidy: bool) -> list[int]:
        reading.set()  # the kept answers are being read (a shared volume can be slow)
        await go_on.wait()
        return await record(held, tidy=tidy)

    jobs._poster.record_kept_answers = slow_record  # type: ignore[method-assign]
    taking = asyncio.create_task(jobs._takeover.take_over())
    await reading.wait()
    await jobs.faults.reconcile()  # the reconciler's round falls in that moment
    go_on.set()
    await taking
    assert ("job_failed", job_id) not in told.events
    runner.names[job_id] = "taken"
    await runner.finish_until(drawn=1)
    assert runner.drawn == ["taken"]  # drawn here, once


@pytest.mark.parametrize("storage_dialect", ["sqlite"])  # (the rule is the queue's, not SQL)
async def test_a_storage_fault_while_taking_over_strands_no_job(
    storage: Storage, queue: tuple[JobQueue, StubRunner, Told]
) -> None:
    """The database fails between holding a dead process's running job here and putting
    it back in line (PostgreSQL restarting): the job is this process's now, so nobody else
    takes it; it must be neither settled as a failure by the reconciler (its member would
    hear of an unexpected error) nor left running: the next round of take-overs finishes it."""
    jobs, runner, told = queue
    dead = JobRepository(storage.db, WorkerLease("shards-9", -1))  # its lease ran out
    job_id = (await dead.insert_job(new_job(ALICE), ROOMY)).id
    assert await dead.mark_running(job_id)
    requeue = storage.leases.requeue
    faults = [sqlite3.OperationalError("database is locked")]

    async def requeue_once_storage_works(job_ids: list[int]) -> int:
        if faults:
            raise faults.pop()
        return await requeue(job_ids)

    storage.leases.requeue = requeue_once_storage_works  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):  # (the leases' loop logs it, tries again)
        await jobs._takeover.take_over()
    await jobs.faults.reconcile()  # the reconciler's round while the take-over is unfinished
    assert ("job_failed", job_id) not in told.events
    await jobs._takeover.take_over()  # the leases' next round: storage works again
    runner.names[job_id] = "taken"
    await runner.finish_until(drawn=1)
    assert runner.drawn == ["taken"]  # drawn here, once
    assert ("job_failed", job_id) not in told.events


@pytest.mark.parametrize("storage_dialect", ["sqlite"])  # (the rule is the queue's, not SQL)
async def test_a_job_stored_is_queued_and_its_member_told_though_storage_fails_right_after(
    storage: Storage, queue: tuple[JobQueue, StubRunner, Told]
) -> None:
    """Once its row is committed the job is accepted (reserved, and drawn in turn): a
    storage fault the moment after (a locked database) must not make the request fail, or
    the member would hear "try again", lose their reference and ask twice."""
    jobs, runner, told = queue
    await first_drawing(jobs, runner)
    insert, read = storage.jobs.insert_job, storage.jobs.get

    async def locked(job_id: int) -> Job | None:
        raise sqlite3.OperationalError("database is locked")

    async def insert_then_lock(*args: Any, **kwargs: Any) -> Job:
        stored = await insert(*args, **kwargs)
        storage.jobs.get = locked  # type: ignore[method-assign]
        return stored

    storage.jobs.insert_job = insert_then_lock  # type: ignore[method-assign]
    waiting = await submit(jobs, runner, "A2", ALICE)
    storage.jobs.get = read  # type: ignore[method-assign]
    await told.wait_for("job_queued", waiting)
    assert jobs.position(waiting) == 1
    await runner.finish_until(drawn=2)
    assert runner.drawn == ["A1", "A2"]


# A cancel attempt: who presses, in which server, as an admin or not, and which job.
attempts = st.lists(
    st.tuples(
        st.sampled_from([ALICE, BOB, CAROL]),
        st.sampled_from([GUILD, OTHER_GUILD]),
        st.booleans(),
        st.integers(0, 4),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(attempts=attempts)
def test_only_a_jobs_member_or_an_admin_of_its_server_cancels_it(
    attempts: list[tuple[int, int, bool, int]],
) -> None:
    """Whatever anyone presses in whichever server, a waiting job is cancelled only by its
    member or an admin of its own server; every other try is refused and changes nothing."""

    async def run(folder: str) -> None:
        async with (
            open_storage(Path(folder) / "bot.sqlite3") as storage,
            running_queue(storage) as (jobs, runner, _),
        ):
            await first_drawing(jobs, runner)  # the slot is taken: the rest wait
            owners = [(ALICE, GUILD), (BOB, GUILD), (CAROL, OTHER_GUILD), (BOB, GUILD)]
            waiting = [
                await submit(jobs, runner, f"J{i}", user, guild)
                for i, (user, guild) in enumerate(owners)
            ]
            board = QueueBoard(storage, jobs)
            allowed_cancels: set[int] = set()
            for actor, guild, admin, index in attempts:
                job_id = waiting[index % len(waiting)]
                owner, home = owners[index % len(owners)]
                may = guild == home and (actor == owner or admin)
                try:
                    await board.cancel(guild, actor, job_id, is_admin=admin)
                except NotFound:
                    assert guild != home
                except NotAllowed as refused:
                    assert not may or refused.message_key == "error.cancel_too_late"
                else:
                    assert may
                    allowed_cancels.add(job_id)
            for job_id in waiting:
                job = await storage.jobs.get(job_id)
                assert job is not None
                assert (job.state == JobState.CANCELLED) == (job_id in allowed_cancels)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from([ALICE, BOB, CAROL]), st.booleans()),
        st.tuples(st.just("look"), st.none(), st.none()),
        st.tuples(st.just("finish"), st.none(), st.none()),
        st.tuples(st.just("reconcile"), st.none(), st.none()),
    ),
    max_size=14,
)


@settings(max_examples=30, deadline=None)
# The race the kill test once lost: a look starts the new job, then the check for strays.
@example(steps=[("submit", ALICE, True), ("reconcile", None, None)])
@given(steps=steps)
def test_with_looks_at_the_line_in_any_order_every_job_is_drawn_once_and_ends_once(
    steps: list[tuple[str, int | None, bool | None]],
) -> None:
    """A queue shared with other processes looks at the line every few seconds, also in
    the moment between a new job's insert and its own line-up. Whatever the order of
    submissions, looks, drawings ending and the stray-job check, no job is drawn twice,
    none is failed while its drawing goes on, and every job ends."""

    async def run(folder: str) -> None:
        two_slots = RateLimiter(concurrency=2, images_per_minute=600)
        async with (
            open_storage(Path(folder) / "bot.sqlite3") as storage,
            running_queue(storage, shares_queue=True, max_running=2, limiter=two_slots) as (
                jobs,
                runner,
                told,
            ),
        ):
            insert = storage.jobs.insert_job
            submitted: list[int] = []
            ended = 0

            def failed() -> list[int]:
                return [job_id for event, job_id in told.events if event == "job_failed"]

            for step, member, look_first in steps:
                if step == "submit":
                    assert member is not None
                    if look_first:

                        async def a_look_comes_first(*args: Any, **kwargs: Any) -> Job:
                            storage.jobs.insert_job = insert  # type: ignore[method-assign]
                            stored = await insert(*args, **kwargs)
                            free = len(jobs._running) < 2
                            await jobs._takeover.pick_up()
                            if free:  # a slot is free: the look's line-up starts a job
                                await runner.wait_drawn(len(runner.drawn_ids) + 1)
                            return stored

                        storage.jobs.insert_job = a_look_comes_first  # type: ignore[method-assign]
                    submitted.append(await submit(jobs, runner, f"J{len(submitted)}", member))
                elif step == "look":
                    await jobs._takeover.pick_up()
                elif step == "finish" and len(runner.drawn_ids) > ended:
                    runner.release.release()  # the drawing ends (refused: nothing to post)
                    ended += 1
                    await told.wait_for("job_failed", runner.drawn_ids[ended - 1])
                elif step == "reconcile":
                    await jobs.faults.reconcile()
                assert len(runner.drawn_ids) == len(set(runner.drawn_ids))  # none twice
                assert len(failed()) <= ended  # none failed while its drawing goes on
            while ended < len(submitted):  # every job ends, each drawn once
                await runner.wait_drawn(ended + 1)
                runner.release.release()
                ended += 1
            for job_id in submitted:
                await told.wait_for("job_failed", job_id)
            assert sorted(runner.drawn_ids) == sorted(submitted)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))
