"""PostgreSQL specifics: the dialect translation, serial write transactions across
processes (two storages on one database), and storage faults the queue knows how to wait out."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.errors import QuotaExhausted
from bot.records import Job
from bot.storage import STORAGE_ERRORS, SharedLimits, Storage
from bot.storage.postgres import translate
from tests.postgres_server import PostgresServer
from tests.storage_helpers import new_job, roomy_limits, two_processes


def test_placeholders_are_numbered_outside_string_literals_only() -> None:
    sql = "SELECT ? FROM t WHERE a = '?' AND b = ? AND c LIKE ? ESCAPE '\\'"
    assert translate(sql) == (
        "SELECT $1 FROM t WHERE a = '?' AND b = $2 AND c ILIKE $3 ESCAPE '\\'"
    )


def test_inserts_return_the_new_id_and_or_ignore_becomes_on_conflict() -> None:
    assert translate("INSERT INTO jobs (a) VALUES (?)") == (
        "INSERT INTO jobs (a) VALUES ($1) RETURNING id"
    )
    assert translate("INSERT OR IGNORE INTO favorites (a) VALUES (?)") == (
        "INSERT INTO favorites (a) VALUES ($1) ON CONFLICT DO NOTHING"
    )
    # executemany never reads an id back.
    assert translate("INSERT INTO images (a) VALUES (?)", want_id=False).endswith("($1)")


@pytest.fixture
async def two_storages(postgres_server: PostgresServer) -> AsyncIterator[tuple[Storage, Storage]]:
    async with two_processes(postgres_server) as both:
        yield both


@settings(max_examples=8, deadline=None)
@given(
    estimates=st.lists(st.sampled_from([0.04, 0.1, 0.25, 0.5]), min_size=4, max_size=16),
    budget=st.sampled_from([0.3, 0.5, 1.0]),
)
# Found in CI: 0.1 + 0.1 + 0.1 > 0.3 in floats, so the third job, which fits, was refused.
@example(estimates=[0.1, 0.1, 0.1, 0.1], budget=0.3)
def test_two_processes_reserving_at_once_never_overspend_the_budget(
    postgres_server: PostgresServer, estimates: list[float], budget: float
) -> None:
    """Invariant: whatever the interleaving, the reserved total never exceeds the server's
    daily budget, and every reservation that fits in what is left is accepted."""

    async def scenario() -> None:
        async with two_processes(postgres_server) as (first, second):
            limits = roomy_limits(server_daily_usd=budget)
            results = await asyncio.gather(
                *(
                    (first if i % 2 else second).jobs.insert_job(
                        new_job(user_id=i, reserved_usd=estimate), limits
                    )
                    for i, estimate in enumerate(estimates)
                ),
                return_exceptions=True,
            )
            assert all(isinstance(r, Job | QuotaExhausted) for r in results), results
            reserved = await first.quotas.reserved_usd(10, 0)
            assert reserved <= budget + 1e-9
            # Nothing smaller than what is left was refused.
            refused = [e for e, r in zip(estimates, results, strict=True) if not isinstance(r, Job)]
            assert all(e > budget - reserved + 1e-9 for e in refused)

    asyncio.run(scenario())


async def test_two_processes_accept_exactly_the_daily_quota(
    two_storages: tuple[Storage, Storage],
) -> None:
    first, second = two_storages
    limits = dataclasses.replace(roomy_limits(), member_daily=5)
    results = await asyncio.gather(
        *((first if i % 2 else second).jobs.insert_job(new_job(), limits) for i in range(20)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Job) for r in results) == 5
    assert sum(isinstance(r, QuotaExhausted) for r in results) == 15


@settings(max_examples=8, deadline=None)
@given(claims=st.lists(st.integers(min_value=0, max_value=5), min_size=2, max_size=24))
def test_two_processes_claiming_at_once_draw_each_job_once(
    postgres_server: PostgresServer, claims: list[int]
) -> None:
    """Invariant: whatever two processes try to claim, in whatever interleaving, each queued
    job is claimed (and so drawn and paid for) by exactly one claim, once."""

    async def scenario() -> None:
        async with two_processes(postgres_server) as (first, second):
            jobs = [
                (await first.jobs.insert_job(new_job(user_id=n), roomy_limits())).id
                for n in range(6)
            ]
            won = await asyncio.gather(
                *(
                    (first if i % 2 else second).jobs.mark_running(jobs[pick])
                    for i, pick in enumerate(claims)
                )
            )
            for job_id in {jobs[pick] for pick in claims}:
                tries = [w for w, pick in zip(won, claims, strict=True) if jobs[pick] == job_id]
                assert tries.count(True) == 1, (job_id, tries)
                job = await second.jobs.get(job_id)
                assert job is not None and job.attempts == 1

    asyncio.run(scenario())


@settings(max_examples=8, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=16),
    max_running=st.integers(min_value=1, max_value=4),
    per_minute=st.integers(min_value=2, max_value=8),
    finished=st.lists(st.booleans(), min_size=16, max_size=16),
)
def test_two_processes_together_stay_within_the_shared_limits(
    postgres_server: PostgresServer,
    sizes: list[int],
    max_running: int,
    per_minute: int,
    finished: list[bool],
) -> None:
    """Invariant: two processes claiming at once, in whatever interleaving, never run more
    jobs at once than the shared limit, nor send more pictures in the window than the
    shared budget; and every claim refused had no room (nothing is refused for nothing)."""
    shared = SharedLimits(max_running, per_minute)

    async def scenario() -> None:
        async with two_processes(postgres_server) as both:
            first = both[0]
            jobs = [
                (await first.jobs.insert_job(new_job(user_id=n, count=size), roomy_limits())).id
                for n, size in enumerate(sizes)
            ]
            claimed = await asyncio.gather(
                *(both[i % 2].jobs.mark_running(job, shared) for i, job in enumerate(jobs))
            )
            # Some finish; the rest of the line tries again, at once, from both processes.
            for job_id, won, done in zip(jobs, claimed, finished, strict=False):
                if won and done:
                    await first.jobs.fail(job_id, "unexpected")
            waiting = [job for job, won in zip(jobs, claimed, strict=True) if not won]
            await asyncio.gather(
                *(both[1 - i % 2].jobs.mark_running(j, shared) for i, j in enumerate(waiting))
            )
            running = await first.db.fetch_value(
                "SELECT COUNT(*) FROM jobs WHERE state = 'running'"
            )
            spent = await first.db.fetch_value("SELECT COALESCE(SUM(images), 0) FROM image_spends")
            assert running <= max_running
            assert spent <= per_minute
            # Refused only for want of room: a job still waiting would not have fitted.
            still = await first.db.fetch_all(
                "SELECT image_count FROM jobs WHERE state = 'queued' ORDER BY id"
            )
            for (size,) in still:
                assert not shared.has_room(running, spent, size), (running, spent, size)

    asyncio.run(scenario())


async def test_processes_whose_clocks_disagree_still_share_one_minute(
    two_storages: tuple[Storage, Storage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window of pictures sent and the pauses are kept by the database's clock: a
    process on a host whose clock runs two minutes ahead still counts what the other sent
    a moment ago, and still waits out the other's pause."""
    first, second = two_storages
    shared = SharedLimits(max_running=5, per_minute=2)
    jobs = [(await first.jobs.insert_job(new_job(user_id=n), roomy_limits())).id for n in range(3)]
    assert await first.jobs.mark_running(jobs[0], shared)
    assert await first.jobs.mark_running(jobs[1], shared)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)  # the second host's clock
    assert not await second.jobs.mark_running(jobs[2], shared)
    assert [images for _ago, images in await second.leases.spent_within(61)] == [1, 1]
    await second.meta.pause_drawing(30)  # a 429 heard by the host ahead...
    monkeypatch.setattr(time, "time", real_time)
    assert 25 < await first.meta.drawing_paused_for() <= 30  # ...pauses the other as long


