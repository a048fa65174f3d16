"""The rate limiter with a clock the test moves: concurrency, the images-per-minute window
and pauses, without waiting a real minute (or any real time)."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.limiter import MARGIN, WINDOW, RateLimiter


class FakeClock:
    """Time that moves only when the test says so; sleepers wake when it passes them."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for entry in list(self._sleepers):
            if entry[0] <= self.now:
                self._sleepers.remove(entry)
                entry[1].set_result(None)
        await settle()


async def settle() -> None:
    """Let every task that can run, run (the limiter only awaits the clock and its locks)."""
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, *, concurrency: int = 1, per_minute: int = 4) -> RateLimiter:
    return RateLimiter(
        concurrency=concurrency, images_per_minute=per_minute, clock=clock, sleep=clock.sleep
    )


async def test_at_most_concurrency_slots_are_held_at_once(clock: FakeClock) -> None:
    limits = limiter(clock, concurrency=2)
    await limits.acquire_slot()
    await limits.acquire_slot()
    third = asyncio.create_task(limits.acquire_slot())
    await settle()
    assert limits.in_use == 2 and not third.done()
    limits.release_slot()
    await settle()
    assert third.done() and limits.in_use == 2
    limits.release_slot()
    limits.release_slot()
    assert limits.in_use == 0


async def test_spends_within_the_budget_pass_at_once(clock: FakeClock) -> None:
    limits = limiter(clock, per_minute=4)
    await limits.take(3)
    await clock.advance(10)
    await limits.take(1)
    assert clock.sleeps == []


async def test_over_the_budget_waits_until_the_oldest_spend_leaves_the_window(
    clock: FakeClock,
) -> None:
    limits = limiter(clock, per_minute=4)
    await limits.take(3)  # at 0 s
    await clock.advance(10)
    await limits.take(1)  # at 10 s: the minute's four are spent
    waiting = asyncio.create_task(limits.take(2))
    await settle()
    assert not waiting.done()
    # The three spent at 0 s leave the window (and its margin) at 61 s: the wait ends then.
    assert clock.sleeps == [pytest.approx(WINDOW + MARGIN - 10 + 0.01)]
    await clock.advance(WINDOW - 10)  # 60 s: a bucket would have refilled by now
    assert not waiting.done()
    await clock.advance(MARGIN + 0.02)
    assert waiting.done()


async def test_a_full_burst_is_not_followed_by_another_inside_the_same_minute(
    clock: FakeClock,
) -> None:
    limits = limiter(clock, per_minute=4)
    await limits.take(4)
    await clock.advance(59)
    late = asyncio.create_task(limits.take(1))
    await settle()
    assert not late.done()
    await clock.advance(2.02)
    assert late.done()


async def test_a_request_larger_than_the_budget_spends_the_whole_budget(
    clock: FakeClock,
) -> None:
    limits = limiter(clock, per_minute=4)
    await limits.take(10)  # never waits forever for room that cannot exist
    assert clock.sleeps == []
    after = asyncio.create_task(limits.take(1))
    await settle()
    assert not after.done()  # ...but it did use the whole minute
    await clock.advance(WINDOW + MARGIN + 0.02)
    assert after.done()


async def test_pause_for_stops_every_spend_and_a_shorter_pause_never_shortens_it(
    clock: FakeClock,
) -> None:
    limits = limiter(clock, per_minute=100)
    limits.pause_for(130)  # a 429's retry-after
    limits.pause_for(5)
    assert limits.paused_for() == 130
    await clock.advance(30)
    assert limits.paused_for() == 100
    waiting = asyncio.create_task(limits.take(1))
    await settle()
    assert not waiting.done() and clock.sleeps == [100]
    await clock.advance(99)
    assert not waiting.done()
    await clock.advance(1)
    assert waiting.done() and limits.paused_for() == 0


async def test_spends_wait_their_turn_in_arrival_order(clock: FakeClock) -> None:
    limits = limiter(clock, per_minute=2)
    await limits.take(2)
    done: list[str] = []

    async def spend(name: str) -> None:
        await limits.take(1)
        done.append(name)

    tasks = [asyncio.create_task(spend(name)) for name in ("first", "second", "third")]
    await settle()
    assert done == []
    await clock.advance(WINDOW + MARGIN + 0.02)
    assert done == ["first", "second"]  # the third would go over the new minute's budget
    await clock.advance(WINDOW + MARGIN + 0.02)
    assert done == ["first", "second", "third"]
    await asyncio.gather(*tasks)


async def test_what_other_processes_spent_makes_this_one_wait(clock: FakeClock) -> None:
    # The database says all processes together sent 3 pictures 10 s ago and 1 just now;
    # this process itself sent none. The budget is 4 a minute.
    clock.now = 50.0
    limits = limiter(clock, per_minute=4)
    limits.share_window([(0.0, 1), (10.0, 3)])
    assert limits.used_last_minute() == 4
    assert not limits.has_room_now(1)
    # Room for one comes when the three leave the window (61 s after they were sent).
    assert limits.wait_for_room(1) == pytest.approx(WINDOW + MARGIN - 10 + 0.01)
    spend = asyncio.create_task(limits.take(1))
    await clock.advance(WINDOW + MARGIN - 10 - 0.1)
    assert not spend.done()
    await clock.advance(0.2)
    assert spend.done()
    # ...while the last one is still counted: 1 + 1 of 4; a third and fourth fit, a fifth not.
    assert limits.wait_for_room(2) == 0.0
    assert limits.wait_for_room(3) > 0.0
