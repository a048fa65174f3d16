"""Benchmark 3: rate-limit utilisation.

The fake OpenAI enforces an images-per-minute budget B (``fake.rate_limit(B)``, a
sliding 60 s window, answering 429 beyond it) and the bot is told the same budget
(IMAGES_PER_MINUTE=B). Members queue 5 x B ``/character create`` jobs; from the first
image request on, the run lasts ``--minutes`` whole minutes. Figures: pictures delivered
per minute (those whose request started inside the window) / B, the 429s the bot
caused, and how long after the budget reopened each new minute's first request left.

    .venv/bin/python bench/rate_limit.py [--budget 30] [--minutes 2] [--latency 2]
"""

from __future__ import annotations

import asyncio
import time

from _harness import (
    Result,
    bench_env,
    finished,
    run_from_command_line,
)

from tests.fakes.discord import InteractionHandle

TARGET = 0.95


async def main(budget: int, minutes: int, latency: float) -> list[Result]:
    window = 60.0 * minutes
    async with bench_env(latency=latency, name="rate_limit") as env:
        env.openai.rate_limit(budget)
        bot = await env.start_bot(images_per_minute=str(budget))
        jobs = 5 * budget
        people = env.members(max(1, jobs // 5))
        handles: dict[str, InteractionHandle] = {}
        submit_start = time.monotonic()
        # Queue everything quickly, 25 commands at a time, as a busy server would.
        for first in range(0, jobs, 25):
            batch = []
            for index in range(first, min(jobs, first + 25)):
                name = f"Rate{index:03d}"
                member = people[index % len(people)]
                batch.append((name, member.slash("character create", name=name, description="x")))
            for name, pending in batch:
                handles[name] = await pending
            for name, _ in batch:
                await handles[name].wait_original(lambda m: not m.loading, timeout=60)
        submitted_in = time.monotonic() - submit_start

        await env.openai.wait_for_requests(1, endpoint="images", timeout=30)
        t0 = min(r.started_at for r in env.openai.image_requests)
        # Wait for the window to close, then for its last pictures to be delivered.
        await asyncio.sleep(max(0.0, t0 + window - time.monotonic()))
        in_window = [
            r
            for r in env.openai.image_requests
            if t0 <= r.started_at < t0 + window and r.status != 429
        ]
        names = {r.prompt.split("named ", 1)[1].split(".", 1)[0] for r in in_window if r.prompt}
        deadline = time.monotonic() + 4 * latency + 30
        while time.monotonic() < deadline:
            done = [n for n in names if handles[n].original and finished(handles[n].original)]
            if len(done) == len(names):
                break
            await asyncio.sleep(0.2)
        delivered = sum(1 for n in names if handles[n].original and finished(handles[n].original))

        starts = sorted(r.started_at - t0 for r in env.openai.image_requests if r.status != 429)
        reopen_lag_ms = [
            round((starts[k * budget] - (starts[(k - 1) * budget] + 60.0)) * 1000, 1)
            for k in range(1, minutes + 1)
            if len(starts) > k * budget
        ]
        # Each 429: how early it came, by the fake's clock, relative to the moment the request
        # B places earlier (among those the fake accepted) left its 60 s window.
        accepted: list[float] = []
        early_ms = []
        retried = 0
        for r in sorted(env.openai.image_requests, key=lambda r: r.started_at):
            if r.status == 429:
                if len(accepted) >= budget:
                    early_ms.append(round((accepted[-budget] + 60.0 - r.started_at) * 1000, 1))
            else:
                accepted.append(r.started_at)
                retried += r.retry_count > 0
        budget_waits = sum(1 for line in bot.lines if "budget reached" in line)
        rate_limited = env.openai.rate_limited_count
        ratio = delivered / (budget * minutes)
        details = {
            "budget_per_minute": budget,
            "queued_jobs": jobs,
            "window_minutes": minutes,
            "latency_s": latency,
            "max_concurrent_jobs": 2,
            "submitted_in_s": round(submitted_in, 1),
            "requests_in_window": len(in_window),
            "delivered_in_window": delivered,
            "delivered_per_minute": round(delivered / minutes, 2),
            "http_429_from_fake": rate_limited,
            "429s_came_early_by_ms": early_ms,
            "accepted_after_client_retry": retried,
            "bot_budget_waits_logged": budget_waits,
            "budget_reopen_to_next_request_ms": reopen_lag_ms,
            "bot_errors": env.errors()[:10],
        }
    note = ""
    if rate_limited:
        note = (
            f"{rate_limited} requests got a 429 from the fake, arriving"
            f" {', '.join(f'{ms:.0f}' for ms in early_ms)} ms before their slot left the"
            " provider's 60 s window"
        )
    return [
        Result(
            name="rate_limit_utilisation",
            metric=f"delivered per minute / budget (B={budget}, {minutes} min)",
            value=round(ratio, 3),
            target=f">= {TARGET}",
            met=ratio >= TARGET,
            details=details,
        ),
        Result(
            name="rate_limit_429s",
            metric=f"429s from the fake ({minutes} min at B={budget})",
            value=rate_limited,
            target="0",
            met=rate_limited == 0,
            note=note,
        ),
    ]


if __name__ == "__main__":
    run_from_command_line(main, __doc__, budget=30, minutes=2, latency=2.0)
