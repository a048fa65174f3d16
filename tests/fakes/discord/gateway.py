"""The fake gateway: HELLO / IDENTIFY -> READY + GUILD_CREATE / HEARTBEAT -> ACK / RESUME with
replay, sequence numbers, intent-gated dispatches, and test controls to drop the connection or
ask for a reconnect. Frames go out as TEXT json (discord.py only inflates binary frames).

Sharding, as Discord documents it (Gateway, Sharding): each IDENTIFY names ``[shard_id,
num_shards]``; a guild's events go to the session with ``(guild_id >> 22) % num_shards ==
shard_id``, and READY lists only that shard's guilds; direct messages go to shard 0. Each
session routes by its own ``num_shards``, as Discord does. Guess: an IDENTIFY for a shard
that already has a session replaces it (Discord would allow both; a bot never does that)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .permissions import PRIVILEGED_INTENTS, Intents
from .records import GatewayRecord

if TYPE_CHECKING:
    from .fake import FakeDiscord

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_UNKNOWN_ERROR = 4000  # resumable
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_INVALID_SHARD = 4010
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014


class GatewayConnection:
    """One websocket. Everything it sends goes through an ordered outbox and a writer task."""

    def __init__(self, hub: GatewayHub, ws: web.WebSocketResponse) -> None:
        self.hub = hub
        self.ws = ws
        self.session: GatewaySession | None = None
        self._outbox: asyncio.Queue[tuple[str, Callable[[], None] | None] | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="fake-discord-gateway-writer")

    def send(self, frame: dict[str, Any], on_sent: Callable[[], None] | None = None) -> None:
        self.hub._log("send", frame)
        self._outbox.put_nowait((json.dumps(frame), on_sent))

    async def _write_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            if item is None:
                return
            text, on_sent = item
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("fake gateway send failed: %s", exc)
                return
            if on_sent is not None:
                on_sent()

    async def close(self, code: int, message: str = "") -> None:
        if self.session is not None and self.session.connection is self:
            self.session.connection = None
        self._outbox.put_nowait(None)
        await self.ws.close(code=code, message=message.encode())

    async def finish(self) -> None:
        if self.session is not None and self.session.connection is self:
            self.session.connection = None
        self._outbox.put_nowait(None)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


class GatewaySession:
    """A gateway session: its sequence counter and every dispatch it produced (for RESUME)."""

    def __init__(self, session_id: str, intents: int, shard: list[int]) -> None:
        self.id = session_id
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.buffer: list[dict[str, Any]] = []
        self.connection: GatewayConnection | None = None
        self.ready = False
        self.invalid = False

    def dispatch(self, event: str, data: Any, on_sent: Callable[[], None] | None = None) -> int:
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(frame)
        if self.connection is not None:
            self.connection.send(frame, on_sent)
        elif on_sent is not None:
            on_sent()
        return self.seq


class GatewayHub:
    def __init__(self, fake: FakeDiscord, *, heartbeat_interval_ms: int) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[int, GatewaySession] = {}  # by shard id
        self.connections: set[GatewayConnection] = set()
        self.log: list[GatewayRecord] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.identify_payload: dict[str, Any] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # -- state -----------------------------------------------------------------------------
    @property
    def session(self) -> GatewaySession | None:
        """Shard 0's session: the only one of a bot that does not shard."""
        return self.sessions.get(0)

    @property
    def connected(self) -> bool:
        """Every shard the bot identified has a live connection."""
        live = self.sessions.values()
        return bool(live) and all(s.connection is not None for s in live)

    @property
    def has_session(self) -> bool:
        """The bot identified every shard and each session is valid (it may be reconnecting
        right now: dispatches are buffered and replayed on RESUME)."""
        live = self.sessions.values()
        return self._all_shards() and all(s.ready and not s.invalid for s in live)

    @property
    def ready(self) -> bool:
        """Valid sessions with live connections: READY and every GUILD_CREATE went out."""
        return self.has_session and self.connected

    def _all_shards(self) -> bool:
        counts = {s.shard[1] for s in self.sessions.values()}
        return len(counts) == 1 and set(self.sessions) == set(range(counts.pop()))

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The valid session that receives this guild's events (shard 0 for DMs)."""
        for shard_id, session in self.sessions.items():
            if session.invalid:
                continue
            if guild_id is None:
                if shard_id == 0:
                    return session
            elif (guild_id >> 22) % session.shard[1] == shard_id:
                return session
        return None

    def _log(self, direction: str, frame: dict[str, Any]) -> None:
        self.log.append(
            GatewayRecord(
                direction=direction,
                op=int(frame.get("op", -1)),
                t=frame.get("t"),
                s=frame.get("s"),
                d=frame.get("d"),
                at=self.fake.clock.now(),
            )
        )
        self.fake._notify()

    def dispatch(self, event: str, data: Any, *, intent: int | None = None) -> bool:
        """Send (or buffer for RESUME) a dispatch event to the guild's shard; False if the bot
        has no session there or did not ask for ``intent``."""
        session = self.session_for(_guild_of(event, data))
        if session is None:
            return False
        if intent is not None and not session.intents & intent:
            return False
        session.dispatch(event, data)
        return True

    # -- websocket handler -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(self, ws)
        self.connections.add(conn)
        conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        self.fake._violation(
                            "gateway_decode_error", f"not JSON: {msg.data[:200]!r}"
                        )
                        await conn.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                        break
                    await self._on_frame(conn, frame)
                elif msg.type is WSMsgType.BINARY:
                    self.fake._violation(
                        "gateway_decode_error", "binary frame (the fake speaks json)"
                    )
                    await conn.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                    break
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            session = conn.session
            if session is not None and session.connection is conn and ws.close_code in (1000, 1001):
                session.invalid = True  # a clean close by the client ends the session (no RESUME)
            self.connections.discard(conn)
            await conn.finish()
            self.fake._notify()
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        self._log("recv", frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            conn.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self._request_members(conn, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            return
        else:
            self.fake._violation("gateway_unknown_opcode", f"bot sent unknown opcode {op!r}")

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        fake = self.fake
        self.identify_payload = data
        if data.get("token") != fake.bot_token:
            fake._violation("gateway_authentication_failed", "IDENTIFY with a wrong token")
            await conn.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            fake._violation(
                "gateway_invalid_intents", f"IDENTIFY without valid intents: {intents!r}"
            )
            await conn.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        allowed = fake.privileged_intents
        if allowed is not None and intents & PRIVILEGED_INTENTS & ~allowed:
            names = [i.name for i in Intents if i & intents & PRIVILEGED_INTENTS & ~allowed]
            fake._violation(
                "gateway_disallowed_intents", f"privileged intents not enabled: {names}"
            )
            await conn.close(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard = data.get("shard") or [0, 1]
        if not _valid_shard(shard):
            fake._violation("gateway_invalid_shard", f"IDENTIFY with shard {shard!r}")
            await conn.close(CLOSE_INVALID_SHARD, "Invalid shard.")
            return
        self.identify_count += 1
        previous = self.sessions.get(shard[0])
        if previous is not None:
            previous.invalid = True
        session = GatewaySession(secrets.token_hex(16), intents, shard)
        self.sessions[shard[0]] = session
        session.connection = conn
        conn.session = session
        guilds = [g for g in fake.guilds.values() if (g.id >> 22) % shard[1] == shard[0]]
        ready = {
            "v": 10,
            "user": fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": fake.gateway_url,
            "shard": shard,
            "application": {"id": str(fake.application_id), "flags": fake.application_flags},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
        }

        def mark_ready() -> None:
            session.ready = True
            fake._notify()

        session.dispatch(
            "READY", ready, None if guilds and intents & Intents.GUILDS else mark_ready
        )
        if intents & Intents.GUILDS:
            for i, guild in enumerate(guilds):
                last = i == len(guilds) - 1
                session.dispatch(
                    "GUILD_CREATE", guild.gateway_payload(intents), mark_ready if last else None
                )
        elif guilds:
            mark_ready()
        fake._notify()

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        fake = self.fake
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        ok = (
            session is not None
            and not session.invalid
            and data.get("session_id") == session.id
            and data.get("token") == fake.bot_token
        )
        if not ok or session is None:
            fake._warning(
                "gateway_resume_rejected", f"RESUME {data.get('session_id')!r} not resumable"
            )
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            return
        last_seq = data.get("seq") or 0
        if session.connection is not None and session.connection is not conn:
            old = session.connection
            session.connection = None
            self._closing.add(
                asyncio.create_task(old.close(CLOSE_UNKNOWN_ERROR, "resumed elsewhere"))
            )
        session.connection = conn
        conn.session = session
        self.resume_count += 1
        missed = [frame for frame in session.buffer if frame["s"] > last_seq]
        for frame in missed:
            conn.send(frame)
        session.dispatch("RESUMED", {})
        fake._notify()

    def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        fake = self.fake
        session = conn.session
        if session is None:
            return
        guild = fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = str(data.get("query") or "")
        limit = int(data.get("limit") or 0)
        user_ids = {int(u) for u in data.get("user_ids") or []}
        members = [
            m
            for m in guild.members.values()
            if (not user_ids or m.id in user_ids) and m.name.startswith(query)
        ]
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "presences": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- test controls ---------------------------------------------------------------------
    async def drop(self, *, resume: bool = True, shard: int = 0) -> None:
        session = self.sessions.get(shard)
        if session is None or session.connection is None:
            raise AssertionError("drop_gateway(): the bot is not connected to the fake gateway")
        conn = session.connection
        if resume:
            await conn.close(CLOSE_UNKNOWN_ERROR, "fake: connection dropped")
        else:
            session.invalid = True
            conn.send({"op": OP_INVALID_SESSION, "d": False})
        self.fake._notify()

    async def send_reconnect(self, *, shard: int = 0) -> None:
        session = self.sessions.get(shard)
        if session is None or session.connection is None:
            raise AssertionError("send_reconnect(): the bot is not connected to the fake gateway")
        session.connection.send({"op": OP_RECONNECT, "d": None})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.close(1001, "fake shutting down")


_GUILD_EVENTS_BY_ID = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def _guild_of(event: str, data: Any) -> int | None:
    """The guild a dispatch belongs to (its shard's), or None for a direct message."""
    if not isinstance(data, dict):
        return None
    raw = data.get("id") if event in _GUILD_EVENTS_BY_ID else data.get("guild_id")
    return int(raw) if raw else None


def _valid_shard(shard: Any) -> bool:
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
        and 0 <= shard[0] < shard[1]
    )
