"""Several processes share one queue (issue 25): job leases, on SQLite and PostgreSQL.

Invariant, over random sequences of three processes claiming, renewing, finishing, dying,
restarting and taking over: a job held by a live process (one that has not died since it
last renewed) is never taken from it; a live process that takes over leaves no running or
unposted job in a dead process's hands; every running job is held by exactly one process;
and each process learns, at its next renewal, of any job it thought it held but lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from bot.storage.database import Database
from bot.storage.jobs import JobRepository
from bot.storage.leases import LeaseRepository, WorkerLease
from tests.storage_helpers import StorageMachine, new_job, roomy_limits, run_machine

WORKERS = ("shards-0", "shards-1", "shards-2")
workers = st.sampled_from(WORKERS)


def _held(state: str, delivered: int) -> bool:
    """A job some process must hold: drawing, or finished and not yet posted."""
    return state == "running" or (state in ("done", "failed") and not delivered)


class Process:
    """One process's view of the shared database: its job and lease repositories."""

    def __init__(self, db: Database, worker: WorkerLease) -> None:
        self.jobs = JobRepository(db, worker)
        self.leases = LeaseRepository(db, worker)


class Leases(StorageMachine):
    def __init__(self) -> None:
        super().__init__()
        self.repos = {name: Process(self.storage.db, WorkerLease(name)) for name in WORKERS}
        self.alive = set(WORKERS)
        # What each process believes it holds: the jobs it claimed or took over, until a
        # renewal tells it otherwise (the queue then stops drawing them).
        self.believed: dict[str, set[int]] = {name: set() for name in WORKERS}
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
        return {
            job_id: worker
            for job_id, state, worker, delivered in self._rows()
            if worker in self.alive and _held(state, delivered)
        }

    @rule()
    def a_member_asks(self) -> None:
        self.run(self.storage.jobs.insert_job(new_job(), roomy_limits()))

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
    @rule(data=st.data(), outcome=st.sampled_from(["fail", "retry", "posted"]))
    def a_process_ends_a_drawing(self, data: st.DataObject, outcome: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.alive)))
        mine = sorted(self.believed[name])
        if not mine:
            return
        job_id = data.draw(st.sampled_from(mine))
        repo = self.repos[name]
        if outcome == "retry":
            self.run(repo.jobs.retry_later(job_id, 0.0, "upstream_busy"))
            self.believed[name].discard(job_id)
        elif outcome == "fail":
            self.run(repo.jobs.fail(job_id, "unexpected"))  # held until the member is told
        else:  # the member is told (a failure, or the pictures once recorded)
            self.run(repo.jobs.fail(job_id, "unexpected"))
            self.run(repo.jobs.mark_delivered(job_id, None))
            self.believed[name].discard(job_id)

    @rule(name=workers)
    def a_process_renews(self, name: str) -> None:
        if name not in self.alive:
            return
        held = self.run(self.repos[name].leases.renew_leases())
        assert self.believed[name] <= held, f"{name} lost {self.believed[name] - held}"
        assert held <= self.believed[name], f"{name} holds {held - self.believed[name]} unknowingly"

    @rule(name=workers)
    def a_process_dies(self, name: str) -> None:
        """SIGKILL: no more renewals, so its leases run out (here: at once)."""
        if name not in self.alive:
            return
        self.alive.discard(name)
        self.believed[name].clear()
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

    def _takes_over(self, name: str, *, own: bool) -> None:
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

    @invariant()
    def every_running_job_has_one_holder(self) -> None:
        for job_id, _state, worker, _ in self._rows("state = 'running'"):
            assert worker in WORKERS, (job_id, worker)
            believers = [name for name in self.alive if job_id in self.believed[name]]
            assert len(believers) <= 1, (job_id, believers)


@pytest.mark.parametrize("storage_dialect", ["sqlite", "postgresql"])
def test_no_live_process_loses_a_job_and_no_dead_one_keeps_one(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(Leases, tmp_path, storage_dialect, request, examples=20, steps=30)
