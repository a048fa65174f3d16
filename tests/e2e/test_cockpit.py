"""The operator's cockpit, end to end: /status, Prometheus metrics and JSON logs, through the
real bot process and both fakes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    admin_says,
    cid,
    create,
    created,
    database_busy,
    execute,
    finished,
    held_at_openai,
    refusal,
    say,
    says,
    seed,
)
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI

# --------------------------------------------------------------------------- /status


async def status_of(member: object, **options: object) -> dict[str, object]:
    """The embed of the private /status answer."""
    handle = await member.slash("status", options=options)  # type: ignore[attr-defined]
    message = await handle.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    assert len(json.dumps(message.embeds)) < 6000  # Discord's limit for all embeds together
    return dict(message.embeds[0])


def field(embed: dict[str, object], name: str) -> str:
    fields = embed["fields"]
    assert isinstance(fields, list)
    return next(str(f["value"]) for f in fields if f["name"] == name)


async def test_status_shows_an_admin_their_servers_queue_spend_storage_and_openai(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(PRICE_TABLE=json.dumps({"gpt-image-2.5-flare": PRICES}), MAX_ATTEMPTS="1")
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    await admin_says(boss, "quota-admin set server", "", **{"per-day": 40, "usd-per-day": 5})
    await created(alice, "Aiko")
    await created(alice, "Mika")
    for name in ("Broken", "Older"):  # OpenAI fails both (one try each: MAX_ATTEMPTS=1)
        world.openai.inject("server_error")
        failed = await create(alice, name)
        await failed.wait_original(says("busy"), timeout=20)
    # The second failure happened two days ago: outside the last 24 hours.
    execute(world.data_dir, "UPDATE jobs SET finished_at = finished_at - 2 * 86400 WHERE id = 4")
    held = await held_at_openai(world.openai, alice, "Waiting")

    embed = await status_of(boss)

    assert embed["title"] == "📊 Status of Anime Club"
    assert "Version **0.1.0**" in str(embed["description"])
    assert "gateway latency" in str(embed["description"])
    assert field(embed, "Queue") == "0 waiting · 1 drawing · 1 failed in the last 24 h"
    # Every request sent to OpenAI spends the images-per-minute budget, failed ones too.
    assert field(embed, "Pictures per minute") == "5 of 600 in the last minute"
    today = field(embed, "Today")
    assert "3 of 40 pictures" in today  # two delivered and one drawing; failures refunded
    assert re.search(r"\$\d+\.\d\d of \$5\.00 today", today), today
    openai = field(embed, "OpenAI")
    # Two moderation checks and two pictures worked for each of Aiko and Mika...
    assert re.search(
        r"⚠️ \d+% of \d+ requests failed in the last 15 min: busy or unreachable 2", openai
    ), openai
    assert "Last success <t:" in openai
    storage = field(embed, "Storage")
    assert storage.startswith("2 pictures · ") and "KB" in storage
    assert "kept for ever" in storage
    world.openai.release()
    await held.wait_original(finished, timeout=20)


PRICES = {"text_input": 5, "image_input": 8, "image_output": 32}


async def test_status_is_refused_to_a_member_and_the_whole_bot_to_all_but_its_owner(
    start_bot: StartBot, world: World
) -> None:
    guild = world.guild
    other = world.discord.add_guild("Other Club")
    await seed(world.data_dir, other.id, [other.add_member("olga").id], 4)
    owner = guild.add_member("owner", admin=True)  # the bot's owner, an admin here too
    # Commands synced globally: members of both servers draw today.
    await start_bot(BOT_OWNER_ID=str(owner.id), dev_guild_id=None)
    alice = guild.add_member("alice")
    boss = guild.add_member("boss", admin=True)
    await created(alice, "Aiko")
    await created(other.add_member("oscar"), "Mika")

    refused = await alice.slash("status", force=True)
    assert say("error.admin_only") in await refusal(refused)
    whole = await boss.slash("status", scope="bot")
    assert say("error.status_not_allowed") in await refusal(whole)

    embed = await status_of(owner, scope="bot")
    assert embed["title"] == "📊 The whole bot: 2 servers"
    assert field(embed, "Storage").startswith("6 pictures")  # both servers' pictures
    assert field(embed, "Today").startswith("2 pictures")  # one drawn in each server today
    mine = await status_of(owner)  # and any one server, as its admins see it
    assert field(mine, "Storage").startswith("1 picture ·")
    assert field(mine, "Today").startswith("1 picture")


# The bot logs the billing problem as an error, as it should.
@pytest.mark.allow_errors(
    r"stopped by a configuration problem: insufficient_quota",
    r"Admin alert for guild \d+: insufficient_quota",
)
async def test_status_says_when_openai_is_paused_for_billing(
    bot: BotProcess, guild: Guild, fake_openai: FakeOpenAI
) -> None:
    boss = guild.add_member("boss", admin=True)
    fake_openai.inject("insufficient_quota")
    held = await create(guild.add_member("alice"))
    await held.wait_original(says("out of credit"), timeout=20)

    embed = await status_of(boss)

    openai = field(embed, "OpenAI")
    assert openai.startswith(
        "⏸ Paused: OpenAI says the account is out of credit (`insufficient_quota`). Next try <t:"
    )
    assert "out of credit 1" in openai
    assert field(embed, "Queue").startswith("1 waiting · 0 drawing")  # kept, not failed


async def test_status_in_chinese(bot: BotProcess, guild: Guild) -> None:
    boss = guild.add_member("boss", admin=True, locale="zh-CN")
    embed = await status_of(boss)
    assert embed["title"] == "📊 Anime Club 的状态"
    assert "等待中 0" in embed_text_of(embed)
    assert "图片一直保留" in embed_text_of(embed)


def embed_text_of(embed: dict[str, object]) -> str:
    return json.dumps(embed, ensure_ascii=False)


# --------------------------------------------------------------------------- metrics


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 if none)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series.split("{")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if labels.items() <= found.items():
            total += float(value)
    return total


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(hex local address, port) of every TCP socket the process listens on (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            columns = line.split()
            address, hex_port = columns[1].split(":")
            if columns[3] == "0A" and columns[9] in inodes:  # 0A: LISTEN
                found.append((address, int(hex_port, 16)))
    return found


async def wait_for_sample(port: int, name: str, at_least: float, **labels: str) -> str:
    """Scrape until ``name{labels}`` reaches ``at_least``; the scrape that showed it."""
    async with asyncio.timeout(15):
        while True:
            text = await asyncio.to_thread(scrape, port)
            if sample(text, name, **labels) >= at_least:
                return text
            await asyncio.sleep(0.1)  # polling the endpoint, as Prometheus does


async def wait_for_exact(port: int, name: str, value: float) -> str:
    """Scrape until ``name`` reads exactly ``value``; the scrape that showed it."""
    async with asyncio.timeout(15):
        while True:
            text = await asyncio.to_thread(scrape, port)
            if sample(text, name) == value:
                return text
            await asyncio.sleep(0.1)  # polling the endpoint, as Prometheus does


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads /proc (Linux)")
async def test_metrics_count_a_job_while_it_runs_and_after_on_loopback_only(
    start_bot: StartBot, world: World
) -> None:
    port = free_port()
    bot = await start_bot(METRICS_PORT=str(port), HEARTBEAT_SECONDS="0.2", MAX_ATTEMPTS="1")
    alice = world.guild.add_member("alice")
    assert bot.process is not None
    # Served on loopback only: nothing listens on any other interface.
    assert listening_sockets(bot.process.pid) == [("0100007F", port)]

    # Discord answers one edit of the member's message with a 429 (discord.py waits, retries).
    world.discord.fail_next("PATCH", r"/webhooks/", status=429, retry_after=0.1)
    held = await held_at_openai(world.openai, alice)
    during = await wait_for_exact(port, "bot_jobs_running", 1)
    assert sample(during, "bot_jobs_total", state="running", kind="create") == 1
    assert sample(during, "bot_job_queue_wait_seconds_count", kind="create") == 1
    assert sample(during, "bot_jobs_total", state="done", kind="create") == 0
    world.openai.release()
    await held.wait_original(finished, timeout=20)

    after = await wait_for_sample(port, "bot_jobs_total", 1, state="done", kind="create")
    # Nothing is drawn once the job is done: the gauge says none (not a slot held idle).
    await wait_for_exact(port, "bot_jobs_running", 0)
    assert sample(after, "bot_job_duration_seconds_count", kind="create") == 1
    assert sample(after, "bot_job_duration_seconds_sum", kind="create") > 0
    assert sample(after, "bot_images_total", kind="create") == 1
    assert sample(after, "bot_openai_tokens_total", direction="output") > 0
    assert sample(after, "bot_openai_request_seconds_count", operation="generate", outcome="ok")
    assert "bot_gateway_latency_seconds" in after
    assert sample(after, "bot_discord_rest_errors_total", status="429") == 1
    assert "guild" not in after and str(world.guild.id) not in after  # bounded labels only

    world.openai.inject("server_error")
    failed = await create(alice, "Broken")
    await failed.wait_original(says("busy"), timeout=20)
    errors = await wait_for_sample(port, "bot_openai_errors_total", 1, status="500")
    assert sample(errors, "bot_jobs_total", state="failed", kind="create") == 1


@pytest.mark.allow_errors("Metrics not served: cannot listen")  # the taken port, as it should
async def test_a_taken_metrics_port_is_reported_and_the_bot_works_on(
    start_bot: StartBot, guild: Guild
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = await start_bot(METRICS_PORT=str(port))
        await bot.wait_for_log(rf"Metrics not served: cannot listen on 127\.0\.0\.1:{port}")
        await created(guild.add_member("alice"))


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads /proc (Linux)")
async def test_metrics_are_off_by_default(bot: BotProcess) -> None:
    assert bot.process is not None
    assert not [line for line in bot.lines if "Prometheus" in line]
    assert listening_sockets(bot.process.pid) == []


# --------------------------------------------------------------------------- logs


async def test_json_logs_parse_and_carry_the_job_and_guild(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(LOG_FORMAT="json")
    alice = world.guild.add_member("alice")
    world.openai.inject("server_error")  # the first try fails: the retry is logged
    await created(alice, "Aiko")
    done = await bot.wait_for_log(r'"event": "job.done"')
    entry = json.loads(done)
    assert entry["job_id"] == 1 and entry["guild_id"] == world.guild.id
    assert entry["level"] == "INFO" and entry["logger"] == "bot.ops.job_watch"
    # Every line is one JSON object, and no secret is in any of them.
    entries = [json.loads(line) for line in bot.lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert world.discord.bot_token not in bot.output
    assert world.openai.api_key not in bot.output
    # Lines logged deep inside the job's work (the OpenAI wrapper knows no job) carry its id.
    failed_call = next(e for e in entries if e["message"].startswith("OpenAI call failed"))
    assert failed_call["job_id"] == 1 and failed_call["level"] == "WARNING"
    started = [e for e in entries if e.get("event") == "job.started"]
    assert [e["job_id"] for e in started] == [1, 1]  # the first try and the retry


async def test_text_logs_stay_the_default(bot: BotProcess) -> None:
    line = await bot.wait_for_log(r"Logged in as")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    bot\.app: Logged in as", line)


async def test_metrics_show_messages_taken_down_and_reactions_held_through_a_fault(
    start_bot: StartBot, world: World
) -> None:
    port = free_port()
    bot = await start_bot(METRICS_PORT=str(port), HEARTBEAT_SECONDS="0.2", partial_images=0)
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    kept, doomed = await created(alice, "Aiko"), await created(alice, "Rin")
    await bot.wait_for_log(r"Job 2 done", timeout=15)  # both posts recorded

    with database_busy(world.data_dir):
        await bob.react(kept, "⭐")
        held = await wait_for_sample(port, "bot_favorite_reactions_held", 1)
    assert sample(held, "bot_message_takedowns_total") == 0
    await bot.wait_for_log(r"Storage works again: recorded 1 held favorite", timeout=30)
    assert sample(await asyncio.to_thread(scrape, port), "bot_favorite_reactions_held") == 0

    await alice.click(doomed, cid(doomed, "pic:del:"))
    gone = await wait_for_sample(port, "bot_message_takedowns_total", 1, outcome="gone")
    assert sample(gone, "bot_message_takedowns_total", outcome="retry") == 0
    assert world.discord.message(doomed.id).deleted
