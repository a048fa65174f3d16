"""What the fake records for assertions: messages (with history), attachments, callbacks,
requests, command syncs and gateway traffic."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import iso

if TYPE_CHECKING:
    from .interactions import InteractionRecord
    from .models import Channel, DMChannel, User

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_VOICE_MESSAGE = 1 << 13
FLAG_IS_COMPONENTS_V2 = 1 << 15

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(frozen=True)
class Upload:
    """A file a test member attaches (slash attachment option or a member message)."""

    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


@dataclass(eq=False)
class Attachment:
    """A file stored on the fake CDN. ``data`` is the exact bytes uploaded."""

    id: int
    filename: str
    data: bytes
    content_type: str
    channel_id: int
    url: str
    proxy_url: str
    description: str | None = None
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False
    spoiler: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_image(self) -> bool:
        return self.width is not None

    def __repr__(self) -> str:
        dims = f" {self.width}x{self.height}" if self.width is not None else ""
        return f"<Attachment {self.filename!r} {self.content_type} {self.size}B{dims}>"


@dataclass(frozen=True)
class MessageState:
    """One version of a message, as the bot last set it."""

    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    attachments: tuple[Attachment, ...]
    flags: int
    allowed_mentions: dict[str, Any] | None
    tts: bool
    edited_at: float | None
    recorded_at: float
    via: str

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten a component tree (action rows, sections, containers, labels) depth-first."""
    out: list[dict[str, Any]] = []
    for comp in components:
        if not isinstance(comp, dict):
            continue  # not a component at all: the validators report it where it stands
        out.append(comp)
        children = comp.get("components")
        if isinstance(children, list):
            out.extend(walk_components(children))
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                out.extend(walk_components([child]))
    return out


@dataclass(eq=False)
class Message:
    """A message in the fake: created by the bot (REST, interaction responses) or by a test member.

    Attribute access reads the *current* state; ``history`` holds the earlier states, oldest
    first, and ``states`` is history plus the current one.
    """

    id: int
    channel: Channel | DMChannel
    author: User
    created_at: float
    state: MessageState
    type: int = 0
    webhook_id: int | None = None
    interaction: InteractionRecord | None = None
    interaction_kind: str | None = None  # "original" or "followup"
    message_reference: dict[str, Any] | None = None
    history: list[MessageState] = field(default_factory=list)
    deleted: bool = False
    deleted_at: float | None = None
    reactions: dict[str, list[int]] = field(default_factory=dict)
    reaction_emojis: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- identity --------------------------------------------------------------------------
    @property
    def channel_id(self) -> int:
        return self.channel.id

    @property
    def guild_id(self) -> int | None:
        return self.channel.guild_id

    @property
    def author_id(self) -> int:
        return self.author.id

    @property
    def by_bot(self) -> bool:
        return self.author.bot

    # -- current state ---------------------------------------------------------------------
    @property
    def content(self) -> str:
        return self.state.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.state.embeds

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.state.embeds[0] if self.state.embeds else None

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.state.components

    @property
    def attachments(self) -> list[Attachment]:
        return list(self.state.attachments)

    @property
    def flags(self) -> int:
        return self.state.flags

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.state.allowed_mentions

    @property
    def edited_at(self) -> float | None:
        return self.state.edited_at

    @property
    def ephemeral(self) -> bool:
        return bool(self.state.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "Bot is thinking..." message nobody has filled in."""
        return bool(self.state.flags & FLAG_LOADING)

    @property
    def custom_ids(self) -> list[str]:
        return self.state.custom_ids

    @property
    def states(self) -> list[MessageState]:
        return [*self.history, self.state]

    def all_components(self) -> list[dict[str, Any]]:
        return walk_components(self.state.components)

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in self.all_components():
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components() if c.get("type") == 2]

    def attachment(self, filename: str) -> Attachment:
        for att in self.state.attachments:
            if att.filename == filename:
                return att
        raise KeyError(f"no attachment {filename!r} on message {self.id}: {self.attachments}")

    # -- mentions that would actually ping (content mentions filtered by allowed_mentions) --
    def _allowed(self, kind: str) -> tuple[bool, set[str]]:
        am = self.state.allowed_mentions
        if am is None:
            return True, set()
        return kind in (am.get("parse") or []), {str(x) for x in am.get(kind) or []}

    @property
    def pinged_user_ids(self) -> list[int]:
        parse_all, explicit = self._allowed("users")
        found = _USER_MENTION.findall(self.content)
        return [int(u) for u in dict.fromkeys(found) if parse_all or u in explicit]

    @property
    def pinged_role_ids(self) -> list[int]:
        parse_all, explicit = self._allowed("roles")
        found = _ROLE_MENTION.findall(self.content)
        return [int(r) for r in dict.fromkeys(found) if parse_all or r in explicit]

    @property
    def pings_everyone(self) -> bool:
        parse_all, _ = self._allowed("everyone")
        return parse_all and ("@everyone" in self.content or "@here" in self.content)

    def reaction_count(self, emoji: str) -> int:
        return len(self.reactions.get(emoji, []))

    def __repr__(self) -> str:
        content = self.content if len(self.content) <= 60 else self.content[:57] + "..."
        bits = [f"id={self.id}", f"channel={getattr(self.channel, 'name', self.channel.id)!r}"]
        bits.append(f"content={content!r}")
        if self.embeds:
            bits.append(f"embeds={len(self.embeds)}")
        if self.attachments:
            bits.append(f"attachments={[a.filename for a in self.attachments]}")
        if self.custom_ids:
            bits.append(f"custom_ids={self.custom_ids}")
        if self.flags:
            bits.append(f"flags={self.flags}")
        if self.interaction_kind:
            bits.append(f"{self.interaction_kind} of interaction")
        if self.deleted:
            bits.append("DELETED")
        return f"<Message {' '.join(bits)}>"

    def timestamp_iso(self) -> str:
        return iso(self.created_at)


@dataclass(eq=False)
class CallbackRecord:
    """One POST /interactions/{id}/{token}/callback attempt (accepted or not)."""

    interaction_id: int
    type: int
    data: dict[str, Any]
    files: list[Upload]
    elapsed_ms: float
    status: int
    accepted: bool
    error_code: int | None = None
    error_message: str | None = None
    delivered: bool = False  # the HTTP answer to an accepted callback reached the bot's socket
    delivered_at: float | None = None  # when, on the event loop's clock

    def mark_delivered(self) -> None:
        self.delivered = True
        self.delivered_at = asyncio.get_running_loop().time()

    def __repr__(self) -> str:
        outcome = "accepted" if self.accepted else f"REJECTED {self.status}/{self.error_code}"
        return f"<Callback type={self.type} after {self.elapsed_ms:.0f}ms {outcome}>"


@dataclass(eq=False)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int
    route: str | None = None
    json: Any = None
    files: list[tuple[str, int]] = field(default_factory=list)
    injected: bool = False
    error: dict[str, Any] | None = None
    at: float = 0.0

    def __repr__(self) -> str:
        return (
            f"<{self.method} {self.path} -> {self.status}{' (injected)' if self.injected else ''}>"
        )


@dataclass(eq=False)
class SyncRecord:
    """One bulk overwrite / create / edit of application commands."""

    guild_id: int | None
    method: str
    payload: Any
    at: float


@dataclass(eq=False)
class GatewayRecord:
    direction: str  # "send" (fake -> bot) or "recv" (bot -> fake)
    op: int
    t: str | None
    s: int | None
    d: Any
    at: float
