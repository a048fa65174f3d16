"""Money, end to end: the bot never spends past a limit an admin set, and never pays twice.

What OpenAI "billed" is read from the fake's own records (the usage it sent with every
finished picture), priced with the same table the bot was given.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import admin_says, create, finished, held_at_openai, query
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI
from tests.fakes.openai.records import RecordedRequest

PRICES = {
    "gpt-image-2.5-flare": {"text_input": 5, "image_input": 8, "image_output": 32},
    "gpt-image-2.5-sunburst": {"text_input": 5, "image_input": 8, "image_output": 32},
}


def billed_usd(request: RecordedRequest) -> float:
    """What OpenAI would bill for one request: its input once, every picture's output."""
    if not request.billed:
        return 0.0
    price = PRICES[request.model or ""]
    details = request.billed[0]["input_tokens_details"]
    output = sum(int(usage["output_tokens"]) for usage in request.billed)
    return (
        details["text_tokens"] * price["text_input"]
        + details["image_tokens"] * price["image_input"]
        + output * price["image_output"]
    ) / 1_000_000


# --------------------------------------------------------------------------- 1. the budget


async def test_a_burst_against_a_tiny_budget_draws_at_most_the_budget_plus_one_estimate(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(price_table=json.dumps(PRICES), member_pending_cap=10)
    boss = world.guild.add_member("boss", admin=True)
    budget = 0.5
    await admin_says(boss, "quota-admin set server", "$0.50 a day", **{"usd-per-day": budget})
    members = [world.guild.add_member(f"m{i}") for i in range(4)]
    handles = await asyncio.gather(*(create(m, f"C{i}", count=4) for i, m in enumerate(members)))
    outcomes = []
    for h in handles:
        message = await h.wait_for_reply(lambda m: finished(m) or m.ephemeral, timeout=30)
        outcomes.append("drawn" if finished(message) else message.content)
    refusals = [o for o in outcomes if o != "drawn"]
    assert refusals, "a burst far over the budget was accepted whole"
    assert all("budget" in text for text in refusals)

    billed = sum(billed_usd(r) for r in world.openai.image_requests)
    largest_estimate = query(world.data_dir, "SELECT MAX(reserved_usd) FROM jobs")[0][0]
    assert billed > 0
    assert billed <= budget + largest_estimate
    # What /usage reports is what OpenAI billed.
    report = await (await boss.slash("usage", period=7)).wait_for_reply(
        lambda m: bool(m.attachments), timeout=20
    )
    days = next(a for a in report.attachments if a.filename.startswith("usage-days-"))
    total = list(csv.reader(io.StringIO(days.data.decode("utf-8-sig"))))[-1]
    assert float(total[4]) == pytest.approx(billed, abs=1e-4)


async def test_a_budget_lowered_while_jobs_wait_stops_them_with_a_refund(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(price_table=json.dumps(PRICES), max_concurrent_jobs=1)
    boss = world.guild.add_member("boss", admin=True)
    await admin_says(boss, "quota-admin set server", "$5.00 a day", **{"usd-per-day": 5})
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    first = await held_at_openai(world.openai, alice)
    waiting = await create(bob, "Bea")
    await waiting.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    await admin_says(boss, "quota-admin set server", "$0.01 a day", **{"usd-per-day": 0.01})
    world.openai.release()
    await first.wait_original(finished, timeout=20)  # already paid for: it is delivered
    told = await waiting.wait_for_reply(lambda m: "budget" in (m.content or ""), timeout=20)
    assert "Nothing was charged" in (told.content or "") or told.ephemeral
    assert len(world.openai.image_requests) == 1  # Bob's job never reached OpenAI
    assert query(world.data_dir, "SELECT state, charged FROM jobs WHERE user_id = ?", bob.id) == [
        ("failed", 0)
    ]


async def test_a_tier_raised_while_jobs_wait_does_not_draw_past_the_budget(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(price_table=json.dumps(PRICES), max_concurrent_jobs=1)
    boss = world.guild.add_member("boss", admin=True)
    await admin_says(boss, "config model", "Saved", tier="economy")
    budget = 0.1  # room for a few cheap pictures, not for one premium one
    await admin_says(boss, "quota-admin set server", "$0.10 a day", **{"usd-per-day": budget})
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    first = await held_at_openai(world.openai, alice)
    waiting = await create(bob, "Bea")  # reserved at the economy tier's low quality
    await waiting.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    await admin_says(boss, "config model", "Saved", tier="premium")
    world.openai.release()
    await first.wait_original(finished, timeout=20)
    told = await waiting.wait_for_reply(
        lambda m: finished(m) or "budget" in (m.content or ""), timeout=20
    )
    billed = sum(billed_usd(r) for r in world.openai.image_requests)
    assert billed <= budget, f"${billed:.4f} drawn against a ${budget} budget"
    assert "budget" in (told.content or "")
    assert query(world.data_dir, "SELECT state, charged FROM jobs WHERE user_id = ?", bob.id) == [
        ("failed", 0)
    ]


async def test_a_pinned_snapshot_is_priced_as_its_model_and_held_to_the_budget(
    start_bot: StartBot, world: World
) -> None:
    # The API facts advise pinning a dated snapshot; the pricing page names the model.
    await start_bot(price_table=json.dumps(PRICES), vary_model="gpt-image-2.5-sunburst-2026-09-08")
    boss = world.guild.add_member("boss", admin=True)
    await admin_says(boss, "quota-admin set server", "$0.15 a day", **{"usd-per-day": 0.15})
    alice = world.guild.add_member("alice")
    await (await create(alice, "Aiko")).wait_original(finished, timeout=20)
    varied = await alice.slash("character vary", character="Aiko", change="waving")
    told = await varied.wait_for_reply(
        lambda m: finished(m) or "budget" in (m.content or ""), timeout=20
    )
    assert "budget" in (told.content or ""), "a variation was drawn with no cost counted"
    assert len(world.openai.image_requests) == 1


# --------------------------------------------------------------------------- 2. guild removal


async def test_a_server_that_removes_the_bot_pays_for_nothing_more(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(max_concurrent_jobs=1, member_pending_cap=10)
    alice = world.guild.add_member("alice")
    running = await held_at_openai(world.openai, alice)
    waiting = [await create(alice, f"W{i}") for i in range(3)]
    for h in waiting:
        await h.wait_original(lambda m: "position" in (m.content or ""), timeout=10)

    world.discord.remove_bot_from(world.guild)
    await world.discord.wait_for(
        lambda _: (
            query(world.data_dir, "SELECT COUNT(*) FROM jobs WHERE state = 'cancelled'") == [(3,)]
        ),
        timeout=10,
        what="the waiting jobs cancelled",
    )
    world.openai.release()
    await running.wait_original(finished, timeout=20)  # already paid: kept and stored
    assert len(world.openai.image_requests) == 1
    # Refunded: cancelled jobs count against nobody's quota.
    assert query(world.data_dir, "SELECT state, COUNT(*) FROM jobs GROUP BY state") == [
        ("cancelled", 3),
        ("done", 1),
    ]


async def test_jobs_of_a_server_left_while_the_bot_was_down_are_refunded_not_run(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(max_concurrent_jobs=1, member_pending_cap=10)
    alice = world.guild.add_member("alice")
    made = await (await create(alice, "Aiko")).wait_original(finished, timeout=20)
    await held_at_openai(world.openai, alice, "Held")
    for i in range(2):
        h = await create(alice, f"W{i}")
        await h.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    await bot.kill()
    world.openai.release()
    before = len(world.openai.image_requests)

    world.discord.remove_bot_from(world.guild)
    await start_bot(max_concurrent_jobs=1)
    await world.discord.wait_for(
        lambda _: (
            query(world.data_dir, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
            == [(0,)]
        ),
        timeout=15,
        what="no job left waiting",
    )
    assert len(world.openai.image_requests) == before  # nothing sent for the departed server

    # The server invites the bot back: its characters and pictures are all there.
    world.discord.readd_bot_to(world.guild)
    aiko = query(world.data_dir, "SELECT id FROM characters WHERE name = 'Aiko'")[0][0]
    shown = await alice.slash("character show", character=str(aiko))
    card = await shown.wait_original(lambda m: bool(m.embeds), timeout=15)
    assert "Aiko" in card.embeds[0]["title"]
    assert made.attachments


# --------------------------------------------------------------------------- 3. one clamp


async def test_reroll_after_the_maximum_count_was_lowered_asks_for_the_new_maximum(
    bot: object, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    boss = guild.add_member("boss", admin=True)
    alice = guild.add_member("alice")
    four = await (await create(alice, "Aiko", count=4)).wait_original(finished, timeout=30)
    assert fake_openai.image_requests[-1].n == 4
    lowered = await boss.slash("config defaults", **{"max-count": 1})
    await lowered.wait_original(lambda m: "Saved" in (m.content or ""), timeout=10)

    reroll = next(cid for cid in four.custom_ids if cid.startswith("pic:reroll:"))
    again = await alice.click(four, reroll)
    await again.wait_original(finished, timeout=30)
    assert fake_openai.image_requests[-1].n == 1


# --------------------------------------------------------------------------- 4. paying twice


async def test_a_request_that_times_out_is_sent_once_per_counted_attempt(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(max_attempts=2, openai_timeout_seconds=1, partial_images=0)
    world.openai.inject("hang", times=10)
    h = await create(world.guild.add_member("alice"), "Aiko")
    await h.wait_for_reply(lambda m: "Nothing was charged" in (m.content or ""), timeout=30)
    world.openai.release_hangs()
    # Two attempts by the queue, and no hidden client retries under them.
    assert len(world.openai.image_requests) == 2
    assert query(world.data_dir, "SELECT state, attempts, charged FROM jobs") == [("failed", 2, 0)]


async def test_timed_out_attempts_count_against_the_budget_as_possibly_billed(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(
        price_table=json.dumps(PRICES), max_attempts=2, openai_timeout_seconds=1, partial_images=0
    )
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    world.openai.inject("hang", times=2)
    h = await create(alice, "Aiko")
    await h.wait_for_reply(lambda m: "Nothing was charged" in (m.content or ""), timeout=30)
    world.openai.release_hangs()
    estimate, maybe_billed = query(
        world.data_dir, "SELECT reserved_usd, maybe_billed_usd FROM jobs"
    )[0]
    assert maybe_billed == pytest.approx(2 * estimate)  # both attempts may have been billed
    # A budget with room for three estimates now has room for one more picture, not three.
    budget = round(3.5 * estimate, 2)
    await admin_says(boss, "quota-admin set server", "a day", **{"usd-per-day": budget})
    await (await create(alice, "Ren")).wait_original(finished, timeout=30)
    refused = await create(alice, "Mio")
    text = await refused.wait_for_reply(lambda m: "budget" in (m.content or ""), timeout=20)
    assert "would take the server over" in (text.content or "")


async def test_streams_broken_off_mid_drawing_count_against_the_budget_as_possibly_billed(
    start_bot: StartBot, world: World
) -> None:
    """A stream that broke off once OpenAI had begun drawing (a partial came) may be
    billed, like a request that timed out: each attempt counts against the budget."""
    await start_bot(price_table=json.dumps(PRICES), max_attempts=2, partial_images=1)
    alice = world.guild.add_member("alice")
    world.openai.inject("stream_cut", times=2)
    h = await create(alice, "Aiko")
    await h.wait_for_reply(lambda m: "Nothing was charged" in (m.content or ""), timeout=30)
    estimate, maybe_billed = query(
        world.data_dir, "SELECT reserved_usd, maybe_billed_usd FROM jobs"
    )[0]
    assert estimate > 0
    assert maybe_billed == pytest.approx(2 * estimate)


async def test_a_stream_that_ends_short_is_charged_for_what_was_delivered(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(price_table=json.dumps(PRICES))
    alice = world.guild.add_member("alice")
    world.openai.inject("short_stream", pictures=2)
    message = await (await create(alice, "Aiko", count=4)).wait_original(finished, timeout=30)
    assert len(message.attachments) == 2
    rows = query(world.data_dir, "SELECT image_count, cost_usd FROM jobs WHERE state = 'done'")
    assert rows[0][0] == 2
    assert rows[0][1] == pytest.approx(billed_usd(world.openai.image_requests[-1]), abs=1e-6)
    show = await alice.slash("quota show")
    card = await show.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    assert "**2** of" in json.dumps(card.embeds, ensure_ascii=False)
