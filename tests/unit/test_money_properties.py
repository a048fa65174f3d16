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
import dataclasses
import time
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from bot.errors import QueueFull, QuotaExhausted
from bot.images.creator_prompts import image_kind_for
from bot.quota_status import QuotaWindow
from bot.quotas import MODEL_TIERS, QuotaService
from bot.records import (
    AvatarJobRequest,
    CreateJobRequest,
    CutoutJobRequest,
    Job,
    JobKind,
    JobRequest,
    QuotaLimit,
    SceneJobRequest,
    SheetJobRequest,
    VaryJobRequest,
)
from bot.reservations import reservation_inputs
from bot.storage import Limits, NewJob
from bot.storage.database import placeholders
from tests.storage_helpers import (
    StorageMachine,
    finish_with_one_picture,
    roomy_limits,
    run_machine,
)
from tests.unit.test_quotas import settings as quota_settings

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


def asked(
    user: int,
    kind: JobKind,
    count: int,
    cast: tuple[int, int],
    *,
    reserved_usd: float | None = None,
) -> NewJob:
    """A member's request of ``kind``, filed under the first character of ``cast``."""
    request = request_of(kind, cast)
    return NewJob(
        GUILD, 5, user, kind, request, count, "en", character_id=cast[0], reserved_usd=reserved_usd
    )


# A member asks for pictures of any kind (a re-roll is a create or a scene again).
SUBMISSIONS = {
    "user": st.integers(1, 3),
    "kind": st.sampled_from([k for k in JobKind if k is not JobKind.REROLL]),
    "count": st.integers(1, 4),
    "estimate": st.floats(0.01, 0.6, allow_nan=False),
}


class MoneyMachine(StorageMachine):
    # The jobs a settle may finish (a queued one: run again after a crash, say).
    settles_from: tuple[str, ...] = ("running", "queued")

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
        self.recorded: dict[int, list[int]] = {}  # job -> the pictures finishing it recorded

    def jobs_in(self, *states: str) -> list[int]:
        marks = placeholders(len(states))
        rows = self.run(
            self.storage.db.fetch_all(
                f"SELECT id FROM jobs WHERE state IN ({marks}) ORDER BY id", states
            )
        )
        return [int(r[0]) for r in rows]

    @rule(**SUBMISSIONS)
    def submit(self, user: int, kind: JobKind, count: int, estimate: float) -> None:
        job = asked(user, kind, count, (self.character, self.partner), reserved_usd=estimate)
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
        pending = self.jobs_in(*self.settles_from)
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
                cost_usd=self.dearest(job, float(reserved)) * share,
                scene_id=scene_id,
                image_kind=str(image_kind_for(job.kind)),
            )

        for _ in range(2 if twice else 1):
            self.note_charge(job_id, self.run(finish()))

    def note_charge(self, job_id: int, recorded: list[int] | None) -> bool:
        """Count a charge when ``recorded`` (what finishing the job returned) is new: a job
        run twice gets the pictures of its first run back, recorded and charged once."""
        if recorded is None:
            return False
        first = self.recorded.setdefault(job_id, recorded)
        assert recorded == first, "a second run recorded other pictures"
        if first is recorded:
            self.charges[job_id] = self.charges.get(job_id, 0) + 1
        return True

    def dearest(self, job: Job, reserved: float) -> float:
        """The most ``job`` may measurably cost: its estimate, which it was reserved at."""
        return reserved

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


# --- the budget checked again before drawing ----------------------------------------------


class _AllTime(QuotaService):
    """The real service, with one day and month that hold every job of a run (a run that
    crosses midnight must not start a fresh budget halfway)."""

    def window(self, now: float) -> QuotaWindow:
        forever = 1e11  # the year 5138
        return QuotaWindow(0.0, forever, 0.0, forever, 0.0, forever)


LOWERED_BUDGET = 0.3


