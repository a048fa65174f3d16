"""LOG_FORMAT=json: one JSON object per line, the job and server it is about, no secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from bot.logging_setup import JsonFormatter, RedactingFilter, log_context

SECRET = "sk-test-0123456789abcdef"


def logged(emit: object) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter([SECRET]))
    logger = logging.getLogger("test.json")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    assert callable(emit)
    emit(logger)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_its_event_and_no_secret_even_in_a_traceback() -> None:
    def emit(logger: logging.Logger) -> None:
        try:
            raise RuntimeError(f"bad key {SECRET}")
        except RuntimeError:
            logger.exception("Job %s failed with %s", 7, SECRET, extra={"event": "job.failed"})

    (entry,) = logged(emit)
    assert entry["message"] == "Job 7 failed with [redacted]"
    assert entry["event"] == "job.failed" and entry["level"] == "ERROR"
    assert SECRET not in json.dumps(entry) and "RuntimeError" in str(entry["traceback"])


def test_the_job_context_reaches_the_tasks_a_job_starts_and_no_other() -> None:
    async def job(logger: logging.Logger) -> None:
        log_context(job_id=5, guild_id=9)
        await asyncio.create_task(asyncio.to_thread(logger.info, "inside"))

    async def scenario(logger: logging.Logger) -> None:
        await asyncio.create_task(job(logger))
        logger.info("outside")

    inside, outside = logged(lambda logger: asyncio.run(scenario(logger)))
    assert (inside["job_id"], inside["guild_id"]) == (5, 9)
    assert "job_id" not in outside and "guild_id" not in outside
