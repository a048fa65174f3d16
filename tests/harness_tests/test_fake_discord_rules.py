"""Discord's rules as the fake enforces them, driven by a bare-bones client (raw websocket and
raw HTTP, no discord.py) so every payload can be exactly the one under test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import (
    ATTACH_FILES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    Guild,
    Intents,
    InteractionRejected,
    Member,
)

pytestmark = pytest.mark.timeout(30)

INTENTS = int(Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.GUILD_MESSAGE_REACTIONS)
COMMANDS = [
    {
        "name": "ping",
        "description": "Ping",
        "type": 1,
        "options": [{"type": 3, "name": "word", "description": "A word", "autocomplete": True}],
    }
]


class RawBot:
    """Just enough of a bot: IDENTIFY/RESUME on a websocket, collect dispatches, call REST."""

    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession, intents: int) -> None:
        self.fake = fake
        self.session = session
        self.intents = intents
        self.frames: list[dict[str, Any]] = []
        self.seq: int | None = None
        self.session_id: str | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, *, resume: bool = False, token: str | None = None) -> dict[str, Any]:
        self.ws = await self.session.ws_connect(self.fake.gateway_url + "?v=10&encoding=json")
        hello = await self.ws.receive_json()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        token = token or self.fake.bot_token
        if resume:
            await self.ws.send_json(
                {"op": 6, "d": {"token": token, "session_id": self.session_id, "seq": self.seq}}
            )
        else:
            await self.ws.send_json(
                {
                    "op": 2,
                    "d": {
                        "token": token,
                        "intents": self.intents,
                        "properties": {},
                        "shard": [0, 1],
                    },
                }
            )
        self._reader = asyncio.create_task(self._read())
        return hello

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            frame = json.loads(msg.data)
            if frame.get("s") is not None:
                self.seq = frame["s"]
            if frame.get("t") == "READY":
                self.session_id = frame["d"]["session_id"]
            self.frames.append(frame)
            self._queue.put_nowait(frame)

    async def next(self, event: str | None = None, op: int | None = None) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self._queue.get(), 5)
            if (event is None or frame.get("t") == event) and (op is None or frame.get("op") == op):
                return frame

    async def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        files: dict[str, bytes] | None = None,
        auth: bool = True,
    ) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bot {self.fake.bot_token}"} if auth else {}
        data: Any = None
        if files:
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("payload_json", json.dumps(body))
            for i, (name, content) in enumerate(files.items()):
                form.add_field(
                    f"files[{i}]", content, filename=name, content_type="application/octet-stream"
                )
            data = form
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        async with self.session.request(
            method, self.fake.api_base + path, data=data, headers=headers
        ) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None), r.headers

    async def respond(
        self, interaction: dict[str, Any], body: dict[str, Any], **kw: Any
    ) -> tuple[int, Any]:
        path = (
            f"/interactions/{interaction['id']}/{interaction['token']}/callback?with_response=true"
        )
        status, data, _ = await self.api("POST", path, body, auth=False, **kw)
        return status, data

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader


@pytest.fixture
async def raw(fake: FakeDiscord, guild: Guild) -> AsyncIterator[RawBot]:
    async with aiohttp.ClientSession() as session:
        bot = RawBot(fake, session, INTENTS)
        status, _, _ = await bot.api(
            "PUT", f"/applications/{fake.application_id}/guilds/{guild.id}/commands", COMMANDS
        )
        assert status == 200
        await bot.connect()
        await bot.next("GUILD_CREATE")
        await fake.wait_until_ready()
        yield bot
        await bot.close()


def channel_path(guild: Guild) -> str:
    return f"/channels/{guild.default_channel.id}/messages"


async def test_message_limits_answer_50035_with_the_field_path(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    button = {"type": 2, "style": 1, "label": "ok", "custom_id": "a"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t"}] * 11}, "embeds"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "embeds.0.fields.0.value"),
        ({"content": "x", "components": [{"type": 1, "components": [button]}] * 6}, "components"),
        (
            {
                "content": "x",
                "components": [
                    {"type": 1, "components": [{**button, "custom_id": str(i)} for i in range(6)]}
                ],
            },
            "components.0.components",
        ),
        (
            {"content": "x", "components": [{"type": 1, "components": [button, dict(button)]}]},
            "components",
        ),
        (
            {
                "content": "x",
                "components": [{"type": 1, "components": [{**button, "label": "l" * 81}]}],
            },
            "components.0.components.0.label",
        ),
        (
            {
                "content": "x",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 3,
                                "custom_id": "s",
                                "options": [{"label": str(i), "value": str(i)} for i in range(26)],
                            }
                        ],
                    }
                ],
            },
            "components.0.components.0.options",
        ),
    ]
    for body, field in cases:
        status, data, _ = await raw.api("POST", channel_path(guild), body)
        assert (status, data["code"]) == (400, 50035), body
        node = data["errors"]
        for part in field.split("."):
            node = node[part]
        assert node["_errors"], (field, data)
    status, data, _ = await raw.api("POST", channel_path(guild), {"content": ""})
    assert (status, data["code"]) == (400, 50006)
    assert len(fake.violations) == len(cases) + 1
    assert fake.messages() == []
    status, data, _ = await raw.api("POST", channel_path(guild), {"content": "fine"})
    assert status == 200 and data["content"] == "fine"
    assert (await raw.next("MESSAGE_CREATE"))["d"]["id"] == data["id"]


async def test_channel_permissions_and_file_limits(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    quiet = guild.add_channel("quiet")
    hidden = guild.add_channel("hidden")
    guild.set_bot_channel_permissions(quiet, deny=SEND_MESSAGES)
    guild.set_bot_channel_permissions(hidden, deny=VIEW_CHANNEL)
    status, data, _ = await raw.api("POST", f"/channels/{quiet.id}/messages", {"content": "hi"})
    assert (status, data["code"]) == (403, 50013)
    status, data, _ = await raw.api("POST", f"/channels/{hidden.id}/messages", {"content": "hi"})
    assert (status, data["code"]) == (403, 50001)
    guild.filesize_limit = 1000
    body = {"content": "pic", "attachments": [{"id": 0, "filename": "a.bin"}]}
    status, data, _ = await raw.api(
        "POST", channel_path(guild), body, files={"a.bin": b"\0" * 1001}
    )
    assert (status, data["code"]) == (413, 40005)
    eleven = {f"{i}.txt": b"x" for i in range(11)}
    status, data, _ = await raw.api("POST", channel_path(guild), {"content": "many"}, files=eleven)
    assert (status, data["code"]) == (400, 50035)
    status, data, _ = await raw.api("POST", channel_path(guild), body, files={"a.bin": b"abc"})
    assert status == 200
    msg = fake.message(int(data["id"]))
    assert msg.attachments[0].data == b"abc" and msg.attachments[0].filename == "a.bin"
    rules = [v["rule"] for v in fake.violations]
    assert rules == [
        "missing_permissions",
        "missing_access",
        "request_too_large",
        "invalid_form_body",
    ]


async def test_interaction_callback_rules(fake: FakeDiscord, guild: Guild, raw: RawBot) -> None:
    """Discord docs, Receiving and Responding (Responding to an Interaction): one initial
    response per interaction (a second gets 400 40060 "Interaction has already been
    acknowledged"); the callback type must suit the interaction (UPDATE_MESSAGE only for
    components); ephemeral is set by flag 64 in the initial response."""
    alice = guild.add_member("alice")
    h = await alice.slash("ping", word="hi")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    assert interaction["data"]["options"] == [{"name": "word", "type": 3, "value": "hi"}]
    assert interaction["member"]["user"]["id"] == str(alice.id)
    status, data = await raw.respond(interaction, {"type": 7, "data": {"content": "no"}})
    assert (status, data["code"]) == (400, 50035)  # UPDATE_MESSAGE is not valid for a slash command
    status, data = await raw.respond(
        interaction, {"type": 9, "data": {"custom_id": "m", "title": "t" * 46, "components": []}}
    )
    assert (status, data["code"]) == (400, 50035)
    assert set(data["errors"]) == {"title", "components"}
    status, data = await raw.respond(
        interaction, {"type": 4, "data": {"content": "pong", "flags": 64}}
    )
    assert status == 200
    assert data["interaction"]["response_message_ephemeral"] is True
    assert data["resource"]["message"]["content"] == "pong"
    status, data = await raw.respond(interaction, {"type": 4, "data": {"content": "again"}})
    assert (status, data["code"]) == (400, 40060)
    assert h.original is not None and h.original.ephemeral and h.original.content == "pong"
    # the followup webhook exists now; a followup is a new message
    hook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    status, data, _ = await raw.api("POST", hook + "?wait=true", {"content": "more"}, auth=False)
    assert status == 200 and [m.content for m in h.followups] == ["more"]
    assert [a.error_code for a in h.attempts] == [50035, 50035, None, 40060]


async def test_defer_then_followup_fills_the_thinking_message(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    """Discord docs, Receiving and Responding (Followup Messages): after a
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE the first followup edits the "thinking" original;
    later followups are new messages; the token works for 15 minutes, then 401 50027."""
    alice = guild.add_member("alice")
    h = await alice.slash("ping")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    hook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    status, data, _ = await raw.api("POST", hook + "?wait=true", {"content": "early"}, auth=False)
    assert (status, data["code"]) == (404, 10015)  # no webhook before the initial response
    status, data = await raw.respond(interaction, {"type": 5})
    assert status == 200 and data["interaction"]["response_message_loading"] is True
    assert h.original is not None and h.original.loading
    status, data, _ = await raw.api("POST", hook + "?wait=true", {"content": "done"}, auth=False)
    assert status == 200 and data["id"] == str(h.original.id)
    assert h.original.content == "done" and not h.original.loading and h.followups == []
    assert [w["rule"] for w in fake.warnings] == ["followup_edited_deferred_original"]
    status, data, _ = await raw.api("POST", hook + "?wait=true", {"content": "second"}, auth=False)
    assert [m.content for m in h.followups] == ["second"]
    fake.clock.advance(15 * 60)
    status, data, _ = await raw.api(
        "PATCH", hook + "/messages/@original", {"content": "x"}, auth=False
    )
    assert (status, data["code"]) == (401, 50027)


async def test_private_followup_after_a_public_defer_follows_discords_rule(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    """The first followup after a type-5 defer edits the original, keeps the defer's
    visibility whatever flags it asks for, and gets 10008 if the original was deleted.

    Discord docs, Create Followup Message: used right after a deferred response it
    "functions as Edit Original Interaction Response" and the ephemeral flag is ignored;
    editing a deleted original is 404 Unknown Message (discord-api-docs issue #3087)."""
    alice = guild.add_member("alice")
    h = await alice.slash("ping")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    hook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    status, _ = await raw.respond(interaction, {"type": 5})
    assert status == 200 and h.original is not None
    status, _, _ = await raw.api("DELETE", hook + "/messages/@original", None, auth=False)
    assert status == 204
    status, data, _ = await raw.api(
        "POST", hook + "?wait=true", {"content": "private", "flags": 64}, auth=False
    )
    assert (status, data["code"]) == (404, 10008)
    assert h.followups == []

    bob = guild.add_member("bob")
    h2 = await bob.slash("ping")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    hook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    await raw.respond(interaction, {"type": 5})
    status, data, _ = await raw.api(
        "POST", hook + "?wait=true", {"content": "asked private", "flags": 64}, auth=False
    )
    assert status == 200 and h2.original is not None and data["id"] == str(h2.original.id)
    assert not h2.original.ephemeral and h2.followups == []  # the defer's visibility wins
    # once the original was resolved, an ephemeral followup is a new private message
    await raw.api("PATCH", hook + "/messages/@original", {"content": "resolved"}, auth=False)
    status, _, _ = await raw.api(
        "POST", hook + "?wait=true", {"content": "secret", "flags": 64}, auth=False
    )
    assert status == 200 and [m.ephemeral for m in h2.followups] == [True]


async def test_autocomplete_and_modal_answers_are_checked(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    alice = guild.add_member("alice")

    async def answer_autocomplete(choices: list[dict[str, Any]]) -> int:
        interaction = (await raw.next("INTERACTION_CREATE"))["d"]
        assert interaction["type"] == 4
        assert interaction["data"]["options"][0]["focused"] is True
        status, _ = await raw.respond(interaction, {"type": 8, "data": {"choices": choices}})
        return status

    too_many = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    fake.ack_deadline = 0.3
    task = asyncio.create_task(answer_autocomplete(too_many))
    with pytest.raises(AssertionError, match="not acknowledged"):
        await alice.autocomplete("ping", focused="word", value="c")
    assert await task == 400
    fake.ack_deadline = 3.0
    task = asyncio.create_task(answer_autocomplete([{"name": "cat", "value": "cat"}]))
    assert await alice.autocomplete("ping", focused="word", value="c") == [
        {"name": "cat", "value": "cat"}
    ]
    assert await task == 200

    h = await alice.slash("ping")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    modal = {
        "custom_id": "form",
        "title": "Form",
        "components": [
            {
                "type": 18,
                "label": "Name",
                "component": {"type": 4, "custom_id": "name", "style": 1, "min_length": 2},
            },
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": "bio", "style": 2, "label": "Bio", "required": False}
                ],
            },
        ],
    }
    status, _ = await raw.respond(interaction, {"type": 9, "data": modal})
    assert status == 200
    with pytest.raises(InteractionRejected, match=r"2\.\.4000"):
        await h.submit_modal({"name": "A"})
    submit = await h.submit_modal({"name": "Aiko"})
    sent = (await raw.next("INTERACTION_CREATE"))["d"]
    assert sent["type"] == 5 and sent["id"] == str(submit.id)
    assert sent["data"]["components"] == [
        {"type": 18, "component": {"type": 4, "custom_id": "name", "value": "Aiko"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "bio", "value": ""}]},
    ]
    status, _ = await raw.respond(sent, {"type": 9, "data": modal})
    assert status == 400  # a modal cannot answer a modal submit


