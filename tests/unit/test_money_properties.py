"""Random sequences against the real storage layer: the dollar budget holds, nobody pays twice.

Members submit jobs of every kind (creations, variations, scenes, reference sheets,
avatars, cut-outs) with estimates against a tiny daily budget; jobs start, are retried,
settle at a measured cost no higher than their estimate (the estimate is conservative by
design), fail, are cancelled, run twice after a crash, and the process restarts, in any
order. After every step:

- settled plus reserved spend never passes the budget (so neither does what was paid);
- every job is charged at most once, and a second run of a finished job stores nothing;
- what the budget counts (reserved + settled) equals the waiting jobs' reservations plus
  the delivered jobs' costs in the usage report.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from bot.errors import QueueFull, QuotaExhausted
from bot.images.creator_prompts import image_kind_for
from bot.records import (
    AvatarJobRequest,
    CreateJobRequest,
    CutoutJobRequest,
    JobKind,
    JobRequest,
    SceneJobRequest,
    SheetJobRequest,
    VaryJobRequest,
)
from bot.storage import Limits, NewJob
from bot.storage.database import placeholders
from tests.storage_helpers import (
    StorageMachine,
    finish_with_one_picture,
    roomy_limits,
    run_machine,
)

GUILD = 10
BUDGET = 1.0


def budget_limits() -> Limits:
    return roomy_limits(server_daily_usd=BUDGET, month_start=time.time() - 60)


def request_of(kind: JobKind, cast: tuple[int, ...]) -> JobRequest:
    """A request of each kind, as the services would store it."""
    if kind is JobKind.VARY:
        return VaryJobRequest("1024x1024", change="waving")
    if kind is JobKind.SCENE:
        return SceneJobRequest("1536x1024", setting="ramen at a night market", character_ids=cast)
    if kind is JobKind.SHEET:
        return SheetJobRequest()
    if kind is JobKind.AVATAR:
        return AvatarJobRequest(transparent=True)
    if kind is JobKind.CUTOUT:
        return CutoutJobRequest()
    return CreateJobRequest("1024x1024")


class MoneyMachine(StorageMachine):
    def __init__(self) -> None:
        super().__init__()
        self.character = self.run(
            self.storage.characters.create(
                guild_id=GUILD, owner_id=1, name="Aiko", sheet={"name": "Aiko"}, style="cel"
            )
        )
        # A character that has been drawn before: failed jobs never take it away.
        self.run(
            self.storage.db.execute(
                "UPDATE characters SET drawn = 1 WHERE id = ?", (self.character,)
            )
        )
        self.partner = self.run(
            self.storage.characters.create(
                guild_id=GUILD, owner_id=2, name="Ren", sheet={"name": "Ren"}, style="cel"
            )
        )
        self.charges: dict[int, int] = {}

    def jobs_in(self, *states: str) -> list[int]:
        marks = placeholders(len(states))
        rows = self.run(
            self.storage.db.fetch_all(
                f"SELECT id FROM jobs WHERE state IN ({marks}) ORDER BY id", states
            )
        )
        return [int(r[0]) for r in rows]

    @rule(
        user=st.integers(1, 3),
        kind=st.sampled_from([k for k in JobKind if k is not JobKind.REROLL]),
        count=st.integers(1, 4),
        estimate=st.floats(0.01, 0.6, allow_nan=False),
    )
    def submit(self, user: int, kind: JobKind, count: int, estimate: float) -> None:
        job = NewJob(
            GUILD,
            5,
            user,
            kind,
            request_of(kind, (self.character, self.partner)),
            count,
            "en",
            character_id=self.character,
            reserved_usd=estimate,
        )
        with contextlib.suppress(QuotaExhausted, QueueFull):  # refused: nothing reserved
            self.run(self.storage.jobs.insert_job(job, budget_limits()))

    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        queued = self.jobs_in("queued")
        if queued:
            self.run(self.storage.jobs.mark_running(data.draw(st.sampled_from(queued))))

    @rule(data=st.data(), share=st.floats(0.0, 1.0, allow_nan=False), twice=st.booleans())
    def settle(self, data: st.DataObject, share: float, twice: bool) -> None:
        """A job finishes at a measured cost up to its estimate (perhaps run twice)."""
        pending = self.jobs_in("running", "queued")
        if not pending:
            return
        job_id = data.draw(st.sampled_from(pending))
        job = self.run(self.storage.jobs.get(job_id))
        reserved = self.run(
            self.storage.db.fetch_value("SELECT reserved_usd FROM jobs WHERE id = ?", (job_id,))
        )

        scene_id = None
        if job.kind == JobKind.SCENE:
            scene_id = self.run(
                self.storage.scenes.record_cast(
                    job_id=job_id,
                    guild_id=GUILD,
                    maker_id=job.user_id,
                    character_ids=[self.character, self.partner],
                )
            )

        async def finish() -> list[int] | None:
            return await finish_with_one_picture(
                self.storage,
                job,
                f"{job_id}.png",
                cost_usd=float(reserved) * share,
                scene_id=scene_id,
                image_kind=str(image_kind_for(job.kind)),
            )

        for _ in range(2 if twice else 1):
            if self.run(finish()) is not None:
                self.charges[job_id] = self.charges.get(job_id, 0) + 1

    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        pending = self.jobs_in("running", "queued")
        if pending:
            self.run(self.storage.jobs.fail(data.draw(st.sampled_from(pending)), "upstream"))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        queued = self.jobs_in("queued")
        if queued:
            self.run(self.storage.jobs.cancel(data.draw(st.sampled_from(queued))))

    @rule(data=st.data())
    def retry_later(self, data: st.DataObject) -> None:
        running = self.jobs_in("running")
        if running:
            job_id = data.draw(st.sampled_from(running))
            self.run(self.storage.jobs.retry_later(job_id, time.time(), "upstream_busy"))

    @rule(data=st.data())
    def time_out(self, data: st.DataObject) -> None:
        """An attempt timed out after reaching OpenAI: possibly billed, then retried later."""
        running = self.jobs_in("running")
        if running:
            job_id = data.draw(st.sampled_from(running))
            self.run(self.storage.jobs.note_maybe_billed(job_id))
            self.run(self.storage.jobs.retry_later(job_id, time.time(), "upstream_busy"))

    @rule()
    def restart(self) -> None:
        """The process starts again: it takes back the jobs it held and puts them in line."""
        held = self.run(self.storage.leases.take_over_running(own=True))
        self.run(self.storage.leases.requeue(held))

    # --- what must always hold ---------------------------------------------------------------

    @invariant()
    def the_budget_holds(self) -> None:
        committed, _ = self.run(self.storage.quotas.spent_usd(GUILD, 0))
        # Timeouts are the one thing a reservation cannot bound: each possibly-billed
        # attempt is counted (so it stops later requests), on top of what was accepted.
        assert committed <= BUDGET + self.maybe_billed() + 1e-9

    @invariant()
    def charged_at_most_once(self) -> None:
        assert all(times == 1 for times in self.charges.values())
        charged = self.run(
            self.storage.db.fetch_value("SELECT COUNT(*) FROM jobs WHERE charged = 1")
        )
        assert charged == len(self.charges)

    @invariant()
    def reserved_plus_settled_is_what_usage_shows(self) -> None:
        committed, _ = self.run(self.storage.quotas.spent_usd(GUILD, 0))
        reserved = self.run(self.storage.quotas.reserved_usd(GUILD, 0))
        buckets = self.run(self.storage.quotas.usage_buckets(GUILD, 0, time.time() + 60))
        settled = sum(bucket.cost_usd for bucket in buckets)
        assert abs(committed - (reserved + settled + self.maybe_billed())) < 1e-9

    def maybe_billed(self) -> float:
        value = self.run(self.storage.db.fetch_value("SELECT SUM(maybe_billed_usd) FROM jobs"))
        return float(value or 0.0)


def test_money_holds_under_random_sequences(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(MoneyMachine, tmp_path, storage_dialect, request, examples=60, steps=30)
