"""Deleted pictures' messages come off Discord: what a deletion queues (both databases), what
a post recorded after its picture's deletion queues, and the takedowns' retry policy over
random outcomes (hypothesis).

Invariant: every queued message ends, tried never before its time nor more than
MAX_ATTEMPTS times; it leaves the queue only once Discord says it is gone, or refuses the
bot, or it failed MAX_ATTEMPTS times; and a message that is gone is never tried again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import takedowns as takedowns_module
from bot.images.store import ImageStore
from bot.ops.metrics import Metrics
from bot.storage import Storage
from bot.storage.takedowns import Takedown, queue_takedowns
from bot.takedowns import (
    MAX_ATTEMPTS,
    MessageRemover,
    MessageTakedowns,
    TakedownOutcome,
    retry_delay,
)
from tests.storage_helpers import Seeder, open_storage

GUILD, CHANNEL, ALICE = 10, 20, 1


async def queued(storage: Storage) -> set[int]:
    return {t.message_id for t in await storage.takedowns.due(float("inf"), 1000)}


async def test_member_deletions_queue_their_messages_and_the_retention_sweep_does_not(
    storage: Storage, tmp_path: Path
) -> None:
    seeder = Seeder(storage, ImageStore(tmp_path / "images"))
    aiko = await seeder.character(GUILD, ALICE, "Aiko")
    posted = await seeder.picture(GUILD, aiko, ALICE, message=(CHANNEL, 101))
    await storage.gallery.record_post(
        guild_id=GUILD, channel_id=CHANNEL + 1, message_id=102, image_id=posted
    )
    swept = await seeder.picture(GUILD, aiko, ALICE, message=(CHANNEL, 103))
    kept = await seeder.picture(GUILD, aiko, ALICE, message=(CHANNEL, 104))

    await storage.deletions.delete_images(GUILD, [swept], take_down_messages=False)
    assert await queued(storage) == set()  # the server's history stays
    await storage.deletions.delete_images(GUILD, [posted], take_down_messages=True)
    assert await queued(storage) == {101, 102}  # the post and its gallery re-post
    rin = await seeder.character(GUILD, ALICE, "Rin")
    await seeder.picture(GUILD, rin, ALICE, message=(CHANNEL, 105))
    await storage.deletions.delete_character(GUILD, rin)
    assert await queued(storage) == {101, 102, 105}
    await storage.deletions.delete_member_data(GUILD, ALICE)
    assert await queued(storage) == {101, 102, 104, 105}
    assert kept  # Aiko's last picture went with Alice's data

    await storage.takedowns.retry_at(101, 50.0)
    assert {t.message_id for t in await storage.takedowns.due(49.0, 10)} == {102, 104, 105}
    assert await storage.takedowns.next_due() == 0.0
    for message in (102, 104, 105):
        await storage.takedowns.done(message)
    assert await storage.takedowns.next_due() == 50.0
    [late] = await storage.takedowns.due(50.0, 10)
    assert (late.channel_id, late.message_id, late.attempts) == (CHANNEL, 101, 1)


class ScriptedDiscord:
    """Answers each message's tries from its script (then: gone), noting when each came."""

    def __init__(self, scripts: dict[int, list[str]], clock: list[float]) -> None:
        self.scripts = scripts
        self.clock = clock
        self.tries: defaultdict[int, list[float]] = defaultdict(list)
        self.answers: defaultdict[int, list[str]] = defaultdict(list)

    async def remove(self, channel_id: int, message_id: int) -> TakedownOutcome:
        assert channel_id == CHANNEL
        self.tries[message_id].append(self.clock[0])
        script = self.scripts[message_id]
        answer = script.pop(0) if script else "gone"
        self.answers[message_id].append(answer)
        if answer == "bug":
            raise RuntimeError("a bug in the remover")
        return TakedownOutcome(answer)