class RecheckMachine(MoneyMachine):
    """The same steps, with each job drawn only after the real budget check before drawing
    (``QuotaService.recheck_budget``), and an admin switching the model tier at any time:
    a job accepted at economy and drawn at premium costs several times its reservation.

    Requests are accepted against the usual budget, then checked against a lower one (an
    admin lowered it meanwhile). Reservations may add up past it for a moment (a raised one
    stops the jobs behind it when their turn comes), but what is drawn (running, delivered,
    possibly billed) never passes it.
    """

    settles_from = ("running",)  # a job is drawn only after its check

    def __init__(self) -> None:
        super().__init__()
        price = {"text_input": 5, "image_input": 8, "image_output": 32}
        config = quota_settings(
            self.folder,
            price_table={"gpt-image-2.5-flare": price, "gpt-image-2.5-sunburst": price},
        )
        self.quotas = _AllTime(self.storage, config)
        # Lower than the budget requests were accepted against: an admin lowered it since.
        server = QuotaLimit(GUILD, "server", 0, None, None, None, LOWERED_BUDGET, None)
        self.run(self.storage.quotas.set(server, updated_by=99, now=time.time()))
        # Requests are accepted at economy's estimates (``submit``); the admin has switched
        # to premium since, and may switch again at any step.
        self.run(self.storage.guilds.update(GUILD, model_tier="premium"))
        self.drawn_at: dict[int, float] = {}  # job id -> its estimate at the tier it was drawn

    @rule(tier=st.sampled_from(MODEL_TIERS))
    def admin_sets_tier(self, tier: str) -> None:
        self.run(self.storage.guilds.update(GUILD, model_tier=tier))

    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        queued = self.jobs_in("queued")
        if not queued:
            return
        # The queue starts the oldest waiting jobs first (each member's, in turn).
        job = self.run(self.storage.jobs.get(data.draw(st.sampled_from(queued[:2]))))
        try:
            self.run(self.quotas.recheck_budget(job, time.time()))
        except QuotaExhausted:
            self.run(self.storage.jobs.fail(job.id, "budget"))
            return
        self.run(self.storage.jobs.mark_running(job.id))
        # Drawn at the tier set now: its estimate there is what it may cost.
        kind, references = reservation_inputs(job.kind, job.request, job.reference_path)
        self.drawn_at[job.id] = self.run(
            self.quotas.estimate_usd(
                GUILD,
                kind=kind,
                size=job.request.size,
                count=job.image_count,
                references=references,
            )
        )

    def dearest(self, job: Job, reserved: float) -> float:
        return self.drawn_at[job.id]

    @rule(data=st.data(), share=st.floats(0.5, 1.0, allow_nan=False), twice=st.booleans())
    def settle(self, data: st.DataObject, share: float, twice: bool) -> None:
        """A picture costs about two thirds of its estimate (published tokens, and half as
        many again reserved), so a measured cost of half the estimate or more."""
        super().settle(data, share, twice)

    @invariant()
    def the_budget_holds(self) -> None:
        drawn = self.run(
            self.storage.db.fetch_value(
                "SELECT SUM(CASE WHEN state = 'running' THEN reserved_usd"
                " WHEN state = 'done' THEN cost_usd ELSE 0 END) FROM jobs"
            )
        )
        assert float(drawn or 0.0) <= LOWERED_BUDGET + self.maybe_billed() + 1e-9

    @rule(
        user=st.integers(1, 3),
        kind=st.sampled_from([k for k in JobKind if k is not JobKind.REROLL]),
        count=st.integers(1, 4),
        estimate=st.floats(0.01, 0.1, allow_nan=False),
    )
    def submit(self, user: int, kind: JobKind, count: int, estimate: float) -> None:
        """Accepted at the economy tier's low estimates."""
        super().submit(user, kind, count, estimate)


