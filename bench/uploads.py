"""Benchmark 7: memory of the bot process when ten members upload huge-canvas pictures at once.

A flat 6324 x 6324 RGBA PNG is about 165 KB on the wire and 160 MB once decoded (the
"pixel bomb" of issue 18). Ten members attach it to /character create in the same
instant; then ten members attach the largest picture the bot accepts (4096 x 4096, flat
RGBA, so decoding is all the work) in the same instant. RSS is sampled every 20 ms
(VmRSS) for the peak of each phase; VmHWM gives the peak of the whole run.

    .venv/bin/python bench/uploads.py [--members 10]
"""

from __future__ import annotations

import asyncio

from _harness import (
    Result,
    RssSampler,
    bench_env,
    mb,
    peak_rss_result,
    rss_kib,
    run_from_command_line,
    settled_rss,
)

from tests.e2e.helpers import flat_png
from tests.fakes.discord import Upload

TARGET_MB = 300


async def main(members: int) -> list[Result]:
    bomb, largest = flat_png(6324), flat_png(4096)
    async with bench_env(latency=0.2, name="uploads") as env:
        env.openai.hold()  # pictures stay queued: only the upload work is measured
        bot = await env.start_bot()
        pid, idle = await settled_rss(bot)
        people = env.members(members)
        answers: dict[str, list[str]] = {}
        with RssSampler(pid) as sampler:
            phases = (
                (f"{members} pixel bombs (6324², {len(bomb) // 1024} KB) at once", bomb, "bomb"),
                (f"{members} largest accepted (4096², {len(largest) // 1024} KB)", largest, "big"),
            )
            for phase, data, name in phases:
                sampler.phase = phase
                handles = [
                    await m.slash(
                        "character create",
                        name=f"{name}{i}",
                        description="like the reference",
                        reference=Upload(f"{name}.png", data, "image/png"),
                    )
                    for i, m in enumerate(people)
                ]
                replies = [
                    await h.wait_for_reply(lambda m: not m.loading, timeout=120) for h in handles
                ]
                answers[name] = sorted({(r.content or "")[:60] for r in replies})
            sampler.phase = "after"
            await asyncio.sleep(1)
        busy = rss_kib(pid)
        peak = mb(busy["VmHWM"])
        details = {
            "members": members,
            "bomb_bytes": len(bomb),
            "largest_bytes": len(largest),
            "rss_mb_after_start": mb(idle["VmRSS"]),
            "rss_mb_after": mb(busy["VmRSS"]),
            "peak_rss_mb_by_phase": sampler.peaks,
            "downloads": sum(1 for r in env.discord.requests if r.route == "cdn"),
            "answers": answers,
            "bot_errors": env.errors()[:10],
        }
    metric = f"peak RSS MB, {members} bombs then {members} largest uploads at once"
    return peak_rss_result("uploads", metric, peak, TARGET_MB, details)


if __name__ == "__main__":
    run_from_command_line(main, __doc__, members=10)
