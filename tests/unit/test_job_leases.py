"""Several processes share one queue (issue 25): job leases, on SQLite and PostgreSQL.

Invariant, over random sequences of three processes claiming, renewing, finishing, dying,
stalling, restarting and taking over: a job held by a live process (one that has not died or
stalled since it last renewed) is never taken from it; a live process that takes over leaves
no running or unposted job in a dead process's hands; every running job is held by exactly
one process; each process learns, at its next renewal, of any job it thought it held but
lost; and a process that stalled past its lease, then woke to finish a drawing another took
over, settles nothing of it (records no picture, fails or requeues nothing): each job gets
one answer, from the process that holds it.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from PIL import Image

from bot.images.store import ImageStore
from bot.jobs.runner import DrawnElsewhere, JobRunner
from bot.storage import NewImage, Storage
from bot.storage.database import Database
from bot.storage.images import ImageRepository
from bot.storage.jobs import JobRepository
from bot.storage.leases import LeaseRepository, WorkerLease
from tests.storage_helpers import StorageMachine, new_job, roomy_limits, run_machine

WORKERS = ("shards-0", "shards-1", "shards-2")
CHARACTER = 1  # every job draws the one character the machine makes first
workers = st.sampled_from(WORKERS)


def _held(state: str, delivered: int) -> bool:
    """A job some process must hold: drawing, or finished and not yet posted."""
    return state == "running" or (state in ("done", "failed") and not delivered)


class Process:
    """One process's view of the shared database: its job and lease repositories."""

    def __init__(self, db: Database, worker: WorkerLease) -> None:
        self.jobs = JobRepository(db, worker)
        self.leases = LeaseRepository(db, worker)
        self.images = ImageRepository(db, worker)

    async def record_a_picture(self, job_id: int) -> list[int] | None:
        """Record one picture for ``job_id``, as the runner does once it is drawn."""
        return await self.images.finish_job(
            job_id=job_id,
            guild_id=10,
            character_id=CHARACTER,
            owner_id=1,
            parent_image_id=None,
            prompt="p",
            model="m",
            images=[NewImage(f"{job_id}.png", None, 8, 8, "image/png")],
            input_tokens=1,
            output_tokens=1,
            cost_usd=None,
        )


