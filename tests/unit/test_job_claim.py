"""A job's request is made ready before it is claimed, and the claim notes its prompt: one
write from "in line" to "drawing" (issue 27). What cannot be prepared never starts."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import CharacterGone
from bot.jobs.runner import Prepared
from bot.records import Job, JobState
from bot.storage import Storage
from tests.queue_helpers import ALICE, StubRunner, running_queue, submit
from tests.storage_helpers import open_storage


class FailingPrepare(StubRunner):
    """Its first ``failures`` preparations raise what ``fault`` makes."""

    def __init__(self, fault: Callable[[], Exception], failures: int = 1) -> None:
        super().__init__()
        self.fault = fault
        self.failures = failures
        self.prepared = 0

    async def prepare(self, job: Job) -> Prepared:
        self.prepared += 1
        if self.prepared <= self.failures:
            raise self.fault()
        return await super().prepare(job)


async def job_row(storage: Storage, job_id: int) -> Job:
    job = await storage.jobs.get(job_id)
    assert job is not None
    return job


def count_writes(storage: Storage) -> list[str]:
    """Every write the database is asked for from now on: a statement or a transaction (on
    PostgreSQL a statement runs in a transaction of its own, counted once)."""
    writes: list[str] = []
    db: Any = storage.db
    in_statement = False
    transaction = db.transaction

    def counted_transaction(*args: Any, **kw: Any) -> Any:
        if not in_statement:
            writes.append("transaction")
        return transaction(*args, **kw)

    def counted(name: str) -> Callable[..., Any]:
        statement = getattr(db, name)

        async def run(*args: Any, **kw: Any) -> Any:
            nonlocal in_statement
            writes.append(name)
            in_statement = True
            try:
                return await statement(*args, **kw)
            finally:
                in_statement = False

        return run

    db.transaction = counted_transaction
    db.execute, db.insert = counted("execute"), counted("insert")
    return writes


async def test_the_claim_notes_the_prompt_and_is_the_only_write_before_drawing(
    storage: Storage,
) -> None:
    async with running_queue(storage) as (jobs, runner, told):
        writes = count_writes(storage)
        job_id = await submit(jobs, runner, "A1", ALICE)
        await runner.wait_drawn(1)
        # The job's insert, then its claim: no separate note of the prompt.
        assert writes == ["transaction", "execute"]
        drawing = await job_row(storage, job_id)
        assert drawing.state == JobState.RUNNING
        runner.release.release()  # the stub refuses the drawing: the job fails
        await told.wait_for("job_failed", job_id)
    rows = await storage.db.fetch_all("SELECT prompt, model FROM jobs WHERE id = ?", (job_id,))
    # What was sent stays on record after the job failed.
    assert tuple(rows[0]) == (f"drawing job {job_id}", "stub-model")


async def test_a_job_whose_character_is_gone_before_its_claim_ends_undrawn_and_unpaid(
    storage: Storage,
) -> None:
    runner = FailingPrepare(CharacterGone)
    async with running_queue(storage, runner=runner) as (jobs, _, told):
        job_id = await submit(jobs, runner, "A1", ALICE)
        await told.wait_for("job_failed", job_id)
    ended = await job_row(storage, job_id)
    assert (ended.state, ended.error_code, ended.attempts) == (JobState.FAILED, "character_gone", 0)
    assert runner.drawn == []


async def test_a_storage_fault_while_preparing_leaves_the_job_in_line_until_it_clears(
    storage: Storage,
) -> None:
    runner = FailingPrepare(lambda: sqlite3.OperationalError("database is locked"), failures=2)
    async with running_queue(storage, runner=runner) as (jobs, _, told):
        job_id = await submit(jobs, runner, "A1", ALICE)
        await runner.wait_drawn(1)
        assert runner.prepared == 3
        assert (await job_row(storage, job_id)).attempts == 1  # claimed once, when ready
        assert ("job_failed", job_id) not in told.events


class MixedPrepare(StubRunner):
    """Each job's preparation as the test drew it: ready, its character gone, or a storage
    fault the first time it is tried."""

    def __init__(self, outcomes: dict[str, str]) -> None:
        super().__init__()
        self.outcomes = outcomes  # by the name the test gave the job
        self.faulted: set[int] = set()

    async def prepare(self, job: Job) -> Prepared:
        outcome = self.outcomes[self.names[job.id]]
        if outcome == "gone":
            raise CharacterGone()
        if outcome == "fault" and job.id not in self.faulted:
            self.faulted.add(job.id)
            raise sqlite3.OperationalError("database is locked")
        return await super().prepare(job)


@settings(max_examples=15, deadline=None)
@given(outcomes=st.lists(st.sampled_from(["ready", "gone", "fault"]), min_size=1, max_size=6))
def test_whatever_preparing_meets_every_job_ends_once_and_only_ready_ones_are_drawn(
    outcomes: list[str],
) -> None:
    """A burst of jobs whose preparations succeed, find the character gone, or meet a
    storage fault once: each job ends exactly once; a job whose character is gone is never
    drawn nor claimed; every other one is drawn exactly once."""

    async def run(folder: str) -> None:
        names = {f"J{i}": outcome for i, outcome in enumerate(outcomes)}
        runner = MixedPrepare(names)
        async with (
            open_storage(Path(folder) / "bot.sqlite3") as storage,
            running_queue(storage, runner=runner) as (jobs, _, told),
        ):
            ids = {}
            for member, name in enumerate(names, start=ALICE):
                ids[name] = await submit(jobs, runner, name, member)
            drawable = [ids[name] for name, outcome in names.items() if outcome != "gone"]
            for drawn in range(1, len(drawable) + 1):  # each drawing is refused, one by one
                await runner.wait_drawn(drawn)
                runner.release.release()
            for job_id in ids.values():
                await told.wait_for("job_failed", job_id)
            assert sorted(runner.drawn_ids) == sorted(drawable)  # each once, none gone
            ended = [job_id for event, job_id in told.events if event == "job_failed"]
            assert sorted(ended) == sorted(ids.values())  # each ended once
            for name, job_id in ids.items():
                row = await job_row(storage, job_id)
                assert row.state == JobState.FAILED
                assert row.attempts == (0 if names[name] == "gone" else 1)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))
