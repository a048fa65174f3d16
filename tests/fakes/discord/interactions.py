"""Interactions the fake dispatched, and the handle tests use to follow one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .records import FLAG_EPHEMERAL, CallbackRecord, Message

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .models import Channel, Guild, Member

INTERACTION_TYPE_NAMES = {
    1: "PING",
    2: "APPLICATION_COMMAND",
    3: "MESSAGE_COMPONENT",
    4: "APPLICATION_COMMAND_AUTOCOMPLETE",
    5: "MODAL_SUBMIT",
}

CALLBACK_TYPE_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    10: "PREMIUM_REQUIRED",
    12: "LAUNCH_ACTIVITY",
}

#: Which initial responses Discord accepts for each interaction type.
ALLOWED_CALLBACKS = {
    2: {4, 5, 9},
    3: {4, 5, 6, 7, 9},
    4: {8},
    5: {4, 5, 6, 7},
}


@dataclass(eq=False)
class InteractionRecord:
    id: int
    token: str
    type: int
    data: dict[str, Any]
    guild: Guild
    channel: Channel
    member: Member
    payload: dict[str, Any]
    dispatched_at: float  # event-loop time (real), for the 3 s deadline
    created_at: float  # fake clock, for the 15 min token lifetime
    ack_deadline: float
    token_lifetime: float
    label: str  # command path or custom_id, for messages
    message: Message | None = None  # the message a component/modal interaction came from
    parent: InteractionRecord | None = None  # the interaction that opened this modal
    focused_option_type: int | None = None  # autocomplete: type of the focused option
    attempts: list[CallbackRecord] = field(default_factory=list)
    callback: CallbackRecord | None = None  # the accepted initial response
    deadline_missed: bool = False
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None

    @property
    def type_name(self) -> str:
        return INTERACTION_TYPE_NAMES.get(self.type, str(self.type))

    def token_expired(self, now: float) -> bool:
        return now >= self.created_at + self.token_lifetime

    def __repr__(self) -> str:
        state = (
            repr(self.callback)
            if self.callback
            else ("MISSED DEADLINE" if self.deadline_missed else "pending")
        )
        who = self.member.name
        return f"<Interaction {self.type_name} {self.label!r} by {who} id={self.id} {state}>"


class InteractionHandle:
    """What ``member.slash()`` / ``click()`` / ``select()`` / ``submit_modal()`` return."""

    def __init__(self, fake: FakeDiscord, record: InteractionRecord) -> None:
        self._fake = fake
        self.record = record

    @property
    def fake(self) -> FakeDiscord:
        return self._fake

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def callback(self) -> CallbackRecord | None:
        """The accepted initial response, if any."""
        return self.record.callback

    @property
    def attempts(self) -> list[CallbackRecord]:
        """Every callback attempt, including rejected ones (10062, 40060, 50035...)."""
        return list(self.record.attempts)

    @property
    def original(self) -> Message | None:
        """Current state of the original response (for component updates: the clicked message)."""
        return self.record.original

    @property
    def followups(self) -> list[Message]:
        return list(self.record.followups)

    @property
    def messages(self) -> list[Message]:
        originals = [self.record.original] if self.record.original is not None else []
        return originals + self.followups

    @property
    def ephemeral(self) -> bool:
        if (
            self.record.original is not None
            and self.record.callback
            and self.record.callback.type in (4, 5)
        ):
            return self.record.original.ephemeral
        cb = self.record.callback
        return bool(cb and int(cb.data.get("flags") or 0) & FLAG_EPHEMERAL)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal payload if the bot answered with type 9."""
        return self.record.modal

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return self.record.choices

    @property
    def token_expired(self) -> bool:
        return self.record.token_expired(self._fake.clock.now())

    async def wait_ack(self, timeout: float = 3.5) -> CallbackRecord:
        """Wait for an accepted initial response; fail fast once the ack deadline has passed."""
        rec = self.record
        await self._fake.wait_for(
            lambda _f: rec.callback is not None or rec.deadline_missed,
            timeout=timeout,
            what=f"an initial response to {rec!r}",
        )
        if rec.callback is None:
            raise AssertionError(
                f"{rec!r} was not acknowledged within {rec.ack_deadline:.1f}s; "
                f"attempts: {rec.attempts}"
            )
        return rec.callback

    async def wait_original(
        self,
        predicate: Callable[[Message], Any] | None = None,
        timeout: float = 10.0,
    ) -> Message:
        """Wait until the original response exists and ``predicate(msg)`` holds.

        Without a predicate: until it is no longer a deferred "thinking" placeholder.
        """
        rec = self.record
        check = predicate or (lambda m: not m.loading)

        def ready(_f: FakeDiscord) -> Message | None:
            msg = rec.original
            if msg is not None and check(msg):
                return msg
            return None

        result = await self._fake.wait_for(
            ready, timeout=timeout, what=f"original response of {rec!r}"
        )
        assert isinstance(result, Message)
        return result

    async def wait_followup(
        self,
        predicate: Callable[[Message], Any] | None = None,
        timeout: float = 10.0,
    ) -> Message:
        """Wait for a followup message matching ``predicate`` (default: any)."""
        rec = self.record
        check = predicate or (lambda m: True)

        def ready(_f: FakeDiscord) -> Message | None:
            for msg in rec.followups:
                if check(msg):
                    return msg
            return None

        result = await self._fake.wait_for(ready, timeout=timeout, what=f"a followup of {rec!r}")
        assert isinstance(result, Message)
        return result

    @property
    def replies(self) -> list[Message]:
        """Messages this interaction created (original response if it made one, followups)."""
        rec = self.record
        own = [rec.original] if rec.original is not None and rec.original.interaction is rec else []
        return own + list(rec.followups)

    async def wait_for_reply(
        self,
        predicate: Callable[[Message], Any] | None = None,
        timeout: float = 10.0,
    ) -> Message:
        """Wait for a message this interaction created (not a "thinking" placeholder) matching
        ``predicate``: the original response or any followup."""
        check = predicate or (lambda m: True)

        def ready(_f: FakeDiscord) -> Message | None:
            return next((m for m in self.replies if not m.loading and check(m)), None)

        result = await self._fake.wait_for(
            ready, timeout=timeout, what=f"a reply to {self.record!r}"
        )
        assert isinstance(result, Message)
        return result

    async def submit_modal(
        self,
        values: dict[str, Any],
        *,
        timeout: float = 3.5,
    ) -> InteractionHandle:
        """Fill in and submit the modal the bot opened in answer to this interaction.

        ``values`` by custom_id: str for text inputs (unset ones keep their pre-filled value),
        a list of option values / Members / Roles / Channels for selects, a list of Upload for
        file uploads, a str for radio groups, a bool for checkboxes. Checked like the client
        does (required, lengths, options) before it is sent."""
        return await self.record.member._submit_modal(self, values, timeout=timeout)

    def __repr__(self) -> str:
        return f"<InteractionHandle {self.record!r}>"
