"""Logging to stdout, with every secret scrubbed from every record.

Two formats: the default text lines, and ``LOG_FORMAT=json`` (one JSON object per line, for
log collectors). A record carries the job and server it is about: :func:`log_context` binds
them for the task that runs a job (a context variable, so every line logged while that job
runs, and by the tasks it starts, carries them), and a call may add ``extra={"event": ...}``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging", "log_context"]

LogFormat = Literal["text", "json"]

# The job and server the current task works for; read by the JSON formatter.
_CONTEXT: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "log_context", default=None
)
# Record attributes the JSON format copies when a call passed them in ``extra``.
_EXTRA_FIELDS = ("event", "job_id", "guild_id")

_MASK = "[redacted]"

# Interaction tokens are secrets too (for 15 minutes they can post as the bot in that
# channel), but each is new, so they are found by where they appear rather than by value:
# webhook and callback URLs (discord.http, discord.webhook), "token" keys in gateway
# payloads and dict reprs, and Discord's own token shape (base64 of "interaction:").
_TOKEN_PATTERNS = (
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?'\"]+"),
    re.compile(r"""(['"](?:interaction_)?token['"]\s*[:=]\s*['"])[^'"]+"""),
    re.compile(r"()aW50ZXJhY3Rpb246[A-Za-z0-9_.\-]+"),
)


class RedactingFilter(logging.Filter):
    """Replaces secret values wherever they appear in a formatted record.

    discord.py and httpx log headers and payloads at DEBUG; scrubbing the final text is
    the one place that catches all of them.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self._scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now so the secret cannot come back through it.
            formatter = logging.Formatter()
            record.exc_text = self._scrub(formatter.formatException(record.exc_info))
            record.exc_info = None
        if scrubbed != message or record.args:
            record.msg = scrubbed
            record.args = None
        return True

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(rf"\g<1>{_MASK}", text)
        return text


def log_context(*, job_id: int | None = None, guild_id: int | None = None) -> None:
    """Tag every record the current task (and the tasks it starts) logs from now on."""
    values = dict(_CONTEXT.get() or {})
    if job_id is not None:
        values["job_id"] = job_id
    if guild_id is not None:
        values["guild_id"] = guild_id
    _CONTEXT.set(values)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the job id, guild id and
    event where they apply. The message is already scrubbed by :class:`RedactingFilter`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_CONTEXT.get() or {})
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_text:  # the filter formatted (and scrubbed) the traceback already
            entry["traceback"] = record.exc_text
        elif record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str, secrets: Iterable[str], *, log_sql: bool = False, log_format: LogFormat = "text"
) -> None:
    handler = logging.StreamHandler(sys.stdout)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
            )
        )
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py's gateway chatter at DEBUG is huge and adds nothing for operators.
    if level != "DEBUG":
        logging.getLogger("discord").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # aiosqlite logs every statement with its parameters at DEBUG: members' prompts and
    # interaction tokens. Only an operator who asks for it (LOG_SQL) gets that.
    logging.getLogger("aiosqlite").setLevel(logging.DEBUG if log_sql else logging.INFO)
    # The OpenAI client's HTTP library logs a line per request at INFO ("HTTP Request: POST
    # …/images/generations 200"): two a picture, which the job's own lines already tell,
    # and written on the event loop that twenty members at once are waiting for.
    if level != "DEBUG":
        logging.getLogger("httpx2").setLevel(logging.WARNING)
