"""The bot under test, as a real ``python -m bot`` process with a user's environment."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The longest log line read from the bot (asyncio's default is 64 KiB).
_LINE_LIMIT = 4 * 1024 * 1024

__all__ = ["BotProcess"]


class BotProcess:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, *args: str) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # At DEBUG, discord.py logs the command sync's whole JSON body on one line; with
            # four languages' localisations it is over asyncio's default 64 KiB line limit.
            limit=_LINE_LIMIT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            async with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_log(self, pattern: str, timeout: float = 15.0) -> str:
        """The first log line matching ``pattern``, waiting for it to be printed."""
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.lines if regex.search(line)), None)

        async def wait() -> str:
            async with self._changed:
                while (line := found()) is None:
                    if self.process is not None and self.process.returncode is not None:
                        raise AssertionError(
                            f"bot exited ({self.process.returncode}) before logging {pattern!r}:\n"
                            + self.output[-4000:]
                        )
                    await self._changed.wait()
                return line

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no log line matched {pattern!r} within {timeout}s:\n{self.output[-4000:]}"
            ) from None

    async def wait_exit(self, timeout: float = 10.0) -> int:
        assert self.process is not None
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return code

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, as a container runtime would; return the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash or an OOM kill."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        await self.wait_exit()

    def freeze(self) -> None:
        """SIGSTOP: the process stands still, as on a swapping host or under a debugger,
        and its leases run out; ``thaw`` lets it go on where it stood."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def unexpected_errors(self) -> list[str]:
        """Tracebacks or ERROR lines, which a passing test should not produce."""
        return [line for line in self.lines if "Traceback" in line or " ERROR " in line]
