"""Logging to stdout, with every secret scrubbed from every record."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

__all__ = ["RedactingFilter", "configure_logging"]

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


def configure_logging(level: str, secrets: Iterable[str], *, log_sql: bool = False) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
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
