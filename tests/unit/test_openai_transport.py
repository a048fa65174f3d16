"""What a failed call to OpenAI means for money, through the client the bot really builds.

The bot's client runs on aiohttp, which reports a refused connection as a timeout, like a
request OpenAI received and never answered. Only the second may have been billed, like an
answer that broke off once begun: a job's budget must count these as possibly spent, and
must not for a request that never left.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.errors import BotError, ContentRefused, UpstreamBusy
from bot.images.service import ImageRequest, ImageResult, ImageService, openai_client
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


async def test_a_flagged_prompt_is_refused_naming_its_categories_and_a_clean_one_passes(
    fake: FakeOpenAI,
) -> None:
    fake.flag_text("forbidden-thing", category="harassment/threatening")
    images = service(fake.base_url, fake.api_key)
    try:
        await images.check_prompt("a girl with silver hair")
        with pytest.raises(ContentRefused) as refused:
            await images.check_prompt("a forbidden-thing at dusk")
    finally:
        await images.close()
    # Spelled as the client's model names them; a flagged subcategory flags its parent too.
    assert refused.value.values["categories"] == "harassment, harassment_threatening"


@pytest.mark.parametrize("fault", ["malformed_json", "server_error", "hang"])
async def test_a_moderation_without_a_readable_answer_is_busy_not_a_refusal(
    fake: FakeOpenAI, fault: str
) -> None:
    fake.inject(fault, endpoint="moderations")
    images = service(fake.base_url, fake.api_key, timeout=0.5)
    try:
        with pytest.raises(UpstreamBusy):
            await images.check_prompt("a girl with silver hair")
    finally:
        fake.release_hangs()
        await images.close()


# What OpenAI (or the way to it) may do to one call; "refused": nothing listens.
ANSWERS = ["ok", "refused", "hang", "stream_cut", "malformed_json", "server_error",
           "stream_error", "rate_limit", "moderation_blocked"]  # fmt: skip


@settings(max_examples=20, deadline=None)
# Every answer that breaks off once begun, streamed and not.
@example(
    calls=[
        (answer, streamed)
        for answer in ("stream_cut", "malformed_json", "stream_error")
        for streamed in (True, False)
    ]
)
@given(calls=st.lists(st.tuples(st.sampled_from(ANSWERS), st.booleans()), min_size=1, max_size=5))
def test_whatever_a_call_meets_it_ends_in_a_picture_or_our_error_and_only_a_sent_one_may_bill(
    calls: list[tuple[str, bool]],
) -> None:
    """Each call ends with a picture or one of our errors (never the client's own), and it
    counts as possibly billed exactly when OpenAI received it and never answered, or began
    answering (a 200, a stream of the drawing) and broke off."""

    async def run() -> None:
        async with FakeOpenAI() as fake:
            for answer, streamed in calls:
                received = len(fake.image_requests)
                if answer not in ("ok", "refused"):
                    fake.inject(answer)
                url = f"http://127.0.0.1:{closed_port()}/v1" if answer == "refused" else None
                images = service(url or fake.base_url, fake.api_key, timeout=0.5)
                try:
                    outcome: ImageResult | BotError = await images.create(
                        REQUEST, noop if streamed else None
                    )
                except BotError as error:
                    outcome = error
                finally:
                    fake.release_hangs()
                    fake.clear_faults()
                    await images.close()
                sent = len(fake.image_requests) > received
                assert sent == (answer != "refused")
                if answer == "ok":
                    assert isinstance(outcome, ImageResult)
                    continue
                assert isinstance(outcome, BotError)
                billed = isinstance(outcome, UpstreamBusy) and outcome.maybe_billed
                began = answer in ("stream_cut", "malformed_json") or (
                    streamed and answer == "stream_error"  # (else a 500: no stream to break)
                )
                assert billed == (answer == "hang" or began), (answer, streamed, outcome)

    asyncio.run(run())
