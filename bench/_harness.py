"""Shared pieces of the benchmarks: the fakes, the bot process, stats, results.

Every benchmark runs the real bot (``python -m bot``) against the loopback fakes in
``tests/fakes`` (Discord and OpenAI), exactly as the end-to-end tests do, and prints
ratios measured within that one run. Nothing here reaches the network. The database
seeding lives in ``_seeding`` and is re-exported here, so a benchmark imports from one place.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _seeding import (  # noqa: E402
    seed_characters,
    seed_images,
    seed_jobs,
    seed_queued_jobs,
)

from tests.botproc import BotProcess  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.discord.models import Guild, Member  # noqa: E402
from tests.fakes.openai import FakeOpenAI  # noqa: E402

__all__ = [
    "RESULTS_DIR",
    "ROOT",
    "SERVERS_PER_SHARD",
    "BenchEnv",
    "Flag",
    "Result",
    "RssSampler",
    "bench_env",
    "cpu_seconds",
    "finished",
    "machine",
    "mb",
    "peak_rss_result",
    "percentile",
    "print_table",
    "rss_kib",
    "run_from_command_line",
    "save_results",
    "seed_characters",
    "seed_images",
    "seed_jobs",
    "seed_queued_jobs",
    "settled_rss",
    "summary",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Settings that let one member or server queue a thousand jobs during a benchmark.
GENEROUS = {
    "MEMBER_PENDING_CAP": "100",
    "GUILD_PENDING_CAP": "10000",
    "DEFAULT_DAILY_QUOTA": "100000",
}


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    """One benchmark's outcome: the headline figure against its target, plus details."""

    name: str
    metric: str
    value: float | None
    target: str
    met: bool | None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # field order is the order latest.json shows


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_kib = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def save_results(results: Sequence[Result], path: Path | None = None) -> Path:
    """Merge ``results`` into ``bench/results/latest.json`` (by name) and return its path."""
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        existing = json.loads(path.read_text())
    by_name = {r["name"]: r for r in existing.get("results", [])}
    for result in results:
        by_name[result.name] = result.as_dict()
    data = {"machine": machine(), "results": list(by_name.values())}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


@dataclass(frozen=True)
class Flag:
    """A benchmark's command-line option: its default (which also gives its type) and help."""

    default: int | float | tuple[str, ...]  # a tuple: any number of words
    help: str = ""


def run_from_command_line(
    main: Callable[..., Awaitable[list[Result]]], doc: str, **options: Flag | int | float
) -> list[Result]:
    """Run a benchmark script: ``--some-name`` for each keyword of ``main``, then report.

    The figures are printed (table, then each benchmark's details) and merged into
    ``bench/results/latest.json``, as ``run_all.py`` does for every benchmark.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, option in options.items():
        flag = option if isinstance(option, Flag) else Flag(option)
        words = isinstance(flag.default, tuple)
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=str if words else type(flag.default),
            nargs="*" if words else None,
            default=flag.default,
            help=flag.help or None,
        )
    results = asyncio.run(main(**vars(parser.parse_args())))
    print_table(results)
    for result in results:
        print(result.name, result.details)
    save_results(results)
    return results


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def print_table(results: Sequence[Result]) -> None:
    rows = [("benchmark", "metric", "value", "target", "met")]
    for r in results:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        rows.append((r.name, r.metric, _fmt(r.value), r.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for r in results:
        if r.note:
            print(f"* {r.name}: {r.note}")


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(min(values), digits),
        "p50": round(statistics.median(values), digits),
        "p90": round(percentile(values, 90), digits),
        "p99": round(percentile(values, 99), digits),
        "max": round(max(values), digits),
    }


# Discord requires sharding past 2,500 servers a shard: the benchmarks' shard counts.
SERVERS_PER_SHARD = 2_500


def mb(kib: int) -> float:
    """KiB (as /proc reports them) in MB, one decimal."""
    return round(kib / 1024, 1)


def peak_rss_result(
    name: str, metric: str, peak_mb: float, target_mb: float, details: dict[str, Any]
) -> list[Result]:
    """A memory benchmark's one figure: the bot's peak RSS against its target."""
    met = peak_mb < target_mb
    return [Result(name, metric, peak_mb, f"< {target_mb} MB", met, details=details)]


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc/<pid>/status."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0])
    return out


class RssSampler:
    """Samples a process's VmRSS every 20 ms and keeps the highest value seen in each phase
    (``phase`` names what the benchmark is doing now)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            rss = mb(rss_kib(self.pid)["VmRSS"])
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)
            await asyncio.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def settled_rss(bot: BotProcess) -> tuple[int, dict[str, int]]:
    """The bot's pid and its RSS (``rss_kib``) once start-up has settled.

    The two seconds let the command sync and the start-up sweeps finish, so the figure is
    the bot at rest rather than mid-start.
    """
    await asyncio.sleep(2)
    assert bot.process is not None
    pid = bot.process.pid
    return pid, rss_kib(pid)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --------------------------------------------------------------------------- the world


