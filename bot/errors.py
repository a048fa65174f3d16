"""Errors of our own that the Discord layer turns into friendly, localized messages.

Each carries a catalog key (``message_key``) and the values that message needs, so the
core never writes user-facing text and never shows a raw API error to a member.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BotError",
    "ConfigError",
    "ContentRefused",
    "DeliveryFailed",
    "NotAllowed",
    "NotFound",
    "QueueFull",
    "QuotaExhausted",
    "UpstreamBusy",
    "UserInputError",
]


class BotError(Exception):
    """Base class: an expected failure with a message a member may read."""

    message_key = "error.generic"

    def __init__(self, message_key: str | None = None, /, **values: Any) -> None:
        if message_key is not None:
            self.message_key = message_key
        self.values = values
        super().__init__(self.message_key)


class UserInputError(BotError):
    """The member asked for something we cannot do as asked (bad text, bad upload)."""

    message_key = "error.bad_input"


class NotFound(BotError):
    message_key = "error.not_found"


class NotAllowed(BotError):
    message_key = "error.not_allowed"


class ContentRefused(BotError):
    """The moderation check or the image API refused the prompt. Never retried."""

    message_key = "error.content_refused"


class QuotaExhausted(BotError):
    message_key = "error.quota_exhausted"


class QueueFull(BotError):
    message_key = "error.queue_full"


class UpstreamBusy(BotError):
    """OpenAI is overloaded, rate limited or unreachable: worth trying again later."""

    message_key = "error.upstream_busy"

    def __init__(
        self,
        message_key: str | None = None,
        /,
        *,
        retry_after: float | None = None,
        maybe_billed: bool = False,
        **values: Any,
    ) -> None:
        super().__init__(message_key, **values)
        self.retry_after = retry_after
        # The request reached OpenAI and timed out: it may have been billed all the same.
        self.maybe_billed = maybe_billed


class ConfigError(BotError):
    """The bot's own configuration (model name, billing) is wrong: an admin must act."""

    message_key = "error.config"

    def __init__(self, message_key: str | None = None, /, *, reason: str, **values: Any) -> None:
        super().__init__(message_key, **values)
        # ``reason`` is for logs and admin alerts; it never includes a secret.
        self.reason = reason


class DeliveryFailed(Exception):
    """Posting a finished job failed. Not a member's message: the queue decides what follows.

    ``permanent``: trying again cannot help (a missing permission, a post Discord refuses);
    the job is settled and the member and admins are told. Otherwise the queue tries again
    after ``retry_after`` seconds if Discord said so, else after a backoff.
    """

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
