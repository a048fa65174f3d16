"""Benchmark 4: memory of the bot process.

1,000 queued jobs and 10,000 stored pictures (rows plus a small picture file and a cached
WebP thumbnail each) are seeded while the bot is down. The bot starts (the fake OpenAI
holds image requests, so the queue stays full), then serves some traffic: one /gallery
page alone, then three /gallery pages (newest, favorites, one member's) and /queue at
once, ten new /character create, and ten released jobs that run to delivery. RSS is read
from /proc/<pid>/status (VmRSS now, VmHWM peak) after start and after the traffic, and
sampled every 20 ms for the peak of each phase.

    .venv/bin/python bench/memory.py [--jobs 1000] [--images 10000]
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from _harness import (
    BenchEnv,
    Flag,
    Result,
    RssSampler,
    bench_env,
    finished,
    mb,
    peak_rss_result,
    rss_kib,
    run_from_command_line,
    seed_images,
    seed_queued_jobs,
    settled_rss,
)

TARGET_MB = 200


async def seed(env: BenchEnv, jobs: int, images: int) -> dict[str, object]:
    await env.prepare_database()
    characters = seed_queued_jobs(env, jobs, owners=100, per_owner=5)
    return seed_images(
        env.database,
        env.data_dir / "images",
        guild_id=env.guild.id,
        characters=characters,
        count=images,
        files=images,
    )


async def traffic(env: BenchEnv, sampler: RssSampler) -> None:
    people = env.members(10)
    sampler.phase = "one /gallery page"
    await (await people[4].slash("gallery")).wait_original(timeout=30)
    await asyncio.sleep(0.5)
    sampler.phase = "3 /gallery pages + /queue at once"
    pages = [
        await people[0].slash("gallery"),
        await people[1].slash("gallery", sort="favorites"),
        await people[2].slash("gallery", scope="mine"),
        await people[3].slash("queue"),
    ]
    for handle in pages:
        await handle.wait_original(timeout=30)
    sampler.phase = "ten /character create"
    creates = [
        await m.slash("character create", name=f"Mem{i}", description="silver hair")
        for i, m in enumerate(people)
    ]
    for handle in creates:
        await handle.wait_original(lambda m: not m.loading, timeout=30)
    # Let ten queued jobs run to delivery (pictures drawn, stored, thumbnailed, posted).
    sampler.phase = "ten jobs drawn and delivered"
    before = len(env.discord.bot_messages())
    env.openai.release(10)
    await env.discord.wait_for(
        lambda f: sum(1 for m in f.bot_messages() if finished(m)) >= 8,
        timeout=90,
        what="released jobs to be delivered",
    )
    assert len(env.discord.bot_messages()) > before


async def main(jobs: int, images: int, bot_env: Sequence[str] = ()) -> list[Result]:
    """``bot_env``: extra ``KEY=VALUE`` settings for the bot process."""
    extra = dict(item.split("=", 1) for item in bot_env)
    async with bench_env(latency=0.5, name="memory") as env:
        seeded = await seed(env, jobs, images)
        env.openai.hold()
        bot = await env.start_bot(**extra)
        await bot.wait_for_log(r"Resuming \d+ queued jobs", timeout=30)
        await env.openai.wait_for_requests(1, endpoint="images", timeout=30)
        pid, idle = await settled_rss(bot)
        with RssSampler(pid) as sampler:
            await traffic(env, sampler)
            sampler.phase = "after"
            await asyncio.sleep(1)
        busy = rss_kib(pid)
        details = {
            "queued_jobs": jobs,
            "stored_images": images,
            "extra_bot_env": extra,
            "seeded": seeded,
            "rss_mb_after_start": mb(idle["VmRSS"]),
            "rss_mb_after_traffic": mb(busy["VmRSS"]),
            "peak_rss_mb": mb(busy["VmHWM"]),
            "peak_rss_mb_by_phase": sampler.peaks,
            "bot_errors": env.errors()[:10],
        }
    metric = f"peak RSS MB ({jobs} queued, {images:,} images)"
    return peak_rss_result("memory", metric, mb(busy["VmHWM"]), TARGET_MB, details)


if __name__ == "__main__":
    run_from_command_line(
        main,
        __doc__,
        jobs=1000,
        images=10_000,
        bot_env=Flag((), help="extra environment for the bot process, e.g. MALLOC_ARENA_MAX=2"),
    )
