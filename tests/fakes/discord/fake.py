"""FakeDiscord: a loopback Discord (REST + gateway + CDN) that enforces Discord's rules and
records everything the bot did, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Collection
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web

from tests.contracts.contract import Violation, contract

from .clock import FakeClock, SnowflakeFactory, iso
from .gateway import GatewayHub
from .interactions import InteractionHandle, InteractionRecord
from .media import image_size, sniff_content_type
from .models import Channel, DMChannel, Emoji, Guild, Member, User
from .permissions import DEFAULT_BOT_PERMISSIONS, Intents, channel_permissions
from .records import (
    Attachment,
    CallbackRecord,
    GatewayRecord,
    Message,
    RequestRecord,
    SyncRecord,
    Upload,
)
from .server import Fault, Stall, build_app
from .validation import MAX_REQUEST_BYTES

log = logging.getLogger(__name__)

T = TypeVar("T")

_BOT_NAME_RE = re.compile(r"[^a-z0-9_.]")


class FakeDiscord:
    """Loopback fake of Discord for a discord.py bot.

    >>> async with FakeDiscord() as fake:
    ...     guild = fake.add_guild("Test Guild")
    ...     alice = guild.add_member("alice")
    ...     # start the bot with DISCORD_API_BASE=fake.base_url and token fake.bot_token
    ...     await fake.wait_until_ready()
    ...     h = await alice.slash("ping")
    ...     msg = await h.wait_original()
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        ack_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        heartbeat_interval_ms: int = 41_250,
        privileged_intents: int | None = None,
        bot_name: str = "Fake Bot",
        max_request_size: int = MAX_REQUEST_BYTES,
        application_flags: int = 0,
    ) -> None:
        self.clock = clock or FakeClock()
        self._new_id = SnowflakeFactory(self.clock)
        self.bot_token = f"fake-bot-token-{secrets.token_hex(12)}"
        bot_id = self._new_id()
        username = _BOT_NAME_RE.sub("", bot_name.lower().replace(" ", "_")) or "fake_bot"
        self.bot_user = User(bot_id, username, global_name=bot_name, bot=True)
        self.owner_user = User(self._new_id(), "app_owner", global_name="App Owner")
        self.application_id = bot_id
        self.application_flags = application_flags
        #: Seconds the bot has to send the initial interaction response (Discord: 3 s).
        self.ack_deadline = ack_deadline
        #: Seconds (fake clock) an interaction token lives (Discord: 15 min).
        self.token_lifetime = token_lifetime
        #: Privileged intents enabled in the "developer portal"; None = all enabled.
        self.privileged_intents = privileged_intents
        self.max_request_size = max_request_size
        #: What GET /gateway/bot recommends; a bot started without SHARD_COUNT runs this many.
        self.recommended_shards = 1

        self.guilds: dict[int, Guild] = {}
        self._channels: dict[int, Channel | DMChannel] = {}
        self._users: dict[int, User] = {bot_id: self.bot_user}
        self._dms: dict[int, DMChannel] = {}
        self._messages: dict[int, Message] = {}
        self._attachments: dict[int, Attachment] = {}

        self.interactions: list[InteractionRecord] = []
        self._interactions_by_id: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self.callbacks: list[CallbackRecord] = []
        self.requests: list[RequestRecord] = []
        self.violations: list[dict[str, Any]] = []
        # Requests the official API specification does not allow (tests/contracts).
        self.contract_violations: list[Violation] = []
        self.warnings: list[dict[str, Any]] = []
        self.command_syncs: list[SyncRecord] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._command_creates: list[tuple[int | None, float]] = []
        self._faults: list[Fault] = []
        self._stalls: list[Stall] = []
        self._cdn_secret = secrets.token_bytes(16)

        self.gateway = GatewayHub(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self._changed = asyncio.Event()
        self._timers: list[asyncio.TimerHandle] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.clock.subscribe(self._notify)

    # ------------------------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        app = build_app(self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self._port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for stall in self._stalls:
            stall.release()  # no handler waits past the fake's life
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.clock.unsubscribe(self._notify)

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started: await fake.start() first")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: give it to the bot as DISCORD_API_BASE."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def bot_user_id(self) -> int:
        return self.bot_user.id

    # ------------------------------------------------------------------------------------
    # world building
    # ------------------------------------------------------------------------------------
    def add_guild(
        self,
        name: str,
        *,
        locale: str = "en-US",
        premium_tier: int = 0,
        features: list[str] | tuple[str, ...] = (),
        bot_permissions: int = int(DEFAULT_BOT_PERMISSIONS),
        filesize_limit: int | None = None,
        on_shard: tuple[int, int] | None = None,
    ) -> Guild:
        """Add a guild the bot is in. After the bot connected this dispatches GUILD_CREATE.

        ``on_shard=(shard_id, num_shards)`` picks an id that Discord's sharding formula puts
        on that shard."""
        guild = Guild(
            self,
            self._new_id() if on_shard is None else self._new_id.on_shard(*on_shard),
            name,
            locale=locale,
            premium_tier=premium_tier,
            features=list(features),
            bot_permissions=bot_permissions,
            owner_id=self.owner_user.id,
        )
        guild.filesize_limit = filesize_limit
        self.guilds[guild.id] = guild
        session = self.gateway.session_for(guild.id)
        if session is not None and session.intents & Intents.GUILDS:
            payload = guild.gateway_payload(session.intents, joined=True)
            self.gateway.dispatch("GUILD_CREATE", payload)
        self._notify()
        return guild

    def remove_bot_from(self, guild: Guild) -> None:
        """The server kicks the bot (or it leaves): GUILD_DELETE without ``unavailable``.

        Per Discord's docs (Gateway Events, Guild Delete), ``unavailable`` is unset when the
        user was removed from the guild, and set during an outage; this is the former.
        """
        self.guilds.pop(guild.id, None)
        self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, intent=Intents.GUILDS)
        self._notify()

    def readd_bot_to(self, guild: Guild) -> None:
        """The server invites the bot back: GUILD_CREATE with the guild as it was."""
        self.guilds[guild.id] = guild
        session = self.gateway.session_for(guild.id)
        if session is not None and session.intents & Intents.GUILDS:
            self.gateway.dispatch(
                "GUILD_CREATE", guild.gateway_payload(session.intents, joined=True)
            )
        self._notify()

    def user(self, user_id: int) -> User | None:
        return self._users.get(user_id)

    def channel(self, channel_id: int) -> Channel | DMChannel | None:
        return self._channels.get(channel_id)

    def dm_channel(self, user: User | Member) -> DMChannel | None:
        return self._dms.get(user.id)

    def find_emoji(self, emoji_id: int) -> Emoji | None:
        for guild in self.guilds.values():
            if emoji_id in guild.emojis:
                return guild.emojis[emoji_id]
        return None

    # ------------------------------------------------------------------------------------
    # change notification and waiting (no polling: every record change wakes the waiters)
    # ------------------------------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[FakeDiscord], T | None],
        timeout: float = 10.0,
        *,
        what: str | None = None,
    ) -> T:
        """Wait until ``predicate(fake)`` is truthy (re-checked on every recorded event) and
        return its value. Exceptions inside the predicate count as "not yet"."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: BaseException | None = None
        while True:
            try:
                result = predicate(self)
            except Exception as exc:
                last_error = exc
            else:
                if result:
                    return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                desc = what or getattr(predicate, "__name__", repr(predicate))
                error = f"\nlast predicate error: {last_error!r}" if last_error else ""
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {desc}{error}\n{self.describe()}"
                )
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_until_ready(self, timeout: float = 15.0) -> None:
        """Bot connected and identified (or resumed): READY and every GUILD_CREATE went out.
        After a bot restart this waits for the new process's session."""
        await self.wait_for(
            lambda f: f.gateway.ready, timeout, what="the bot to IDENTIFY (READY sent)"
        )

    async def wait_for_message(
        self,
        predicate: Callable[[Message], Any] | None = None,
        timeout: float = 10.0,
        channel: Channel | DMChannel | None = None,
    ) -> Message:
        """First current (non-deleted) message matching ``predicate``, oldest first."""
        check = predicate or (lambda m: True)

        def found(f: FakeDiscord) -> Message | None:
            for msg in f.messages(channel):
                if check(msg):
                    return msg
            return None

        where = f" in {channel!r}" if channel is not None else ""
        return await self.wait_for(found, timeout, what=f"a message{where} matching {predicate!r}")

    async def wait_for_violation(self, rule: str, timeout: float = 10.0) -> dict[str, Any]:
        def found(f: FakeDiscord) -> dict[str, Any] | None:
            return next((v for v in f.violations if v["rule"] == rule), None)

        return await self.wait_for(found, timeout, what=f"a {rule!r} violation")

    # ------------------------------------------------------------------------------------
    # records
    # ------------------------------------------------------------------------------------
    def messages(
        self,
        channel: Channel | DMChannel | None = None,
        *,
        include_deleted: bool = False,
        include_ephemeral: bool = True,
    ) -> list[Message]:
        """Messages (bot's and test members'), oldest first; deleted ones only on request."""
        out = []
        for msg in self._messages.values():
            if channel is not None and msg.channel is not channel:
                continue
            if msg.deleted and not include_deleted:
                continue
            if msg.ephemeral and not include_ephemeral:
                continue
            out.append(msg)
        return out

    def bot_messages(self, channel: Channel | DMChannel | None = None) -> list[Message]:
        return [m for m in self.messages(channel) if m.by_bot]

    def message(self, message_id: int) -> Message:
        return self._messages[message_id]

    def synced_commands(self, guild: Guild | None = None) -> list[dict[str, Any]]:
        """Commands Discord currently has (global, or for ``guild``), as Discord returns them."""
        return list(self._commands.get(None if guild is None else guild.id, []))

    def synced_command(self, name: str, guild: Guild | None = None) -> dict[str, Any]:
        for cmd in self.synced_commands(guild):
            if cmd["name"] == name:
                return cmd
        raise KeyError(f"command {name!r} not synced ({'global' if guild is None else guild.name})")

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    @property
    def gateway_log(self) -> list[GatewayRecord]:
        return self.gateway.log

    def violations_of(self, rule: str) -> list[dict[str, Any]]:
        return [v for v in self.violations if v["rule"] == rule]

    def check_contract(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        payload: Any,
        *,
        form_files: tuple[str, ...] | None = None,
    ) -> None:
        """Hold one request the bot made to Discord's published API specification.

        ``form_files``: the body was a plain multipart form with these file fields."""
        self.contract_violations += contract("discord").check_request(
            method,
            path,
            query=query,
            body=payload,
            form=form_files is not None,
            files=form_files or (),
        )

    def assert_contract_kept(self) -> None:
        if self.contract_violations:
            lines = "\n".join(f"  - {v}" for v in self.contract_violations)
            raise AssertionError(f"requests Discord's API specification does not allow:\n{lines}")

    def assert_no_violations(self, except_rules: Collection[str] = ()) -> None:
        broken = [v for v in self.violations if v["rule"] not in except_rules]
        if broken:
            lines = "\n".join(f"  - {v}" for v in broken)
            raise AssertionError(f"the bot broke Discord's rules:\n{lines}")

    def describe(self, last_requests: int = 15) -> str:
        """Human summary of what happened, used in every timeout message."""
        lines = ["--- fake discord state ---"]
        lines.append(
            f"gateway: connected={self.gateway.connected} ready={self.gateway.ready} "
            f"identifies={self.identify_count} resumes={self.resume_count}"
        )
        lines.append(f"messages ({len(self._messages)}):")
        lines += [f"  {m!r}" for m in list(self._messages.values())[-10:]]
        lines.append(f"interactions ({len(self.interactions)}):")
        for rec in self.interactions[-8:]:
            lines.append(f"  {rec!r} attempts={rec.attempts}")
        lines.append(f"violations ({len(self.violations)}):")
        lines += [f"  {v}" for v in self.violations[-8:]]
        lines.append(f"last requests ({len(self.requests)} total):")
        lines += [f"  {r!r}" for r in self.requests[-last_requests:]]
        return "\n".join(lines)

    def _violation(self, rule: str, detail: str, **extra: Any) -> None:
        entry = {"rule": rule, "detail": detail, **extra, "at": self.clock.now()}
        self.violations.append(entry)
        log.warning("fake discord violation: %s: %s", rule, detail)
        self._notify()

    def _warning(self, rule: str, detail: str, **extra: Any) -> None:
        self.warnings.append({"rule": rule, "detail": detail, **extra, "at": self.clock.now()})
        self._notify()

    # ------------------------------------------------------------------------------------
    # test controls
    # ------------------------------------------------------------------------------------
    async def drop_gateway(self, resume: bool = True, *, shard: int = 0) -> None:
        """Close the bot's websocket with a resumable code (resume=True) so it RESUMEs and gets
        the events dispatched meanwhile; resume=False invalidates the session instead (op 9),
        which makes discord.py re-IDENTIFY (after its 5 s identify delay)."""
        await self.gateway.drop(resume=resume, shard=shard)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and resumes."""
        await self.gateway.send_reconnect()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 1.0,
        code: int | None = None,
        times: int = 1,
        *,
        message: str | None = None,
        is_global: bool = False,
        via: bool = True,
    ) -> Fault:
        """Answer the next ``times`` matching API requests with an error instead of handling
        them. ``path_regex`` is searched in the path after /api/v10, e.g.
        r"/channels/\\d+/messages". 429s carry Discord's real headers and body (discord.py
        sleeps ``retry_after`` and retries; with ``via=False`` the Via header is left out, and
        discord.py's webhook adapter raises at once)."""
        fault = Fault(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            retry_after=retry_after,
            code=code,
            times=times,
            message=message,
            is_global=is_global,
            via=via,
        )
        self._faults.append(fault)
        return fault

    def stall_next(self, method: str, path_regex: str, times: int = 1) -> Stall:
        """Carry out the next ``times`` matching requests, but hold their answers until
        ``stall.release()``: the bot's request is done on Discord's side while the bot has
        not heard so (kill it now to crash between the post and its record)."""
        stall = Stall(method=method.upper(), pattern=re.compile(path_regex), times=times)
        self._stalls.append(stall)
        return stall

    # ------------------------------------------------------------------------------------
    # internals shared by routes, gateway and actors
    # ------------------------------------------------------------------------------------
    def _dispatch(
        self, event: str, data: Any, *, intent: int | None = None, guild: Guild | None = None
    ) -> bool:
        if guild is not None and guild.id not in self.guilds:
            return False
        return self.gateway.dispatch(event, data, intent=intent)

    def _start_interaction(
        self,
        *,
        type: int,
        data: dict[str, Any],
        member: Member,
        channel: Channel,
        label: str,
        message: Message | None = None,
        parent: InteractionRecord | None = None,
        focused_option_type: int | None = None,
    ) -> InteractionHandle:
        # The session of the guild's shard must exist; with several processes each runs
        # only some shards, and an interaction goes to its guild's shard alone.
        session = self.gateway.session_for(channel.guild.id)
        if session is None or not session.ready:
            raise AssertionError(
                f"cannot dispatch {label!r}: the bot has not connected to the fake gateway "
                f"(await fake.wait_until_ready() first)\n{self.describe()}"
            )
        guild = channel.guild
        interaction_id = self._new_id()
        token = f"fake-interaction-token-{secrets.token_urlsafe(24)}"
        member_perms = channel_permissions(member, channel)
        bot_perms = channel_permissions(guild.bot_member, channel)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": type,
            "data": data,
            "guild_id": str(guild.id),
            "guild": guild.interaction_guild(),
            "channel_id": str(channel.id),
            "channel": channel.payload() | {"permissions": str(member_perms)},
            "member": member.payload(permissions=member_perms),
            "token": token,
            "version": 1,
            "app_permissions": str(bot_perms),
            "locale": member.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": guild.filesize_limit,
        }
        if message is not None:
            payload["message"] = self.message_payload(message)
        loop = asyncio.get_running_loop()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=type,
            data=data,
            guild=guild,
            channel=channel,
            member=member,
            payload=payload,
            dispatched_at=loop.time(),
            created_at=self.clock.now(),
            ack_deadline=self.ack_deadline,
            token_lifetime=self.token_lifetime,
            label=label,
            message=message,
            parent=parent,
            focused_option_type=focused_option_type,
        )
        self.interactions.append(record)
        self._interactions_by_id[interaction_id] = record
        self._interactions_by_token[token] = record
        self._dispatch("INTERACTION_CREATE", payload)
        self._timers.append(loop.call_later(record.ack_deadline, self._ack_deadline_passed, record))
        self._notify()
        return InteractionHandle(self, record)

    def _ack_deadline_passed(self, record: InteractionRecord) -> None:
        if record.callback is None:
            record.deadline_missed = True
            self._violation(
                "interaction_not_acknowledged",
                f"{record.type_name} {record.label!r} got no initial response within "
                f"{record.ack_deadline:.1f}s (the user sees 'This interaction failed')",
                interaction_id=record.id,
            )
        self._notify()

    def _find_command(self, guild: Guild, name: str, type: int = 1) -> dict[str, Any] | None:
        for scope in (guild.id, None):
            for cmd in self._commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    # -- CDN ---------------------------------------------------------------------------------
    def _sign(self, attachment_id: int, expires: int, issued: int) -> str:
        msg = f"{attachment_id}:{expires:x}:{issued:x}".encode()
        return hmac.new(self._cdn_secret, msg, hashlib.sha256).hexdigest()

    def cdn_url(self, attachment: Attachment, *, proxy: bool = False) -> str:
        """A freshly signed URL (expires after 24 h on the fake clock), like Discord's CDN."""
        issued = int(self.clock.now())
        expires = issued + 24 * 3600
        sig = self._sign(attachment.id, expires, issued)
        prefix = "/proxy" if proxy else ""
        name = quote(attachment.filename)
        path = f"{prefix}/attachments/{attachment.channel_id}/{attachment.id}/{name}"
        return f"{self.base_url}{path}?ex={expires:x}&is={issued:x}&hm={sig}&"

    def check_signature(self, attachment: Attachment, query: dict[str, str]) -> str | None:
        """None if the URL is fine, else why it is not (unsigned bare URLs are accepted)."""
        if "hm" not in query:
            return None
        try:
            expires = int(query.get("ex", ""), 16)
            issued = int(query.get("is", ""), 16)
        except ValueError:
            return "malformed signature"
        if not hmac.compare_digest(self._sign(attachment.id, expires, issued), query["hm"]):
            return "bad signature"
        if self.clock.now() > expires:
            return "signed URL expired"
        return None

    def _store_file(
        self,
        upload: Upload,
        channel_id: int,
        *,
        filename: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> Attachment:
        name = filename or upload.filename
        content_type = upload.content_type
        if not content_type or content_type == "application/octet-stream":
            content_type = sniff_content_type(name, upload.data)
        dims = image_size(upload.data) if content_type.startswith("image/") else None
        attachment = Attachment(
            id=self._new_id(),
            filename=name,
            data=upload.data,
            content_type=content_type,
            channel_id=channel_id,
            url="",
            proxy_url="",
            description=description if description is not None else upload.description,
            width=dims[0] if dims else None,
            height=dims[1] if dims else None,
            ephemeral=ephemeral,
            spoiler=name.startswith("SPOILER_"),
        )
        attachment.url = self.cdn_url(attachment)
        attachment.proxy_url = self.cdn_url(attachment, proxy=True)
        self._attachments[attachment.id] = attachment
        return attachment

    def attachment_payload(self, att: Attachment) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(att.id),
            "filename": att.filename,
            "size": att.size,
            "url": self.cdn_url(att),
            "proxy_url": self.cdn_url(att, proxy=True),
            "content_type": att.content_type,
            "flags": 0,
        }
        if att.description is not None:
            data["description"] = att.description
        if att.width is not None:
            data["width"] = att.width
            data["height"] = att.height
        if att.ephemeral:
            data["ephemeral"] = True
        if att.spoiler:
            data["spoiler"] = True
        return data

    # -- message payloads --------------------------------------------------------------------
    def _resolve_embed(self, embed: dict[str, Any], msg: Message) -> dict[str, Any]:
        out = dict(embed)
        out.setdefault("type", "rich")
        by_name = {a.filename: a for a in msg.attachments}
        for key in ("image", "thumbnail"):
            media = out.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                att = by_name.get(media["url"][len("attachment://") :])
                if att is not None:
                    out[key] = {
                        **media,
                        "url": self.cdn_url(att),
                        "proxy_url": self.cdn_url(att, proxy=True),
                        "width": att.width,
                        "height": att.height,
                        "content_type": att.content_type,
                    }
        return out

    def message_payload(self, msg: Message) -> dict[str, Any]:
        state = msg.state
        data: dict[str, Any] = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "author": msg.author.payload(),
            "content": state.content,
            "timestamp": iso(msg.created_at),
            "edited_timestamp": None if state.edited_at is None else iso(state.edited_at),
            "tts": state.tts,
            "mention_everyone": msg.pings_everyone,
            "mentions": [self._users[u].payload() for u in msg.pinged_user_ids if u in self._users],
            "mention_roles": [str(r) for r in msg.pinged_role_ids],
            "attachments": [self.attachment_payload(a) for a in state.attachments],
            "embeds": [self._resolve_embed(e, msg) for e in state.embeds],
            "pinned": False,
            "type": msg.type,
            "flags": state.flags,
            "components": state.components,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        if msg.reactions:
            data["reactions"] = [
                {
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": msg.reaction_emojis[key],
                }
                for key, users in msg.reactions.items()
                if users
            ]
        if msg.message_reference is not None:
            data["message_reference"] = msg.message_reference
        rec = msg.interaction
        if rec is not None:
            data["webhook_id"] = str(self.application_id)
            data["application_id"] = str(self.application_id)
            metadata: dict[str, Any] = {
                "id": str(rec.id),
                "type": rec.type,
                "user": rec.member.user.payload(),
                "authorizing_integration_owners": {"0": str(rec.guild.id)},
            }
            if msg.interaction_kind == "followup" and rec.original is not None:
                metadata["original_response_message_id"] = str(rec.original.id)
            if rec.message is not None:
                metadata["interacted_message_id"] = str(rec.message.id)
            data["interaction_metadata"] = metadata
            data["interaction"] = {
                "id": str(rec.id),
                "type": rec.type,
                "name": rec.label,
                "user": rec.member.user.payload(),
            }
        return data

    def _gateway_message(self, msg: Message) -> dict[str, Any]:
        data = self.message_payload(msg)
        guild = msg.channel.guild
        if guild is not None and msg.author.id in guild.members:
            data["member"] = guild.members[msg.author.id].payload(with_user=False)
        session = self.gateway.session_for(guild.id if guild is not None else None)
        intents = session.intents if session is not None else 0
        mentioned = self.bot_user.id in msg.pinged_user_ids
        if not msg.by_bot and not intents & Intents.MESSAGE_CONTENT and not mentioned:
            data.update(content="", embeds=[], attachments=[], components=[])
        return data

    def _message_intent(self, msg: Message) -> int:
        return Intents.GUILD_MESSAGES if msg.guild_id is not None else Intents.DIRECT_MESSAGES

    def _add_message(self, msg: Message) -> None:
        self._messages[msg.id] = msg
        msg.channel.last_message_id = msg.id
        if not msg.ephemeral:
            self._dispatch(
                "MESSAGE_CREATE", self._gateway_message(msg), intent=self._message_intent(msg)
            )
        self._notify()

    def _message_updated(self, msg: Message) -> None:
        if not msg.ephemeral:
            self._dispatch(
                "MESSAGE_UPDATE", self._gateway_message(msg), intent=self._message_intent(msg)
            )
        self._notify()

    def _delete_message(self, msg: Message) -> None:
        msg.deleted = True
        msg.deleted_at = self.clock.now()
        if not msg.ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            self._dispatch("MESSAGE_DELETE", data, intent=self._message_intent(msg))
        self._notify()

    # -- reactions ---------------------------------------------------------------------------
    def _reaction_event_base(
        self, msg: Message, user: User, emoji: dict[str, Any]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user_id": str(user.id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": emoji,
            "burst": False,
            "type": 0,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        return data

    def _reaction_intent(self, msg: Message) -> int:
        if msg.guild_id is not None:
            return Intents.GUILD_MESSAGE_REACTIONS
        return Intents.DIRECT_MESSAGE_REACTIONS

    def _add_reaction(self, msg: Message, user: User, key: str, emoji: dict[str, Any]) -> bool:
        users = msg.reactions.setdefault(key, [])
        msg.reaction_emojis.setdefault(key, emoji)
        if user.id in users:
            return False
        users.append(user.id)
        data = self._reaction_event_base(msg, user, emoji)
        data["message_author_id"] = str(msg.author_id)
        data["burst_colors"] = []
        guild = msg.channel.guild
        if guild is not None and user.id in guild.members:
            data["member"] = guild.members[user.id].payload()
        self._dispatch("MESSAGE_REACTION_ADD", data, intent=self._reaction_intent(msg))
        self._notify()
        return True

    def _remove_reaction(self, msg: Message, user: User, key: str) -> bool:
        users = msg.reactions.get(key, [])
        if user.id not in users:
            return False
        users.remove(user.id)
        emoji = msg.reaction_emojis[key]
        if not users:
            del msg.reactions[key]
        self._dispatch(
            "MESSAGE_REACTION_REMOVE",
            self._reaction_event_base(msg, user, emoji),
            intent=self._reaction_intent(msg),
        )
        self._notify()
        return True
