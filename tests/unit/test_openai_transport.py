"""What a failed call to OpenAI means for money, through the client the bot really builds.

The bot's client runs on aiohttp, which reports a refused connection as a timeout, like a
request OpenAI received and never answered. Only the second may have been billed: a job's
budget must count it as possibly spent, and must not for a request that never left.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot.errors import UpstreamBusy
from bot.images.service import ImageRequest, ImageService, openai_client
from tests.fakes.openai.server import FakeOpenAI

REQUEST = ImageRequest(
    prompt="a girl with silver hair",
    model="gpt-image-1.5",
    size="1024x1024",
    n=1,
    quality="low",
    output_format="png",
    transparent=False,
    user_id=1,
)


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service(base_url: str, api_key: str = "sk-test", timeout: float = 5.0) -> ImageService:
    client = openai_client(api_key, base_url, timeout)
    return ImageService(client, moderation_model="omni-moderation-latest", partial_images=1)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as running:
        yield running


async def noop(_partial: bytes) -> None:
    return None


@pytest.mark.parametrize("call", ["moderation", "picture", "streamed picture"])
async def test_a_refused_connection_is_busy_and_never_counted_as_billed(call: str) -> None:
    images = service(f"http://127.0.0.1:{closed_port()}/v1")
    try:
        with pytest.raises(UpstreamBusy) as busy:
            if call == "moderation":
                await images.check_prompt("hello")
            else:
                await images.create(REQUEST, noop if call == "streamed picture" else None)
    finally:
        await images.close()
    assert not busy.value.maybe_billed


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_request_received_and_never_answered_counts_as_possibly_billed(
    fake: FakeOpenAI, streamed: bool
) -> None:
    fake.inject("hang")
    images = service(fake.base_url, fake.api_key, timeout=0.5)
    try:
        with pytest.raises(UpstreamBusy) as busy:
            await images.create(REQUEST, noop if streamed else None)
    finally:
        fake.release_hangs()
        await images.close()
    assert busy.value.maybe_billed
    assert len(fake.image_requests) == 1


async def test_the_same_client_draws_and_streams_previews(fake: FakeOpenAI) -> None:
    previews: list[bytes] = []

    async def keep(partial: bytes) -> None:
        previews.append(partial)

    images = service(fake.base_url, fake.api_key)
    try:
        await images.check_prompt("a girl with silver hair")
        result = await images.create(REQUEST, keep)
    finally:
        await images.close()
    assert len(result.images) == 1 and result.images[0].data.startswith(b"\x89PNG")
    assert len(previews) == 1 and previews[0].startswith(b"\x89PNG")