class GoneDiscord:
    """Deletes every message at once, noting which; ``all_gone`` is set at the ``expected``th."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.removed: list[int] = []
        self.all_gone = asyncio.Event()

    async def remove(self, channel_id: int, message_id: int) -> TakedownOutcome:
        self.removed.append(message_id)
        if len(self.removed) == self.expected:
            self.all_gone.set()
        return TakedownOutcome.GONE


@asynccontextmanager
async def running_takedowns(storage: Storage, remover: MessageRemover) -> AsyncIterator[None]:
    """The takedowns' own loop running on ``storage`` with ``remover``, stopped on leaving."""
    takedowns = MessageTakedowns(storage, Metrics())
    takedowns.remover = remover
    takedowns.start()
    try:
        yield
    finally:
        await takedowns.stop()


answers = st.sampled_from(["gone", "refused", "failed", "bug"])
failing_first = st.lists(st.sampled_from(["failed", "bug"]), max_size=MAX_ATTEMPTS + 2)


async def take_down(folder: Path, scripts: dict[int, list[str]]) -> None:
    clock = [1000.0]
    discord = ScriptedDiscord({m: list(s) for m, s in scripts.items()}, clock)
    async with open_storage(folder / "bot.sqlite3") as storage:
        async with storage.db.transaction() as conn:
            await queue_takedowns(conn, [(CHANNEL, message) for message in scripts])
        metrics = Metrics()
        takedowns = MessageTakedowns(storage, metrics, clock=lambda: clock[0])
        takedowns.remover = discord
        for _ in range(len(scripts) * (MAX_ATTEMPTS + 1)):
            await takedowns.take_down_batch()
            next_due = await storage.takedowns.next_due()
            if next_due is None:
                break
            clock[0] = max(clock[0], next_due)
        assert await storage.takedowns.next_due() is None  # every takedown ended

    for message, script in scripts.items():
        tries, said = discord.tries[message], discord.answers[message]
        assert 1 <= len(tries) <= MAX_ATTEMPTS
        # Each try came no sooner than the wait its failures earned.
        for failures, (before, after) in enumerate(itertools.pairwise(tries), 1):
            assert after - before >= retry_delay(failures)
        ending = said[-1]
        assert all(answer in ("failed", "bug") for answer in said[:-1])
        assert ending in ("gone", "refused") or len(said) == MAX_ATTEMPTS
        assert said == ([*script, "gone"])[: len(said)]

    # What operators see: every try counted once, under what became of it.
    endings = [discord.answers[m][-1] for m in scripts]
    counted = {
        outcome: metrics.registry.get_sample_value(
            "bot_message_takedowns_total", {"outcome": outcome}
        )
        or 0
        for outcome in ("gone", "retry", "no_access", "kept_failing")
    }
    assert counted == {
        "gone": endings.count("gone"),
        "retry": sum(len(discord.tries[m]) - 1 for m in scripts),
        "no_access": endings.count("refused"),
        "kept_failing": sum(ending in ("failed", "bug") for ending in endings),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scripts=st.dictionaries(
        st.integers(100, 110),
        st.one_of(st.lists(answers, max_size=4), failing_first),
        min_size=1,
        max_size=5,
    )
)
def test_every_takedown_ends_on_time_and_only_when_it_should(
    scripts: dict[int, list[str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(take_down(Path(folder), scripts))


@pytest.mark.parametrize(("failures", "seconds"), [(1, 5), (2, 10), (8, 640), (11, 3600)])
def test_the_wait_doubles_from_five_seconds_up_to_an_hour(failures: int, seconds: float) -> None:
    assert retry_delay(failures) == seconds


def test_a_message_is_given_up_on_only_after_about_twenty_hours_of_failures() -> None:
    """What README.md promises an admin: a long Discord outage does not strand a message."""
    waited = sum(retry_delay(failures) for failures in range(1, MAX_ATTEMPTS))
    assert 20 * 3600 <= waited < 24 * 3600


async def test_a_storage_outage_is_one_warning_and_the_takedowns_resume_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(takedowns_module, "CUT_SHORT_SECONDS", 0.001)  # fast, same shape
    caplog.set_level(logging.INFO, logger="bot.takedowns")
    discord = GoneDiscord(expected=1)
    recovered = asyncio.Event()

    class Recovery(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "works again" in record.getMessage():
                recovered.set()

    logging.getLogger("bot.takedowns").addHandler(handler := Recovery())

    async with open_storage(tmp_path / "bot.sqlite3") as storage:
        async with storage.db.transaction() as conn:
            await queue_takedowns(conn, [(CHANNEL, 101)])
        reads = storage.takedowns.due
        outage = iter(range(6))  # the first six reads meet a locked database

        async def due(now: float, limit: int) -> list[Takedown]:
            if next(outage, None) is not None:
                raise sqlite3.OperationalError("database is locked")
            return await reads(now, limit)

        monkeypatch.setattr(storage.takedowns, "due", due)
        try:
            async with running_takedowns(storage, discord):
                await asyncio.wait_for(recovered.wait(), timeout=10)
        finally:
            logging.getLogger("bot.takedowns").removeHandler(handler)
        assert await storage.takedowns.next_due() is None
    assert discord.removed == [101]
    told = [r for r in caplog.records if "Taking down deleted pictures" in r.getMessage()]
    assert [r.levelname for r in told] == ["WARNING", "INFO"]  # failed (once), works again
    assert "database is locked" in told[0].getMessage()


async def post_and_delete(folder: Path, steps: list[tuple[str, int]]) -> None:
    async with open_storage(folder / "bot.sqlite3") as storage:
        seeder = Seeder(storage, ImageStore(folder / "images"))
        aiko = await seeder.character(GUILD, ALICE, "Aiko")
        pictures = [await seeder.picture(GUILD, aiko, ALICE) for _ in range(3)]
        shown: dict[int, int] = {}  # message -> the picture it shows
        posted: set[int] = set()  # a picture's job post is recorded once
        deleted: set[int] = set()
        for step, which in steps:
            picture, message = pictures[which], 1000 + len(shown)
            if step == "post" and picture not in posted:
                posted.add(picture)
                await storage.images.set_message([picture], CHANNEL, message)
                shown[message] = picture
            elif step == "repost":
                await storage.gallery.record_post(
                    guild_id=GUILD, channel_id=CHANNEL, message_id=message, image_id=picture
                )
                shown[message] = picture
            elif step == "delete":
                await storage.deletions.delete_images(GUILD, [picture], take_down_messages=True)
                deleted.add(picture)
        assert await queued(storage) == {m for m, p in shown.items() if p in deleted}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["post", "repost", "delete"]), st.integers(0, 2)), max_size=12
    )
)
def test_every_message_showing_a_deleted_picture_is_queued_whatever_came_first(
    steps: list[tuple[str, int]],
) -> None:
    """A post or a gallery re-post recorded before or after its picture's deletion: either
    way the message is queued to come off Discord, and no message of a live picture is."""
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(post_and_delete(Path(folder), steps))


async def test_more_than_a_batch_is_taken_down_batch_after_batch_without_waiting(
    tmp_path: Path,
) -> None:
    queued_now = [(CHANNEL, 2000 + n) for n in range(2 * takedowns_module.BATCH + 7)]
    discord = GoneDiscord(expected=len(queued_now))
    async with open_storage(tmp_path / "bot.sqlite3") as storage:
        async with storage.db.transaction() as conn:
            await queue_takedowns(conn, queued_now)
        async with running_takedowns(storage, discord):
            # Far sooner than the minute an idle loop waits: the next batch follows at once.
            await asyncio.wait_for(discord.all_gone.wait(), timeout=10)
    assert sorted(discord.removed) == [message for _, message in queued_now]  # each once
