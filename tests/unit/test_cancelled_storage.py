"""A read or a write whose coroutine is cancelled part way (a member's timeout, a preview
dropped, a shutdown) leaves the database as sound as before, on SQLite and PostgreSQL.

Invariant, over random sequences of cancelled reads, cancelled transactions and plain ones,
each cancelled at a random point: every later read sees the latest committed data (never
an older snapshot), every later write succeeds, and a cancelled transaction is either
wholly committed or wholly absent.

Found in CI: a read cancelled between its cursor's execute and close left SQLite's reader
on its old snapshot for its next query, so a job's new pictures read back as none; a
transaction cancelled while BEGIN was on its way left the writer inside it, failing every
later write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.storage_helpers import StorageMachine, new_job, roomy_limits, run_machine

UPSERT = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
# How far a coroutine gets before it is cancelled: event-loop turns, then real time, so
# some cancellations land while the statement runs on the database's side.
turns = st.integers(min_value=0, max_value=4)
pauses = st.sampled_from([0.0, 0.0005, 0.002])
# Reads of several rows, each other than the invariant's first query: SQLite reuses a cached
# statement for the same text, which would hide a stale snapshot the cancelled one left.
reads = st.sampled_from(["pending", "pending_for_guild"])


class CancelledStorage(StorageMachine):
    def __init__(self) -> None:
        super().__init__()
        self.value = "0"  # what "a" and "b" hold, as last committed
        self.written = 0
        # Queued jobs, so a cancelled read has rows left unread when it is cancelled.
        self.job_ids = [self.run(self.storage.jobs.insert_job(new_job(), roomy_limits())).id]

    async def _write_both(self, value: str) -> None:
        async with self.storage.db.transaction() as conn:
            await conn.execute(UPSERT, ("a", value))
            await conn.execute(UPSERT, ("b", value))

    async def _write_nothing(self) -> None:
        async with self.storage.db.transaction():
            pass

    def _cancel_after(self, coro: Coroutine[Any, Any, Any], turns: int, pause: float) -> None:
        async def cancel() -> None:
            task = asyncio.ensure_future(coro)
            for _ in range(turns):
                await asyncio.sleep(0)
            await asyncio.sleep(pause)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self.run(cancel())

    def _next_value(self) -> str:
        self.written += 1
        return str(self.written)

    @rule(read=reads, turns=turns, pause=pauses)
    def cancelled_read(self, read: str, turns: int, pause: float) -> None:
        jobs = self.storage.jobs
        query = jobs.pending() if read == "pending" else jobs.pending_for_guild(new_job().guild_id)
        self._cancel_after(query, turns, pause)

    @rule(turns=turns, pause=pauses)
    def cancelled_transaction(self, turns: int, pause: float) -> None:
        value = self._next_value()
        self._cancel_after(self._write_both(value), turns, pause)
        # A cancelled commit may still be on its way to the database: the next transaction
        # runs after it, as the bot's next write would.
        self.run(self._write_nothing())
        # Committed before the cancellation reached it, or not at all: never half.
        a, b = (self.run(self.storage.meta.get(key)) or "0" for key in ("a", "b"))
        assert a == b, f"a cancelled transaction was half committed: a={a} b={b}"
        assert a in (self.value, value)
        self.value = a
        self._reads_see_the_latest_commit()

    @rule()
    def write(self) -> None:
        value = self._next_value()
        self.run(self._write_both(value))
        self.value = value
        self._reads_see_the_latest_commit()

    @rule()
    def job_through_its_repository(self) -> None:
        # A write and a read-back through the repositories the bot uses, as a job does.
        job_id = self.run(self.storage.jobs.insert_job(new_job(), roomy_limits())).id
        self.job_ids.append(job_id)
        assert self.run(self.storage.jobs.get(job_id)) is not None
        self._reads_see_the_latest_commit()

    def _reads_see_the_latest_commit(self) -> None:
        # Checked after each write, never straight after a cancelled read: the read that
        # follows a cancelled one is the one that came back stale, and it must be a read
        # that can tell (one after a commit), as a job's read-back of its pictures is.
        for key in ("a", "b"):
            assert (self.run(self.storage.meta.get(key)) or "0") == self.value
        queued = [job.id for job in self.run(self.storage.jobs.pending())]
        assert queued == self.job_ids


def test_cancelled_reads_and_writes_leave_storage_sound(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(CancelledStorage, tmp_path, storage_dialect, request, examples=30, steps=20)
