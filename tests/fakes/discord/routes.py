"""REST handlers. Each mirrors a Discord route: same path, status, JSON shape and error codes."""

from __future__ import annotations

import asyncio
import copy
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors as E
from .errors import APIError, FieldError
from .expressions import EXPRESSION_ROUTES, ExpressionsAPI
from .interactions import ALLOWED_CALLBACKS, CALLBACK_TYPE_NAMES, InteractionRecord
from .models import Channel, DMChannel, Guild
from .permissions import (
    ADD_REACTIONS,
    ATTACH_FILES,
    DM_BOT_PERMISSIONS,
    EMBED_LINKS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Intents,
    channel_permissions,
    missing,
)
from .records import (
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    Attachment,
    CallbackRecord,
    Message,
    MessageState,
    SyncRecord,
    Upload,
)
from .server import ApiRequest, json_response, no_content
from .validation import (
    MAX_FILES,
    SETTABLE_FLAGS,
    validate_autocomplete,
    validate_command_list,
    validate_message,
    validate_modal,
)

if TYPE_CHECKING:
    from .fake import FakeDiscord

SNOWFLAKE = r"(?P<{}>\d+)"
_APP = SNOWFLAKE.format("app_id")
_GUILD = SNOWFLAKE.format("guild_id")
_CHANNEL = SNOWFLAKE.format("channel_id")
_MESSAGE = SNOWFLAKE.format("message_id")
_CMD = SNOWFLAKE.format("command_id")
_HOOK = r"/webhooks/(?P<webhook_id>\d+)/(?P<token>[^/]+)"


def _command_routes(scope: str) -> list[tuple[str, str, str, bool]]:
    """Application commands have the same routes globally and in one guild (``scope``)."""
    return [
        ("GET", f"{scope}/commands", "get_commands", True),
        ("PUT", f"{scope}/commands", "put_commands", True),
        ("POST", f"{scope}/commands", "post_command", True),
        ("GET", f"{scope}/commands/{_CMD}", "get_command", True),
        ("PATCH", f"{scope}/commands/{_CMD}", "patch_command", True),
        ("DELETE", f"{scope}/commands/{_CMD}", "delete_command", True),
    ]


#: (method, path regex after /api/v10, handler name, needs "Authorization: Bot <token>")
ROUTES: list[tuple[str, str, str, bool]] = [
    ("GET", r"/gateway", "get_gateway", False),
    ("GET", r"/gateway/bot", "get_gateway_bot", True),
    ("GET", r"/users/@me", "get_me", True),
    ("GET", r"/users/@me/guilds", "get_my_guilds", True),
    ("POST", r"/users/@me/channels", "create_dm", True),
    ("GET", rf"/users/{SNOWFLAKE.format('user_id')}", "get_user", True),
    ("GET", r"/oauth2/applications/@me", "get_application", True),
    ("GET", r"/applications/@me", "get_application", True),
    *_command_routes(rf"/applications/{_APP}"),
    *_command_routes(rf"/applications/{_APP}/guilds/{_GUILD}"),
    (
        "GET",
        rf"/applications/{_APP}/guilds/{_GUILD}/commands/permissions",
        "get_command_permissions",
        True,
    ),
    (
        "POST",
        r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
        "interaction_callback",
        False,
    ),
    ("GET", rf"{_HOOK}/messages/@original", "get_original", False),
    ("PATCH", rf"{_HOOK}/messages/@original", "edit_original", False),
    ("DELETE", rf"{_HOOK}/messages/@original", "delete_original", False),
    ("POST", _HOOK, "execute_webhook", False),
    ("GET", rf"{_HOOK}/messages/{_MESSAGE}", "get_followup", False),
    ("PATCH", rf"{_HOOK}/messages/{_MESSAGE}", "edit_followup", False),
    ("DELETE", rf"{_HOOK}/messages/{_MESSAGE}", "delete_followup", False),
    ("GET", rf"/channels/{_CHANNEL}", "get_channel", True),
    ("POST", rf"/channels/{_CHANNEL}/typing", "typing", True),
    ("GET", rf"/channels/{_CHANNEL}/messages", "get_messages", True),
    ("POST", rf"/channels/{_CHANNEL}/messages", "create_message", True),
    ("POST", rf"/channels/{_CHANNEL}/messages/bulk-delete", "bulk_delete", True),
    ("GET", rf"/channels/{_CHANNEL}/messages/{_MESSAGE}", "get_message", True),
    ("PATCH", rf"/channels/{_CHANNEL}/messages/{_MESSAGE}", "edit_message", True),
    ("DELETE", rf"/channels/{_CHANNEL}/messages/{_MESSAGE}", "delete_message", True),
    ("DELETE", rf"/channels/{_CHANNEL}/messages/{_MESSAGE}/reactions", "clear_reactions", True),
    (
        "GET",
        rf"/channels/{_CHANNEL}/messages/{_MESSAGE}/reactions/(?P<emoji>[^/]+)",
        "get_reactions",
        True,
    ),
    (
        "DELETE",
        rf"/channels/{_CHANNEL}/messages/{_MESSAGE}/reactions/(?P<emoji>[^/]+)",
        "clear_emoji",
        True,
    ),
    (
        "PUT",
        rf"/channels/{_CHANNEL}/messages/{_MESSAGE}/reactions/(?P<emoji>[^/]+)/@me",
        "add_reaction",
        True,
    ),
    (
        "DELETE",
        rf"/channels/{_CHANNEL}/messages/{_MESSAGE}/reactions/(?P<emoji>[^/]+)/(?P<user>@me|\d+)",
        "remove_reaction",
        True,
    ),
    ("GET", rf"/guilds/{_GUILD}", "get_guild", True),
    ("GET", rf"/guilds/{_GUILD}/channels", "get_guild_channels", True),
    ("GET", rf"/guilds/{_GUILD}/roles", "get_roles", True),
    ("GET", rf"/guilds/{_GUILD}/emojis", "get_emojis", True),
    ("GET", rf"/guilds/{_GUILD}/members", "get_members", True),
    ("GET", rf"/guilds/{_GUILD}/members/{SNOWFLAKE.format('user_id')}", "get_member", True),
    (
        "PUT",
        rf"/guilds/{_GUILD}/members/(?P<user_id>\d+)/roles/(?P<role_id>\d+)",
        "add_member_role",
        True,
    ),
    (
        "DELETE",
        rf"/guilds/{_GUILD}/members/(?P<user_id>\d+)/roles/(?P<role_id>\d+)",
        "remove_member_role",
        True,
    ),
    *EXPRESSION_ROUTES,
]

