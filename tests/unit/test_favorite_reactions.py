"""Favorites by reaction survive storage faults, in the order Discord sent them.

Property: whatever the reactions (adds and removes by a few members on a few messages,
dispatched as Discord does, one task per event) and whatever storage faults and recoveries
come between them (between two writes of one reaction too), once storage works again every
reaction has been recorded exactly once, in the order it was sent, and the favorites are
what applying the events in that order gives.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.favorite_reactions import ReactionFavorites
from bot.ops.metrics import Metrics
from bot.pictures import Reaction

GUILD = 1
PICTURES_PER_MESSAGE = 2  # a fault may come between the two writes of one reaction


class FlakyPictures:
    """``PictureService.react`` over a dict, failing like a locked database while ``down``
    and on the writes ``failing`` picks (the first write is its first item, and so on).

    Each event carries its sequence number in ``emoji_id``: ``recorded`` lists the events
    whose every write went through, in the order they did.
    """

    def __init__(self, failing: list[bool] | None = None) -> None:
        self.down = False
        self.failing = list(reversed(failing or []))
        self.favorites: set[tuple[int, int, int]] = set()  # (message, picture, member)
        self.recorded: list[int] = []
        self.wrote = asyncio.Event()  # set as a reaction is recorded

    async def react(self, reaction: Reaction) -> list[int]:
        message_id, user_id, added = reaction.message_id, reaction.user_id, reaction.added
        changed = []
        for picture in range(PICTURES_PER_MESSAGE):
            await asyncio.sleep(0)  # a write takes a while: other events arrive meanwhile
            if self.down or (self.failing and self.failing.pop()):
                raise sqlite3.OperationalError("database is locked")
            key = (message_id, picture, user_id)
            if added:
                self.favorites.add(key)
            else:
                self.favorites.discard(key)
            changed.append(picture)
        assert reaction.emoji_id is not None
        self.recorded.append(reaction.emoji_id)
        self.wrote.set()
        return changed


def reaction(number: int, member: int, message: int, added: bool) -> Reaction:
    return Reaction(GUILD, message, member, number, "⭐", added)


def never() -> float:
    return 3600.0  # the background retry never fires: the tests drive retries themselves


reacts = st.tuples(
    st.just("react"),
    st.integers(min_value=1, max_value=3),  # member
    st.integers(min_value=1, max_value=2),  # message
    st.booleans(),  # added
)
steps = st.lists(
    st.one_of(
        reacts,
        st.just(("retry",)),
        # Let dispatched events and retries run a few steps (a write is a few steps).
        st.tuples(st.just("yield"), st.integers(min_value=1, max_value=6)),
    ),
    max_size=40,
)


# Storage over time, one write after another: runs of failing writes (a fault) and of working
# ones (a recovery); past the last run, storage works.
outages = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=1, max_value=6)), max_size=12
).map(lambda runs: [fails for fails, length in runs for _ in range(length)])


@settings(max_examples=500, deadline=None)
@given(steps=steps, failing=outages)
def test_reactions_are_recorded_once_each_in_discords_order(
    steps: list[tuple[object, ...]], failing: list[bool]
) -> None:
    pictures = FlakyPictures(failing)
    line = ReactionFavorites(pictures, never, Metrics())
    sent: list[Reaction] = []

    async def run() -> None:
        dispatched: list[asyncio.Task[object]] = []
        for step in steps:
            match step:
                case ("react", int(member), int(message), bool(added)):
                    event = reaction(len(sent), member, message, added)
                    sent.append(event)
                    # discord.py dispatches every event as its own task, in the order received.
                    dispatched.append(asyncio.create_task(line.record(event)))
                case ("retry",):
                    # As the background retry does: beside the events, so a fault (or a new
                    # event) may come between two held reactions it records.
                    dispatched.append(asyncio.create_task(line.retry_held()))
                case ("yield", int(turns)):
                    for _ in range(turns):
                        await asyncio.sleep(0)
        await asyncio.gather(*dispatched)
        # Retried until the outages are over: each failed try uses up at least one write.
        while not await line.retry_held():
            pass
        assert line.held == 0
        await line.close()

    asyncio.run(run())
    assert pictures.recorded == list(range(len(sent)))  # each once, in the order sent
    expected: set[tuple[int, int, int]] = set()
    for event in sent:
        for picture in range(PICTURES_PER_MESSAGE):
            key = (event.message_id, picture, event.user_id)
            if event.added:
                expected.add(key)
            else:
                expected.discard(key)
    assert pictures.favorites == expected


async def test_an_add_then_a_remove_during_a_fault_ends_unfavorited() -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, never, Metrics())
    pictures.down = True
    await line.record(reaction(0, 7, 1, True))
    pictures.down = False  # storage is back, but the remove must not overtake the held add
    await line.record(reaction(1, 7, 1, False))
    assert pictures.favorites == set() and line.held == 2
    assert await line.retry_held()
    assert pictures.recorded == [0, 1] and pictures.favorites == set()
    await line.close()


async def test_the_background_retry_records_what_was_held() -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, lambda: 0.0, Metrics())
    pictures.down = True
    await line.record(reaction(0, 7, 1, True))
    pictures.down = False
    await asyncio.wait_for(pictures.wrote.wait(), timeout=5)
    assert pictures.recorded == [0] and line.held == 0
    await line.close()


async def test_past_the_limit_reactions_are_lost_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, never, Metrics(), limit=2)
    pictures.down = True
    for number in range(5):
        await line.record(reaction(number, 7, 1, number % 2 == 0))
    assert line.held == 2
    warnings = [r for r in caplog.records if "further ones are lost" in r.getMessage()]
    assert len(warnings) == 1
    pictures.down = False
    assert await line.retry_held()
    assert pictures.recorded == [0, 1]
    assert "recorded 2 held favorite reactions (3 lost past the limit of 2)" in caplog.text
    await line.close()


async def test_a_bug_is_logged_with_its_traceback_and_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(FlakyPictures):
        async def react(self, **_kwargs: object) -> list[int]:  # type: ignore[override]
            raise KeyError("a bug")

    line = ReactionFavorites(Broken(), never, Metrics())
    await line.record(reaction(0, 7, 1, True))
    assert line.held == 0
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.exc_info is not None and "Could not record a favorite" in logged.getMessage()
    await line.close()


async def test_what_is_still_held_at_close_is_one_warning_with_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, never, Metrics())
    pictures.down = True
    for number in range(3):
        await line.record(reaction(number, number, 1, True))
    await line.close()
    closing = [r for r in caplog.records if "Shutting down" in r.getMessage()]
    assert len(closing) == 1 and "3 favorite reactions" in closing[0].getMessage()
    assert pictures.recorded == []


async def test_an_erasure_drops_only_that_members_held_reactions() -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, never, Metrics())
    pictures.down = True
    await line.record(reaction(0, 7, 1, True))  # the erased member's, held
    await line.record(reaction(1, 8, 1, True))  # another member's, held
    pictures.down = False
    async with line.erasing(GUILD, 7):
        assert line.held == 1
    assert await line.retry_held()
    assert pictures.recorded == [1]
    assert {member for _, _, member in pictures.favorites} == {8}
    await line.close()


async def test_no_reaction_is_recorded_while_an_erasure_runs() -> None:
    pictures = FlakyPictures()
    line = ReactionFavorites(pictures, never, Metrics())
    async with line.erasing(GUILD, 7):
        arriving = asyncio.create_task(line.record(reaction(0, 7, 1, True)))
        for _ in range(10):  # let it run as far as it can: up to the erasure's lock
            await asyncio.sleep(0)
        assert pictures.recorded == [] and not arriving.done()
    await arriving
    assert pictures.recorded == [0]  # a reaction after the erasure is new: recorded
    await line.close()