class Leases(StorageMachine):
    def __init__(self) -> None:
        super().__init__()
        self.repos = {name: Process(self.storage.db, WorkerLease(name)) for name in WORKERS}
        self.alive = set(WORKERS)
        # Alive, but stalled past their leases since they last renewed (a frozen process):
        # what they believe they hold, others may have taken over.
        self.stalled: set[str] = set()
        # What each process believes it holds: the jobs it claimed or took over, until a
        # renewal tells it otherwise (the queue then stops drawing them).
        self.believed: dict[str, set[int]] = {name: set() for name in WORKERS}
        # The processes that were told to give each job's answer (its pictures recorded, or
        # its failure): the member hears from each of them.
        self.answered: dict[int, set[str]] = {}
        self.run(
            self.storage.characters.create(
                guild_id=10, owner_id=1, name="Aiko", sheet={"name": "Aiko"}, style="cel"
            )
        )
        for _ in range(3):  # a line to start from, so most sequences have jobs to claim
            self.a_member_asks()

    def _rows(self, where: str = "1 = 1") -> list[tuple[int, str, str | None, int]]:
        return [
            (int(r[0]), str(r[1]), r[2], int(r[3]))
            for r in self.run(
                self.storage.db.fetch_all(
                    f"SELECT id, state, worker, delivered FROM jobs WHERE {where} ORDER BY id"
                )
            )
        ]

    def _held_by_the_living(self) -> dict[int, str]:
        """The jobs held by processes whose leases still run (alive, not stalled)."""
        return {
            job_id: worker
            for job_id, state, worker, delivered in self._rows()
            if worker in self.alive - self.stalled and _held(state, delivered)
        }

    def _may_settle(self, name: str, job_id: int) -> bool:
        """Whether the database lets ``name`` settle ``job_id`` now: it waits in line, or
        ``name`` draws it."""
        ((_, state, worker, _),) = self._rows(f"id = {job_id}")
        return state == "queued" or (state == "running" and worker == name)

    @rule()
    def a_member_asks(self) -> None:
        self.run(self.storage.jobs.insert_job(new_job(character_id=CHARACTER), roomy_limits()))

    @precondition(lambda self: self.alive)
    @rule(data=st.data())
    def a_process_claims(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.alive)))
        queued = [job_id for job_id, state, _, _ in self._rows() if state == "queued"]
        if queued:
            job_id = data.draw(st.sampled_from(queued))
            if self.run(self.repos[name].jobs.mark_running(job_id)):
                self.believed[name].add(job_id)

    @precondition(lambda self: self.alive)
    @rule(data=st.data(), outcome=st.sampled_from(["fail", "retry", "pictures"]))
    def a_process_ends_a_drawing(self, data: st.DataObject, outcome: str) -> None:
        """A job this process believes it holds moves on: a failure it recorded is told
        (and so posted); a drawing ends, in the process that believes it draws it, perhaps
        a stalled one whose job another took over meanwhile. Only a job it may settle is
        settled; one that is not its own any more, it drops."""
        name = data.draw(st.sampled_from(sorted(self.alive)))
        mine = sorted(self.believed[name])
        if not mine:
            return
        job_id = data.draw(st.sampled_from(mine))
        repo = self.repos[name]
        ((_, state, worker, _),) = self._rows(f"id = {job_id}")
        if state in ("done", "failed") and worker == name:  # its member is told
            self.run(repo.jobs.mark_delivered(job_id, None))
            self.believed[name].discard(job_id)
            return
        may = self._may_settle(name, job_id)
        if outcome == "retry":
            settled = self.run(repo.jobs.retry_later(job_id, 0.0, "upstream_busy"))
        elif outcome == "pictures":
            settled = self.run(repo.record_a_picture(job_id)) is not None
        else:
            settled = self.run(repo.jobs.fail(job_id, "unexpected"))
        assert settled == may, (name, job_id, outcome, state, worker)
        if settled and outcome != "retry":
            self.answered.setdefault(job_id, set()).add(name)
        if not settled or outcome != "fail":  # back in line, posted at once, or dropped
            if settled and outcome == "pictures":
                self.run(repo.jobs.mark_delivered(job_id, None))
            self.believed[name].discard(job_id)

    @rule(name=workers)
    def a_process_renews(self, name: str) -> None:
        if name not in self.alive:
            return
        held = self.run(self.repos[name].leases.renew_leases())
        if name in self.stalled:  # it learns what others took over while it stood still
            self.stalled.discard(name)
            self.believed[name] &= held
        assert self.believed[name] <= held, f"{name} lost {self.believed[name] - held}"
        assert held <= self.believed[name], f"{name} holds {held - self.believed[name]} unknowingly"

    @rule(name=workers)
    def a_process_dies(self, name: str) -> None:
        """SIGKILL: no more renewals, so its leases run out (here: at once)."""
        if name not in self.alive:
            return
        self.alive.discard(name)
        self.stalled.discard(name)
        self.believed[name].clear()
        self._leases_run_out(name)

    @rule(data=st.data())
    def a_process_stalls_and_another_draws_its_jobs(self, data: st.DataObject) -> None:
        """Frozen (a stop signal, a swapping host) past its leases, then woken: it still
        believes it draws what it drew, until its next renewal. Meanwhile another process
        took its drawings over, and draws them again."""
        awake = sorted(self.alive - self.stalled)
        drawing = [name for name in awake if self.believed[name]]
        if not drawing or len(awake) < 2:
            return
        name = data.draw(st.sampled_from(drawing))
        self.stalled.add(name)
        self._leases_run_out(name)
        taker = data.draw(st.sampled_from([other for other in awake if other != name]))
        for job_id in self._takes_over(taker, own=False):
            if self.run(self.repos[taker].jobs.mark_running(job_id)):
                self.believed[taker].add(job_id)

    def _leases_run_out(self, name: str) -> None:
        self.run(
            self.storage.db.execute("UPDATE jobs SET lease_until = 0 WHERE worker = ?", (name,))
        )

    @rule(name=workers)
    def a_process_restarts(self, name: str) -> None:
        if name in self.alive:
            return
        self.alive.add(name)
        self._takes_over(name, own=True)

    @precondition(lambda self: self.alive)
    @rule(data=st.data())
    def a_process_takes_over(self, data: st.DataObject) -> None:
        self._takes_over(data.draw(st.sampled_from(sorted(self.alive))), own=False)

    def _takes_over(self, name: str, *, own: bool) -> list[int]:
        """``name`` takes over what dead and stalled processes hold; returns the drawings it
        put back in line."""
        others = {j: w for j, w in self._held_by_the_living().items() if w != name}
        repo = self.repos[name]
        taken = self.run(repo.leases.take_over_running(own=own))
        unposted = [job.id for job in self.run(repo.leases.take_over_undelivered(own=own))]
        assert not set(taken + unposted) & set(others), "took a live process's job"
        self.run(repo.leases.requeue(taken))  # no kept answers here: back in line
        self.believed[name] |= set(unposted)
        # Nothing is left in a dead process's hands.
        for job_id, state, worker, delivered in self._rows():
            assert not (_held(state, delivered) and worker not in self.alive), (job_id, worker)
        return taken

    @invariant()
    def every_running_job_has_one_holder(self) -> None:
        for job_id, _state, worker, _ in self._rows("state = 'running'"):
            assert worker in WORKERS, (job_id, worker)
            awake = self.alive - self.stalled
            believers = [name for name in awake if job_id in self.believed[name]]
            assert len(believers) <= 1, (job_id, believers)

    @invariant()
    def every_job_has_one_answer(self) -> None:
        """One process answers each job (the member hears once): the one that recorded its
        pictures, once, or failed it."""
        for job_id, answering in self.answered.items():
            assert len(answering) == 1, (job_id, answering)
        pictures = self.run(
            self.storage.db.fetch_all("SELECT job_id, COUNT(*) FROM images GROUP BY job_id")
        )
        assert all(int(count) == 1 for _, count in pictures), pictures


