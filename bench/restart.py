"""Benchmark 6: restart recovery.

1,000 queued jobs are seeded while the bot is down. The bot starts with the fake OpenAI
holding requests (two jobs become "running"), then is SIGKILLed as in a crash. Then,
``--restarts`` times: start the process again and time from spawning it to the first
resumed job's image request reaching the fake OpenAI (and to its picture being posted).
Each later restart is preceded by another SIGKILL with two jobs running.

    .venv/bin/python bench/restart.py [--jobs 1000] [--restarts 3]
"""

from __future__ import annotations

import re
import statistics

from _harness import (
    BenchEnv,
    Result,
    bench_env,
    finished,
    run_from_command_line,
    seed_queued_jobs,
    summary,
)

TARGET_S = 5.0


async def seed(env: BenchEnv, jobs: int) -> None:
    await env.prepare_database()
    seed_queued_jobs(env, jobs, owners=max(1, jobs // 10))


async def crash_with_jobs_running(env: BenchEnv) -> None:
    """Start, let two jobs reach the (holding) fake OpenAI, then SIGKILL."""
    env.openai.hold()
    seen = len(env.openai.image_requests)
    await env.start_bot(wait_ready=False)
    await env.openai.wait_for_requests(seen + 1, endpoint="images", timeout=60)
    await env.kill_bot()
    env.openai.release()  # the dead process's requests finish into the void


async def one_restart(env: BenchEnv) -> dict[str, float | int]:
    seen = len(env.openai.image_requests)
    before = {m.id for m in env.discord.bot_messages() if finished(m)}
    bot = await env.start_bot(wait_ready=False)
    start = env.started_at
    await env.openai.wait_for_requests(seen + 1, endpoint="images", timeout=60)
    first_request = min(r.started_at for r in env.openai.image_requests[seen:])
    resumed = await bot.wait_for_log(r"Resuming \d+ queued jobs", timeout=30)
    await env.discord.wait_for(
        lambda f: any(finished(m) and m.id not in before for m in f.bot_messages()),
        timeout=60,
        what="the first resumed job's picture",
    )
    posted = min(
        m.created_at for m in env.discord.bot_messages() if finished(m) and m.id not in before
    )
    await bot.wait_for_log(r"Logged in as", timeout=60)
    match = re.search(r"Resuming (\d+) queued jobs \((\d+) were interrupted\)", resumed)
    return {
        "to_first_request_s": round(first_request - start, 3),
        "to_first_delivery_s": round(posted - env.started_wall, 3),
        "resumed": int(match.group(1)) if match else -1,
        "interrupted": int(match.group(2)) if match else -1,
    }


async def main(jobs: int, restarts: int) -> list[Result]:
    samples = []
    async with bench_env(latency=0.5, name="restart") as env:
        await seed(env, jobs)
        for _ in range(restarts):
            await crash_with_jobs_running(env)
            samples.append(await one_restart(env))
            await env.kill_bot()
    first = [float(s["to_first_request_s"]) for s in samples]
    delivery = [float(s["to_first_delivery_s"]) for s in samples]
    worst = max(first)
    details = {
        "queued_jobs": jobs,
        "restarts": samples,
        "to_first_request_s": summary(first, 3),
        "to_first_delivery_s": summary(delivery, 3),
        "median_s": statistics.median(first),
    }
    return [
        Result(
            name="restart",
            metric=f"s from process start to first resumed job, worst of {restarts}",
            value=round(worst, 2),
            target=f"< {TARGET_S:.0f} s",
            met=worst < TARGET_S,
            details=details,
        )
    ]


if __name__ == "__main__":
    run_from_command_line(main, __doc__, jobs=1000, restarts=3)
