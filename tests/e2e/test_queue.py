"""The job queue, end to end: fairness, limits, retries, restarts and late delivery."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import accepted, cid, db, finished, flat_png, query, says, until_stored
from tests.fakes.discord import InteractionHandle, Upload
from tests.fakes.discord.models import Guild, Member
from tests.fakes.openai import FakeOpenAI


def character_of(prompt: str | None) -> str:
    """The character name in a create prompt ("... original character named X.")."""
    assert prompt is not None
    return prompt.split("named ", 1)[1].split(".", 1)[0]


async def create(member: Member, name: str) -> InteractionHandle:
    """Ask for a character and wait until the bot confirmed it, as a member would."""
    handle = await member.slash("character create", name=name, description="silver hair")
    await handle.wait_original(accepted, timeout=10)
    return handle


async def held_job(
    fake_openai: FakeOpenAI, member: Member, name: str = "Aiko"
) -> InteractionHandle:
    """With OpenAI holding its answers, ask for a character and wait until its request is there
    (the first request of the test: the job is running, not waiting)."""
    fake_openai.hold()
    handle = await create(member, name)
    await fake_openai.wait_for_requests(1, endpoint="images")
    return handle


async def test_a_members_four_jobs_do_not_starve_anothers_one(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    await start_bot(max_concurrent_jobs=1)
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    fake_openai.hold()
    handles = [await create(alice, f"A{i}") for i in range(1, 5)]
    await fake_openai.wait_for_requests(1, endpoint="images")  # A1 is running
    # Every queued job has been told its place before B arrives.
    for h in handles[1:]:
        await h.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    handles.append(await create(bob, "B1"))
    await handles[-1].wait_original(lambda m: "position 1" in (m.content or ""), timeout=10)
    fake_openai.release()
    for h in handles:
        await h.wait_original(finished, timeout=30)
    order = [character_of(r.prompt) for r in fake_openai.image_requests]
    assert order == ["A1", "B1", "A2", "A3", "A4"]


async def test_never_more_than_the_concurrency_limit_in_flight(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    await start_bot(max_concurrent_jobs=2, member_pending_cap=10)
    fake_openai.latency = 0.3
    alice = guild.add_member("alice")
    handles = [await create(alice, f"C{i}") for i in range(10)]
    for h in handles:
        await h.wait_original(finished, timeout=60)
    assert len(fake_openai.image_requests) == 10
    assert fake_openai.max_in_flight == 2


async def test_images_per_minute_budget_causes_no_429s(start_bot: StartBot, world: World) -> None:
    # The account allows 6 images a minute; the bot is told so and must not exceed it.
    world.openai.rate_limit(6)
    bot = await start_bot(images_per_minute=6, member_pending_cap=10, max_concurrent_jobs=4)
    alice = world.guild.add_member("alice")
    handles = [await create(alice, f"R{i}") for i in range(7)]
    done = [await h.wait_original(finished, timeout=30) for h in handles[:6]]
    assert len(done) == 6
    # The seventh waits for the window instead of asking and getting a 429.
    await bot.wait_for_log(r"Images-per-minute budget reached; waiting", timeout=10)
    assert len(world.openai.image_requests) == 6
    assert world.openai.rate_limited_count == 0
    with db(world.data_dir) as conn:
        waiting = conn.execute("SELECT state FROM jobs WHERE id = 7").fetchone()
    assert waiting == ("queued",)  # honest: not drawing yet


async def test_rate_limited_with_retry_after_then_succeeds(
    bot: object, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    # Two 429s: the client's own retry uses one, the queue's backoff handles the other.
    fake_openai.inject("rate_limit", times=2, retry_after=1.0)
    alice = guild.add_member("alice")
    h = await create(alice, "Aiko")
    await h.wait_original(finished, timeout=30)
    requests = fake_openai.image_requests
    assert [r.status for r in requests] == [429, 429, 200]
    assert requests[1].started_at - requests[0].started_at >= 0.9
    assert requests[2].started_at - requests[1].started_at >= 0.9


async def test_failure_after_retries_refunds_and_says_so(start_bot: StartBot, world: World) -> None:
    await start_bot(max_attempts=2)
    world.openai.inject("server_error", times=10)
    alice = world.guild.add_member("alice")
    h = await create(alice, "Aiko")
    message = await h.wait_original(lambda m: "busy" in (m.content or ""), timeout=30)
    assert "Nothing was charged" in message.content
    assert not message.attachments
    assert query(world.data_dir, "SELECT state, charged FROM jobs") == [("failed", 0)]


async def test_sigkill_with_jobs_queued_and_running_loses_nothing(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(max_concurrent_jobs=1)
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    world.openai.hold()
    handles = [await create(alice if i % 2 else bob, f"K{i}") for i in range(6)]
    await world.openai.wait_for_requests(1, endpoint="images")
    for h in handles[1:]:
        await h.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    states = sorted(s for (s,) in query(world.data_dir, "SELECT state FROM jobs"))
    assert states == ["queued"] * 5 + ["running"]

    await bot.kill()
    world.openai.release()  # the killed process's request finishes into the void
    await start_bot(max_concurrent_jobs=1)
    world.openai.release()
    for h in handles:
        await h.wait_original(finished, timeout=40)

    rows = query(world.data_dir, "SELECT state, charged FROM jobs ORDER BY id")
    images = query(world.data_dir, "SELECT job_id, COUNT(*) FROM images GROUP BY job_id")
    assert rows == [("done", 1)] * 6
    assert all(count == 1 for _, count in images) and len(images) == 6
    posted = [m for m in world.discord.bot_messages() if m.attachments]
    assert len(posted) == 6  # every member's own message got its picture, none twice


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_job_finishing_after_the_token_died_is_posted_to_the_channel(
    bot: object, world: World
) -> None:
    alice = world.guild.add_member("alice")
    h = await held_job(world.openai, alice)
    world.discord.clock.advance(16 * 60)  # the interaction token is now dead
    world.openai.release()
    post = await world.discord.wait_for_message(
        lambda m: m.interaction is None and bool(m.attachments), timeout=20
    )
    assert f"<@{alice.id}>" in post.content
    assert post.allowed_mentions == {"parse": []}
    assert any(cid.startswith("pic:vary:") for cid in post.custom_ids)
    assert h.original is not None and not h.original.attachments


async def test_queue_shows_my_jobs_and_cancel_refunds(start_bot: StartBot, world: World) -> None:
    await start_bot(max_concurrent_jobs=1)
    alice = world.guild.add_member("alice")
    first = await held_job(world.openai, alice, "One")
    second = await create(alice, "Two")
    await second.wait_original(lambda m: "position 1" in (m.content or ""), timeout=10)

    q = await alice.slash("queue")
    listing = await q.wait_original(lambda m: bool(m.embeds), timeout=10)
    assert listing.ephemeral
    text = listing.embeds[0]["description"]
    assert "drawing now" in text and "position 1" in text
    cancel = next(cid for cid in listing.custom_ids if cid.startswith("job:cancel:"))
    clicked = await alice.click(listing, cancel)
    reply = await clicked.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "cancelled" in reply.content

    world.openai.release()
    await first.wait_original(finished, timeout=20)
    states = query(world.data_dir, "SELECT state FROM jobs ORDER BY id")
    assert states == [("done",), ("cancelled",)]
    assert len(world.openai.image_requests) == 1


async def test_an_admins_long_queue_offers_a_cancel_button_for_each_listed_job_only(
    start_bot: StartBot, world: World
) -> None:
    """One picture is drawn and twenty-two wait; /queue lists twenty and says three more.
    Each waiting job the list shows has its Cancel button, and the three it does not show
    have none."""
    await start_bot(max_concurrent_jobs=1)
    boss = world.guild.add_member("boss", admin=True)
    await held_job(world.openai, boss, "Drawing")
    members = [world.guild.add_member(f"m{i}") for i in range(6)]
    for n in range(22):
        await create(members[n % len(members)], f"Wait{n}")

    q = await boss.slash("queue")
    listing = await q.wait_original(lambda m: bool(m.embeds), timeout=10)
    text = listing.embeds[0]["description"]
    shown = {int(job) for job in re.findall(r"#(\d+)", text)}
    assert len(shown) == 20 and "and 3 more" in text
    buttons = [int(c.rsplit(":", 1)[1]) for c in listing.custom_ids if c.startswith("job:cancel:")]
    assert sorted(buttons) == sorted(shown - {1})  # job 1 is being drawn
    world.openai.release()


async def test_a_job_an_admin_cancels_tells_its_member_on_their_own_message(
    start_bot: StartBot, world: World
) -> None:
    """Alice's picture waits; an admin cancels it from /queue. Alice's message, which said
    "Queued", now says it was cancelled and charged nothing, in her language, instead of
    promising a picture that never comes; the admin's own cancel does the same."""
    await start_bot(max_concurrent_jobs=1)
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice", locale="zh-CN")
    first = await held_job(world.openai, boss, "One")
    waiting = await alice.slash("character create", name="Two", description="silver hair")
    await waiting.wait_original(lambda m: "任务 #2" in (m.content or ""), timeout=10)
    mine = await create(boss, "Three")

    q = await boss.slash("queue")
    listing = await q.wait_original(lambda m: bool(m.embeds), timeout=10)
    jobs = [cid for cid in listing.custom_ids if cid.startswith("job:cancel:")]
    assert len(jobs) == 2
    for cancel in jobs:
        clicked = await boss.click(listing, cancel)
        await clicked.wait_for_reply(lambda m: m.ephemeral, timeout=10)

    told = await waiting.wait_original(lambda m: "已取消" in (m.content or ""), timeout=10)
    assert "#2" in (told.content or "")
    await mine.wait_original(lambda m: "was cancelled" in (m.content or ""), timeout=10)
    world.openai.release()
    await first.wait_original(finished, timeout=20)
    assert query(world.data_dir, "SELECT state FROM jobs ORDER BY id") == [
        ("done",),
        ("cancelled",),
        ("cancelled",),
    ]


