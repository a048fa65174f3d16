"""Benchmark 2: overhead per image.

End-to-end time of ``/character create`` (interaction dispatched -> the member's message
holds the final attachment) divided by the fake API's latency, with 1 and with 20 jobs
at once. Also split into: before the image request, the image request itself (the fake's
latency plus the time the fake spends drawing and encoding the picture, which stands in
for OpenAI's own servers), and after it (decode, store, thumbnail, upload to Discord).

    .venv/bin/python bench/overhead.py [--latency 2.0] [--concurrent 1 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import time
from typing import Any

from _harness import (
    Result,
    bench_env,
    cpu_seconds,
    finished,
    print_table,
    save_results,
    summary,
)

from tests.fakes.discord import InteractionHandle

TARGET = 1.05


def _drawing_at(handle: InteractionHandle) -> float | None:
    """Fake-clock time the member's message first said "Drawing" (the job_started edit)."""
    message = handle.original
    if message is None:
        return None
    return next((s.recorded_at for s in message.states if "Drawing" in s.content), None)


def _finished_at(handle: InteractionHandle) -> float | None:
    """Fake-clock time of the first state of the member's message that held the picture."""
    message = handle.original
    if message is None:
        return None
    for state in message.states:
        if state.attachments and any(c.startswith("pic:vary:") for c in state.custom_ids):
            return state.recorded_at
    return None


async def run_round(env: Any, count: int, latency: float, tag: str) -> dict[str, Any]:
    members = env.members(count)
    pid = env.bot.process.pid
    cpu_before = cpu_seconds(pid)
    wall_minus_mono = time.time() - time.monotonic()
    names = [f"{tag}{i:02d}" for i in range(count)]
    handles = await asyncio.gather(
        *(
            m.slash("character create", name=name, description="silver hair, red eyes")
            for m, name in zip(members, names, strict=True)
        )
    )
    waits = [
        asyncio.create_task(h.wait_original(finished, timeout=60 + 3 * latency * count))
        for h in handles
    ]
    await asyncio.wait(waits)
    stuck = [name for name, w in zip(names, waits, strict=True) if w.exception() is not None]
    stuck_rows: list[Any] = []
    if stuck:
        # A job that never finished: keep the bot's thread stacks and the job rows.
        await asyncio.to_thread(env.dump_stacks, f"overhead-stuck-{tag}")
        with contextlib.closing(sqlite3.connect(env.database)) as conn:
            stuck_rows = conn.execute(
                "SELECT j.id, j.state, j.attempts, j.error_code, j.delivered, c.name"
                " FROM jobs j JOIN characters c ON c.id = j.character_id"
                f" WHERE c.name IN ({','.join('?' * len(stuck))})",
                stuck,
            ).fetchall()
    by_name = {}
    for request in env.openai.image_requests:
        for name in names:
            if request.prompt and f"named {name}." in request.prompt:
                by_name[name] = request
    bot_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / count
    ratios, before, api, after, api_ratio, edit_first = [], [], [], [], [], []
    for name, handle in zip(names, handles, strict=True):
        start = handle.record.created_at
        end = _finished_at(handle)
        request = by_name.get(name)
        if end is None or request is None or request.finished_at is None:
            continue
        req_start = request.started_at + wall_minus_mono
        req_end = request.finished_at + wall_minus_mono
        total = end - start
        drawing = _drawing_at(handle)
        if drawing is not None:
            # > 0: the "Drawing..." edit was done before the image request even started.
            edit_first.append((req_start - drawing) * 1000)
        ratios.append(total / latency)
        api_ratio.append(total / (req_end - req_start))
        before.append((req_start - start) * 1000)
        api.append((req_end - req_start) * 1000)
        after.append((end - req_end) * 1000)
    return {
        "jobs": count,
        "measured": len(ratios),
        "never_finished": stuck,
        "never_finished_rows": stuck_rows,
        "e2e_over_latency": summary(ratios, 3),
        "e2e_over_observed_api_time": summary(api_ratio, 3),
        "before_api_ms": summary(before),
        "api_ms": summary(api),
        "after_api_ms": summary(after),
        "drawing_edit_done_before_request_ms": summary(edit_first),
        "bot_cpu_ms_per_image": round(bot_cpu_ms, 1),
        "median_ratio": statistics.median(ratios) if ratios else None,
        "worst_ratio": max(ratios) if ratios else None,
    }


async def main(latency: float, rounds: list[int]) -> list[Result]:
    results = []
    async with bench_env(latency=latency, name="overhead") as env:
        top = max(rounds)
        await env.start_bot(
            max_concurrent_jobs=str(top),
            images_per_minute="10000",
            progress_edit_seconds="1.5",
        )
        # Warm-up: the first job pays for imports and connection set-up, not per image.
        await run_round(env, 1, latency, "Warm")
        for count in rounds:
            data = await run_round(env, count, latency, f"Job{count}x")
            worst = data["worst_ratio"]
            observed = data["e2e_over_observed_api_time"].get("max")
            api = data["api_ms"]
            note = (
                f"{count} at once: e2e / observed API time {observed} (worst); API took"
                f" {api.get('p50')} ms (median) for {latency * 1000:.0f} ms of latency;"
                f" before it {data['before_api_ms'].get('p50')} ms, after it"
                f" {data['after_api_ms'].get('p50')} ms; bot CPU"
                f" {data['bot_cpu_ms_per_image']} ms per image"
            )
            if data["never_finished"]:
                note += f"; NEVER FINISHED: {data['never_finished']}"
            results.append(
                Result(
                    name=f"overhead_{count}_concurrent",
                    metric=f"e2e / fake latency, worst of {count} (latency {latency:g} s)",
                    value=None if worst is None else round(worst, 3),
                    target=f"<= {TARGET}",
                    met=None if worst is None else worst <= TARGET and not data["never_finished"],
                    details={"latency_s": latency, **data},
                    note=note,
                )
            )
            results.append(
                Result(
                    name=f"overhead_{count}_concurrent_observed",
                    metric=f"e2e / API time the bot saw, worst of {count}",
                    value=observed,
                    target=f"<= {TARGET}",
                    met=None if observed is None else observed <= TARGET,
                )
            )
        errors = env.errors()
        if errors:
            results[0].details["bot_errors"] = errors[:10]
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--concurrent", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()
    out = asyncio.run(main(args.latency, args.concurrent))
    print_table(out)
    for r in out:
        print(r.name, r.details)
    save_results(out)