@pytest.mark.parametrize("storage_dialect", ["sqlite", "postgresql"])
def test_no_live_process_loses_a_job_and_no_dead_one_keeps_one(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(Leases, tmp_path, storage_dialect, request, examples=30, steps=30)


async def test_a_stalled_process_keeps_the_files_the_taker_records_from_its_note(
    tmp_path: Path,
) -> None:
    """A process paid for a drawing, wrote its files and their note, then stalled past its
    lease before recording them; the process that takes the job over reads the note (a
    shared volume) and records those very files. Waking between the take-over and that
    record, the stalled process is refused, and must not delete the files the other is
    recording: the member's picture would be recorded with no file behind it."""
    store = ImageStore(tmp_path / "images")
    stalled = Storage(tmp_path / "bot.sqlite3", worker="shards-0")
    taker = Storage(tmp_path / "bot.sqlite3", worker="shards-1")
    await stalled.open()
    await taker.open()
    try:
        character_id = await stalled.characters.create(
            guild_id=10, owner_id=1, name="Aiko", sheet={"name": "Aiko"}, style="cel"
        )
        character = await stalled.characters.get(character_id)
        assert character is not None
        job = await stalled.jobs.insert_job(new_job(character_id=character.id), roomy_limits())
        assert await stalled.jobs.mark_running(job.id)
        png = io.BytesIO()
        Image.new("RGB", (8, 8)).save(png, "PNG")
        saved = [NewImage(store.save(10, png.getvalue(), "image/png"), None, 8, 8, "image/png")]
        record = {
            "job_id": job.id,
            "guild_id": 10,
            "character_id": character.id,
            "owner_id": 1,
            "parent_image_id": None,
            "prompt": "p",
            "model": "m",
            "input_tokens": 1,
            "output_tokens": 1,
            "cost_usd": None,
        }
        answer = {"record": record, "images": [dataclasses.asdict(i) for i in saved]}
        store.keep_answer(job.id, answer)
        await stalled.db.execute("UPDATE jobs SET lease_until = 0 WHERE id = ?", (job.id,))
        assert await taker.leases.take_over_running(own=False) == [job.id]
        kept = store.kept_answers()[job.id]  # what the taker is about to record

        # The stalled process wakes to its own answer: not its own to record any more.
        with pytest.raises(DrawnElsewhere):
            await JobRunner(stalled, cast(Any, None), store, cast(Any, None)).record(
                job, character, record, saved
            )
        theirs = [NewImage(**image) for image in kept["images"]]
        runner = JobRunner(taker, cast(Any, None), store, cast(Any, None))
        _, images = await runner.record(job, character, kept["record"], theirs)
        assert [store.read(image.file_path) for image in images] == [png.getvalue()]
    finally:
        await stalled.close()
        await taker.close()
