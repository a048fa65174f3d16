"""The OpenAI fake, driven by the real AsyncOpenAI client over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai.types import ModerationMultiModalInputParam
from PIL import Image

from tests.fakes.openai import FakeOpenAI, decode_image, expected_color


def corner_rgb(picture: Image.Image) -> tuple[int, int, int]:
    red, green, blue = picture.convert("RGB").getpixel((0, 0))  # type: ignore[misc]
    return red, green, blue


def png_bytes(width: int = 64, height: int = 64, *, alpha: bool = False) -> bytes:
    mode, colour = ("RGBA", (10, 20, 30, 0)) if alpha else ("RGB", (10, 20, 30))
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def make_client(fake: FakeOpenAI, **options: Any) -> AsyncOpenAI:
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    return AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key, **options)


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with make_client(fake) as c:
        yield c


# ---------------------------------------------------------------------------------------------
# Generate


async def test_generate_returns_real_images_of_the_requested_size(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    result = await client.images.generate(
        model="gpt-image-2", prompt="a fox in the snow", size="1536x864", n=2, quality="low"
    )

    assert result.size == "1536x864"
    assert (result.quality, result.background, result.output_format) == ("low", "opaque", "png")
    assert result.data is not None and len(result.data) == 2
    pictures = [decode_image(item.b64_json or "") for item in result.data]
    assert [(p.format, p.size) for p in pictures] == [("PNG", (1536, 864))] * 2
    corners = [corner_rgb(p) for p in pictures]
    assert corners == [
        expected_color("a fox in the snow", 0),
        expected_color("a fox in the snow", 1),
    ]
    assert corners[0] != corners[1]
    assert result.usage is not None
    assert result.usage.input_tokens_details.text_tokens == 5  # ceil(17 chars / 4)
    assert result.usage.output_tokens > 0
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens

    (record,) = fake.requests
    assert (record.endpoint, record.model, record.size, record.n, record.status) == (
        "generations",
        "gpt-image-2",
        "1536x864",
        2,
        200,
    )
    assert record.outputs == [base64.b64decode(item.b64_json or "") for item in result.data]


async def test_generate_auto_size_webp_and_transparent_png(client: AsyncOpenAI) -> None:
    webp = await client.images.generate(
        model="gpt-image-1.5", prompt="p", size="auto", output_format="webp"
    )
    assert webp.data is not None
    picture = decode_image(webp.data[0].b64_json or "")
    assert (picture.format, picture.size, webp.size) == ("WEBP", (1024, 1024), "1024x1024")

    clear = await client.images.generate(
        model="gpt-image-2.5-flare", prompt="p", size="1024x1536", background="transparent"
    )
    assert clear.data is not None and clear.background == "transparent"
    picture = decode_image(clear.data[0].b64_json or "")
    assert (picture.mode, picture.size) == ("RGBA", (1024, 1536))
    assert picture.getchannel("A").getpixel((0, 0)) == 0


async def test_streaming_yields_partials_then_completed(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    stream = await client.images.generate(
        model="gpt-image-2.5-flare",
        prompt="a lighthouse",
        size="1024x1536",
        stream=True,
        partial_images=2,
        safety_identifier="a" * 64,
    )
    events = [event async for event in stream]

    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    partials = [e for e in events if isinstance(e, openai.types.ImageGenPartialImageEvent)]
    assert [p.partial_image_index for p in partials] == [0, 1]
    completed = events[-1]
    assert isinstance(completed, openai.types.ImageGenCompletedEvent)
    assert completed.usage.output_tokens > 0
    assert completed.safety_identifier == "a" * 64
    final = decode_image(completed.b64_json)
    first = decode_image(partials[0].b64_json)
    assert first.size == final.size == (1024, 1536)
    # Partials are darker previews of the final picture.
    assert sum(corner_rgb(first)) < sum(corner_rgb(final))
    assert fake.requests[0].stream is True
    assert fake.requests[0].events_sent == 3


async def test_streaming_spreads_latency_over_the_events(fake: FakeOpenAI) -> None:
    fake.latency = 0.3
    async with make_client(fake) as client:
        started = time.monotonic()
        stream = await client.images.generate(
            model="gpt-image-2", prompt="p", stream=True, partial_images=2
        )
        arrivals = [time.monotonic() - started async for _ in stream]
    assert len(arrivals) == 3
    assert arrivals[0] >= 0.09  # first of three slices
    assert arrivals[-1] >= 0.29


# ---------------------------------------------------------------------------------------------
# Edit


async def test_edit_records_uploaded_images_and_streams_edit_events(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    reference, extra = png_bytes(96, 64), png_bytes(32, 32)
    result = await client.images.edit(
        model="gpt-image-2.5-sunburst",
        prompt="same character, waving",
        image=[("ref.png", reference, "image/png"), ("sheet.png", extra, "image/png")],
        input_fidelity="high",
        size="1024x1024",
        n=2,
    )
    assert result.data is not None and len(result.data) == 2
    assert result.usage is not None and result.usage.input_tokens_details.image_tokens > 0

    record = fake.requests[-1]
    assert record.endpoint == "edits" and record.input_fidelity == "high"
    assert (record.n, record.fields["n"]) == (2, "2")  # multipart sends decimal strings
    assert [(u.field_name, u.filename, u.content_type) for u in record.images] == [
        ("image[]", "ref.png", "image/png"),
        ("image[]", "sheet.png", "image/png"),
    ]
    assert record.images[0].data == reference

    stream = await client.images.edit(
        model="gpt-image-1.5",
        prompt="p",
        image=("ref.png", reference, "image/png"),
        mask=("mask.png", png_bytes(96, 64, alpha=True), "image/png"),
        stream=True,
        partial_images=1,
    )
    types = [event.type async for event in stream]
    assert types == ["image_edit.partial_image", "image_edit.completed"]
    assert fake.requests[-1].mask is not None
    assert fake.requests[-1].images[0].field_name == "image"


async def test_bare_bytes_upload_is_rejected_as_octet_stream(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(model="gpt-image-1.5", prompt="p", image=png_bytes())
    assert caught.value.code == "unsupported_file_mimetype"
    assert caught.value.param == "image"
    assert "application/octet-stream" in caught.value.message


@pytest.mark.parametrize(
    ("model", "fidelity", "code"),
    [
        ("gpt-image-2", "low", "unsupported_parameter"),
        ("gpt-image-1-mini", "high", "invalid_value"),
        ("gpt-image-1.5", "high", None),
        ("gpt-image-2.5-flare", "high", None),
    ],
)
async def test_input_fidelity_rules_per_model(
    client: AsyncOpenAI, model: str, fidelity: Any, code: str | None
) -> None:
    call = client.images.edit(
        model=model, prompt="p", image=("a.png", png_bytes(), "image/png"), input_fidelity=fidelity
    )
    if code is None:
        assert (await call).data
        return
    with pytest.raises(openai.BadRequestError) as caught:
        await call
    assert (caught.value.code, caught.value.param) == (code, "input_fidelity")


async def test_mask_must_match_the_first_image(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(
            model="gpt-image-1.5",
            prompt="p",
            image=("a.png", png_bytes(64, 64), "image/png"),
            mask=("m.png", png_bytes(32, 32, alpha=True), "image/png"),
        )
    assert caught.value.param == "mask"
    with pytest.raises(openai.BadRequestError, match="missing alpha channel"):
        await client.images.edit(
            model="gpt-image-1.5",
            prompt="p",
            image=("a.png", png_bytes(), "image/png"),
            mask=("m.png", png_bytes(), "image/png"),
        )


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("model", ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-9"])
async def test_retired_or_unknown_model_is_not_found(client: AsyncOpenAI, model: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.images.generate(model=model, prompt="p")
    assert caught.value.code == "model_not_found"
    assert f"The model `{model}` does not exist" in caught.value.message


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"n": 11}, "n", "integer_above_max_value"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"size": "1000x1008"}, "size", "invalid_value"),  # not divisible by 16
        ({"size": "2400x768"}, "size", "invalid_value"),  # wider than 3:1
        ({"size": "4096x2304"}, "size", "invalid_value"),  # above 3840x2160
        ({"model": "gpt-image-1.5", "size": "1536x864"}, "size", "invalid_value"),
        ({"quality": "xhigh"}, "quality", "invalid_value"),  # 2.5 only
        ({"quality": "hd"}, "quality", "invalid_value"),
        ({"background": "transparent", "output_format": "jpeg"}, "background", "invalid_value"),
        ({"output_compression": 50}, "output_compression", "invalid_value"),  # png
        ({"response_format": "b64_json"}, "response_format", "unknown_parameter"),
        ({"style": "vivid"}, "style", "unknown_parameter"),
        ({"prompt": "x" * 32_001}, "prompt", "string_above_max_length"),
        ({"partial_images": 2}, "partial_images", "invalid_value"),  # without stream
        ({"stream": True, "partial_images": 4}, "partial_images", "integer_above_max_value"),
        ({"extra_body": {"input_fidelity": "low"}}, "input_fidelity", "unknown_parameter"),
    ],
)
async def test_invalid_generate_parameters_are_rejected(
    fake: FakeOpenAI, client: AsyncOpenAI, params: dict[str, Any], param: str, code: str
) -> None:
    arguments: dict[str, Any] = {"model": "gpt-image-2", "prompt": "p", **params}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(**arguments)
    assert (caught.value.param, caught.value.code) == (param, code)
    assert caught.value.type == "invalid_request_error"
    assert fake.requests[-1].status == 400


async def test_arbitrary_sizes_within_the_rules_are_accepted(client: AsyncOpenAI) -> None:
    result = await client.images.generate(
        model="gpt-image-2.6-sunburst", prompt="p", size="2400x800"
    )
    assert result.size == "2400x800"


async def test_wrong_api_key_is_401(fake: FakeOpenAI) -> None:
    async with AsyncOpenAI(base_url=fake.base_url, api_key="sk-wrong-key-1234", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.images.generate(model="gpt-image-2", prompt="p")
    assert caught.value.code == "invalid_api_key"
    assert "1234" in caught.value.message
    assert fake.requests[0].status == 401


# ---------------------------------------------------------------------------------------------
# Faults and retries


async def test_rate_limit_sends_retry_after_only_when_given(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.inject("rate_limit", retry_after=0.2)
    fake.inject("rate_limit")
    with pytest.raises(openai.RateLimitError) as with_header:
        await client.images.generate(model="gpt-image-2", prompt="p")
    with pytest.raises(openai.RateLimitError) as without_header:
        await client.images.generate(model="gpt-image-2", prompt="p")

    assert with_header.value.code == "rate_limit_exceeded"
    assert with_header.value.response.headers["retry-after"] == "0.2"
    assert "retry-after" not in without_header.value.response.headers
    assert "retry-after-ms" not in without_header.value.response.headers


async def test_rate_limit_with_retry_after_is_retried_by_the_client(fake: FakeOpenAI) -> None:
    fake.inject("rate_limit", retry_after=0.2)
    async with make_client(fake, max_retries=2) as client:
        result = await client.images.generate(model="gpt-image-2", prompt="p")

    assert result.data
    first, second = fake.requests
    assert (first.status, first.error_code, first.fault) == (
        429,
        "rate_limit_exceeded",
        "rate_limit",
    )
    assert (second.status, second.retry_count, second.fault) == (200, 1, None)
    assert second.started_at - first.started_at >= 0.2


async def test_insufficient_quota_is_a_rate_limit_error_with_its_code(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.inject("insufficient_quota")
    with pytest.raises(openai.RateLimitError) as caught:
        await client.images.generate(model="gpt-image-2", prompt="p")
    assert (caught.value.code, caught.value.type) == ("insufficient_quota", "insufficient_quota")
    assert "retry-after" not in caught.value.response.headers
    assert fake.pending_faults == []


async def test_server_error_then_success_through_client_retry(fake: FakeOpenAI) -> None:
    fake.inject("server_error")
    async with make_client(fake, max_retries=1) as client:
        assert (await client.images.generate(model="gpt-image-2", prompt="p")).data
    assert [r.status for r in fake.requests] == [500, 200]


async def test_moderation_blocked_and_bad_model_faults(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.inject("moderation_blocked", categories=["violence"])
    with pytest.raises(openai.BadRequestError) as blocked:
        await client.images.generate(model="gpt-image-2", prompt="p")
    assert blocked.value.code == "moderation_blocked"
    assert blocked.value.type == "image_generation_user_error"
    assert "safety_violations=[violence]" in blocked.value.message
    assert fake.requests[0].request_id in blocked.value.message

    fake.inject("bad_model")
    with pytest.raises(openai.NotFoundError) as missing:
        await client.images.generate(model="gpt-image-2", prompt="p")
    assert missing.value.code == "model_not_found"


async def test_block_text_rejects_image_prompts(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.block_text("Forbidden-Word", category="sexual")
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(model="gpt-image-2", prompt="a forbidden-word here")
    assert caught.value.code == "moderation_blocked"
    assert (await client.images.generate(model="gpt-image-2", prompt="a kitten")).data


async def test_stream_cut_raises_api_connection_error_after_one_partial(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.inject("stream_cut")
    stream = await client.images.generate(
        model="gpt-image-2", prompt="p", stream=True, partial_images=3
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as caught:
        async for event in stream:
            received.append(event.type)
    assert type(caught.value) is openai.APIConnectionError  # not a timeout
    assert received == ["image_generation.partial_image"]
    assert fake.requests[0].outputs == []


async def test_stream_error_event_raises_api_error(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.inject("stream_error", code="image_generation_failed", after_partials=0)
    stream = await client.images.generate(
        model="gpt-image-2", prompt="p", stream=True, partial_images=2
    )
    with pytest.raises(openai.APIError) as caught:
        async for _ in stream:
            pass
    assert not isinstance(caught.value, openai.APIStatusError)
    assert caught.value.code == "image_generation_failed"


async def test_malformed_json_surfaces_as_json_decode_error(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    # The real client does not wrap this: json.JSONDecodeError escapes, not an OpenAIError.
    fake.inject("malformed_json")
    with pytest.raises(json.JSONDecodeError):
        await client.images.generate(model="gpt-image-2", prompt="p")
    assert fake.requests[0].status == 200


async def test_hang_times_out_the_client_and_release_hangs_recovers(fake: FakeOpenAI) -> None:
    fake.inject("hang")
    async with make_client(fake, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.images.generate(model="gpt-image-2", prompt="p")
        # The server notices the client left (handler cancelled) and records it.
        await fake.wait_for(lambda: fake.in_flight == 0, timeout=2)
        assert fake.requests[0].status == 499

        fake.inject("hang")
        task = asyncio.create_task(
            client.with_options(timeout=5).images.generate(model="gpt-image-2", prompt="p")
        )
        await fake.wait_for_requests(2)
        await fake.wait_for(lambda: fake.in_flight == 1)
        fake.release_hangs()
        assert (await task).data


# ---------------------------------------------------------------------------------------------
# Controls


async def test_hold_and_release_let_requests_through_in_order(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.hold()
    tasks = [
        asyncio.create_task(client.images.generate(model="gpt-image-2", prompt=f"job {i}"))
        for i in range(3)
    ]
    await fake.wait_for_requests(3, endpoint="images")
    await fake.wait_for(lambda: fake.held_count == 3)
    assert fake.in_flight == 3 and not any(t.done() for t in tasks)

    fake.release(1)
    await fake.wait_for(lambda: sum(r.done for r in fake.requests) == 1)
    assert [r.done for r in fake.requests] == [True, False, False]
    assert fake.held_count == 2

    fake.release()
    results = await asyncio.gather(*tasks)
    assert all(r.data for r in results)
    assert fake.max_in_flight == 3 and fake.in_flight == 0


async def test_wait_for_requests_times_out_with_what_it_saw(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    await client.moderations.create(model="omni-moderation-latest", input="hello")
    with pytest.raises(AssertionError, match=r"(?s)saw 0.*moderations"):
        await fake.wait_for_requests(1, timeout=0.05, endpoint="images")


async def test_fake_rate_limit_budget_answers_429_with_retry_after(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.rate_limit(images_per_minute=2)
    assert (await client.images.generate(model="gpt-image-2", prompt="p", n=2)).data
    with pytest.raises(openai.RateLimitError) as caught:
        await client.images.generate(model="gpt-image-2", prompt="p")
    assert caught.value.code == "rate_limit_exceeded"
    headers = caught.value.response.headers
    assert 0 < int(headers["retry-after-ms"]) <= 60_000
    assert fake.rate_limited_count == 1


# ---------------------------------------------------------------------------------------------
# Moderations


async def test_moderation_flags_configured_text(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.flag_text("forbidden-word", category="violence/graphic")
    raw = await client.moderations.with_raw_response.create(
        model="omni-moderation-latest", input=["a calm lake", "some FORBIDDEN-WORD here"]
    )
    body = json.loads(raw.http_response.text)
    result = raw.parse()

    calm, bad = result.results
    assert not calm.flagged and not calm.categories.violence
    assert bad.flagged and bad.categories.violence_graphic and bad.categories.violence
    assert bad.category_scores.violence_graphic > 0.5 > calm.category_scores.violence_graphic
    keys = set(body["results"][1]["categories"])
    assert {"self-harm/intent", "sexual/minors", "violence/graphic", "illicit/violent"} <= keys
    assert len(keys) == 13
    assert body["results"][1]["category_applied_input_types"]["violence"] == ["text"]
    assert fake.requests[0].endpoint == "moderations"
    assert fake.image_requests == []


async def test_moderation_multimodal_input_gets_one_result(client: AsyncOpenAI) -> None:
    parts: list[ModerationMultiModalInputParam] = [
        {"type": "text", "text": "hello"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    result = await client.moderations.create(model="omni-moderation-latest", input=parts)
    (only,) = result.results
    assert only.category_applied_input_types.sexual == ["text", "image"]
    assert only.category_applied_input_types.hate == ["text"]


async def test_stop_answers_held_requests_promptly() -> None:
    fake = FakeOpenAI()
    await fake.start()
    fake.hold()
    async with make_client(fake) as client:
        task = asyncio.create_task(client.images.generate(model="gpt-image-2", prompt="p"))
        await fake.wait_for(lambda: fake.held_count == 1)
        started = time.monotonic()
        await fake.stop()
        with pytest.raises(openai.InternalServerError):
            await task
    assert time.monotonic() - started < 1.5
    assert fake.requests[0].status == 503
