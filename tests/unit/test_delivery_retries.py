"""Delivery tries never post a job's pictures twice, whatever fails between them.

A try can fail before anything reached Discord (a 429, Discord unreachable), or after the
post went out: its record met a storage fault, or Discord's answer was lost on the way back.
The delivery observer (cogs/pictures/delivery.py) posts again unless it is told the job is
done, in which case it first looks for the post already made; the model below does the same,
so these properties hold JobPoster to its half: every try after a failure says "done".
"""

from __future__ import annotations

import dataclasses
import sqlite3
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from bot.errors import DeliveryFailed
from bot.jobs.posting import DELIVERY_ATTEMPTS, JobPoster
from bot.jobs.storage_faults import StorageFaults
from bot.records import Character, Job, JobState, StoredImage
from tests.storage_helpers import JOB

# What one delivery try meets.
POSTED = "posted"  # Discord took the post and the bot recorded it
BUSY = "busy"  # Discord refused for now (a 429): nothing posted
POSTED_THEN_STORAGE = "posted, then storage failed"  # recording the post failed
POSTED_THEN_LOST = "posted, then the answer was lost"  # the bot never heard Discord say yes

OUTCOMES = st.sampled_from([POSTED, BUSY, POSTED_THEN_STORAGE, POSTED_THEN_LOST])


class DiscordModel:
    """The delivery observer as the queue sees it, with the channel's posts."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = list(plan)
        self.posts: list[int] = []  # message ids of the job's posts in the channel
        self.tries = 0

    async def job_done(self, job: Job, _character: Character, _images: list[StoredImage]) -> int:
        self.tries += 1
        outcome = self.plan.pop(0) if self.plan else POSTED
        if outcome == BUSY:
            raise DeliveryFailed("rate_limited", permanent=False, retry_after=0)
        if job.state == JobState.DONE and self.posts:
            message_id = self.posts[0]  # found the post a try before made: not again
        else:
            message_id = 1000 + len(self.posts)
            self.posts.append(message_id)
        if outcome == POSTED_THEN_STORAGE:
            raise sqlite3.OperationalError("database is locked")
        if outcome == POSTED_THEN_LOST:
            raise DeliveryFailed("unreachable", permanent=False)
        return message_id


async def deliver(
    plan: list[str], *, storage_down: bool = False
) -> tuple[DiscordModel, list[int | None], StorageFaults]:
    discord = DiscordModel(plan)
    recorded: list[int | None] = []

    async def mark_delivered(_job_id: int, message_id: int | None, **_: bool) -> None:
        if storage_down:
            raise sqlite3.OperationalError("database is locked")
        recorded.append(message_id)

    async def forget_token(_job_id: int) -> None:
        if storage_down:
            raise sqlite3.OperationalError("database is locked")

    async def notify(_notice: Any) -> None:
        return None

    async def fail(_job: Job, _error: Any) -> None:
        return None

    storage = cast(
        Any,
        SimpleNamespace(
            jobs=SimpleNamespace(mark_delivered=mark_delivered, forget_token=forget_token)
        ),
    )
    settings = cast(Any, SimpleNamespace(retry_base_seconds=0.0))
    faults = StorageFaults(storage, settings, notify, fail=fail, is_running=lambda _id: True)
    poster = JobPoster(
        storage,
        cast(Any, None),
        cast(Any, None),
        settings,
        faults,
        notify,
        observer=lambda: cast(Any, discord),
        stopping=lambda: False,
    )
    # As the queue hands it over: recorded (done in storage), the member's job as it started.
    started = dataclasses.replace(JOB, id=7, state=JobState.RUNNING)
    images = [cast(StoredImage, SimpleNamespace(id=1))]
    await poster.deliver(started, cast(Character, SimpleNamespace(name="Aiko")), images)
    return discord, recorded, faults


@given(st.lists(OUTCOMES, max_size=DELIVERY_ATTEMPTS + 2))
async def test_the_pictures_are_posted_at_most_once(plan: list[str]) -> None:
    discord, recorded, _ = await deliver(plan)
    assert len(discord.posts) <= 1, f"posted {len(discord.posts)} times for {plan}"
    # What was recorded is the one post there is.
    assert all(message_id in discord.posts for message_id in recorded)


@given(st.lists(OUTCOMES.filter(lambda o: o != POSTED), max_size=DELIVERY_ATTEMPTS - 1))
async def test_a_try_that_succeeds_in_time_records_the_one_post(failures: list[str]) -> None:
    discord, recorded, _ = await deliver([*failures, POSTED])
    assert discord.tries == len(failures) + 1
    assert len(discord.posts) == 1
    assert recorded == discord.posts


async def test_a_storage_fault_at_the_last_write_is_held_for_the_reconciler() -> None:
    # Posted, but recording it (and forgetting the member's token) fails on every try: the
    # write waits for the reconciler, and nothing escapes into the task that delivered.
    discord, recorded, faults = await deliver([POSTED], storage_down=True)
    assert discord.posts == [1000] and recorded == []
    assert list(faults.unsettled) == [7]
