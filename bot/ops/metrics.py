"""Prometheus metrics, with the official ``prometheus-client``.

Off unless ``METRICS_PORT`` is set; then served on ``METRICS_HOST`` (loopback by default, so
nothing outside the machine can read them unless the operator says so). Every label has a
small, fixed set of values: states, kinds, HTTP statuses, error codes. Never a guild or
member id, which would make one series per server or member.

The HTTP server runs on a thread of its own; it only reads values. Gauges that reflect the
bot's state (queue depth, gateway latency) are refreshed on the event loop by the heartbeat
(``refresh``), so the thread never touches the queue's structures.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from wsgiref.simple_server import WSGIServer

import aiohttp
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

__all__ = ["Metrics", "bounded_code"]

log = logging.getLogger(__name__)

# Jobs take seconds to minutes; waiting in line may take up to an hour on a busy server.
_JOB_SECONDS = (1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600)
_WAIT_SECONDS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_REQUEST_SECONDS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 90, 120, 180)
# An error code is a short snake_case word (OpenAI's "insufficient_quota", "rate_limit_exceeded");
# anything else (or too long) is "other", so a strange answer cannot grow the label set.
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def bounded_code(code: object) -> str:
    if code is None:
        return "none"
    text = str(code)
    return text if _CODE.fullmatch(text) else "other"


class Metrics:
    """Every metric the bot exports, in a registry of its own."""

    def __init__(self) -> None:
        # Long: one declaration per metric, all in one place, is the easiest list to review.
        self.registry = CollectorRegistry()
        self._server: WSGIServer | None = None
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.jobs = Counter(
            "bot_jobs",
            "Jobs that reached a state, by state and kind",
            ["state", "kind"],
            registry=r,
        )
        self.job_duration = Histogram(
            "bot_job_duration_seconds",
            "From a job's start to its pictures posted, by kind",
            ["kind"],
            buckets=_JOB_SECONDS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "bot_job_queue_wait_seconds",
            "Time a job waited in line before it started, by kind",
            ["kind"],
            buckets=_WAIT_SECONDS,
            registry=r,
        )
        self.openai_latency = Histogram(
            "bot_openai_request_seconds",
            "OpenAI request latency, by operation and outcome (ok or error)",
            ["operation", "outcome"],
            buckets=_REQUEST_SECONDS,
            registry=r,
        )
        self.openai_errors = Counter(
            "bot_openai_errors",
            "Failed OpenAI requests, by HTTP status (none: no answer) and error code",
            ["status", "code"],
            registry=r,
        )
        self.discord_errors = Counter(
            "bot_discord_rest_errors",
            "Discord REST answers of 400 or more, by status",
            ["status"],
            registry=r,
        )
        self.queue_depth = Gauge("bot_queue_depth", "Jobs waiting in line", registry=r)
        self.running = Gauge("bot_jobs_running", "Jobs being drawn now", registry=r)
        self.images = Counter("bot_images", "Pictures delivered, by job kind", ["kind"], registry=r)
        self.tokens = Counter(
            "bot_openai_tokens",
            "Tokens OpenAI measured, input or output",
            ["direction"],
            registry=r,
        )
        self.cost = Counter(
            "bot_estimated_cost_usd",
            "Estimated cost of delivered pictures (PRICE_TABLE)",
            registry=r,
        )
        self.gateway_latency = Gauge(
            "bot_gateway_latency_seconds", "Discord gateway heartbeat latency", registry=r
        )
        self.takedowns = Counter(
            "bot_message_takedowns",
            "Tries to take a deleted picture's message off Discord, by outcome"
            " (gone, retry, no_access, kept_failing)",
            ["outcome"],
            registry=r,
        )
        self.reactions_held = Gauge(
            "bot_favorite_reactions_held",
            "Favorite reactions held until storage works again",
            registry=r,
        )
        self._readers: list[Callable[[], None]] = []

    def watch(
        self,
        *,
        queue_depth: Callable[[], int],
        running: Callable[[], int],
        gateway_latency: Callable[[], float],
    ) -> None:
        """What :meth:`refresh` reads, handed over by the composition root."""

        def read() -> None:
            self.queue_depth.set(queue_depth())
            self.running.set(running())
            latency = gateway_latency()
            self.gateway_latency.set(latency if math.isfinite(latency) else math.nan)

        self._readers = [read]

    def refresh(self) -> None:
        """Update the state gauges (on the event loop: the readers touch the bot's state)."""
        for read in self._readers:
            read()

    def serve(self, host: str, port: int) -> None:
        try:
            self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            # A port taken by another program must not stop the bot: it runs without metrics.
            log.error("Metrics not served: cannot listen on %s:%d (%s)", host, port, exc)
            return
        log.info("Serving Prometheus metrics on %s:%d", host, port)

    def stop_serving(self) -> None:
        """Close the endpoint (blocks up to half a second: run it off the event loop)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def discord_trace(self) -> aiohttp.TraceConfig:
        """Counts Discord's error answers; discord.py sends every request through it."""
        trace = aiohttp.TraceConfig()

        async def ended(
            _session: aiohttp.ClientSession,
            _context: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            status = params.response.status
            if status >= 400:
                self.discord_errors.labels(str(status)).inc()

        trace.on_request_end.append(ended)
        return trace

    def openai_call(self, operation: str, started: float, error: BaseException | None) -> None:
        """One OpenAI request ended (``started`` from ``time.monotonic()``)."""
        outcome = "ok" if error is None else "error"
        self.openai_latency.labels(operation, outcome).observe(time.monotonic() - started)
        if error is None:
            return
        cause = error.__cause__ or error
        status = getattr(cause, "status_code", None)
        self.openai_errors.labels(
            str(status) if isinstance(status, int) else "none",
            bounded_code(getattr(cause, "code", None)),
        ).inc()
