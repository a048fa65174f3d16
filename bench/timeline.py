"""Benchmark: where one job's time goes, step by step, from the fakes' own records (issue 27).

Runs our bot and ``bench/minimal_bot.py`` side by side as ``sidebyside.py`` does (the same
start-up, fakes and warm-up), then ``--jobs`` jobs one after another for each, and prints
the p50 of every step of a job in ms after the fake Discord dispatched the command:

* the deferral (the interaction callback), the moderation call's start and end, each edit
  of the member's message and the final picture's post, as the fake Discord recorded them
  (a request is recorded once it has been read, checked against Discord's schema and
  handled);
* the image request's start and end at the fake OpenAI, and how much of that the fake
  spent beyond its configured latency drawing and encoding pictures (partial previews
  included), which the minimal bot does not ask for;
* the fake Discord's own time reading and checking each request (multipart body and
  schema), measured by wrapping those two functions in this process.

With ``--at-once`` the jobs are asked for all at the same moment, as in sidebyside's twenty
at once, and the p50s are over those jobs.

    .venv/bin/python bench/timeline.py [--latency 2.0] [--jobs 10] [--at-once]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from _harness import Result, print_table, save_results, summary
from sidebyside import Contender, _start

import tests.fakes.discord.server as discord_server
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.interactions import InteractionHandle
from tests.fakes.openai import FakeOpenAI

# The fake Discord's own work per request, by label: (reading the body, checking the schema).
FAKE_DISCORD_MS: dict[str, list[float]] = defaultdict(list)
# The fake OpenAI's picture work per call, by method: drawing, and encoding the partial
# preview and the final picture (a plain request renders and encodes its finals at once).
FAKE_OPENAI_WORK = ("_render_final", "_encode_partial", "_encode_final", "_render_finals")
FAKE_OPENAI_MS: dict[str, list[float]] = defaultdict(list)


@contextlib.contextmanager
def _timing_fake_discord() -> Iterator[None]:
    """Wrap the fake Discord's body reader and schema check to time them (in this process)."""
    read_form = discord_server.read_form
    check_contract = FakeDiscord.check_contract

    async def timed_read(request: Any) -> Any:
        started = time.perf_counter()
        try:
            return await read_form(request)
        finally:
            FAKE_DISCORD_MS[f"read {request.method}"].append((time.perf_counter() - started) * 1000)

    def timed_check(self: FakeDiscord, method: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return check_contract(self, method, *args, **kwargs)
        finally:
            FAKE_DISCORD_MS[f"check {method}"].append((time.perf_counter() - started) * 1000)

    discord_server.read_form = timed_read  # type: ignore[assignment]
    FakeDiscord.check_contract = timed_check  # type: ignore[method-assign]
    try:
        yield
    finally:
        discord_server.read_form = read_form
        FakeDiscord.check_contract = check_contract  # type: ignore[method-assign]


@contextlib.contextmanager
def _timing_fake_openai() -> Iterator[None]:
    """Wrap the fake OpenAI's picture work (drawing and encoding, in threads) to time it."""
    originals = {name: getattr(FakeOpenAI, name) for name in FAKE_OPENAI_WORK}

    def timed(name: str) -> Callable[..., Any]:
        def run(self: FakeOpenAI, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return originals[name](self, *args, **kwargs)
            finally:
                FAKE_OPENAI_MS[name].append((time.perf_counter() - started) * 1000)

        return run

    for name in FAKE_OPENAI_WORK:
        setattr(FakeOpenAI, name, timed(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(FakeOpenAI, name, original)


def _label(record: Any) -> str:
    """What a request on the interaction's token was, as a member would see it."""
    payload = record.json if isinstance(record.json, dict) else {}
    if record.files and any(name.startswith("preview") for name, _ in record.files):
        return "preview edit"
    if record.files:
        return "picture posted"
    content = str(payload.get("content") or "")
    if "#" in content or "queue" in content.lower():
        return "queued/drawing edit"
    return f"{record.method} edit"


def _steps(env: Any, handle: InteractionHandle, name: str) -> dict[str, float]:
    """One job's steps, in ms after the command was dispatched."""
    fake: FakeDiscord = env.discord
    command = handle.record.created_at
    mono_to_wall = time.time() - time.monotonic()  # the fake OpenAI keeps monotonic time
    steps: dict[str, float] = {}
    if handle.record.callback is not None:
        steps["deferred"] = handle.record.callback.elapsed_ms
    for request in env.openai.requests:
        text = str(request.fields.get("input", "")) + str(request.prompt or "")
        if name not in text:
            continue
        kind = "moderation" if request.endpoint == "moderations" else "image request"
        steps[f"{kind} sent"] = (request.started_at + mono_to_wall - command) * 1000
        if request.finished_at is not None:
            steps[f"{kind} answered"] = (request.finished_at + mono_to_wall - command) * 1000
    seen: dict[str, int] = defaultdict(int)
    for record in fake.requests:
        if handle.token not in record.path or record.at < command:
            continue
        label = _label(record)
        seen[label] += 1
        key = label if seen[label] == 1 else f"{label} #{seen[label]}"
        steps[key] = (record.at - command) * 1000
    return steps


async def _one_after_another(contender: Contender, count: int) -> list[dict[str, float]]:
    timelines = []
    for index in range(count):
        name = f"Line{index:02d}"
        member = contender.members[0]
        handle = await member.slash("character create", name=name, description="silver hair")
        await contender.env.discord.wait_for(
            lambda _f, h=handle: any(
                s.attachments and (not contender.ours or any("vary" in c for c in s.custom_ids))
                for m in h.messages
                for s in m.states
            ),
            timeout=60,
            what="the picture posted",
        )
        timelines.append(_steps(contender.env, handle, name))
    return timelines


async def _all_at_once(contender: Contender, count: int) -> list[dict[str, float]]:
    """``count`` members each ask once, at the same moment (sidebyside's second scenario)."""
    names = [f"Once{index:02d}" for index in range(count)]
    handles = await asyncio.gather(
        *(
            member.slash("character create", name=name, description="silver hair")
            for member, name in zip(contender.members, names, strict=True)
        )
    )
    await contender.env.discord.wait_for(
        lambda _f: all(
            any(
                s.attachments and (not contender.ours or any("vary" in c for c in s.custom_ids))
                for m in h.messages
                for s in m.states
            )
            for h in handles
        ),
        timeout=60 + 10 * count,
        what="every picture posted",
    )
    return [_steps(contender.env, h, name) for h, name in zip(handles, names, strict=True)]


def _p50s(timelines: list[dict[str, float]]) -> dict[str, float]:
    keys: dict[str, list[float]] = defaultdict(list)
    for timeline in timelines:
        for key, value in timeline.items():
            keys[key].append(value)
    ordered = sorted(keys.items(), key=lambda item: summary(item[1])["p50"])
    return {key: summary(values)["p50"] for key, values in ordered}


async def main(latency: float, jobs: int, at_once: bool = False) -> list[Result]:
    FAKE_DISCORD_MS.clear()
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(_timing_fake_discord())
        stack.enter_context(_timing_fake_openai())
        both = [
            await _start(ours, stack, latency, jobs if at_once else 1) for ours in (False, True)
        ]
        run = _all_at_once if at_once else _one_after_another
        results: dict[str, dict[str, float]] = {}
        fake_openai: dict[str, dict[str, dict[str, float]]] = {}
        for contender in both:
            label = "ours" if contender.ours else "minimal"
            FAKE_OPENAI_MS.clear()
            FAKE_DISCORD_MS.clear()  # start-up and warm-up not counted
            results[label] = _p50s(await run(contender, jobs))
            fake_openai[label] = {k: summary(v) for k, v in sorted(FAKE_OPENAI_MS.items())}
            print(f"\n{label}: the fake OpenAI's own picture work, ms (p50):")
            for key, stats in fake_openai[label].items():
                print(f"  {key:<16} {stats['p50']:6.1f}  n={stats['n']:.0f}")
    for label, steps in results.items():
        print(f"\n{label}: p50 ms after the command (fake latency {latency:g} s)")
        for key, value in steps.items():
            print(f"  {value:9.1f}  {key}")
    fake_ms = {key: summary(values) for key, values in sorted(FAKE_DISCORD_MS.items())}
    print("\nfake Discord's own time per request (read the body, check the schema), ms:")
    for key, stats in fake_ms.items():
        print(f"  {key:<14} p50 {stats['p50']:6.2f}  max {stats['max']:6.2f}  n={stats['n']:.0f}")
    details = {
        "latency_s": latency,
        "steps_p50_ms": results,
        "fake_discord_ms": fake_ms,
        "fake_openai_ms": fake_openai,
    }
    return [
        Result(
            name="timeline",
            metric="p50 ms from command to picture posted, ours",
            value=next(reversed(results["ours"].values()), None),
            target="(a breakdown, no target)",
            met=None,
            details=details,
        )
    ]


def _run(coroutine: Callable[..., Awaitable[list[Result]]], **kwargs: Any) -> None:
    out = asyncio.run(coroutine(**kwargs))  # type: ignore[arg-type]
    print_table(out)
    save_results(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument(
        "--at-once", action="store_true", help="every job asked at the same moment (try --jobs 20)"
    )
    args = parser.parse_args()
    _run(main, latency=args.latency, jobs=args.jobs, at_once=args.at_once)