async def test_a_pause_one_process_hears_of_holds_every_process(
    two_storages: tuple[Storage, Storage],
) -> None:
    """A 429's retry-after (or an empty account) heard by one process: no process claims a
    job to draw until it is over; a pause that is over stops nobody, and a shorter pause
    never cuts a longer one short."""
    first, second = two_storages
    shared = SharedLimits(max_running=5, per_minute=50)
    jobs = [(await first.jobs.insert_job(new_job(user_id=n), roomy_limits())).id for n in range(3)]
    await first.meta.pause_drawing(-1)  # over already
    assert await second.jobs.mark_running(jobs[0], shared)
    await first.meta.pause_drawing(600)
    await second.meta.pause_drawing(5)  # shorter: the longer one stands
    assert await second.meta.drawing_paused_for() > 500
    assert not await second.jobs.mark_running(jobs[1], shared)
    assert not await first.jobs.mark_running(jobs[2], shared)
    job = await second.jobs.get(jobs[1])
    assert job is not None and job.state == "queued"  # it waits; nothing was spent


async def test_one_process_at_a_time_does_exclusive_work(
    two_storages: tuple[Storage, Storage],
) -> None:
    """Command sync and sweeps: while one process does the work, another asked to do the
    same is told no (and does other work); once the first is done, the next may."""
    first, second = two_storages
    async with first.db.exclusive("retention-sweep") as mine:
        assert mine
        async with second.db.exclusive("retention-sweep") as theirs:
            assert not theirs
        async with second.db.exclusive("command-sync") as other_work:
            assert other_work
    async with second.db.exclusive("retention-sweep") as theirs:
        assert theirs


