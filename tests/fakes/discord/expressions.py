"""Guild stickers and emoji in the fake: List/Create Guild Sticker and Create Guild Emoji.

Follows ``/work/shared/specs/discord-openapi.json`` (create_guild_sticker: multipart ``name``
2-30, ``tags`` 1-200, ``description`` up to 100, ``file``; create_guild_emoji: JSON ``name``
2-32 and a data-URI ``image``) and Discord's documented rules:

- the bot needs Manage Expressions or Create Expressions (or Administrator) in the guild,
  else 403 50013 Missing Permissions;
- slots by boost tier (discord.py ``Guild.emoji_limit`` / ``sticker_limit``): static emoji
  50 / 100 / 150 / 250 (200 with the MORE_EMOJI feature), stickers 5 / 15 / 30 / 60 (60 with
  MORE_STICKERS); a full guild gets 400 30008 "Maximum number of emojis reached" or 400 30039
  "Maximum number of stickers reached";
- an emoji name is 2-32 of ``[A-Za-z0-9_]`` (400 50035 otherwise), its image a PNG, JPEG,
  GIF, WebP or AVIF data URI of at most 256 KiB;
- a sticker file is a PNG (or APNG, GIF, Lottie JSON) of at most 512 KiB.

Where the fake guesses (no documentation states it): the exact field-error codes and messages
inside 50035 (modelled on what Discord answers for other fields), 50045 "File uploaded
exceeds the maximum size" for an over-large sticker, and that a PNG sticker must be exactly
320 x 320 (Discord's help centre says so; the API reference does not) answered as 50046
"Invalid Asset". Discord does not document whether a name may be reused: the fake allows it.

Tests read ``expressions_of(guild)``: the stickers and the create requests the bot made (with
their files), and ``fill_stickers`` / ``fill_emojis`` use up a guild's slots.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from aiohttp import web
from PIL import Image

from . import errors as E
from .errors import APIError, FieldError
from .permissions import ADMINISTRATOR, Intents, Permissions, base_permissions
from .server import ApiRequest, json_response

if TYPE_CHECKING:
    from .models import Guild

__all__ = [
    "EMOJI_MAX_BYTES",
    "EXPRESSION_ROUTES",
    "STICKER_MAX_BYTES",
    "STICKER_SIDE",
    "CreatedExpression",
    "ExpressionsAPI",
    "GuildExpressions",
    "expressions_of",
    "fill_emojis",
    "fill_stickers",
]

_GUILD = r"(?P<guild_id>\d+)"
EXPRESSION_ROUTES: list[tuple[str, str, str, bool]] = [
    ("GET", rf"/guilds/{_GUILD}/stickers", "list_guild_stickers", True),
    ("POST", rf"/guilds/{_GUILD}/stickers", "create_guild_sticker", True),
    ("POST", rf"/guilds/{_GUILD}/emojis", "create_guild_emoji", True),
]

STICKER_MAX_BYTES = 512 * 1024
STICKER_SIDE = 320
EMOJI_MAX_BYTES = 256 * 1024
_EMOJI_NAME = re.compile(r"^[A-Za-z0-9_]{2,32}$")
_DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp|avif);base64,(.*)$", re.DOTALL)
# (static emoji, stickers) by boost tier, as discord.py's Guild._PREMIUM_GUILD_LIMITS.
_TIER_LIMITS = {0: (50, 5), 1: (100, 15), 2: (150, 30), 3: (250, 60)}
_CAN_CREATE = (
    int(Permissions.MANAGE_GUILD_EXPRESSIONS)
    | int(Permissions.CREATE_GUILD_EXPRESSIONS)
    | int(ADMINISTRATOR)
)


@dataclass
class CreatedExpression:
    """One create request the bot made and Discord accepted: what a test checks."""

    kind: str  # "sticker" or "emoji"
    id: int
    name: str
    data: bytes = field(repr=False)
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return Image.open(io.BytesIO(self.data)).size

    @property
    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.data))


@dataclass
class GuildExpressions:
    """A guild's stickers and what the bot created (emoji live in ``Guild.emojis``)."""

    stickers: dict[int, dict[str, Any]] = field(default_factory=dict)
    created: list[CreatedExpression] = field(default_factory=list)


_STATE: WeakKeyDictionary[Guild, GuildExpressions] = WeakKeyDictionary()


def expressions_of(guild: Guild) -> GuildExpressions:
    state = _STATE.get(guild)
    if state is None:
        state = _STATE[guild] = GuildExpressions()
    return state


def _limits(guild: Guild) -> tuple[int, int]:
    emoji, stickers = _TIER_LIMITS.get(guild.premium_tier, _TIER_LIMITS[0])
    if "MORE_EMOJI" in guild.features:
        emoji = max(emoji, 200)
    if "MORE_STICKERS" in guild.features:
        stickers = max(stickers, 60)
    return emoji, stickers


def _sticker_payload(
    guild: Guild, sticker_id: int, name: str, tags: Any, description: str | None
) -> dict[str, Any]:
    return {
        "id": str(sticker_id),
        "name": name,
        "tags": tags,
        "type": 2,
        "format_type": 1,
        "description": description,
        "available": True,
        "guild_id": str(guild.id),
    }


def fill_stickers(guild: Guild, count: int) -> None:
    """Add ``count`` stickers (as another admin would), e.g. to use up the slots."""
    state = expressions_of(guild)
    for _ in range(count):
        sticker_id = guild.fake._new_id()
        name = f"sticker{len(state.stickers) + 1}"
        state.stickers[sticker_id] = _sticker_payload(guild, sticker_id, name, "smile", None)
    _stickers_update(guild)


