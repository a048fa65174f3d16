"""How OpenAI is doing, seen from the bot's own requests: for ``/status`` and the metrics.

:class:`WatchedImageService` is the OpenAI wrapper (``bot/images/service.py``) with a stopwatch
around each call; the wrapper itself stays as it is. Every call ends as a success or as one of
our errors, whose ``__cause__`` is the client's exception (HTTP status and error code).
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.errors import BotError, ConfigError, ContentRefused, UpstreamBusy
from bot.images.service import ImageRequest, ImageResult, ImageService, PartialCallback
from bot.ops.metrics import Metrics

__all__ = ["ERROR_WINDOW_SECONDS", "OpenAIHealth", "OpenAIReport", "WatchedImageService"]

# /status shows the error rate over this window.
ERROR_WINDOW_SECONDS = 15 * 60


def error_kind(error: BaseException) -> str:
    """A short word for what went wrong: the catalog has a text for each."""
    if isinstance(error, ConfigError):
        return "billing" if error.reason == "insufficient_quota" else "config"
    if isinstance(error, ContentRefused):
        return "refused"
    if isinstance(error, UpstreamBusy):
        status = getattr(error.__cause__, "status_code", None)
        return "rate_limited" if status == 429 else "busy"
    return "failed"


@dataclass(frozen=True, slots=True)
class OpenAIReport:
    last_success: float | None  # Unix time
    calls: int  # in the window
    errors: dict[str, int]  # kind -> count in the window
    billing_error_at: float | None  # the last insufficient_quota answer, Unix time

    @property
    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.calls if self.calls else 0.0


class OpenAIHealth:
    """Calls and errors of the last :data:`ERROR_WINDOW_SECONDS`, in memory."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._calls: deque[tuple[float, str | None]] = deque()  # (when, error kind or None)
        self._last_success: float | None = None
        self._billing_error_at: float | None = None

    def record(self, error: BaseException | None) -> None:
        now = self._clock()
        kind = None if error is None else error_kind(error)
        self._calls.append((now, kind))
        if kind is None:
            self._last_success = now
        elif kind == "billing":
            self._billing_error_at = now
        self._forget(now)

    def report(self) -> OpenAIReport:
        self._forget(self._clock())
        errors = Tally(kind for _, kind in self._calls if kind is not None)
        return OpenAIReport(
            self._last_success, len(self._calls), dict(errors), self._billing_error_at
        )

    def _forget(self, now: float) -> None:
        while self._calls and self._calls[0][0] < now - ERROR_WINDOW_SECONDS:
            self._calls.popleft()


class WatchedImageService(ImageService):
    """The OpenAI wrapper, timed and counted (metrics and :class:`OpenAIHealth`)."""

    def __init__(self, *args: Any, metrics: Metrics, health: OpenAIHealth, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics
        self.health = health

    async def check_prompt(self, text: str) -> None:
        started = time.monotonic()
        try:
            await super().check_prompt(text)
        except ContentRefused:
            # The check itself worked: refusing a prompt is its answer, not an outage.
            self._ended("moderation", started, None)
            raise
        except BaseException as exc:
            self._ended("moderation", started, exc)
            raise
        self._ended("moderation", started, None)

    async def create(
        self, request: ImageRequest, on_partial: PartialCallback | None = None
    ) -> ImageResult:
        operation = "edit" if request.references else "generate"
        started = time.monotonic()
        try:
            result = await super().create(request, on_partial)
        except BotError as exc:
            self._ended(operation, started, exc)
            raise
        self._ended(operation, started, None)
        return result

    def _ended(self, operation: str, started: float, error: BaseException | None) -> None:
        if isinstance(error, BaseException) and not isinstance(error, Exception):
            return  # cancelled (shutdown): not an answer from OpenAI
        self.metrics.openai_call(operation, started, error)
        self.health.record(error)