_INTERACTION_PERMS = "interaction responses follow the bot's channel permissions (since 2023-11)"


def _first_step_dropped(errors: list[FieldError]) -> list[FieldError]:
    """``errors`` with the first step of each path dropped: a command validated as a list of
    one (its index), or an interaction callback's ``data``."""
    return [FieldError(e.path[1:], e.code, e.message) for e in errors]


class RestAPI(ExpressionsAPI):
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # ==================================================================================
    # lookups and checks
    # ==================================================================================
    def _guild(self, guild_id: str) -> Guild:
        guild = self.fake.guilds.get(int(guild_id))
        if guild is None:
            raise E.unknown_guild(f"guild {guild_id} does not exist or the bot is not in it")
        return guild

    def _channel(self, channel_id: str) -> Channel | DMChannel:
        channel = self.fake.channel(int(channel_id))
        if channel is None:
            raise E.unknown_channel(f"channel {channel_id}")
        return channel

    def _bot_perms(self, channel: Channel | DMChannel) -> int:
        if isinstance(channel, DMChannel):
            return int(DM_BOT_PERMISSIONS)
        return channel_permissions(channel.guild.bot_member, channel)

    def _require(self, channel: Channel | DMChannel, need: int, what: str) -> None:
        perms = self._bot_perms(channel)
        lacking = missing(perms, need)
        if not lacking:
            return
        where = getattr(channel, "name", channel.id)
        if not perms & VIEW_CHANNEL:
            raise E.missing_access(f"{what}: the bot cannot see #{where}")
        raise E.missing_permissions(f"{what} in #{where} needs {', '.join(lacking)}")

    def _visible_message(self, channel: Channel | DMChannel, message_id: str) -> Message:
        msg = self.fake._messages.get(int(message_id))
        if msg is None or msg.channel is not channel or msg.deleted or msg.ephemeral:
            raise E.unknown_message(f"message {message_id} in channel {channel.id}")
        return msg

    def _interaction(self, req: ApiRequest) -> InteractionRecord:
        fake = self.fake
        if int(req.params["webhook_id"]) != fake.application_id:
            raise E.unknown_webhook(f"webhook {req.params['webhook_id']} is not this application")
        rec = fake._interactions_by_token.get(req.params["token"])
        if rec is None:
            raise E.invalid_webhook_token("no interaction has this token")
        if rec.token_expired(fake.clock.now()):
            age = fake.clock.now() - rec.created_at
            raise E.invalid_webhook_token(
                f"token of {rec.type_name} {rec.label!r} expired: {age:.0f}s old, lifetime "
                f"{rec.token_lifetime:.0f}s (use channel.send with the bot token for late results)"
            )
        if rec.callback is None:
            raise E.unknown_webhook(
                f"{rec.type_name} {rec.label!r} has no accepted initial response, so its "
                "webhook does not exist"
            )
        return rec

    # ==================================================================================
    # building and editing messages
    # ==================================================================================
    def _check_sizes(
        self,
        files: dict[int, Upload],
        channel: Channel | DMChannel,
        interaction: InteractionRecord | None,
    ) -> None:
        """Refuse a file above the per-file limit: the interaction's server's, else the
        channel's server's (10 MiB in a DM)."""
        if interaction is not None:
            limit = interaction.guild.filesize_limit
        elif isinstance(channel, Channel):
            limit = channel.guild.filesize_limit
        else:
            limit = 10 * 1024 * 1024
        for upload in files.values():
            if len(upload.data) > limit:
                raise E.request_too_large(
                    f"{upload.filename!r} is {len(upload.data)} bytes; "
                    f"the per-file limit here is {limit}"
                )

    def _plan_attachments(
        self, spec: Any, files: dict[int, Upload], existing: tuple[Attachment, ...]
    ) -> tuple[list[Attachment | tuple[Upload, str, str | None]], list[FieldError]]:
        errors: list[FieldError] = []
        plan: list[Attachment | tuple[Upload, str, str | None]] = []
        used: set[int] = set()
        if spec is None:
            plan.extend(existing)
        elif isinstance(spec, list):
            by_id = {a.id: a for a in existing}
            for i, entry in enumerate(spec):
                try:
                    aid = int(entry["id"])
                except (KeyError, TypeError, ValueError):
                    errors.append(
                        FieldError(
                            ("attachments", i, "id"), "BASE_TYPE_REQUIRED", "This field is required"
                        )
                    )
                    continue
                if aid in files and aid not in used:
                    used.add(aid)
                    desc = entry.get("description")
                    if desc is not None and len(str(desc)) > 1024:
                        errors.append(
                            FieldError(
                                ("attachments", i, "description"),
                                "BASE_TYPE_MAX_LENGTH",
                                "Must be 1024 or fewer in length.",
                            )
                        )
                    plan.append((files[aid], entry.get("filename") or files[aid].filename, desc))
                elif aid in by_id:
                    plan.append(by_id[aid])
                else:
                    errors.append(
                        FieldError(
                            ("attachments", i, "id"),
                            "ATTACHMENT_NOT_FOUND",
                            f"Unknown attachment id {aid}",
                        )
                    )
        for index in sorted(files):
            if index not in used:
                plan.append((files[index], files[index].filename, None))
        if len(plan) > MAX_FILES:
            errors.append(
                FieldError(
                    ("attachments",),
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {MAX_FILES} or fewer in length.",
                )
            )
        return plan, errors

    def _materialize(
        self, plan: list[Attachment | tuple[Upload, str, str | None]], channel: Channel | DMChannel
    ) -> tuple[Attachment, ...]:
        out: list[Attachment] = []
        for item in plan:
            if isinstance(item, Attachment):
                out.append(item)
            else:
                upload, filename, description = item
                out.append(
                    self.fake._store_file(
                        upload, channel.id, filename=filename, description=description
                    )
                )
        return tuple(out)

    @staticmethod
    def _message_body(req: ApiRequest, data: dict[str, Any] | None) -> dict[str, Any]:
        """A create/edit message body: ``data`` if it came inside a callback, else the request's."""
        payload = data if data is not None else (req.payload or {})
        if not isinstance(payload, dict):
            raise E.invalid_form([FieldError((), "MODEL_TYPE_CONVERT", "Body must be an object.")])
        return payload

    def _require_to_post(
        self,
        channel: Channel | DMChannel,
        need: int,
        via: str,
        interaction: InteractionRecord | None,
    ) -> None:
        """``_require`` for creating or editing a message; for an interaction's message the
        error also says why the channel's permissions apply."""
        self._require(
            channel, need, via if interaction is None else f"{via} ({_INTERACTION_PERMS})"
        )

    def _create(
        self,
        channel: Channel | DMChannel,
        req: ApiRequest,
        *,
        via: str,
        interaction: InteractionRecord | None = None,
        kind: str | None = None,
        data: dict[str, Any] | None = None,
        loading: bool = False,
    ) -> Message:
        """Create a bot message from a create-message body (channel post, callback, followup)."""
        fake = self.fake
        payload = self._message_body(req, data)
        self._check_sizes(req.files, channel, interaction)
        flags = int(payload.get("flags") or 0) & SETTABLE_FLAGS
        if interaction is None:
            flags &= ~FLAG_EPHEMERAL
        if loading:
            flags = (flags & FLAG_EPHEMERAL) | FLAG_LOADING
        errors = validate_message(payload, n_files=len(req.files), resulting_flags=flags)
        plan, att_errors = self._plan_attachments(payload.get("attachments"), req.files, ())
        errors += att_errors
        reference = payload.get("message_reference")
        if errors:
            raise E.invalid_form(errors)
        content = payload.get("content") or ""
        embeds = payload.get("embeds") or []
        components = payload.get("components") or []
        if not loading and not (
            content
            or embeds
            or plan
            or components
            or payload.get("sticker_ids")
            or payload.get("poll")
        ):
            raise E.empty_message(f"{via}: no content, embeds, files, components or stickers")
        if interaction is None:
            if isinstance(channel, DMChannel) and not channel.recipient.dms_open:
                raise E.cannot_dm(f"{channel.recipient.username} does not accept DMs from the bot")
            need = int(VIEW_CHANNEL | SEND_MESSAGES)
            if reference:
                need |= READ_MESSAGE_HISTORY
        else:
            need = 0
        if req.files:
            need |= ATTACH_FILES
        if embeds:
            need |= EMBED_LINKS
        self._require_to_post(channel, need, via, interaction)
        ref_payload = None
        if isinstance(reference, dict) and reference.get("message_id"):
            target = fake._messages.get(int(reference["message_id"]))
            if target is None or target.deleted:
                if reference.get("fail_if_not_exists", True):
                    raise E.invalid_form(
                        [
                            FieldError(
                                ("message_reference",), "REPLIES_UNKNOWN_MESSAGE", "Unknown message"
                            )
                        ]
                    )
            else:
                ref_payload = {
                    "type": 0,
                    "message_id": str(target.id),
                    "channel_id": str(target.channel_id),
                }
                if target.guild_id is not None:
                    ref_payload["guild_id"] = str(target.guild_id)
        now = fake.clock.now()
        state = MessageState(
            content=str(content),
            embeds=copy.deepcopy(embeds),
            components=copy.deepcopy(components),
            attachments=self._materialize(plan, channel),
            flags=flags,
            allowed_mentions=copy.deepcopy(payload.get("allowed_mentions")),
            tts=bool(payload.get("tts")),
            edited_at=None,
            recorded_at=now,
            via=via,
        )
        if interaction is not None:
            msg_type = 20 if interaction.type == 2 else 0
        else:
            msg_type = 19 if ref_payload else 0
        msg = Message(
            id=fake._new_id(),
            channel=channel,
            author=fake.bot_user,
            created_at=now,
            state=state,
            type=msg_type,
            interaction=interaction,
            interaction_kind=kind,
            message_reference=ref_payload,
        )
        fake._add_message(msg)
        return msg

    def _edit(
        self,
        msg: Message,
        req: ApiRequest,
        *,
        via: str,
        interaction: InteractionRecord | None,
        data: dict[str, Any] | None = None,
    ) -> Message:
        fake = self.fake
        payload = self._message_body(req, data)
        channel = msg.channel
        self._check_sizes(req.files, channel, interaction)
        cur = msg.state
        flags = cur.flags & ~FLAG_LOADING
        errors: list[FieldError] = []
        if payload.get("flags") is not None:
            requested = int(payload["flags"])
            if cur.flags & FLAG_IS_COMPONENTS_V2 and not requested & FLAG_IS_COMPONENTS_V2:
                errors.append(
                    FieldError(
                        ("flags",),
                        "MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG",
                        "The IS_COMPONENTS_V2 flag cannot be removed",
                    )
                )
            mutable = FLAG_SUPPRESS_EMBEDS | FLAG_IS_COMPONENTS_V2
            flags = (flags & ~mutable) | (requested & mutable)
        content = cur.content if "content" not in payload else str(payload["content"] or "")
        embeds = cur.embeds if "embeds" not in payload else list(payload["embeds"] or [])
        components = (
            cur.components if "components" not in payload else list(payload["components"] or [])
        )
        result = {
            "content": content,
            "embeds": embeds,
            "components": components,
            "allowed_mentions": payload.get("allowed_mentions"),
            "attachments": payload.get("attachments"),
        }
        errors += validate_message(result, n_files=len(req.files), resulting_flags=flags)
        plan, att_errors = self._plan_attachments(
            payload.get("attachments"), req.files, cur.attachments
        )
        errors += att_errors
        if errors:
            raise E.invalid_form(errors)
        if not (content or embeds or plan or components):
            raise E.empty_message(f"{via}: the edit leaves the message empty")
        need = 0
        if req.files:
            need |= ATTACH_FILES
        if payload.get("embeds"):
            need |= EMBED_LINKS
        self._require_to_post(channel, need, via, interaction)
        was_loading = msg.loading
        now = fake.clock.now()
        msg.history.append(cur)
        msg.state = MessageState(
            content=content,
            embeds=copy.deepcopy(embeds),
            components=copy.deepcopy(components),
            attachments=self._materialize(plan, channel),
            flags=flags,
            allowed_mentions=copy.deepcopy(payload.get("allowed_mentions", cur.allowed_mentions)),
            tts=cur.tts,
            edited_at=None if was_loading else now,
            recorded_at=now,
            via=via,
        )
        fake._message_updated(msg)
        return msg

    # ==================================================================================
    # gateway, users, application
    # ==================================================================================
    async def get_gateway(self, req: ApiRequest) -> web.Response:
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, req: ApiRequest) -> web.Response:
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_me(self, req: ApiRequest) -> web.Response:
        return json_response(
            self.fake.bot_user.payload()
            | {"verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"}
        )

    async def get_user(self, req: ApiRequest) -> web.Response:
        user = self.fake.user(int(req.params["user_id"]))
        if user is None:
            raise E.unknown_user(f"user {req.params['user_id']}")
        return json_response(user.payload())

    async def get_my_guilds(self, req: ApiRequest) -> web.Response:
        return json_response([g.partial_payload() for g in self.fake.guilds.values()])

    async def create_dm(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        body = req.payload if isinstance(req.payload, dict) else {}
        try:
            user = fake.user(int(body.get("recipient_id", 0)))
        except (TypeError, ValueError):
            user = None
        if user is None:
            raise E.invalid_form([FieldError(("recipient_id",), "USER_NOT_FOUND", "Unknown user")])
        dm = fake._dms.get(user.id)
        if dm is None:
            dm = DMChannel(fake._new_id(), user)
            fake._dms[user.id] = dm
            fake._channels[dm.id] = dm
            fake._notify()
        return json_response(dm.payload())

    async def get_application(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.global_name or fake.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": fake.application_flags,
                "owner": fake.owner_user.payload(),
                "team": None,
                "bot": fake.bot_user.payload(),
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "install_params": {
                    "scopes": ["bot", "applications.commands"],
                    "permissions": "379968",
                },
                "approximate_guild_count": len(fake.guilds),
                # Required by the spec's PrivateApplicationResponse (tests/contracts).
                "flags_new": str(fake.application_flags),
                "role_connections_verification_url": None,
                "approximate_user_install_count": 0,
                "approximate_user_authorization_count": 0,
                "explicit_content_filter": 0,
                "eligible_oauth2_scopes": ["bot", "applications.commands"],
            }
        )

    # ==================================================================================
    # application commands
    # ==================================================================================
    def _scope(self, req: ApiRequest) -> int | None:
        if int(req.params["app_id"]) != self.fake.application_id:
            raise E.APIError(
                403,
                50001,
                "Missing Access",
                "missing_access",
                f"application {req.params['app_id']} is not this bot's application",
            )
        guild_id = req.params.get("guild_id")
        if guild_id is None:
            return None
        if int(guild_id) not in self.fake.guilds:
            raise E.missing_access(f"the bot is not in guild {guild_id}")
        return int(guild_id)

    def _normalize_command(self, cmd: dict[str, Any], scope: int | None) -> dict[str, Any]:
        fake = self.fake
        ctype = int(cmd.get("type", 1))
        key = (scope, ctype, str(cmd["name"]))
        cid = fake._command_ids.get(key)
        if cid is None:
            cid = fake._command_ids[key] = fake._new_id()
        perms = cmd.get("default_member_permissions")
        out: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(fake.application_id),
            "version": str(fake._new_id()),
            "type": ctype,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "default_member_permissions": None if perms is None else str(int(perms)),
            "dm_permission": cmd.get("dm_permission", True),
            "nsfw": bool(cmd.get("nsfw", False)),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
        }
        if scope is not None:
            out["guild_id"] = str(scope)
        if cmd.get("options"):
            out["options"] = copy.deepcopy(cmd["options"])
        return out

    def _count_creates(self, scope: int | None, new_names: int) -> None:
        fake = self.fake
        now = fake.clock.now()
        fake._command_creates = [(s, t) for s, t in fake._command_creates if now - t < 86400]
        used = sum(1 for s, _ in fake._command_creates if s == scope)
        if used + new_names > 200:
            raise E.max_daily_command_creates(
                f"{used} creates in the last 24h for "
                f"{'global' if scope is None else scope}, +{new_names}"
            )
        fake._command_creates += [(scope, now)] * new_names

    async def get_commands(self, req: ApiRequest) -> web.Response:
        return json_response(self.fake._commands.get(self._scope(req), []))

    async def put_commands(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        scope = self._scope(req)
        errors = validate_command_list(req.payload)
        if errors:
            raise E.invalid_form(errors, rule="invalid_command_schema")
        existing = {(c["type"], c["name"]) for c in fake._commands.get(scope, [])}
        new = [c for c in req.payload if (int(c.get("type", 1)), c["name"]) not in existing]
        self._count_creates(scope, len(new))
        commands = [self._normalize_command(c, scope) for c in req.payload]
        fake._commands[scope] = commands
        fake.command_syncs.append(
            SyncRecord(scope, "PUT", copy.deepcopy(req.payload), fake.clock.now())
        )
        fake._notify()
        return json_response(commands)

    async def post_command(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        scope = self._scope(req)
        errors = validate_command_list([req.payload])
        if errors:
            raise E.invalid_form(_first_step_dropped(errors), rule="invalid_command_schema")
        cmd = req.payload
        commands = fake._commands.setdefault(scope, [])
        ctype = int(cmd.get("type", 1))
        index = next(
            (i for i, c in enumerate(commands) if (c["type"], c["name"]) == (ctype, cmd["name"])),
            None,
        )
        if index is None:
            self._count_creates(scope, 1)
        normalized = self._normalize_command(cmd, scope)
        if index is None:
            commands.append(normalized)
        else:
            commands[index] = normalized
        fake.command_syncs.append(SyncRecord(scope, "POST", copy.deepcopy(cmd), fake.clock.now()))
        fake._notify()
        return json_response(normalized, 201 if index is None else 200)

    def _find_command_index(self, scope: int | None, command_id: str) -> int:
        for i, cmd in enumerate(self.fake._commands.get(scope, [])):
            if cmd["id"] == command_id:
                return i
        raise E.unknown_command(f"command {command_id}")

    async def get_command(self, req: ApiRequest) -> web.Response:
        scope = self._scope(req)
        return json_response(
            self.fake._commands[scope][self._find_command_index(scope, req.params["command_id"])]
        )

    async def patch_command(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        scope = self._scope(req)
        index = self._find_command_index(scope, req.params["command_id"])
        current = fake._commands[scope][index]
        merged = {
            k: v
            for k, v in current.items()
            if k not in ("id", "application_id", "version", "guild_id")
        }
        merged.update(req.payload or {})
        errors = validate_command_list([merged])
        if errors:
            raise E.invalid_form(_first_step_dropped(errors), rule="invalid_command_schema")
        fake._commands[scope][index] = self._normalize_command(merged, scope)
        fake.command_syncs.append(
            SyncRecord(scope, "PATCH", copy.deepcopy(req.payload), fake.clock.now())
        )
        fake._notify()
        return json_response(fake._commands[scope][index])

    async def delete_command(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        scope = self._scope(req)
        index = self._find_command_index(scope, req.params["command_id"])
        del fake._commands[scope][index]
        fake.command_syncs.append(
            SyncRecord(scope, "DELETE", req.params["command_id"], fake.clock.now())
        )
        fake._notify()
        return no_content()

    async def get_command_permissions(self, req: ApiRequest) -> web.Response:
        self._scope(req)
        return json_response([])

    # ==================================================================================
    # interactions
    # ==================================================================================
    async def interaction_callback(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        rec = fake._interactions_by_id.get(int(req.params["interaction_id"]))
        if rec is None or rec.token != req.params["token"]:
            raise E.unknown_interaction(
                f"no interaction {req.params['interaction_id']} with that token"
            )
        elapsed = asyncio.get_running_loop().time() - rec.dispatched_at
        body = req.payload if isinstance(req.payload, dict) else {}
        cb_type = body.get("type")
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        attempt = CallbackRecord(
            interaction_id=rec.id,
            type=int(cb_type) if isinstance(cb_type, int) else -1,
            data=copy.deepcopy(data),
            files=list(req.files.values()),
            elapsed_ms=elapsed * 1000,
            status=200,
            accepted=False,
        )
        try:
            message = self._apply_callback(rec, req, attempt, elapsed, data)
        except APIError as exc:
            attempt.status, attempt.error_code, attempt.error_message = (
                exc.status,
                exc.code,
                exc.message,
            )
            exc.detail = f"{rec.type_name} {rec.label!r}: {exc.detail}"
            raise
        finally:
            rec.attempts.append(attempt)
            fake.callbacks.append(attempt)
            fake._notify()
        req.on_sent.append(attempt.mark_delivered)
        if not req.flag("with_response"):
            return no_content()
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        response: dict[str, Any] = {"interaction": interaction}
        if message is not None and attempt.type in (4, 5, 7):
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = attempt.type == 5
            interaction["response_message_ephemeral"] = message.ephemeral
            response["resource"] = {"type": attempt.type, "message": fake.message_payload(message)}
        return json_response(response)

    def _apply_callback(
        self,
        rec: InteractionRecord,
        req: ApiRequest,
        attempt: CallbackRecord,
        elapsed: float,
        data: dict[str, Any],
    ) -> Message | None:
        if rec.callback is not None:
            raise E.already_acknowledged(
                f"already answered with type {rec.callback.type} "
                f"({CALLBACK_TYPE_NAMES.get(rec.callback.type, '?')})"
            )
        if rec.deadline_missed or elapsed > rec.ack_deadline:
            raise E.unknown_interaction(
                f"initial response came {elapsed * 1000:.0f} ms after dispatch; the deadline is "
                f"{rec.ack_deadline:.1f} s (defer first)"
            )
        cb_type = attempt.type
        allowed = ALLOWED_CALLBACKS.get(rec.type, set())
        if cb_type not in allowed:
            raise E.invalid_form(
                [
                    FieldError(
                        ("type",),
                        "INTERACTION_RESPONSE_TYPE_INVALID",
                        f"Response type {cb_type} "
                        f"({CALLBACK_TYPE_NAMES.get(cb_type, 'unknown')}) is not "
                        f"valid for {rec.type_name}; allowed: {sorted(allowed)}",
                    )
                ],
                rule="invalid_callback_type",
            )
        via = f"interaction callback type {cb_type} ({CALLBACK_TYPE_NAMES[cb_type]})"
        message: Message | None = None
        if cb_type == 4:
            message = self._create(
                rec.channel, req, via=via, interaction=rec, kind="original", data=data
            )
            rec.original = message
        elif cb_type == 5:
            message = self._create(
                rec.channel, req, via=via, interaction=rec, kind="original", data=data, loading=True
            )
            rec.original = message
        elif cb_type == 6:
            rec.original = rec.message
        elif cb_type == 7:
            if rec.message is None:
                raise E.invalid_form(
                    [
                        FieldError(
                            ("type",),
                            "INTERACTION_RESPONSE_TYPE_INVALID",
                            "UPDATE_MESSAGE needs an interaction that came from a message",
                        )
                    ],
                    rule="invalid_callback_type",
                )
            message = self._edit(rec.message, req, via=via, interaction=rec, data=data)
            rec.original = message
        elif cb_type == 8:
            errors = validate_autocomplete(data, rec.focused_option_type)
            if errors:
                raise E.invalid_form(_first_step_dropped(errors), rule="invalid_autocomplete")
            rec.choices = copy.deepcopy(data["choices"])
        elif cb_type == 9:
            errors = validate_modal(data)
            if errors:
                raise E.invalid_form(_first_step_dropped(errors), rule="invalid_modal")
            rec.modal = copy.deepcopy(data)
        attempt.accepted = True
        rec.callback = attempt
        return message

    def _own_message(self, rec: InteractionRecord, message_id: str | None) -> Message:
        if message_id is None:
            msg = rec.original
            if msg is None:
                raise E.unknown_message(
                    f"{rec.type_name} {rec.label!r} has no original response message"
                )
        else:
            msg = next(
                (
                    m
                    for m in [rec.original, *rec.followups]
                    if m is not None and m.id == int(message_id)
                ),
                None,
            )
            if msg is None:
                raise E.unknown_message(
                    f"message {message_id} does not belong to this interaction webhook"
                )
        if msg.deleted:
            raise E.unknown_message(f"message {msg.id} was deleted")
        return msg

    async def get_original(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        return json_response(self.fake.message_payload(self._own_message(rec, None)))

    async def edit_original(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        msg = self._own_message(rec, None)
        self._edit(msg, req, via="PATCH @original", interaction=rec)
        return json_response(self.fake.message_payload(msg))

    async def delete_original(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        self.fake._delete_message(self._own_message(rec, None))
        return no_content()

    async def execute_webhook(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        rec = self._interaction(req)
        if rec.callback is not None and rec.callback.type == 8:
            raise E.unknown_webhook("autocomplete interactions have no followup webhook")
        original = rec.original
        payload = req.payload if isinstance(req.payload, dict) else {}
        # Discord ("Create Followup Message"): right after a DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        # the followup endpoint *functions as Edit Original*; no message is created and the
        # followup's own ephemeral flag is ignored (the defer's visibility stays). Where we
        # guess: "right after" is modelled as "the original is still the untouched 'thinking'
        # placeholder and no followup was sent", deleted or not. A placeholder deleted before
        # anything replaced it makes that edit fail with 404 10008 (discord-api-docs #3087).
        # Once the original was edited (edit_original_response), followups are new messages.
        fills_original = (
            rec.callback is not None
            and rec.callback.type == 5
            and original is not None
            and original.loading
            and not rec.followups
        )
        if fills_original and original is not None and original.deleted:
            raise E.unknown_message(
                f"first followup of {rec.label!r} after a deferred response edits the original, "
                f"which was deleted (message {original.id})"
            )
        if fills_original and original is not None:
            fake._warning(
                "followup_edited_deferred_original",
                f"first followup of {rec.label!r} filled the deferred 'thinking' message "
                "(deprecated: use edit_original_response)",
            )
            data = {k: v for k, v in payload.items() if k != "flags"}
            msg = self._edit(
                original,
                req,
                via="POST followup (filled deferred original)",
                interaction=rec,
                data=data,
            )
        else:
            msg = self._create(
                rec.channel, req, via="POST followup", interaction=rec, kind="followup"
            )
            rec.followups.append(msg)
            fake._notify()
        if not req.flag("wait"):
            return no_content()
        return json_response(fake.message_payload(msg))

    async def get_followup(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        return json_response(
            self.fake.message_payload(self._own_message(rec, req.params["message_id"]))
        )

    async def edit_followup(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        msg = self._own_message(rec, req.params["message_id"])
        self._edit(msg, req, via="PATCH webhook message", interaction=rec)
        return json_response(self.fake.message_payload(msg))

    async def delete_followup(self, req: ApiRequest) -> web.Response:
        rec = self._interaction(req)
        self.fake._delete_message(self._own_message(rec, req.params["message_id"]))
        return no_content()

    # ==================================================================================
    # channels and messages
    # ==================================================================================
    async def get_channel(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        if isinstance(channel, Channel):
            self._require(channel, VIEW_CHANNEL, "GET channel")
        return json_response(channel.payload())

    async def typing(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        self._require(channel, VIEW_CHANNEL | SEND_MESSAGES, "typing")
        return no_content()

    async def get_messages(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        self._require(channel, VIEW_CHANNEL | READ_MESSAGE_HISTORY, "read message history")
        limit = max(1, min(int(req.query.get("limit", 50)), 100))
        msgs = sorted(
            (m for m in self.fake.messages(channel) if not m.ephemeral), key=lambda m: m.id
        )
        if "before" in req.query:
            msgs = [m for m in msgs if m.id < int(req.query["before"])][-limit:]
        elif "after" in req.query:
            msgs = [m for m in msgs if m.id > int(req.query["after"])][:limit]
        elif "around" in req.query:
            pivot = int(req.query["around"])
            older = [m for m in msgs if m.id < pivot][-(limit // 2) :]
            newer = [m for m in msgs if m.id >= pivot][: limit - len(older)]
            msgs = older + newer
        else:
            msgs = msgs[-limit:]
        return json_response([self.fake.message_payload(m) for m in reversed(msgs)])

    async def create_message(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        msg = self._create(channel, req, via=f"POST /channels/{channel.id}/messages")
        return json_response(self.fake.message_payload(msg))

    async def get_message(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        self._require(channel, VIEW_CHANNEL | READ_MESSAGE_HISTORY, "fetch message")
        return json_response(
            self.fake.message_payload(self._visible_message(channel, req.params["message_id"]))
        )

    async def edit_message(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        if msg.author is not self.fake.bot_user:
            raise E.cannot_edit_others(f"message {msg.id} is by {msg.author.username}")
        self._edit(
            msg, req, via=f"PATCH /channels/{channel.id}/messages/{msg.id}", interaction=None
        )
        return json_response(self.fake.message_payload(msg))

    async def delete_message(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        if msg.author is not self.fake.bot_user:
            self._require(channel, MANAGE_MESSAGES, "delete another user's message")
        self.fake._delete_message(msg)
        return no_content()

    async def bulk_delete(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        ids = (req.payload or {}).get("messages") if isinstance(req.payload, dict) else None
        if not isinstance(ids, list) or not 2 <= len(ids) <= 100:
            raise E.invalid_form(
                [
                    FieldError(
                        ("messages",),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 2 and 100 in length.",
                    )
                ]
            )
        self._require(channel, MANAGE_MESSAGES, "bulk delete")
        for message_id in ids:
            self.fake._delete_message(self._visible_message(channel, str(message_id)))
        return no_content()

    # -- reactions -----------------------------------------------------------------------
    def _emoji(self, raw: str) -> tuple[str, dict[str, Any]]:
        if ":" in raw:
            _name, _, emoji_id = raw.rpartition(":")
            emoji = self.fake.find_emoji(int(emoji_id)) if emoji_id.isdigit() else None
            if emoji is None:
                raise E.unknown_emoji(f"custom emoji {raw!r} is not in any of the bot's guilds")
            return emoji.route_key, emoji.partial()
        if not raw or any(ch.isascii() and ch.isalpha() for ch in raw):
            raise E.unknown_emoji(f"{raw!r} is not a unicode emoji (custom emoji go as name:id)")
        return raw, {"id": None, "name": raw}

    async def add_reaction(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        key, emoji = self._emoji(req.params["emoji"])
        need = READ_MESSAGE_HISTORY
        if key not in msg.reactions:
            need |= ADD_REACTIONS
            if len(msg.reactions) >= 20:
                raise E.max_reactions(f"message {msg.id} already has 20 distinct reactions")
        self._require(channel, need, f"react {key}")
        fake._add_reaction(msg, fake.bot_user, key, emoji)
        return no_content()

    async def remove_reaction(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        key, _ = self._emoji(req.params["emoji"])
        target = req.params["user"]
        if target == "@me":
            user = fake.bot_user
        else:
            self._require(channel, MANAGE_MESSAGES, "remove another user's reaction")
            found = fake.user(int(target))
            if found is None:
                raise E.unknown_user(f"user {target}")
            user = found
        fake._remove_reaction(msg, user, key)
        return no_content()

    async def get_reactions(self, req: ApiRequest) -> web.Response:
        fake = self.fake
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        key, _ = self._emoji(req.params["emoji"])
        users = [fake.user(u) for u in msg.reactions.get(key, [])]
        return json_response([u.payload() for u in users if u is not None])

    def _reactions_cleared(self, msg: Message, event: str, **extra: Any) -> web.Response:
        """Tell the gateway that reactions on ``msg`` were cleared (all, or one emoji's)."""
        data = {"channel_id": str(msg.channel_id), "message_id": str(msg.id), **extra}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.fake._dispatch(event, data, intent=self.fake._reaction_intent(msg))
        self.fake._notify()
        return no_content()

    async def clear_reactions(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        self._require(channel, MANAGE_MESSAGES, "clear reactions")
        msg.reactions.clear()
        return self._reactions_cleared(msg, "MESSAGE_REACTION_REMOVE_ALL")

    async def clear_emoji(self, req: ApiRequest) -> web.Response:
        channel = self._channel(req.params["channel_id"])
        msg = self._visible_message(channel, req.params["message_id"])
        key, emoji = self._emoji(req.params["emoji"])
        self._require(channel, MANAGE_MESSAGES, "clear reactions")
        msg.reactions.pop(key, None)
        return self._reactions_cleared(msg, "MESSAGE_REACTION_REMOVE_EMOJI", emoji=emoji)

    # ==================================================================================
    # guilds
    # ==================================================================================
    async def get_guild(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        data = guild.rest_payload()
        if req.flag("with_counts"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def get_guild_channels(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response([c.payload() for c in guild.channels.values()])

    async def get_roles(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response([r.payload() for r in guild.roles.values()])

    async def get_emojis(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response([e.payload() for e in guild.emojis.values()])

    async def get_members(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        session = self.fake.gateway.session_for(guild.id)
        if session is None or not session.intents & Intents.GUILD_MEMBERS:
            raise E.missing_access(
                "listing guild members needs the GUILD_MEMBERS privileged intent"
            )
        limit = max(1, min(int(req.query.get("limit", 1)), 1000))
        after = int(req.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[
            :limit
        ]
        return json_response([m.payload() for m in members])

    async def get_member(self, req: ApiRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        member = guild.members.get(int(req.params["user_id"]))
        if member is None:
            raise E.unknown_member(f"user {req.params['user_id']} in guild {guild.id}")
        return json_response(member.payload())

    def _member_role_change(self, req: ApiRequest, add: bool) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        member = guild.members.get(int(req.params["user_id"]))
        if member is None:
            raise E.unknown_member(f"user {req.params['user_id']}")
        role = guild.roles.get(int(req.params["role_id"]))
        if role is None:
            raise E.unknown_role(f"role {req.params['role_id']}")
        bot = guild.bot_member
        if not bot.permissions & MANAGE_ROLES:
            raise E.missing_permissions("changing member roles needs MANAGE_ROLES")
        top = max((r.position for r in bot.roles), default=0)
        if role.position >= top or role.managed:
            raise E.missing_permissions(f"role {role.name!r} is not below the bot's highest role")
        if add:
            member.add_role(role)
        else:
            member.remove_role(role)
        return no_content()

    async def add_member_role(self, req: ApiRequest) -> web.Response:
        return self._member_role_change(req, True)

    async def remove_member_role(self, req: ApiRequest) -> web.Response:
        return self._member_role_change(req, False)