async def test_ephemeral_messages_and_components_visibility(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    await alice.slash("ping")
    interaction = (await raw.next("INTERACTION_CREATE"))["d"]
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}
    await raw.respond(
        interaction, {"type": 4, "data": {"content": "secret", "flags": 64, "components": [row]}}
    )
    secret = await fake.wait_for_message(lambda m: m.content == "secret")
    with pytest.raises(InteractionRejected, match="ephemeral"):
        await bob.click(secret, "go")
    with pytest.raises(InteractionRejected, match="ephemeral"):
        await alice.react(secret, "⭐")
    click = await alice.click(secret, "go")
    assert (await raw.next("INTERACTION_CREATE"))["d"]["message"]["id"] == str(secret.id)
    status, _, _ = await raw.api("GET", f"{channel_path(guild)}/{secret.id}")
    assert status == 404  # ephemeral messages are not in the channel
    assert click.record.message is secret


async def test_gateway_sequence_resume_and_invalid_session(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    ready = next(f for f in raw.frames if f.get("t") == "READY")
    assert ready["s"] == 1 and ready["d"]["resume_gateway_url"] == fake.gateway_url
    assert ready["d"]["guilds"] == [{"id": str(guild.id), "unavailable": True}]
    create = next(f for f in raw.frames if f.get("t") == "GUILD_CREATE")["d"]
    assert [m["user"]["id"] for m in create["members"]] == [
        str(fake.bot_user_id)
    ]  # no GUILD_MEMBERS
    assert raw.ws is not None
    await raw.ws.send_json({"op": 1, "d": raw.seq})
    await raw.next(op=11)

    await fake.drop_gateway(resume=True)
    await raw._reader  # type: ignore[misc]
    alice = guild.add_member("alice")  # GUILD_MEMBER_ADD: not sent, no GUILD_MEMBERS intent
    message = await alice.say(content="hello")  # MESSAGE_CREATE: buffered for the resume
    await alice.react(message, "👍")
    last_seq = raw.seq
    assert last_seq is not None
    await raw.connect(resume=True)
    replayed = [await raw.next() for _ in range(3)]
    assert [f["t"] for f in replayed] == ["MESSAGE_CREATE", "MESSAGE_REACTION_ADD", "RESUMED"]
    assert [f["s"] for f in replayed] == [last_seq + 1, last_seq + 2, last_seq + 3]
    assert replayed[0]["d"]["content"] == ""  # no MESSAGE_CONTENT intent
    assert fake.resume_count == 1

    async with aiohttp.ClientSession() as session:
        stranger = RawBot(fake, session, INTENTS)
        stranger.session_id, stranger.seq = "not-a-session", 1
        await stranger.connect(resume=True)
        assert (await stranger.next(op=9))["d"] is False
        await stranger.close()


async def test_privileged_intents_and_bad_token_close_the_socket(
    fake: FakeDiscord, guild: Guild
) -> None:
    fake.privileged_intents = 0
    async with aiohttp.ClientSession() as session:
        greedy = RawBot(fake, session, INTENTS | int(Intents.MESSAGE_CONTENT))
        await greedy.connect()
        await greedy._reader  # type: ignore[misc]
        assert greedy.ws is not None and greedy.ws.close_code == 4014
        impostor = RawBot(fake, session, INTENTS)
        await impostor.connect(token="wrong")
        await impostor._reader  # type: ignore[misc]
        assert impostor.ws is not None and impostor.ws.close_code == 4004
    assert [v["rule"] for v in fake.violations] == [
        "gateway_disallowed_intents",
        "gateway_authentication_failed",
    ]


async def test_injected_429_has_discords_headers_and_body(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    fake.fail_next("POST", r"/channels/\d+/messages", status=429, retry_after=2.5)
    status, data, headers = await raw.api("POST", channel_path(guild), {"content": "hi"})
    assert status == 429
    assert data == {"message": "You are being rate limited.", "retry_after": 2.5, "global": False}
    assert headers["Retry-After"] == "3" and headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Scope"] == "user" and headers["Via"]
    fake.fail_next("GET", r"/guilds/\d+$", status=500, times=2)
    statuses = [(await raw.api("GET", f"/guilds/{guild.id}"))[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert fake.violations == []  # injected faults are not the bot's fault
    status, data, _ = await raw.api("GET", "/nonsense")
    assert (status, fake.violations[-1]["rule"]) == (404, "unknown_route")


async def test_cdn_urls_are_signed_and_expire(fake: FakeDiscord, guild: Guild, raw: RawBot) -> None:
    body = {"content": "pic", "attachments": [{"id": 0, "filename": "a.txt", "description": "alt"}]}
    status, data, _ = await raw.api("POST", channel_path(guild), body, files={"a.txt": b"hello"})
    assert status == 200
    att = data["attachments"][0]
    assert att["content_type"].startswith("text/plain") and att["description"] == "alt"
    async with raw.session.get(att["url"]) as resp:
        assert resp.status == 200 and await resp.read() == b"hello"
    async with raw.session.get(att["url"].replace("hm=", "hm=0")) as resp:
        assert resp.status == 404
    fake.clock.advance(25 * 3600)
    async with raw.session.get(att["url"]) as resp:
        assert resp.status == 404  # signed URLs expire: store bytes, not links


async def test_reactions_members_and_role_updates_are_dispatched(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    artists = guild.add_role("Artists")
    alice: Member = guild.add_member("alice", roles=[artists])
    status, data, _ = await raw.api("POST", channel_path(guild), {"content": "react here"})
    message = fake.message(int(data["id"]))
    await alice.react(message, "⭐")
    event = (await raw.next("MESSAGE_REACTION_ADD"))["d"]
    assert event["user_id"] == str(alice.id) and event["emoji"] == {"id": None, "name": "⭐"}
    assert event["member"]["roles"] == [str(artists.id)] and event["message_author_id"] == str(
        fake.bot_user_id
    )
    emoji = f"/channels/{guild.default_channel.id}/messages/{message.id}/reactions/%E2%AD%90/@me"
    status, _, _ = await raw.api("PUT", emoji)
    assert status == 204 and message.reaction_count("⭐") == 2
    await alice.unreact(message, "⭐")
    assert (await raw.next("MESSAGE_REACTION_REMOVE"))["d"]["user_id"] == str(alice.id)
    status, data, _ = await raw.api("PUT", emoji.replace("%E2%AD%90", "nope"))
    assert (status, data["code"]) == (400, 10014)
    guild.set_bot_channel_permissions(guild.default_channel, deny=ATTACH_FILES)
    update = (await raw.next("CHANNEL_UPDATE"))["d"]
    assert update["permission_overwrites"][0]["deny"] == str(int(ATTACH_FILES))


async def test_select_menu_round_trip(fake: FakeDiscord, guild: Guild, raw: RawBot) -> None:
    alice = guild.add_member("alice")
    options = [{"label": x.upper(), "value": x} for x in "abc"]
    select = {"type": 3, "custom_id": "pick", "min_values": 1, "max_values": 2, "options": options}
    body = {"content": "choose", "components": [{"type": 1, "components": [select]}]}
    status, data, _ = await raw.api("POST", channel_path(guild), body)
    message = fake.message(int(data["id"]))
    with pytest.raises(InteractionRejected, match="no option"):
        await alice.select(message, "pick", ["z"])
    with pytest.raises(InteractionRejected, match=r"1\.\.2 values"):
        await alice.select(message, "pick", ["a", "b", "c"])
    h = await alice.select(message, "pick", ["a", "c"])
    event = (await raw.next("INTERACTION_CREATE"))["d"]
    assert event["data"] == {"custom_id": "pick", "component_type": 3, "values": ["a", "c"]}
    status, _ = await raw.respond(event, {"type": 6})
    assert status == 200 and h.original is message and h.callback is not None


async def test_direct_messages_and_closed_dms(fake: FakeDiscord, guild: Guild, raw: RawBot) -> None:
    alice = guild.add_member("alice")
    status, dm, _ = await raw.api("POST", "/users/@me/channels", {"recipient_id": str(alice.id)})
    assert status == 200 and dm["type"] == 1 and dm["recipients"][0]["id"] == str(alice.id)
    status, _, _ = await raw.api("POST", f"/channels/{dm['id']}/messages", {"content": "hi"})
    assert status == 200
    assert [m.content for m in fake.messages(fake.dm_channel(alice))] == ["hi"]
    alice.dms_open = False
    status, data, _ = await raw.api("POST", f"/channels/{dm['id']}/messages", {"content": "again"})
    assert (status, data["code"]) == (403, 50007)


async def test_guilds_roles_and_members_added_later_are_dispatched(
    fake: FakeDiscord, guild: Guild
) -> None:
    async with aiohttp.ClientSession() as session:
        bot = RawBot(fake, session, INTENTS | int(Intents.GUILD_MEMBERS))
        await bot.connect()
        await bot.next("GUILD_CREATE")
        second = fake.add_guild("Second", premium_tier=2, locale="zh-CN")
        created = (await bot.next("GUILD_CREATE"))["d"]
        assert created["id"] == str(second.id) and "unavailable" not in created  # a join
        assert (created["premium_tier"], created["preferred_locale"]) == (2, "zh-CN")
        assert second.filesize_limit == 50 * 1024 * 1024
        role = second.add_role("Artists")
        assert (await bot.next("GUILD_ROLE_CREATE"))["d"]["role"]["name"] == "Artists"
        bob = second.add_member("bob")
        assert (await bot.next("GUILD_MEMBER_ADD"))["d"]["user"]["id"] == str(bob.id)
        bob.add_role(role)
        assert (await bot.next("GUILD_MEMBER_UPDATE"))["d"]["roles"] == [str(role.id)]
        status, member, _ = await bot.api("GET", f"/guilds/{second.id}/members/{bob.id}")
        assert status == 200 and member["roles"] == [str(role.id)]
        status, roles, _ = await bot.api("GET", f"/guilds/{second.id}/roles")
        assert {r["name"] for r in roles} == {"@everyone", "Artists", fake.bot_user.username}
        await bot.close()


async def test_invalidated_session_makes_the_bot_identify_again(
    fake: FakeDiscord, guild: Guild, raw: RawBot
) -> None:
    old_session = raw.session_id
    await fake.drop_gateway(resume=False)
    assert (await raw.next(op=9))["d"] is False
    await raw.close()
    await raw.connect(resume=True)  # the old session is gone...
    assert (await raw.next(op=9))["d"] is False
    await raw.close()
    await raw.connect()  # ...so the bot identifies again
    ready = await raw.next("READY")
    assert ready["s"] == 1 and ready["d"]["session_id"] != old_session
    await fake.wait_until_ready()
    assert (fake.identify_count, fake.resume_count) == (2, 0)
