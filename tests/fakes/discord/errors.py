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


@dataclass(frozen=True)
class ErrorKind:
    """One of Discord's JSON errors; calling it with a detail makes the error to raise.

    The fake's handlers raise ``E.unknown_message(f"...")``: the status, code and message are
    Discord's, ``rule`` names the broken rule in the fake's violation log.
    """

    status: int
    code: int
    message: str
    rule: str

    def __call__(self, detail: str) -> APIError:
        return APIError(self.status, self.code, self.message, self.rule, detail)


unknown_interaction = ErrorKind(404, 10062, "Unknown interaction", "unknown_interaction")
already_acknowledged = ErrorKind(
    400, 40060, "Interaction has already been acknowledged.", "already_acknowledged"
)
invalid_webhook_token = ErrorKind(401, 50027, "Invalid Webhook Token", "invalid_webhook_token")
unknown_webhook = ErrorKind(404, 10015, "Unknown Webhook", "unknown_webhook")
unknown_message = ErrorKind(404, 10008, "Unknown Message", "unknown_message")
unknown_channel = ErrorKind(404, 10003, "Unknown Channel", "unknown_channel")
unknown_guild = ErrorKind(404, 10004, "Unknown Guild", "unknown_guild")
unknown_member = ErrorKind(404, 10007, "Unknown Member", "unknown_member")
unknown_user = ErrorKind(404, 10013, "Unknown User", "unknown_user")
unknown_role = ErrorKind(404, 10011, "Unknown Role", "unknown_role")
unknown_emoji = ErrorKind(400, 10014, "Unknown Emoji", "unknown_emoji")
unknown_command = ErrorKind(404, 10063, "Unknown application command", "unknown_command")
missing_permissions = ErrorKind(403, 50013, "Missing Permissions", "missing_permissions")
missing_access = ErrorKind(403, 50001, "Missing Access", "missing_access")
request_too_large = ErrorKind(413, 40005, "Request entity too large", "request_too_large")
empty_message = ErrorKind(400, 50006, "Cannot send an empty message", "empty_message")
cannot_edit_others = ErrorKind(
    403, 50005, "Cannot edit a message authored by another user", "cannot_edit_other_users_message"
)
cannot_dm = ErrorKind(403, 50007, "Cannot send messages to this user", "cannot_dm_user")
unauthorized = ErrorKind(401, 0, "401: Unauthorized", "unauthorized")
not_found_route = ErrorKind(404, 0, "404: Not Found", "unknown_route")
method_not_allowed = ErrorKind(405, 0, "405: Method Not Allowed", "method_not_allowed")
max_reactions = ErrorKind(400, 30010, "Maximum number of reactions reached (20)", "max_reactions")
max_daily_command_creates = ErrorKind(
    400,
    30034,
    "Max number of daily application command creates has been reached (200)",
    "max_daily_command_creates",
)
