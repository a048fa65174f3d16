from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


def test_a_requeued_job_keeps_its_place_among_the_members_jobs() -> None:
    s = FairScheduler()
    for job_id in (1, 2, 3):
        s.add(job_id, guild_id=1, user_id=100)
    assert s.pop() == 1
    s.add(1, guild_id=1, user_id=100)  # its attempt failed: back in line, first again
    s.add(1, guild_id=1, user_id=100)  # adding twice changes nothing
    assert s.order() == [1, 2, 3] and len(s) == 3 and 1 in s


def test_jobs_of_lists_one_guilds_jobs_only() -> None:
    s = FairScheduler()
    s.add(1, guild_id=1, user_id=100)
    s.add(2, guild_id=2, user_id=100)
    s.add(3, guild_id=1, user_id=200)
    assert sorted(s.jobs_of(1)) == [1, 3] and s.jobs_of(2) == [2] and s.jobs_of(3) == []


jobs_strategy = st.lists(
    st.tuples(st.integers(1, 3), st.integers(1, 4)),  # (guild, member) of each new job
    max_size=25,
)


@given(first=jobs_strategy, second=jobs_strategy, served=st.integers(0, 10))
def test_the_announced_order_is_the_order_jobs_run_in(
    first: list[tuple[int, int]], second: list[tuple[int, int]], served: int
) -> None:
    """What members are told (order, position) is what pop() does, whatever came before."""
    s = FairScheduler()
    job_ids = iter(range(1, 100))
    for guild_id, user_id in first:
        s.add(next(job_ids), guild_id=guild_id, user_id=user_id)
    for _ in range(served):
        s.pop()
    for guild_id, user_id in second:
        s.add(next(job_ids), guild_id=guild_id, user_id=user_id)
    announced = s.order()
    assert [s.position(job) for job in announced] == list(range(1, len(announced) + 1))
    ran = [s.pop() for _ in range(len(announced))]
    assert ran == announced and s.pop() is None and len(s) == 0


@given(jobs=jobs_strategy)
def test_no_member_waits_behind_another_members_second_job(jobs: list[tuple[int, int]]) -> None:
    """Inside one guild, everyone's n-th job runs before anyone's (n+1)-th."""
    s = FairScheduler()
    owner: dict[int, tuple[int, int]] = {}
    for job_id, (guild_id, user_id) in enumerate(jobs, start=1):
        s.add(job_id, guild_id=guild_id, user_id=user_id)
        owner[job_id] = (guild_id, user_id)
    rank: dict[tuple[int, int], int] = {}
    last_rank_in_guild: dict[int, int] = {}
    for job_id in s.order():
        member = owner[job_id]
        rank[member] = rank.get(member, 0) + 1
        assert rank[member] >= last_rank_in_guild.get(member[0], 0)
        last_rank_in_guild[member[0]] = rank[member]
