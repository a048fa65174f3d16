"""Discord's JSON error bodies, as raised inside the fake's handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One entry of an ``Invalid Form Body`` error tree: ``path`` like ("embeds", 0, "title")."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path) or "<root>"


def form_errors_tree(errors: list[FieldError]) -> dict[str, Any]:
    """Nest field errors the way Discord does: {"embeds": {"0": {"title": {"_errors": [...]}}}}."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return tree


@dataclass
class APIError(Exception):
    """Raised by a handler; turned into Discord's JSON error response and a violation record."""

    status: int
    code: int
    message: str
    rule: str
    detail: str = ""
    field_errors: list[FieldError] = field(default_factory=list)
    violation: bool = True
    extra_body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code} {self.message}: {self.detail}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.field_errors:
            body["errors"] = form_errors_tree(self.field_errors)
        body.update(self.extra_body)
        return body


def invalid_form(errors: list[FieldError], rule: str = "invalid_form_body") -> APIError:
    detail = "; ".join(f"{e.dotted()}: {e.message}" for e in errors)
    return APIError(400, 50035, "Invalid Form Body", rule, detail, field_errors=list(errors))


def unknown_interaction(detail: str) -> APIError:
    return APIError(404, 10062, "Unknown interaction", "unknown_interaction", detail)


def already_acknowledged(detail: str) -> APIError:
    return APIError(
        400, 40060, "Interaction has already been acknowledged.", "already_acknowledged", detail
    )


def invalid_webhook_token(detail: str) -> APIError:
    return APIError(401, 50027, "Invalid Webhook Token", "invalid_webhook_token", detail)


def unknown_webhook(detail: str) -> APIError:
    return APIError(404, 10015, "Unknown Webhook", "unknown_webhook", detail)


def unknown_message(detail: str) -> APIError:
    return APIError(404, 10008, "Unknown Message", "unknown_message", detail)


def unknown_channel(detail: str) -> APIError:
    return APIError(404, 10003, "Unknown Channel", "unknown_channel", detail)


def unknown_guild(detail: str) -> APIError:
    return APIError(404, 10004, "Unknown Guild", "unknown_guild", detail)


def unknown_member(detail: str) -> APIError:
    return APIError(404, 10007, "Unknown Member", "unknown_member", detail)


def unknown_user(detail: str) -> APIError:
    return APIError(404, 10013, "Unknown User", "unknown_user", detail)


def unknown_role(detail: str) -> APIError:
    return APIError(404, 10011, "Unknown Role", "unknown_role", detail)


def unknown_emoji(detail: str) -> APIError:
    return APIError(400, 10014, "Unknown Emoji", "unknown_emoji", detail)


def unknown_command(detail: str) -> APIError:
    return APIError(404, 10063, "Unknown application command", "unknown_command", detail)


def missing_permissions(detail: str) -> APIError:
    return APIError(403, 50013, "Missing Permissions", "missing_permissions", detail)


def missing_access(detail: str) -> APIError:
    return APIError(403, 50001, "Missing Access", "missing_access", detail)


def request_too_large(detail: str) -> APIError:
    return APIError(413, 40005, "Request entity too large", "request_too_large", detail)


def empty_message(detail: str) -> APIError:
    return APIError(400, 50006, "Cannot send an empty message", "empty_message", detail)


def cannot_edit_others(detail: str) -> APIError:
    return APIError(
        403,
        50005,
        "Cannot edit a message authored by another user",
        "cannot_edit_other_users_message",
        detail,
    )


def cannot_dm(detail: str) -> APIError:
    return APIError(403, 50007, "Cannot send messages to this user", "cannot_dm_user", detail)


def unauthorized(detail: str) -> APIError:
    return APIError(401, 0, "401: Unauthorized", "unauthorized", detail)


def not_found_route(detail: str) -> APIError:
    return APIError(404, 0, "404: Not Found", "unknown_route", detail)


def method_not_allowed(detail: str) -> APIError:
    return APIError(405, 0, "405: Method Not Allowed", "method_not_allowed", detail)


def max_reactions(detail: str) -> APIError:
    return APIError(400, 30010, "Maximum number of reactions reached (20)", "max_reactions", detail)


def max_daily_command_creates(detail: str) -> APIError:
    return APIError(
        400,
        30034,
        "Max number of daily application command creates has been reached (200)",
        "max_daily_command_creates",
        detail,
    )