def finished(message: object) -> bool:
    """A member's message holds the finished picture (attachments and the picture buttons)."""
    return bool(getattr(message, "attachments", None)) and any(
        cid.startswith("pic:vary:") for cid in getattr(message, "custom_ids", [])
    )


@dataclass
class BenchEnv:
    """Both fakes, one guild, a data directory, and the bot process (started on demand)."""

    discord: FakeDiscord
    openai: FakeOpenAI
    guild: Guild
    data_dir: Path
    workdir: Path
    bot: BotProcess | None = None
    started_at: float = 0.0  # time.monotonic() just before the process was spawned
    started_wall: float = 0.0  # the same moment by time.time() (the fake Discord's clock)
    log_path: Path | None = None
    _members: list[Member] = field(default_factory=list)

    def environment(self, **overrides: str | None) -> dict[str, str]:
        """The bot's settings: the fakes, this env's data and the generous defaults, then
        ``overrides`` (a None removes a setting, e.g. ``dev_guild_id=None`` for global
        commands)."""
        env = {
            "DISCORD_TOKEN": self.discord.bot_token,
            "OPENAI_API_KEY": self.openai.api_key,
            "OPENAI_BASE_URL": self.openai.base_url,
            "DISCORD_API_BASE": self.discord.base_url,
            "DATA_DIR": str(self.data_dir),
            "DEV_GUILD_ID": str(self.guild.id),
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "2",
            **GENEROUS,
        }
        for key, value in overrides.items():
            if value is None:
                env.pop(key.upper(), None)
            else:
                env[key.upper()] = str(value)
        return env

    async def start_bot(self, *, wait_ready: bool = True, **overrides: str | None) -> BotProcess:
        if self.bot is not None:
            raise RuntimeError("the bot is already running")
        bot = BotProcess(self.environment(**overrides), self.workdir / "cwd")
        self.bot = bot
        self.started_at = time.monotonic()
        self.started_wall = time.time()
        await bot.start()
        if wait_ready:
            await bot.wait_for_log(r"Logged in as .*serving \d+ guilds", timeout=60)
            await self.discord.wait_until_ready(timeout=30)
        return bot

    async def stop_bot(self) -> int:
        bot, self.bot = self.bot, None
        if bot is None or bot.process is None:
            return 0
        code = bot.process.returncode
        if code is None:
            try:
                code = await bot.stop(timeout=30)
            except TimeoutError:
                await bot.kill()
                code = -9
        self._keep_log(bot)
        return code

    async def kill_bot(self) -> None:
        """SIGKILL the bot, as a crash or an OOM kill would."""
        bot, self.bot = self.bot, None
        if bot is not None:
            await bot.kill()
            self._keep_log(bot)

    def _keep_log(self, bot: BotProcess) -> None:
        if self.log_path is not None:
            with self.log_path.open("a") as handle:
                handle.write(f"===== bot process {bot.process.pid if bot.process else '?'}\n")
                handle.write(bot.output + "\n")

    async def prepare_database(self) -> None:
        """Run the bot once so its migrations create the schema (and commands are synced)."""
        await self.start_bot()
        await self.stop_bot()

    def members(self, count: int) -> list[Member]:
        while len(self._members) < count:
            self._members.append(self.guild.add_member(f"member{len(self._members) + 1:03d}"))
        return self._members[:count]

    @property
    def database(self) -> Path:
        return self.data_dir / "bot.sqlite3"

    def dump_stacks(self, label: str) -> Path | None:
        """Thread stacks of the running bot (py-spy, if installed) into bench/results/."""
        if self.bot is None or self.bot.process is None:
            return None
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists():
            return None
        out = RESULTS_DIR / f"{label}-stacks.txt"
        result = subprocess.run(
            [str(spy), "dump", "--locals", "--pid", str(self.bot.process.pid)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        out.write_text(result.stdout + result.stderr)
        return out

    def errors(self) -> list[str]:
        return self.bot.unexpected_errors() if self.bot else []


@contextlib.asynccontextmanager
async def bench_env(latency: float = 0.0, name: str = "bench") -> AsyncIterator[BenchEnv]:
    """Fresh fakes, a fresh guild and an empty data directory; everything stopped after.

    The bot's log of every start is kept in ``bench/results/<name>-bot.log``.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        async with FakeDiscord() as discord_fake, FakeOpenAI(latency=latency) as openai_fake:
            guild = discord_fake.add_guild("Benchmark Club")
            env = BenchEnv(discord_fake, openai_fake, guild, work / "data", work)
            env.log_path = RESULTS_DIR / f"{name}-bot.log"
            env.log_path.parent.mkdir(parents=True, exist_ok=True)
            env.log_path.write_text("")
            try:
                yield env
            finally:
                openai_fake.release()
                await env.stop_bot()