@pytest.mark.provokes_violations("invalid_webhook_token")
async def test_a_job_cancelled_after_its_token_died_leaves_no_queued_notice(
    start_bot: StartBot, world: World
) -> None:
    """Past Discord's 15 minutes the member's message can no longer be edited: the stale
    "Queued" notice is deleted rather than left promising a picture."""
    await start_bot(max_concurrent_jobs=1)
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    await held_job(world.openai, boss, "One")
    waiting = await create(alice, "Two")
    # The bot notes which message says "Queued" once Discord answered its edit: 15 minutes
    # later, as the clock below makes it at once, that note was written long before.
    note = "SELECT response_message_id IS NOT NULL FROM jobs WHERE id = 2"
    await until_stored(world.data_dir, note, [(1,)])
    world.discord.clock.advance(16 * 60)  # Alice's token is dead; the admin's is new

    q = await boss.slash("queue")
    listing = await q.wait_original(lambda m: bool(m.embeds), timeout=10)
    clicked = await boss.click(listing, cid(listing, "job:cancel:"))
    await clicked.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    notice = waiting.original
    assert notice is not None
    await world.discord.wait_for(lambda _f: notice.deleted, timeout=10, what="notice deleted")
    world.openai.release()  # the first job, its token dead too, is posted in the channel
    await world.discord.wait_for_message(
        lambda m: m.interaction is None and bool(m.attachments), timeout=20
    )