async def test_an_unreachable_server_raises_a_storage_error(
    postgres_server: PostgresServer,
) -> None:
    """The queue's storage-fault handling waits out what STORAGE_ERRORS lists."""
    dead = Storage(Path("unused"), f"postgresql://postgres@127.0.0.1:{_closed_port()}/none")
    with pytest.raises(STORAGE_ERRORS):
        await dead.open()


async def test_a_dropped_connection_raises_a_storage_error(
    two_storages: tuple[Storage, Storage], postgres_server: PostgresServer
) -> None:
    first, _ = two_storages
    with pytest.raises(STORAGE_ERRORS):
        async with first.db.transaction() as conn:
            admin = await asyncpg.connect(postgres_server.url("postgres"))
            try:
                # The administrator (or a failover) ends every session on the bot's database.
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() OR datname LIKE 'test_%'"
                    " AND pid != pg_backend_pid()"
                )
            finally:
                await admin.close()
            await conn.execute("UPDATE jobs SET attempts = 1")
    # The pool replaces the dead connection: the next write works.
    assert await first.db.execute("UPDATE jobs SET attempts = 1") == 0


async def test_a_connection_dropped_while_waiting_for_the_write_lock_raises_a_storage_error(
    two_storages: tuple[Storage, Storage], postgres_server: PostgresServer
) -> None:
    first, second = two_storages
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_write_lock() -> None:
        async with second.db.transaction():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_write_lock())
    await holding.wait()
    try:
        waiter = asyncio.create_task(first.db.execute("UPDATE jobs SET attempts = 1"))
        admin = await asyncpg.connect(postgres_server.url("postgres"))
        try:
            # The session blocked on the other process's lock is the one that is ended; that
            # it waits is PostgreSQL's own state, which nothing announces, so it is polled.
            async with asyncio.timeout(10):
                while not await admin.fetchval(  # noqa: ASYNC110
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname LIKE 'test_%'"
                ):
                    await asyncio.sleep(0.01)
        finally:
            await admin.close()
        # The drop itself, not the failed rollback after it: the queue waits that one out.
        with pytest.raises(STORAGE_ERRORS):
            await asyncio.wait_for(waiter, timeout=10)
    finally:
        release.set()
        await holder
    assert await first.db.execute("UPDATE jobs SET attempts = 1") == 0


async def _write_twice(storage: Storage) -> None:
    async with storage.db.transaction() as conn:
        await conn.execute("UPDATE jobs SET attempts = attempts + 1")
        await conn.execute("UPDATE jobs SET attempts = attempts + 1")


async def _read(storage: Storage) -> None:
    await storage.jobs.pending()


