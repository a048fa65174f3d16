"""Benchmark: our bot side by side with a minimal image bot, in one run (issue 27).

Both bots run at once, each against its own pair of the loopback fakes configured the
same way (the fake OpenAI takes ``--latency`` s per image request, image endpoints only),
in this one process, taking turns job by job, so that whatever else the machine does weighs
on both alike. The minimal bot is our own baseline, ``bench/minimal_bot.py``: defer,
``images.generate``, a followup with the file; it stores nothing, checks nothing and shows
no preview. Ours runs with ``MAX_CONCURRENT_JOBS=20`` and ``IMAGES_PER_MINUTE=1000`` so both
may draw twenty at once.

* Scenario A, 10 jobs one after another: per job, result posted - command - latency, in
  ms (p50 and p90). For our bot the moderation call made before queueing is subtracted
  and reported on its own row. Also the same less the fake's own time beyond its latency
  (streaming a partial preview makes the fake encode one more picture inside the request,
  which the minimal bot never asks for): the part the bot alone adds.
* Scenario B, 20 jobs at once: wall time from the first command to the last picture
  posted, divided by the latency.

Also the bot's CPU per image in each scenario, and the time the fake itself spent beyond
its latency (drawing and encoding the pictures in this process).

    .venv/bin/python bench/sidebyside.py [--latency 2.0] [--sequential 10] [--concurrent 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import RESULTS_DIR, Result, bench_env, cpu_seconds, print_table, save_results, summary

from tests.botproc import BotProcess
from tests.fakes.discord import FakeDiscord, InteractionHandle

MINIMAL_BOT = Path(__file__).resolve().parent / "minimal_bot.py"
SEQUENTIAL_TARGET_MS = 40.0
CONCURRENT_TARGET = 1.15


# Set by --profile: py-spy samples our bot during both scenarios (bench/results/*.txt).
PROFILE = False


def _profile(pid: int) -> subprocess.Popen[bytes]:
    """py-spy (a dev tool, if installed in the venv) sampling our bot: collapsed stacks."""
    out = RESULTS_DIR / "sidebyside-ours-profile.txt"
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(spy), "record", "--format", "raw", "-r", "200", "-o", str(out), "--pid", str(pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class MinimalBotProcess(BotProcess):
    """``bench/minimal_bot.py`` in place of ``python -m bot``, with the same environment."""

    async def start(self, *args: str) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(MINIMAL_BOT),
            *args,
            cwd=self.cwd,
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())


def _result_at(handle: InteractionHandle, *, ours: bool) -> float | None:
    """Fake-clock time the member first saw the finished picture.

    Ours edits it into the member's message (previews have attachments too, so the final
    one is told apart by its picture buttons); the minimal bot sends a followup.
    """
    for message in handle.messages:
        for state in message.states:
            if state.attachments and (
                not ours or any(c.startswith("pic:vary:") for c in state.custom_ids)
            ):
                return state.recorded_at
    return None


async def _draw(env: Any, members: list[Any], names: list[str], ours: bool) -> list[dict[str, Any]]:
    """Run one ``/character create`` per member at once; timings per job."""
    fake: FakeDiscord = env.discord
    handles = await asyncio.gather(
        *(
            m.slash("character create", name=name, description="silver hair, red eyes")
            for m, name in zip(members, names, strict=True)
        )
    )
    await fake.wait_for(
        lambda _f: all(_result_at(h, ours=ours) is not None for h in handles),
        timeout=60 + 10 * len(handles),
        what="every picture posted",
    )
    wall_minus_mono = time.time() - time.monotonic()  # the fake OpenAI records monotonic time
    jobs = []
    for name, handle in zip(names, handles, strict=True):
        moderation = [
            r
            for r in env.openai.requests
            if r.endpoint == "moderations" and name in str(r.fields.get("input", ""))
        ]
        image = next((r for r in env.openai.image_requests if name in (r.prompt or "")), None)
        command, result = handle.record.created_at, _result_at(handle, ours=ours)
        assert image is not None and image.finished_at is not None and result is not None
        jobs.append(
            {
                "command": command,
                "result": result,
                # The bot's own parts: before the image request, and after its answer.
                "before_s": image.started_at + wall_minus_mono - command,
                "after_s": result - image.finished_at - wall_minus_mono,
                "moderation_s": sum(
                    (r.finished_at or r.started_at) - r.started_at for r in moderation
                ),
                "api_s": image.finished_at - image.started_at,
            }
        )
    return jobs


@dataclass
class Contender:
    """One bot in its own fresh fakes, and what it measured."""

    ours: bool
    env: Any
    members: list[Any]
    one_by_one: list[dict[str, Any]] = field(default_factory=list)
    at_once: list[dict[str, Any]] = field(default_factory=list)
    cpu_ms: dict[str, float] = field(default_factory=dict)

    async def draw(self, names: list[str], phase: str) -> None:
        pid = self.env.bot.process.pid
        cpu = cpu_seconds(pid)
        jobs = await _draw(self.env, self.members[: len(names)], names, self.ours)
        spent = (cpu_seconds(pid) - cpu) * 1000
        self.cpu_ms[phase] = self.cpu_ms.get(phase, 0.0) + spent
        (self.one_by_one if phase == "sequential" else self.at_once).extend(jobs)


async def _start(ours: bool, stack: contextlib.AsyncExitStack, latency: float, count: int) -> Any:
    label = "ours" if ours else "minimal"
    env = await stack.enter_async_context(bench_env(latency=latency, name=f"sidebyside-{label}"))
    if ours:
        await env.start_bot(max_concurrent_jobs="20", images_per_minute="1000")
    else:
        env.bot = MinimalBotProcess(env.environment(), env.workdir / "cwd")
        await env.bot.start()
        await env.bot.wait_for_log(r"Minimal bot ready", timeout=60)
        await env.discord.wait_until_ready(timeout=30)
    contender = Contender(ours, env, env.members(max(count, 1)))
    await _draw(env, contender.members[:1], ["Warm"], ours)  # connection set-up, imports
    return contender


async def run_both(latency: float, sequential: int, concurrent: int) -> list[dict[str, Any]]:
    """Both bots at once, taking turns job by job (then round by round), so that whatever
    else the machine is doing weighs on both alike."""
    async with contextlib.AsyncExitStack() as stack:
        both = [await _start(ours, stack, latency, concurrent) for ours in (False, True)]
        spy = _profile(both[1].env.bot.process.pid) if PROFILE else None
        for index in range(sequential):
            for contender in both:
                await contender.draw([f"Seq{index:02d}"], "sequential")
        for contender in both:
            await contender.draw([f"Many{i:02d}" for i in range(concurrent)], "concurrent")
        errors = both[1].env.errors()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.to_thread(spy.wait)
    return [_figures(c, latency, errors if c.ours else []) for c in both]


def _figures(contender: Contender, latency: float, errors: list[str]) -> dict[str, Any]:
    one_by_one, at_once = contender.one_by_one, contender.at_once
    added = [(j["result"] - j["command"] - latency - j["moderation_s"]) * 1000 for j in one_by_one]
    wall = max(j["result"] for j in at_once) - min(j["command"] for j in at_once)
    return {
        "added_ms": summary(added),
        # The same, less the fake OpenAI's own time beyond its latency (drawing and encoding
        # pictures in this process, partial previews included): what the bot alone adds.
        "added_net_of_fake_ms": summary(
            [
                (j["result"] - j["command"] - j["api_s"] - j["moderation_s"]) * 1000
                for j in one_by_one
            ]
        ),
        "moderation_ms": summary([j["moderation_s"] * 1000 for j in one_by_one]),
        "fake_beyond_latency_ms": summary([(j["api_s"] - latency) * 1000 for j in one_by_one]),
        "before_request_ms": summary([j["before_s"] * 1000 for j in one_by_one]),
        "after_answer_ms": summary([j["after_s"] * 1000 for j in one_by_one]),
        "cpu_ms_per_image_sequential": round(
            contender.cpu_ms.get("sequential", 0.0) / max(len(one_by_one), 1), 1
        ),
        "wall_over_latency": round(wall / latency, 3),
        "wall_s": round(wall, 3),
        "fake_beyond_latency_ms_concurrent": summary(
            [(j["api_s"] - latency) * 1000 for j in at_once]
        ),
        "before_request_ms_concurrent": summary([j["before_s"] * 1000 for j in at_once]),
        "after_answer_ms_concurrent": summary([j["after_s"] * 1000 for j in at_once]),
        "cpu_ms_per_image_concurrent": round(
            contender.cpu_ms.get("concurrent", 0.0) / max(len(at_once), 1), 1
        ),
        "bot_errors": errors[:10],
    }


def _pick(data: dict[str, Any], key: str, field: str | None) -> Any:
    return data[key].get(field) if field else data[key]


def _row(title: str, minimal: Any, ours: Any) -> str:
    return f"| {title} | {minimal} | {ours} |"


async def main(latency: float, sequential: int, concurrent: int) -> list[Result]:
    started = time.monotonic()
    load_before = round(os.getloadavg()[0], 2)
    minimal, ours = await run_both(latency, sequential, concurrent)
    # The machine may be shared: a load well above its cores skews both bots' figures.
    load = {"before": load_before, "after": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    added, wall = ours["added_ms"].get("p50"), ours["wall_over_latency"]
    print(
        f"\nSide by side ({time.monotonic() - started:.0f} s), fake latency {latency:g} s,"
        f" load average {load['before']} -> {load['after']} on {load['cores']} cores\n"
    )
    print(_row("", "minimal bot", "ours"))
    print(_row("---", "---", "---"))
    for title, key, stat in (
        (f"{sequential} one after another: p50 added ms", "added_ms", "p50"),
        ("… p90 added ms", "added_ms", "p90"),
        (
            "… p50 added ms, less the fake's own time beyond its latency",
            "added_net_of_fake_ms",
            "p50",
        ),
        ("… moderation ms (p50, excluded above)", "moderation_ms", "p50"),
        ("… the fake's own time beyond its latency, ms (p50)", "fake_beyond_latency_ms", "p50"),
        ("… command to image request, ms (p50, moderation included)", "before_request_ms", "p50"),
        ("… image answer to picture posted, ms (p50)", "after_answer_ms", "p50"),
        ("… bot CPU ms per image", "cpu_ms_per_image_sequential", None),
        (f"{concurrent} at once: wall time ÷ latency", "wall_over_latency", None),
        (
            "… the fake's own time beyond its latency, ms (p50)",
            "fake_beyond_latency_ms_concurrent",
            "p50",
        ),
        ("… command to image request, ms (p50)", "before_request_ms_concurrent", "p50"),
        ("… image answer to picture posted, ms (p50)", "after_answer_ms_concurrent", "p50"),
        ("… bot CPU ms per image", "cpu_ms_per_image_concurrent", None),
    ):
        print(_row(title, _pick(minimal, key, stat), _pick(ours, key, stat)))
    print()
    details = {"latency_s": latency, "load_average": load, "minimal": minimal, "ours": ours}
    return [
        Result(
            name="sidebyside_sequential",
            metric=f"p50 ms added to the API latency, {sequential} jobs one after another",
            value=added,
            target=f"<= {SEQUENTIAL_TARGET_MS:g} ms",
            met=None if added is None else added <= SEQUENTIAL_TARGET_MS,
            details=details,
            note=f"minimal bot {minimal['added_ms'].get('p50')} ms;"
            f" moderation {ours['moderation_ms'].get('p50')} ms (excluded)",
        ),
        Result(
            name="sidebyside_concurrent",
            metric=f"wall time / latency, {concurrent} jobs at once",
            value=wall,
            target=f"<= {CONCURRENT_TARGET}",
            met=wall <= CONCURRENT_TARGET,
            note=f"minimal bot {minimal['wall_over_latency']}",
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--sequential", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="py-spy our bot (dev tool)")
    args = parser.parse_args()
    PROFILE = args.profile
    out = asyncio.run(main(args.latency, args.sequential, args.concurrent))
    print_table(out)
    save_results(out)
