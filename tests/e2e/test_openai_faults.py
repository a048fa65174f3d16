"""OpenAI outages and refusals: a clear message, a refund, and the queue keeps serving."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import create, finished, says
from tests.fakes.discord.models import Guild, Member

# A billing or model problem stops jobs and alerts admins, rightly logged as errors.
pytestmark = pytest.mark.allow_errors(
    r"stopped by a configuration problem: (insufficient_quota|model_unavailable)",
    r"Admin alert for guild \d+: (insufficient_quota|model_unavailable)",
)


def jobs(data_dir: Path) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(data_dir / "bot.sqlite3") as db:
        return db.execute("SELECT state, charged, error_code FROM jobs ORDER BY id").fetchall()


async def set_alert_channel(admin: Member, guild: Guild) -> None:
    h = await admin.slash("config alerts", options={"channel": guild.default_channel})
    await h.wait_ack()


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("server_error", {}),
        ("rate_limit", {}),  # a 429 without retry-after
        ("stream_cut", {}),
        ("stream_error", {}),
        # Unverified wire detail: an error event may come nested or flat (the fake's note).
        ("stream_error", {"shape": "flat"}),
    ],
)
async def test_transient_faults_are_retried_until_the_picture_arrives(
    start_bot: StartBot, world: World, fault: str, options: dict[str, object]
) -> None:
    await start_bot(max_attempts=3)
    options = dict(options)
    world.openai.stream_error_shape = str(options.pop("shape", "nested"))
    world.openai.inject(fault, times=2, **options)
    h = await create(world.guild.add_member("alice"))
    message = await h.wait_original(finished, timeout=30)
    assert message.attachments
    # Both faults reached the bot and each was answered by one more attempt.
    assert [r.fault for r in world.openai.image_requests] == [fault, fault, None]
    assert jobs(world.data_dir) == [("done", 1, None)]


async def test_streams_that_end_with_done_work_as_well_as_those_that_do_not(
    start_bot: StartBot, world: World
) -> None:
    """Unverified wire detail: whether image streams end with `data: [DONE]`. Either works."""
    await start_bot()
    world.openai.sse_done = True
    h = await create(world.guild.add_member("alice"))
    message = await h.wait_original(finished, timeout=30)
    assert message.attachments
    assert world.openai.image_requests[-1].stream
    assert jobs(world.data_dir) == [("done", 1, None)]


async def test_malformed_json_and_a_hang_are_retried(start_bot: StartBot, world: World) -> None:
    await start_bot(partial_images=0, openai_timeout_seconds=1, max_attempts=3)
    world.openai.inject("malformed_json")
    h = await create(world.guild.add_member("alice"))
    message = await h.wait_original(finished, timeout=30)
    assert message.attachments
    assert [r.fault for r in world.openai.image_requests] == ["malformed_json", None]
    world.openai.inject("hang", times=2)  # the queue's second attempt hangs too
    h2 = await create(world.guild.add_member("bob"), "Ren")
    await h2.wait_original(finished, timeout=30)
    world.openai.release_hangs()
    assert [r.fault for r in world.openai.image_requests[2:]] == ["hang", "hang", None]
    # Each was charged once, after the attempts it took.
    with sqlite3.connect(world.data_dir / "bot.sqlite3") as db:
        rows = db.execute("SELECT state, attempts, charged FROM jobs ORDER BY id").fetchall()
    assert rows == [("done", 2, 1), ("done", 3, 1)]


async def test_giving_up_tells_the_member_and_refunds_while_others_are_served(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(max_attempts=2, max_concurrent_jobs=2)
    # Both of the queue's attempts fail (one request each: the client never retries alone).
    world.openai.inject("server_error", times=2)
    h = await create(world.guild.add_member("alice"))
    failed = await h.wait_original(says("busy"), timeout=30)
    assert "Nothing was charged" in failed.content and not failed.attachments
    h2 = await create(world.guild.add_member("bob"), "Ren")
    await h2.wait_original(finished, timeout=30)
    assert jobs(world.data_dir) == [("failed", 0, "upstream_busy"), ("done", 1, None)]
    with sqlite3.connect(world.data_dir / "bot.sqlite3") as db:
        # Alice's character never got a picture, so it does not linger as an empty name.
        names = [name for (name,) in db.execute("SELECT name FROM characters")]
    assert names == ["Ren"]


async def test_a_long_retry_after_pauses_and_tells_the_member(bot: object, world: World) -> None:
    # Over a minute: the client won't wait that long itself; the queue must honour it.
    world.openai.inject("rate_limit", times=2, retry_after=130)
    h = await create(world.guild.add_member("alice"))
    waiting = await h.wait_original(says("waiting again"), timeout=20)
    assert "min" in waiting.content  # about 2 min, not seconds
    with sqlite3.connect(world.data_dir / "bot.sqlite3") as db:
        state, not_before = db.execute("SELECT state, not_before FROM jobs").fetchone()
    assert state == "queued" and not_before - time.time() > 100
    assert len(world.openai.image_requests) <= 2  # no hammering while paused


async def test_out_of_credit_keeps_jobs_pauses_and_alerts_admins_once(
    bot: object, world: World
) -> None:
    admin = world.guild.add_member("admin", admin=True)
    await set_alert_channel(admin, world.guild)
    world.openai.inject("insufficient_quota", times=5)
    h = await create(world.guild.add_member("alice"))
    notice = await h.wait_original(says("out of credit"), timeout=20)
    assert "kept in the queue" in notice.content
    h2 = await create(world.guild.add_member("bob"), "Ren")
    await h2.wait_original(says("Queued"), timeout=10)
    alerts = [
        m
        for m in world.discord.bot_messages(world.guild.default_channel)
        if "insufficient_quota" in m.content
    ]
    assert len(alerts) == 1
    # Paused: Bob's job never reached OpenAI (Alice's one may have had the client's quick retry).
    assert all("Aiko" in (r.prompt or "") for r in world.openai.image_requests)
    assert [state for state, _, _ in jobs(world.data_dir)] == ["queued", "queued"]


async def test_a_retired_model_is_a_configuration_error_told_to_admins_once(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(image_model="dall-e-3")
    admin = world.guild.add_member("admin", admin=True)
    await set_alert_channel(admin, world.guild)
    for name in ("Aiko", "Ren"):
        h = await create(world.guild.add_member(name.lower()), name)
        message = await h.wait_original(says("misconfigured"), timeout=20)
        assert "Nothing was charged" in message.content
    assert len(world.openai.image_requests) == 2  # a config error is never retried
    alerts = [
        m
        for m in world.discord.bot_messages(world.guild.default_channel)
        if "IMAGE_MODEL" in m.content
    ]
    assert len(alerts) == 1
    assert [(s, c) for s, c, _ in jobs(world.data_dir)] == [("failed", 0), ("failed", 0)]


async def test_a_refusal_by_the_image_api_is_explained_privately_and_refunded(
    bot: object, world: World
) -> None:
    # Passes the moderation check, but the image model itself refuses it.
    world.openai.block_text("moonlit duel", category="violence")
    h = await world.guild.add_member("alice").slash(
        "character create", name="Aiko", description="a moonlit duel"
    )
    notice = await h.wait_for_reply(lambda m: m.ephemeral, timeout=20)
    assert "content filter" in notice.content and "Nothing was charged" in notice.content
    await world.discord.wait_for(lambda _: h.original is None or h.original.deleted, timeout=10)
    assert jobs(world.data_dir) == [("failed", 0, "content_refused")]