async def _enqueue(storage: Storage) -> None:
    await storage.jobs.insert_job(new_job(), roomy_limits())


STORAGE_CALLS = {"write": _write_twice, "read": _read, "enqueue": _enqueue}


async def _written_within_the_pool_s_size(storage: Storage) -> None:
    """A write retried on storage errors, as the queue retries one, succeeds before every
    connection of the pool (default 5) could have failed once: each dead one is replaced."""
    for _ in range(5):
        try:
            await _write_twice(storage)
            return
        except STORAGE_ERRORS:
            continue
    await _write_twice(storage)


@settings(max_examples=10, deadline=None)
@given(
    plan=st.lists(
        st.tuples(
            st.lists(st.sampled_from(sorted(STORAGE_CALLS)), min_size=1, max_size=3),
            st.integers(min_value=0, max_value=8),  # event-loop turns before the sessions end
            st.sampled_from([0.0, 0.0003, 0.001]),  # then this long
        ),
        min_size=4,
        max_size=8,
    )
)
def test_sessions_ended_at_any_moment_raise_only_errors_the_queue_waits_out(
    postgres_server: PostgresServer, plan: list[tuple[list[str], int, float]]
) -> None:
    """Invariant: whenever PostgreSQL ends the bot's sessions (a restart, a failover, an
    administrator), each read and write in flight completes or raises one of STORAGE_ERRORS,
    which the job queue waits out, and writes work again once the pool has replaced its dead
    connections. Found by this test: a statement that met a session in the middle of being
    ended raised asyncpg's InternalClientError, so a job crashed (and one already paid for
    lost its pictures)."""

    async def scenario() -> None:
        url = await postgres_server.fresh_database()
        storage = Storage(Path("unused"), url)
        await storage.open()
        admin = await asyncpg.connect(postgres_server.url("postgres"))
        try:
            await _enqueue(storage)
            for calls, turns, pause in plan:
                in_flight = [asyncio.ensure_future(STORAGE_CALLS[c](storage)) for c in calls]
                for _ in range(turns):
                    await asyncio.sleep(0)
                await asyncio.sleep(pause)
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid != pg_backend_pid()",
                    url.rsplit("/", 1)[1],
                )
                for outcome in await asyncio.gather(*in_flight, return_exceptions=True):
                    if isinstance(outcome, BaseException) and not isinstance(
                        outcome, STORAGE_ERRORS
                    ):
                        raise outcome
                await _written_within_the_pool_s_size(storage)
        finally:
            await admin.close()
            await storage.close()
            await postgres_server.drop(url)

    asyncio.run(scenario())


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_process_frozen_inside_a_write_holds_the_others_up_for_a_lease_at_most(
    postgres_server: PostgresServer,
) -> None:
    """Writes are serial (one advisory lock): a process that stands still (SIGSTOP, a
    swapping host) inside a write transaction would hold every other process's writes -
    take-overs, claims, members' commands - for as long as it stood still, and a process
    starting meanwhile would fail. Past a lease the database ends the stalled session, as a
    process that stalled that long has lost its jobs anyway; its own next write fails as
    storage trouble, which the queue waits out."""
    url = await postgres_server.fresh_database()
    frozen = Storage(Path("unused"), url, worker="shards-0", lease_seconds=1)
    other = Storage(Path("unused"), url, worker="shards-1", lease_seconds=1)
    await frozen.open()
    await other.open()
    inside = asyncio.Event()

    async def stand_still_inside_a_write() -> None:
        async with frozen.db.transaction() as conn:
            await conn.execute("UPDATE jobs SET lease_until = 0 WHERE id = 0")
            inside.set()
            await asyncio.Event().wait()  # frozen: never its next command

    stalled = asyncio.create_task(stand_still_inside_a_write())
    try:
        await inside.wait()
        job = await asyncio.wait_for(other.jobs.insert_job(new_job(), roomy_limits()), 10)
        assert await other.jobs.mark_running(job.id)
    finally:
        stalled.cancel()
        with pytest.raises((asyncio.CancelledError, *STORAGE_ERRORS)):
            await stalled
        await frozen.close()
        await other.close()
        await postgres_server.drop(url)
