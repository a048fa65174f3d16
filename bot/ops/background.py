"""Coroutines that run beside the bot: one from ``start()`` until ``stop()``
(:class:`BackgroundTask`), or a piece of work nobody awaits (:func:`start_beside`); and
how a stop lets such work end (:func:`finish_or_cancel`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Coroutine
from typing import Any

from bot.faults import log_task_failure

__all__ = ["BackgroundTask", "finish_or_cancel", "start_beside"]


class BackgroundTask:
    """One named task: started once, cancelled and awaited on stop (a no-op if never started)."""

    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def start_beside(
    work: Coroutine[Any, Any, None], held: set[asyncio.Task[None]], name: str | None = None
) -> None:
    """Start ``work`` as a task nobody awaits. ``held`` keeps it until it ends (asyncio holds
    only a weak reference to a running task); a failure is logged as it ends."""
    task = asyncio.create_task(work, name=name)
    held.add(task)
    task.add_done_callback(held.discard)
    task.add_done_callback(log_task_failure)


async def finish_or_cancel(
    tasks: Collection[asyncio.Task[Any]], grace: float, *, unwind: float
) -> set[asyncio.Task[Any]]:
    """Give ``tasks`` ``grace`` seconds to end, then cancel the rest and give them ``unwind``
    seconds to unwind (one the loop closes on warns "Task was destroyed"). Returns those
    cancelled."""
    if not tasks:
        return set()
    _, still = await asyncio.wait(tasks, timeout=grace)
    for task in still:
        task.cancel()
    if still:
        await asyncio.wait(still, timeout=unwind)
    return still
