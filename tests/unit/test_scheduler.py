from __future__ import annotations

from bot.jobs.scheduler import FairScheduler


def test_one_members_four_jobs_do_not_starve_anothers_one() -> None:
    s = FairScheduler()
    for job_id in (1, 2, 3, 4):
        s.add(job_id, guild_id=1, user_id=100)  # A
    s.add(5, guild_id=1, user_id=200)  # B
    assert s.order() == [1, 5, 2, 3, 4]
    assert [s.pop() for _ in range(5)] == [1, 5, 2, 3, 4]
    assert s.pop() is None


def test_after_a_member_was_served_the_other_goes_next() -> None:
    s = FairScheduler()
    for job_id in (1, 2, 3, 4):
        s.add(job_id, guild_id=1, user_id=100)
    assert s.pop() == 1  # A's first job starts before B arrives
    s.add(5, guild_id=1, user_id=200)
    assert s.pop() == 5


def test_guilds_take_turns_and_positions_follow_the_order() -> None:
    s = FairScheduler()
    for job_id in (1, 2, 3):
        s.add(job_id, guild_id=1, user_id=100)
    s.add(4, guild_id=2, user_id=300)
    assert s.order() == [1, 4, 2, 3]
    assert s.position(4) == 2 and s.position(3) == 4 and s.position(99) is None
    assert s.remove(2) and not s.remove(2)
    assert s.order() == [1, 4, 3]


def test_runnable_filter_skips_jobs_waiting_for_backoff() -> None:
    s = FairScheduler()
    s.add(1, guild_id=1, user_id=100)
    s.add(2, guild_id=1, user_id=200)
    assert s.pop(runnable=lambda j: j == 2) == 2
    assert s.pop(runnable=lambda j: False) is None
    assert s.pop() == 1
