"""Test controls: queued faults, the hold/release gate and the images-per-minute limiter."""

from __future__ import annotations

import asyncio
import collections
import math
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

FaultKind = Literal[
    "server_error",  # 500 server_error (the client retries it)
    "rate_limit",  # 429 rate_limit_exceeded; retry-after header only if retry_after is given
    "insufficient_quota",  # 429 insufficient_quota (the client retries it too)
    "moderation_blocked",  # 400 image_generation_user_error / moderation_blocked
    "hang",  # never answers until release_hangs(), the client gives up, or stop()
    "stream_cut",  # SSE: `after_partials` partial(s), then the connection drops
    "malformed_json",  # 200 whose body is not valid JSON (SSE: a data line that is not JSON)
    "stream_error",  # SSE: `after_partials` partial(s), then a data line with an "error" object
    "bad_model",  # 404 model_not_found for the request's model
    # SSE: only `pictures` of the n finished pictures, then the stream ends cleanly (a guess
    # at how a partly failed n > 1 request looks: no documented shape says otherwise)
    "short_stream",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


@dataclass
class Fault:
    """One queued fault; it answers the next ``remaining`` matching requests."""

    kind: FaultKind
    remaining: int
    endpoint: str | None = None  # None: any image endpoint; or "generations"/"edits"/"moderations"
    retry_after: float | None = None  # rate_limit: value of the retry-after header (seconds)
    message: str | None = None  # override the error message (errors only)
    code: str | None = None  # stream_error: the error code
    categories: tuple[str, ...] = ("sexual",)  # moderation_blocked: safety_violations=[...]
    after_partials: int = 1  # stream_cut / stream_error: partials sent before the failure
    pictures: int = 1  # short_stream: finished pictures sent before the stream ends

    def matches(self, endpoint: str) -> bool:
        if self.endpoint is None:
            return endpoint in ("generations", "edits")
        return self.endpoint == endpoint


def make_fault(
    kind: str,
    times: int,
    *,
    endpoint: str | None = None,
    retry_after: float | None = None,
    message: str | None = None,
    code: str | None = None,
    categories: tuple[str, ...] | list[str] | str | None = None,
    after_partials: int = 1,
    pictures: int = 1,
) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
    if times < 1:
        raise ValueError("times must be >= 1")
    if endpoint not in (None, "generations", "edits", "moderations"):
        raise ValueError(f"unknown endpoint {endpoint!r}")
    if retry_after is not None and kind != "rate_limit":
        raise ValueError("retry_after only applies to 'rate_limit'")
    if after_partials < 0:
        raise ValueError("after_partials must be >= 0")
    if isinstance(categories, str):
        categories = (categories,)
    return Fault(
        kind=cast(FaultKind, kind),
        remaining=times,
        endpoint=endpoint,
        retry_after=retry_after,
        message=message,
        code=code,
        categories=tuple(categories) if categories else ("sexual",),
        after_partials=after_partials,
        pictures=pictures,
    )


@dataclass
class FaultQueue:
    faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The first queued fault matching ``endpoint``, consuming one of its uses."""
        for fault in self.faults:
            if fault.matches(endpoint):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()


class Stopped(Exception):
    """The fake is shutting down while a request was waiting."""


class Gate:
    """``hold()`` makes image requests queue up; ``release(n)`` lets them through in order."""

    def __init__(self) -> None:
        self.held = False
        self._permits = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return sum(1 for fut in self._waiters if not fut.done())

    def hold(self) -> None:
        self.held = True
        self._permits = 0

    def release(self, n: int | None = None) -> None:
        if n is None:
            self.held = False
            self._permits = 0
            while self._waiters:
                self._wake(self._waiters.popleft())
            return
        if n < 1:
            raise ValueError("release(n) needs n >= 1")
        self._permits += n
        self._hand_out()

    def _hand_out(self) -> None:
        while self._permits and self._waiters:
            if self._wake(self._waiters.popleft()):
                self._permits -= 1

    @staticmethod
    def _wake(fut: asyncio.Future[None]) -> bool:
        if fut.done():
            return False
        fut.set_result(None)
        return True

    def abort_all(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(Stopped())

    def enter(self) -> asyncio.Future[None] | None:
        """None if a request may pass now; otherwise a ticket to :meth:`wait` on."""
        if not self.held:
            return None
        if self._permits:
            self._permits -= 1
            return None
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(ticket)
        return ticket

    async def wait(self, ticket: asyncio.Future[None]) -> None:
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled() and ticket.exception() is None:
                # Woken and cancelled at once: pass the permit on.
                self._permits += 1
                self._hand_out()
            raise


class RateLimiter:
    """Sliding 60-second window over images (n per request), like an IPM limit."""

    WINDOW = 60.0

    def __init__(self, images_per_minute: int) -> None:
        if images_per_minute < 1:
            raise ValueError("images_per_minute must be >= 1")
        self.limit = images_per_minute
        self._spent: collections.deque[tuple[float, int]] = collections.deque()

    def used(self, now: float) -> int:
        while self._spent and self._spent[0][0] <= now - self.WINDOW:
            self._spent.popleft()
        return sum(count for _, count in self._spent)

    def try_acquire(self, images: int, now: float) -> float | None:
        """Spend ``images`` and return None, or return the seconds until they would fit."""
        used = self.used(now)
        if used + images <= self.limit:
            self._spent.append((now, images))
            return None
        if images > self.limit:
            return self.WINDOW
        excess = used + images - self.limit
        freed = 0
        for stamp, count in self._spent:
            freed += count
            if freed >= excess:
                return max(stamp + self.WINDOW - now, 0.001)
        return self.WINDOW  # pragma: no cover - unreachable when the arithmetic holds


def format_seconds(seconds: float) -> str:
    """A retry-after value: integral seconds as "2", others with millisecond precision."""
    if math.isclose(seconds, round(seconds)):
        return str(round(seconds))
    return f"{seconds:.3f}".rstrip("0")