def test_what_is_drawn_holds_to_the_budget_whatever_the_tier_does(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(RecheckMachine, tmp_path, storage_dialect, request, examples=60, steps=30)


# --- picture quotas and waiting caps ------------------------------------------------------


class QuotaMachine(MoneyMachine):
    """Members' picture quotas and waiting caps under the same steps, with limits an admin
    raises or lowers and hours and days that turn over between any two steps.

    The machine keeps its own account of every job (who, how many pictures, when, and
    whether it is waiting, delivered or ended) from what each storage call answered, and
    checks every submission against it: accepted exactly when it fits every quota and cap
    in force, so a burst, a retry, a cancel or a restart never lets a member past a limit
    and never refuses one who has room.
    """

    def __init__(self) -> None:
        super().__init__()
        now = time.time()
        self.limits = Limits(
            member_pending_cap=2,
            guild_pending_cap=4,
            member_daily=6,
            member_hourly=3,
            server_daily=10,
            day_start=now - 60,
            hour_start=now - 60,
        )
        # job id -> [user, pictures counted, created_at, "waiting" | "done" | "ended"]
        self.ledger: dict[int, list[object]] = {}

    def counted(self, since: float, user: int | None = None) -> int:
        return sum(
            int(str(count))
            for owner, count, created, status in self.ledger.values()
            if status in ("waiting", "done")
            and float(str(created)) >= since
            and (user is None or owner == user)
        )

    def waiting(self, user: int | None = None) -> int:
        return sum(
            1
            for owner, _, _, status in self.ledger.values()
            if status == "waiting" and (user is None or owner == user)
        )

    def fits(self, user: int, count: int) -> bool:
        lim = self.limits
        quotas = [
            (lim.member_hourly, self.counted(lim.hour_start, user)),
            (lim.member_daily, self.counted(lim.day_start, user)),
            (lim.server_daily, self.counted(lim.day_start)),
        ]
        return (
            self.waiting(user) < lim.member_pending_cap
            and self.waiting() < lim.guild_pending_cap
            and all(limit is None or used + count <= limit for limit, used in quotas)
        )

    def end(self, job_id: int, ended: bool) -> None:
        if ended:
            self.ledger[job_id][3] = "ended"

    @rule(**SUBMISSIONS)
    def submit(self, user: int, kind: JobKind, count: int, estimate: float) -> None:
        job = asked(user, kind, count, (self.character, self.partner))
        expected = self.fits(user, count)
        try:
            job_id = self.run(self.storage.jobs.insert_job(job, self.limits)).id
        except (QuotaExhausted, QueueFull):
            assert not expected, f"refused with room: {self.limits}, {self.ledger}"
            return
        assert expected, f"accepted past a limit: {self.limits}, {self.ledger}"
        created = self.run(
            self.storage.db.fetch_value("SELECT created_at FROM jobs WHERE id = ?", (job_id,))
        )
        self.ledger[job_id] = [user, count, float(created), "waiting"]

    @rule(
        daily=st.none() | st.integers(0, 8),
        hourly=st.none() | st.integers(0, 4),
        pending=st.integers(1, 3),
        server=st.none() | st.integers(0, 12),
    )
    def admin_sets_limits(
        self, daily: int | None, hourly: int | None, pending: int, server: int | None
    ) -> None:
        """An admin raises or lowers the limits: they apply to the next request."""
        self.limits = dataclasses.replace(
            self.limits,
            member_daily=daily,
            member_hourly=hourly,
            member_pending_cap=pending,
            server_daily=server,
        )

    @rule(day=st.booleans())
    def the_clock_turns(self, day: bool) -> None:
        """A new hour (or a new day, which starts an hour too) begins now."""
        start = time.time()
        while any(float(str(row[2])) >= start for row in self.ledger.values()):
            start = time.time()
        self.limits = dataclasses.replace(
            self.limits, hour_start=start, day_start=start if day else self.limits.day_start
        )

    @rule(data=st.data(), twice=st.booleans())
    def settle(self, data: st.DataObject, share: float = 0.0, twice: bool = False) -> None:
        """A job delivers one picture (a stream that ended short counts only that one)."""
        pending = self.jobs_in("running", "queued")
        if not pending:
            return
        job_id = data.draw(st.sampled_from(pending))
        job = self.run(self.storage.jobs.get(job_id))
        for _ in range(2 if twice else 1):
            if self.note_charge(
                job_id, self.run(finish_with_one_picture(self.storage, job, f"{job_id}.png"))
            ):
                self.ledger[job_id][1] = 1  # the one picture delivered is what counts
                self.ledger[job_id][3] = "done"

    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        pending = self.jobs_in("running", "queued")
        if pending:
            job_id = data.draw(st.sampled_from(pending))
            self.end(job_id, self.run(self.storage.jobs.fail(job_id, "upstream")))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        queued = self.jobs_in("queued")
        if queued:
            job_id = data.draw(st.sampled_from(queued))
            self.end(job_id, self.run(self.storage.jobs.cancel(job_id)))

    @invariant()
    def what_quota_show_counts_is_the_ledger(self) -> None:
        for user in (1, 2, 3):
            usage = self.run(
                self.storage.quotas.member_usage(
                    GUILD, user, day_start=self.limits.day_start, hour_start=self.limits.hour_start
                )
            )
            assert (usage.today, usage.this_hour, usage.pending) == (
                self.counted(self.limits.day_start, user),
                self.counted(self.limits.hour_start, user),
                self.waiting(user),
            )


def test_picture_quotas_hold_and_refuse_only_past_a_limit(
    tmp_path: Path, storage_dialect: str, request: pytest.FixtureRequest
) -> None:
    run_machine(QuotaMachine, tmp_path, storage_dialect, request, examples=40, steps=25)
