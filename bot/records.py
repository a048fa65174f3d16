"""The plain records the storage layer returns and services hand on. No SQL, no behaviour.

They live outside ``bot.storage`` so the Discord layer can name them without importing the
storage package: ``from_row`` takes any row that can be read by column name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Literal, Protocol

from bot.records_creator import (
    AvatarJobRequest,
    CutoutJobRequest,
    ImageKind,
    SheetJobRequest,
    creator_request,
)
from bot.records_json import drawing_json, drawing_keys
from bot.scene_records import SCENE_MODES, SceneJobRequest, SceneMode, scene_mode

__all__ = [
    "CREATOR_KINDS",
    "PENDING_STATES",
    "SCENE_MODES",
    "SCOPES",
    "AvatarJobRequest",
    "Character",
    "CreateJobRequest",
    "CutoutJobRequest",
    "GallerySort",
    "GuildConfig",
    "ImageKind",
    "Job",
    "JobKind",
    "JobRequest",
    "JobState",
    "Keyset",
    "QuotaLimit",
    "Row",
    "SceneJobRequest",
    "SceneMode",
    "Scope",
    "SheetJobRequest",
    "StoredImage",
    "Submitted",
    "VaryJobRequest",
    "parse_job_request",
]


class Row(Protocol):
    """A database row read by column name (``Row`` is one)."""

    def __getitem__(self, key: str) -> Any: ...


def row_fields(record: type[Any], row: Row, **converted: Any) -> dict[str, Any]:
    """Every field of the dataclass ``record``, read from the column of its own name,
    except the fields ``converted`` gives: those stored in another form (JSON, 0 or 1, the
    text of an enum) or under another column name."""
    names = (f.name for f in fields(record))
    return {name: converted[name] if name in converted else row[name] for name in names}


class JobState(StrEnum):
    """A job's state; the values are the strings stored in ``jobs.state``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Waiting or being drawn: what counts against caps and what the queue rebuilds from.
PENDING_STATES = (JobState.QUEUED, JobState.RUNNING)


class JobKind(StrEnum):
    """What a job draws; the values are the strings stored in ``jobs.kind``."""

    CREATE = "create"
    VARY = "vary"
    # Written by early versions for a re-roll; it is drawn (and re-rolled) as a creation.
    REROLL = "reroll"
    # Several members' characters in one picture (bot/scenes.py).
    SCENE = "scene"
    # Creator tools (bot/jobs/creator.py): edits of the character's references.
    SHEET = "sheet"
    AVATAR = "avatar"
    CUTOUT = "cutout"


@dataclass(frozen=True, slots=True)
class CreateJobRequest:
    """How a new character's pictures are drawn (kinds create and reroll)."""

    size: str  # the API's size, e.g. "1024x1536"
    size_key: str | None = None  # our name for it (bot.images.styles.SIZES), for the post
    style: str | None = None  # None: the character's own style
    transparent: bool = False

    def to_json(self) -> dict[str, Any]:
        return drawing_json(self, transparent=self.transparent)


@dataclass(frozen=True, slots=True)
class VaryJobRequest:
    """How a variation is drawn: what changes, and how far it may move."""

    size: str
    size_key: str | None = None
    style: str | None = None
    change: str = ""
    strength: str = "subtle"  # "subtle" or "strong"
    # The character the member asked to vary (the job's own may be their fork of it).
    varied_character_id: int | None = None

    @property
    def strong(self) -> bool:
        return self.strength == "strong"

    @property
    def transparent(self) -> bool:
        return False  # variations keep the reference's background

    def to_json(self) -> dict[str, Any]:
        return drawing_json(
            self,
            change=self.change,
            strength=self.strength,
            varied_character_id=self.varied_character_id,
        )


JobRequest = (
    CreateJobRequest
    | VaryJobRequest
    | SceneJobRequest
    | SheetJobRequest
    | AvatarJobRequest
    | CutoutJobRequest
)

# The creator tools' jobs: edits that send the character's references, like a variation.
CREATOR_KINDS = (JobKind.SHEET, JobKind.AVATAR, JobKind.CUTOUT)


def parse_job_request(kind: JobKind, stored: Mapping[str, Any]) -> JobRequest:
    """A job's request from its stored JSON object, whichever version wrote it.

    The one place ``request_json`` is read. Keys this version does not know are ignored and
    missing ones take their defaults: jobs queued by an older version still run after an
    upgrade, and a request erased by /mydata (``{}``) still loads.
    """
    drawing = drawing_keys(stored)
    if kind is JobKind.SCENE:
        return SceneJobRequest.from_json(stored, drawing)
    if kind in CREATOR_KINDS:
        return creator_request(kind, stored, drawing)
    if kind is JobKind.VARY:
        varied = stored.get("varied_character_id")
        return VaryJobRequest(
            **drawing,
            change=str(stored.get("change") or ""),
            strength="strong" if stored.get("strength") == "strong" else "subtle",
            varied_character_id=int(varied) if isinstance(varied, int) else None,
        )
    return CreateJobRequest(**drawing, transparent=bool(stored.get("transparent")))


