"""Errors of our own that the Discord layer turns into friendly, localized messages.

Each carries a catalog key (``message_key``) and the values that message needs, so the
core never writes user-facing text and never shows a raw API error to a member.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "BotError",
    "BudgetReached",
    "CharacterGone",
    "ConfigError",
    "ContentRefused",
    "DeliveryFailed",
    "ImageQuotaReached",
    "NotAllowed",
    "NotFound",
    "PendingCapReached",
    "PostedElsewhere",
    "QueueFull",
    "QuotaExhausted",
    "StorageUnavailable",
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


class CharacterGone(NotFound):
    """The character a job draws was deleted."""

    message_key = "error.character_gone"


class NotAllowed(BotError):
    message_key = "error.not_allowed"


class ContentRefused(BotError):
    """The moderation check or the image API refused the prompt. Never retried."""

    message_key = "error.content_refused"
    # What the log says (a subclass that only shares the private-reply path says its own).
    log_reason = "refused by moderation"


class QuotaExhausted(BotError):
    message_key = "error.quota_exhausted"


class QueueFull(BotError):
    message_key = "error.queue_full"


class StorageUnavailable(BotError):
    """The bot's own storage failed under a request (see bot/faults.py): nothing was done,
    and the same request works once storage does."""

    message_key = "error.storage_failed"


# The refusals below are raised by the storage layer with what was counted; each chooses
# its member's message here, so storage never picks user-facing text.


class PendingCapReached(QueueFull):
    """The member's (or the whole server's) waiting jobs are at their cap."""

    def __init__(self, *, whose: Literal["member", "guild"], cap: int) -> None:
        super().__init__(f"error.{whose}_queue_full", cap=cap)
        self.whose = whose
        self.cap = cap


class ImageQuotaReached(QuotaExhausted):
    """A job of ``count`` pictures does not fit a picture quota; ``resets``: when the
    window ends (None: not known, so the message does not say)."""

    def __init__(
        self,
        *,
        window: Literal["hourly", "daily", "server"],
        limit: int,
        used: int,
        count: int,
        resets: float | None,
    ) -> None:
        values: dict[str, Any] = {
            "limit": limit,
            "used": used,
            "left": max(0, limit - used),
            "count": count,
        }
        if resets is None:
            super().__init__(f"error.quota_{window}", **values)
        else:
            super().__init__(f"error.quota_{window}_until", resets=int(resets), **values)
        self.window = window
        self.limit = limit
        self.used = used
        self.count = count


class BudgetReached(QuotaExhausted):
    """A server's dollar budget for the period is spent (``estimate`` None), or has no room
    left for this job's ``estimate``."""

    def __init__(
        self,
        *,
        period: Literal["daily", "monthly"],
        budget: float,
        spent: float,
        resets: float,
        estimate: float | None = None,
    ) -> None:
        money: dict[str, Any] = {
            "budget": f"{budget:,.2f}",
            "spent": f"{spent:,.2f}",
            "resets": int(resets),
        }
        if estimate is None:
            super().__init__(f"error.budget_{period}", **money)
        else:
            super().__init__(f"error.budget_room_{period}", estimate=f"{estimate:,.2f}", **money)
        self.period = period
        self.budget = budget
        self.spent = spent
        self.estimate = estimate


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
        # The request reached OpenAI and timed out, or its stream broke off: it may have been
        # billed all the same.
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


class PostedElsewhere(Exception):
    """Another process took this finished job over while this one stalled past its lease,
    and posts it (or did): this process posts nothing of it. Not a member's message."""