def fill_emojis(guild: Guild, count: int) -> None:
    """Add ``count`` static emoji, e.g. to use up the slots."""
    for _ in range(count):
        guild.add_emoji(f"emoji{len(guild.emojis) + 1}")


def _stickers_update(guild: Guild) -> None:
    data = {"guild_id": str(guild.id), "stickers": list(expressions_of(guild).stickers.values())}
    guild.fake._dispatch(
        "GUILD_STICKERS_UPDATE", data, intent=Intents.GUILD_EXPRESSIONS, guild=guild
    )
    guild.fake._notify()


def _require_create_permission(guild: Guild, what: str) -> None:
    if not base_permissions(guild.bot_member) & _CAN_CREATE:
        raise E.missing_permissions(f"{what} needs Manage Expressions or Create Expressions")


def _name_errors(
    name: Any, low: int, high: int, pattern: re.Pattern[str] | None
) -> list[FieldError]:
    if not isinstance(name, str):
        return [FieldError(("name",), "BASE_TYPE_REQUIRED", "This field is required")]
    if not low <= len(name) <= high:
        return [
            FieldError(
                ("name",), "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."
            )
        ]
    if pattern is not None and not pattern.match(name):
        return [
            FieldError(
                ("name",), "STRING_TYPE_REGEX", "String value did not match validation regex."
            )
        ]
    return []


def _slots_full(code: int, kind: str, limit: int) -> APIError:
    # Not the bot breaking a rule: a full guild is a normal answer it must explain.
    return APIError(
        400,
        code,
        f"Maximum number of {kind} reached ({limit})",
        f"max_{kind}",
        f"the guild has used all {limit} {kind} slots",
        violation=False,
    )


class ExpressionsAPI:
    """Mixed into ``RestAPI``: the handlers named in ``EXPRESSION_ROUTES``."""

    def _guild(self, guild_id: str) -> Guild:
        raise NotImplementedError  # RestAPI's: the guild, or 404 Unknown Guild

    async def list_guild_stickers(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response(list(expressions_of(guild).stickers.values()))

    async def create_guild_sticker(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        _require_create_permission(guild, "Create Guild Sticker")
        form = req.payload if isinstance(req.payload, dict) else {}
        errors = _name_errors(form.get("name"), 2, 30, None)
        tags, description = form.get("tags"), form.get("description")
        if not isinstance(tags, str) or not 1 <= len(tags) <= 200:
            errors.append(
                FieldError(
                    ("tags",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 200 in length."
                )
            )
        if description and not 2 <= len(description) <= 100:
            errors.append(
                FieldError(
                    ("description",), "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
                )
            )
        if not req.files:
            errors.append(FieldError(("file",), "BASE_TYPE_REQUIRED", "This field is required"))
        if errors:
            raise E.invalid_form(errors)
        upload = next(iter(req.files.values()))
        if len(upload.data) > STICKER_MAX_BYTES:
            raise APIError(
                400,
                50045,
                "File uploaded exceeds the maximum size",
                "sticker_too_large",
                f"{len(upload.data)} bytes > {STICKER_MAX_BYTES}",
            )
        _check_sticker_image(upload.data)
        state = expressions_of(guild)
        limit = _limits(guild)[1]
        if len(state.stickers) >= limit:
            raise _slots_full(30039, "stickers", limit)
        sticker_id = guild.fake._new_id()
        payload = _sticker_payload(guild, sticker_id, form["name"], tags, description or None)
        state.stickers[sticker_id] = payload
        state.created.append(
            CreatedExpression("sticker", sticker_id, form["name"], upload.data, dict(form))
        )
        _stickers_update(guild)
        return json_response(payload, status=201)

    async def create_guild_emoji(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        _require_create_permission(guild, "Create Guild Emoji")
        body = req.payload if isinstance(req.payload, dict) else {}
        errors = _name_errors(body.get("name"), 2, 32, _EMOJI_NAME)
        data = _data_uri(body.get("image"), errors)
        if errors:
            raise E.invalid_form(errors)
        assert data is not None
        limit = _limits(guild)[0]
        if sum(1 for e in guild.emojis.values() if not e.animated) >= limit:
            raise _slots_full(30008, "emojis", limit)
        emoji = guild.add_emoji(body["name"])
        expressions_of(guild).created.append(
            CreatedExpression("emoji", emoji.id, emoji.name, data, {"name": body["name"]})
        )
        return json_response(emoji.payload(), status=201)


def _data_uri(value: Any, errors: list[FieldError]) -> bytes | None:
    match = _DATA_URI.match(value) if isinstance(value, str) else None
    data = None
    if match is not None:
        try:
            data = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            data = None
    if data is None:
        errors.append(FieldError(("image",), "IMAGE_INVALID", "Invalid image data"))
        return None
    if len(data) > EMOJI_MAX_BYTES:
        errors.append(
            FieldError(("image",), "BINARY_TYPE_MAX_SIZE", "File cannot be larger than 256.0 kb.")
        )
        return None
    try:
        Image.open(io.BytesIO(data)).verify()
    except Exception:
        errors.append(FieldError(("image",), "IMAGE_INVALID", "Invalid image data"))
        return None
    return data


def _check_sticker_image(data: bytes) -> None:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise APIError(
            400, 50046, "Invalid Asset", "sticker_invalid_asset", "not an image"
        ) from None
    if image.format == "PNG" and image.size != (STICKER_SIDE, STICKER_SIDE):
        raise APIError(
            400,
            50046,
            "Invalid Asset",
            "sticker_invalid_asset",
            f"a PNG sticker must be {STICKER_SIDE}x{STICKER_SIDE}, got {image.size}",
        )
    if image.format not in ("PNG", "GIF"):
        raise APIError(400, 50046, "Invalid Asset", "sticker_invalid_asset", f"{image.format}")