@dataclass(frozen=True, slots=True)
class Character:
    id: int
    guild_id: int
    owner_id: int
    name: str
    sheet: dict[str, Any]
    style: str
    canonical_image_id: int | None
    forked_from_id: int | None
    private: bool
    created_at: float
    # Others may put this character in their scenes (when it is public and the server lets them).
    scenes_allowed: bool = True

    @classmethod
    def from_row(cls, row: Row) -> Character:
        return cls(
            **row_fields(
                cls,
                row,
                sheet=json.loads(row["sheet_json"]),
                private=bool(row["private"]),
                scenes_allowed=bool(row["scenes_allowed"]),
            )
        )


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    state: JobState
    character_id: int | None
    parent_image_id: int | None
    request: JobRequest
    image_count: int
    reference_path: str | None
    locale: str
    application_id: int | None
    interaction_token: str | None = field(repr=False)
    interaction_at: float | None
    response_message_id: int | None
    attempts: int
    not_before: float
    error_code: str | None
    charged: bool
    delivered: bool
    created_at: float
    started_at: float | None
    finished_at: float | None
    # What the failure's message needs besides its key (error_code), e.g. a reference code.
    error_values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Row) -> Job:
        kind = JobKind(row["kind"])
        return cls(
            **row_fields(
                cls,
                row,
                kind=kind,
                state=JobState(row["state"]),
                request=parse_job_request(kind, json.loads(row["request_json"] or "{}")),
                charged=bool(row["charged"]),
                delivered=bool(row["delivered"]),
                error_values=json.loads(row["error_values"] or "{}"),
            )
        )


@dataclass(frozen=True, slots=True)
class StoredImage:
    id: int
    guild_id: int
    character_id: int
    owner_id: int
    job_id: int | None
    parent_image_id: int | None
    file_path: str
    thumb_path: str | None
    width: int
    height: int
    mime: str
    prompt: str
    model: str
    channel_id: int | None
    message_id: int | None
    favorite_count: int
    created_at: float
    scene_id: int | None = None  # one of a scene's pictures (bot/scenes.py)
    kind: ImageKind = ImageKind.ORDINARY

    @classmethod
    def from_row(cls, row: Row) -> StoredImage:
        return cls(**row_fields(cls, row, kind=ImageKind(row["kind"])))


@dataclass(frozen=True, slots=True)
class GuildConfig:
    guild_id: int
    allowed_channels: list[int]
    default_style: str | None
    default_size: str | None
    max_count: int
    model_tier: str
    allow_forks: bool
    favorite_emoji: str
    gallery_public: bool
    alert_channel_id: int | None
    scenes: SceneMode = "own"

    @classmethod
    def default(cls, guild_id: int) -> GuildConfig:
        return cls(guild_id, [], None, None, 4, "standard", True, "⭐", True, None)

    @classmethod
    def from_row(cls, row: Row) -> GuildConfig:
        return cls(
            **row_fields(
                cls,
                row,
                allowed_channels=[int(c) for c in json.loads(row["allowed_channels"])],
                allow_forks=bool(row["allow_forks"]),
                gallery_public=bool(row["gallery_public"]),
                scenes=scene_mode(row["scenes"]),
            )
        )


Scope = Literal["member", "role", "server"]
SCOPES: tuple[Scope, ...] = ("member", "role", "server")


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """One admin-set limit. ``None`` fields: not set by this row (see QuotaService)."""

    guild_id: int
    scope: Scope
    target_id: int  # member or role id; 0 for the server
    daily_limit: int | None
    hourly_limit: int | None = None
    pending_cap: int | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None
    updated_by: int | None = None
    updated_at: float | None = None

    @classmethod
    def from_row(cls, row: Row) -> QuotaLimit:
        return cls(**row_fields(cls, row))


# The two orders a gallery page can be read in.
GallerySort = Literal["newest", "favorites"]


@dataclass(frozen=True, slots=True)
class Keyset:
    """A picture's place in a page order, to read the pictures just past it.

    ``favorite_count`` matters only for the "favorites" order (ties go by id). Reading
    from a keyset walks the index from that place, so a page near the end costs what
    the first page costs; ``OFFSET`` would step over every earlier row.
    """

    image_id: int
    favorite_count: int = 0

    @classmethod
    def of(cls, image: StoredImage) -> Keyset:
        return cls(image.id, image.favorite_count)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A job just put in line, with the place and wait its member is told."""

    job: Job
    position: int
    eta_seconds: float | None
