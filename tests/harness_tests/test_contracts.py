"""The fakes against the official API specifications (tests/contracts).

Requests: a malformed request reaching either fake is recorded as a contract violation (the
end-to-end fixtures fail any test whose bot sends one). Responses: what the fakes answer
(REST bodies, error bodies, image responses and stream events, moderation results) follows
the specification's response schemas.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.contracts.contract import Violation, contract, json_pointer
from tests.fakes.discord import FakeDiscord
from tests.fakes.openai import FakeOpenAI

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


async def discord_call(
    fake: FakeDiscord, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {fake.bot_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base + path, json=body, headers=headers) as response,
    ):
        text = await response.text()
        return response.status, json.loads(text) if text else None


def where(violations: list[Violation]) -> set[str]:
    return {v.where for v in violations}


# --------------------------------------------------------------------------- requests


async def test_a_malformed_discord_request_is_caught(discord_fake: FakeDiscord) -> None:
    channel = discord_fake.add_guild("Club").channel("general")
    await discord_call(
        discord_fake,
        "POST",
        f"/channels/{channel.id}/messages",
        {"content": "hi", "embeds": [{"title": "x" * 300}], "components": "not a list"},
    )
    found = where(discord_fake.contract_violations)
    assert {"$.embeds[0].title", "$.components"} <= found
    with pytest.raises(AssertionError, match="embeds"):
        discord_fake.assert_contract_kept()


async def test_a_well_formed_discord_request_passes(discord_fake: FakeDiscord) -> None:
    channel = discord_fake.add_guild("Club").channel("general")
    status, _ = await discord_call(
        discord_fake,
        "POST",
        f"/channels/{channel.id}/messages",
        {"content": "hi", "embeds": [{"title": "Aiko", "description": "silver hair"}]},
    )
    assert status == 200
    assert discord_fake.contract_violations == []


async def test_a_malformed_openai_request_is_caught(openai_fake: FakeOpenAI) -> None:
    headers = {"Authorization": f"Bearer {openai_fake.api_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{openai_fake.base_url}/images/generations",
            json={"model": "gpt-image-2", "prompt": "a cat", "n": 40, "quality": 7},
            headers=headers,
        ) as response,
    ):
        await response.read()
    assert {"$.n", "$.quality"} <= where(openai_fake.contract_violations)


def test_known_spec_lag_is_allowed_explicitly_and_nothing_else() -> None:
    openai = contract("openai")
    lagging = {"model": "gpt-image-2", "prompt": "p", "safety_identifier": "abc"}
    assert openai.check_request("POST", "/images/generations", body=lagging) == []
    # The same request with a field nobody documents is still a violation... when the
    # schema forbids unknown fields; either way a wrong type is caught.
    wrong = {"model": "gpt-image-2", "prompt": 5}
    assert where(openai.check_request("POST", "/images/generations", body=wrong)) == {"$.prompt"}
    assert openai.check_request("POST", "/images/variations", body={})[0].where == "route"


# A finished picture as discord.py edits it into the member's message: the richest request
# the bot sends (embed, attachment, a row of buttons), with the differences from the spec
# that ALLOWANCES name (an integer attachment id, tts, embeds[].flags).
PICTURE_EDIT: dict[str, Any] = {
    "content": None,
    "tts": False,
    "embeds": [
        {
            "title": "Aiko",
            "description": "silver hair, red eyes",
            "color": 0xF4A7C1,
            "image": {"url": "attachment://aiko-1.png"},
            "footer": {"text": "#12 · anime · square"},
            "fields": [{"name": "Style", "value": "anime", "inline": True}],
            "flags": 0,
        }
    ],
    "attachments": [{"id": 0, "filename": "aiko-1.png"}],
    "components": [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 1, "label": "Vary", "custom_id": "pic:vary:12"},
                {"type": 2, "style": 2, "emoji": {"name": "⭐"}, "custom_id": "pic:fav:12"},
                {"type": 2, "style": 4, "label": "Delete", "custom_id": "pic:del:12"},
            ],
        }
    ],
    "allowed_mentions": {"parse": []},
}
EDIT_SCHEMA = (
    "paths",
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "patch",
    "requestBody",
    "content",
    "application/json",
    "schema",
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=90),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=8,
)


def _places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as the keys and indexes that lead to it."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _places(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _places(inner, (*at, index))
    return found


@st.composite
def _mutated_edits(draw: st.DrawFn) -> Any:
    """The picture edit with one place replaced, removed or given an unknown key."""
    body = json.loads(json.dumps(PICTURE_EDIT))
    place = draw(st.sampled_from(_places(body)))
    if not place:  # the whole body (None is "no body", a check of its own)
        return draw(JSON.filter(lambda value: value is not None))
    parent = body
    for step in place[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[place[-1]] = draw(JSON)
    elif action == "remove":
        del parent[place[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = draw(JSON)
    else:
        parent.append(draw(JSON))
    return body


EDIT_PATH = "/webhooks/1/token/messages/@original"


def _reference_violations(body: Any) -> list[tuple[str, str]]:
    """What the Python validator alone finds in a picture edit, less what ALLOWANCES allow."""
    discord = contract("discord")
    reference = Draft202012Validator(
        {"$ref": f"{discord.base}#/{json_pointer(*EDIT_SCHEMA)}"}, registry=discord.registry
    )
    found = [
        Violation("discord", "PATCH", EDIT_PATH, EDIT_SCHEMA[1], e.json_path, e.message)
        for e in reference.iter_errors(body)
    ]
    return sorted(
        (v.where, v.message) for v in found if not any(a.covers(v) for a in discord.allowances)
    )


@settings(max_examples=300, deadline=None)
@given(_mutated_edits())
def test_the_fast_check_finds_every_fault_the_full_validator_finds(body: Any) -> None:
    """The compiled validator (on the body with allowed differences mended) decides whether
    a request is checked in full: it must never pass a body with a fault the reference
    validator (python ``jsonschema``) finds and no allowance allows."""
    checked = contract("discord").check_request("PATCH", EDIT_PATH, body=body)
    assert sorted((v.where, v.message) for v in checked) == _reference_violations(body)


def test_the_picture_edit_the_property_mutates_breaks_only_allowed_rules() -> None:
    discord = contract("discord")
    assert discord.check_request("PATCH", EDIT_PATH, body=PICTURE_EDIT) == []
    reference = Draft202012Validator(
        {"$ref": f"{discord.base}#/{json_pointer(*EDIT_SCHEMA)}"}, registry=discord.registry
    )
    assert len(list(reference.iter_errors(PICTURE_EDIT))) == 1  # the integer attachment id


# --------------------------------------------------------------------------- responses


async def test_discord_rest_answers_follow_the_specification(discord_fake: FakeDiscord) -> None:
    guild = discord_fake.add_guild("Club")
    channel = guild.channel("general")
    spec = contract("discord")
    status, created = await discord_call(
        discord_fake, "POST", f"/channels/{channel.id}/messages", {"content": "hello"}
    )
    answers: list[tuple[str, str, int, Any]] = [
        ("POST", f"/channels/{channel.id}/messages", status, created)
    ]
    for path in (
        "/users/@me",
        "/users/@me/guilds",
        "/oauth2/applications/@me",
        "/gateway/bot",
        f"/channels/{channel.id}",
        f"/channels/{channel.id}/messages/{created['id']}",
        f"/guilds/{guild.id}",
        f"/guilds/{guild.id}/roles",
    ):
        status, body = await discord_call(discord_fake, "GET", path)
        answers.append(("GET", path, status, body))
    path = f"/channels/{channel.id}/messages/{created['id']}"
    status, body = await discord_call(discord_fake, "PATCH", path, {"content": "edited"})
    answers.append(("PATCH", path, status, body))
    problems = [p for a in answers for p in spec.check_response(*a)]
    assert problems == [], "\n".join(map(str, problems))
    assert {a[2] for a in answers} == {200}


async def test_discord_error_bodies_follow_the_specification(discord_fake: FakeDiscord) -> None:
    status, body = await discord_call(discord_fake, "GET", "/channels/123/messages/456")
    assert status == 404
    assert contract("discord").check_schema("ErrorResponse", body) == []


async def openai_post(fake: FakeOpenAI, endpoint: str, body: dict[str, Any]) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/{endpoint}", json=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_openai_answers_follow_the_specification(openai_fake: FakeOpenAI) -> None:
    spec = contract("openai")
    request = {"model": "gpt-image-2", "prompt": "a cat", "size": "1024x1024"}
    status, text = await openai_post(openai_fake, "images/generations", request)
    assert status == 200
    assert spec.check_response("POST", "/images/generations", 200, json.loads(text)) == []

    status, text = await openai_post(
        openai_fake, "images/generations", {**request, "stream": True, "partial_images": 2}
    )
    events = [
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
    assert events and events[-1]["type"] == "image_generation.completed"
    problems = [
        p
        for event in events
        for p in spec.check_response(
            "POST", "/images/generations", 200, event, content="text/event-stream"
        )
    ]
    assert problems == [], "\n".join(map(str, problems))

    status, text = await openai_post(
        openai_fake, "moderations", {"model": "omni-moderation-latest", "input": "hello"}
    )
    assert status == 200
    assert spec.check_response("POST", "/moderations", 200, json.loads(text)) == []

    status, text = await openai_post(openai_fake, "images/generations", {"prompt": ""})
    assert status == 400
    assert spec.check_schema("ErrorResponse", json.loads(text)) == []
