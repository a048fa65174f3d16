"""CPU per OpenAI call: the bot's calls against the client's defaults.

The bot's: the client it builds (on aiohttp), and its moderation check, which reads the
answer as it came. The defaults: the client's own HTTP stack and its typed moderation answer.
The fake OpenAI runs in a child process, so the CPU time measured here (this process's
``time.process_time()``) is the calls' own: building the request, the HTTP exchange and
reading the answer, as the bot's event loop pays it. Each round sends ``--calls``
moderation calls and ``--pictures`` streamed pictures (one partial preview each) at once
each way in turn; the figures are the medians over ``--rounds`` rounds.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _harness import ROOT, Result, run_from_command_line
from openai import AsyncOpenAI

from bot.images.service import ImageService, openai_client

# The child: a fake OpenAI without latency, printing where it listens.
_SERVER = """
import asyncio
from tests.fakes.openai import FakeOpenAI

async def serve():
    async with FakeOpenAI() as fake:
        print(fake.base_url, fake.api_key, flush=True)
        await asyncio.Event().wait()

asyncio.run(serve())
"""


async def _cpu_ms_per_call(calls: list[Callable[[], Awaitable[Any]]]) -> float:
    started = time.process_time()
    await asyncio.gather(*(call() for call in calls))
    return (time.process_time() - started) * 1000 / len(calls)


async def _measure(
    client: AsyncOpenAI, calls: int, pictures: int, *, as_the_bot: bool
) -> tuple[float, float]:
    checks = ImageService(client, moderation_model="omni-moderation-latest", partial_images=1)

    async def moderate(index: int) -> None:
        if as_the_bot:  # the bot's own check: the answer read as it came
            await checks.check_prompt(f"a cat {index}")
        else:  # the client's typed answer, as the bot read it before
            await client.moderations.create(model="omni-moderation-latest", input=f"a cat {index}")

    async def draw(index: int) -> None:
        stream = await client.images.generate(
            model="gpt-image-1.5",
            prompt=f"a cat {index}",
            size="1024x1024",
            quality="low",
            stream=True,
            partial_images=1,
        )
        async with stream:
            async for _event in stream:
                pass

    try:
        await moderate(-1)  # the connection and the client's first-call work, not measured
        moderation = await _cpu_ms_per_call([lambda i=i: moderate(i) for i in range(calls)])
        picture = await _cpu_ms_per_call([lambda i=i: draw(i) for i in range(pictures)])
    finally:
        await client.close()
    return moderation, picture


async def main(rounds: int, calls: int, pictures: int) -> list[Result]:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVER, stdout=asyncio.subprocess.PIPE, cwd=ROOT
    )
    try:
        assert server.stdout is not None
        base_url, api_key = (await server.stdout.readline()).decode().split()
        figures: dict[str, list[tuple[float, float]]] = {"default": [], "bot": []}
        for _ in range(rounds):
            default = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)
            figures["default"].append(await _measure(default, calls, pictures, as_the_bot=False))
            ours = openai_client(api_key, base_url, timeout=60)
            figures["bot"].append(await _measure(ours, calls, pictures, as_the_bot=True))
    finally:
        server.kill()
        await server.wait()
    medians = {
        name: {
            "moderation_cpu_ms": round(statistics.median(m for m, _ in rows), 2),
            "streamed_picture_cpu_ms": round(statistics.median(p for _, p in rows), 2),
        }
        for name, rows in figures.items()
    }
    per_job = {name: sum(row.values()) for name, row in medians.items()}
    ratio = per_job["bot"] / per_job["default"]
    return [
        Result(
            name="openai_client_cpu",
            metric="CPU per job's two calls, the bot's ÷ the client's defaults",
            value=round(ratio, 2),
            target="< 1",
            met=ratio < 1,
            note=(
                f"moderation + streamed picture: {per_job['bot']:.1f} ms "
                f"(default client {per_job['default']:.1f} ms)"
            ),
            details={"medians": medians, "rounds": rounds, "calls": calls, "pictures": pictures},
        )
    ]


if __name__ == "__main__":
    run_from_command_line(main, __doc__ or "", rounds=5, calls=200, pictures=40)