async def test_sigterm_lets_a_running_job_finish_within_the_grace_period(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(shutdown_grace_seconds=10)
    h = await held_job(world.openai, world.guild.add_member("alice"))
    assert bot.process is not None
    bot.process.terminate()  # SIGTERM, as `docker stop` sends
    await bot.wait_for_log("Waiting up to 10 s for 1 running jobs")
    world.openai.release()
    await h.wait_original(finished, timeout=15)
    assert await bot.wait_exit(timeout=15) == 0
    assert query(world.data_dir, "SELECT state, charged FROM jobs") == [("done", 1)]


async def test_sigterm_leaves_an_unfinished_job_queued_for_the_next_start(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(shutdown_grace_seconds=0.5)
    h = await held_job(world.openai, world.guild.add_member("alice"))
    assert await bot.stop(timeout=15) == 0
    assert query(world.data_dir, "SELECT state FROM jobs") == [("running",)]
    world.openai.release()
    await start_bot()  # the interrupted job is put back in the queue and runs again
    await h.wait_original(finished, timeout=20)
    assert query(world.data_dir, "SELECT state, charged FROM jobs") == [("done", 1)]


async def test_waiting_members_see_their_place_move_up(
    start_bot: StartBot, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    await start_bot(max_concurrent_jobs=1)
    alice = guild.add_member("alice")
    await held_job(fake_openai, alice, "One")
    await create(alice, "Two")
    third = await create(alice, "Three")
    await third.wait_original(lambda m: "position 2" in (m.content or ""), timeout=10)
    fake_openai.release(1)  # One finishes, Two starts: Three is next in line
    await third.wait_original(lambda m: "position 1" in (m.content or ""), timeout=15)
    fake_openai.release()
    await third.wait_original(finished, timeout=20)


async def test_a_waiting_job_whose_reference_is_lost_ends_and_its_member_is_asked_again(
    start_bot: StartBot, world: World
) -> None:
    """A reference gone from the disk before its job's turn (removed by hand, or lost to a
    fault at submission) is no storage fault that waiting mends: the job ends, nothing is
    charged, and its member is asked to attach it again, rather than waiting for ever."""
    await start_bot(max_concurrent_jobs=1)
    alice = world.guild.add_member("alice")
    await held_job(world.openai, alice)
    handle = await alice.slash(
        "character create",
        name="Sora",
        description="blue hair like the reference",
        reference=Upload("ref.png", flat_png(64), "image/png"),
    )
    await handle.wait_original(says("position 1"), timeout=10)
    ((reference,),) = query(world.data_dir, "SELECT reference_path FROM jobs WHERE id = 2")
    (world.data_dir / "images" / reference).unlink()
    world.openai.release()
    await handle.wait_original(says("attach"), timeout=10)
    assert query(world.data_dir, "SELECT state, charged FROM jobs WHERE id = 2") == [("failed", 0)]
    assert len(world.openai.image_requests) == 1  # the first job's only
