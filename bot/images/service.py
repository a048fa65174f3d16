"""The one module that talks to the OpenAI API.

It turns our requests into Images API calls shaped by each model's capabilities, streams
partial previews, and maps every client exception onto an error of our own, so nothing
above this module imports ``openai`` or shows a raw API error to a member.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import openai
from openai import AsyncOpenAI, DefaultAioHttpClient

from bot.errors import BotError, ConfigError, ContentRefused, UpstreamBusy
from bot.images.models import capabilities_for

__all__ = [
    "GeneratedImage",
    "ImageRequest",
    "ImageResult",
    "ImageService",
    "openai_client",
    "safety_id",
]

log = logging.getLogger(__name__)

PartialCallback = Callable[[bytes], Awaitable[None]]


def openai_client(api_key: str, base_url: str | None, timeout: float) -> AsyncOpenAI:
    """The OpenAI client every call goes through.

    Its HTTP runs on aiohttp (the client's own, supported transport; discord.py brings
    aiohttp anyway), whose parser is compiled: a call costs the event loop about half the
    CPU of the default pure-Python one (``bench/openai_client.py``), which is what a burst
    of twenty members waits on.
    """
    return AsyncOpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        # Retries belong to one place, the queue (fair backoff, counted attempts): a client
        # retry of a timed-out request could pay for the same pictures twice.
        max_retries=0,
        http_client=DefaultAioHttpClient(),
    )


_REFUSAL_CODES = {"moderation_blocked", "content_policy_violation", "content_filter"}


def safety_id(user_id: int) -> str:
    """A stable, privacy-preserving per-member identifier for OpenAI's abuse monitoring."""
    return hashlib.sha256(f"discord-user:{user_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ImageRequest:
    prompt: str
    model: str
    size: str
    n: int
    quality: str
    output_format: str
    transparent: bool
    user_id: int
    # PNG bytes of reference pictures; any makes this an edit (the variations endpoint is gone).
    references: list[bytes] = field(default_factory=list, repr=False)
    input_fidelity: str | None = None
    complexity: str | None = None


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes = field(repr=False)
    mime: str


@dataclass(frozen=True, slots=True)
class ImageResult:
    images: list[GeneratedImage]
    text_input_tokens: int
    image_input_tokens: int
    output_tokens: int


class ImageService:
    def __init__(self, client: AsyncOpenAI, *, moderation_model: str, partial_images: int) -> None:
        self._client = client
        self._moderation_model = moderation_model
        self._partial_images = partial_images

    async def check_prompt(self, text: str) -> None:
        """Refuse text the moderation endpoint flags, before any image tokens are spent."""
        try:
            # The answer is read as it came: building the client's typed model of its dozens
            # of scores is about a third of the call's CPU on the event loop, for one flag.
            raw = await self._client.moderations.with_raw_response.create(
                model=self._moderation_model, input=text
            )
            flagged = _flagged_categories(raw.http_response.json())
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except (ValueError, LookupError, TypeError, AttributeError) as exc:
            # Not JSON, or not the shape the API documents: transient, like any bad answer.
            log.warning("OpenAI answered a moderation unreadably: %s", type(exc).__name__)
            raise UpstreamBusy("error.upstream_busy") from exc
        if flagged is not None:
            raise ContentRefused("error.content_refused", categories=", ".join(flagged))

    async def create(
        self, request: ImageRequest, on_partial: PartialCallback | None = None
    ) -> ImageResult:
        params = self._params(request)
        try:
            if on_partial is not None and self._partial_images > 0:
                return await self._stream(request, params, on_partial)
            if request.references:
                response = await self._client.images.edit(**params)
            else:
                response = await self._client.images.generate(**params)
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except ValueError as exc:
            # A 200 whose body is not valid JSON reaches us as a JSONDecodeError: transient,
            # but OpenAI answered 200, so it drew (and may bill) the picture it sent.
            log.warning("OpenAI answered with an unreadable body: %s", type(exc).__name__)
            raise UpstreamBusy("error.upstream_busy", maybe_billed=True) from exc
        images = [
            GeneratedImage(base64.b64decode(item.b64_json), _mime(request.output_format))
            for item in (response.data or [])
            if item.b64_json
        ]
        if not images:
            raise UpstreamBusy("error.upstream_busy")
        usage = response.usage
        return ImageResult(
            images=images,
            text_input_tokens=usage.input_tokens_details.text_tokens if usage else 0,
            image_input_tokens=usage.input_tokens_details.image_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
        )

    async def _stream(
        self, request: ImageRequest, params: dict[str, Any], on_partial: PartialCallback
    ) -> ImageResult:
        params = {**params, "stream": True, "partial_images": self._partial_images}
        if request.references:
            stream: Any = await self._client.images.edit(**params)
        else:
            stream = await self._client.images.generate(**params)
        images: list[GeneratedImage] = []
        text_tokens = image_tokens = output_tokens = 0
        try:
            async with stream:
                async for event in stream:
                    if event.type.endswith(".partial_image"):
                        await on_partial(base64.b64decode(event.b64_json))
                    elif event.type.endswith(".completed"):
                        picture = base64.b64decode(event.b64_json)
                        images.append(GeneratedImage(picture, _mime(event.output_format)))
                        usage = event.usage
                        text_tokens += usage.input_tokens_details.text_tokens
                        image_tokens += usage.input_tokens_details.image_tokens
                        output_tokens += usage.output_tokens
        except (openai.OpenAIError, ValueError) as exc:
            raise _broken_stream(exc) from exc
        if not images:
            # The stream ended without a finished picture: a broken stream, worth a retry.
            raise UpstreamBusy("error.upstream_busy", maybe_billed=True)
        # With n > 1 each completed event repeats the whole request's input usage.
        if len(images) > 1:
            text_tokens //= len(images)
            image_tokens //= len(images)
        return ImageResult(images, text_tokens, image_tokens, output_tokens)

    def _params(self, request: ImageRequest) -> dict[str, Any]:
        caps = capabilities_for(request.model)
        params: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "size": request.size,
            "n": request.n,
            "quality": request.quality,
            "output_format": "png" if request.transparent else request.output_format,
            "safety_identifier": safety_id(request.user_id),
        }
        if request.transparent and caps.transparent_background:
            params["background"] = "transparent"
        if request.complexity and caps.complexity:
            params["complexity"] = request.complexity
        if request.references:
            params["image"] = [
                (f"reference-{i}.png", data, "image/png")
                for i, data in enumerate(request.references[:16])
            ]
            # Sent only where the model accepts it; gpt-image-2 rejects the parameter itself.
            if request.input_fidelity and request.input_fidelity in caps.input_fidelity:
                params["input_fidelity"] = request.input_fidelity
        return params

    async def close(self) -> None:
        await self._client.close()


def _mime(output_format: str) -> str:
    return {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}.get(
        output_format, "image/png"
    )


def _flagged_categories(body: dict[str, Any]) -> list[str] | None:
    """The categories a moderation answer flags, in the client's spelling
    (``harassment_threatening``), or None when no result is flagged."""
    results = body["results"]
    if not isinstance(results, list):
        raise TypeError("results is not a list")
    if not any(result["flagged"] for result in results):
        return None
    return [
        name.replace("/", "_").replace("-", "_")
        for result in results
        if result["flagged"]
        for name, hit in result["categories"].items()
        if hit
    ]


def _never_connected(exc: BaseException) -> bool:
    """Whether the request failed before a connection to OpenAI existed, so it was never sent.

    The aiohttp transport reports a refused or timed-out connection as a timeout, like a
    request that was sent and never answered; only the cause tells the two apart.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _broken_stream(exc: openai.OpenAIError | ValueError) -> BotError:
    """Our error for a stream that broke off (a cut connection, an error event, a line that
    is not JSON). OpenAI had taken the request and was drawing: a retry may be billed on
    top of what this attempt cost, as after a timeout, so the budget counts it."""
    if isinstance(exc, ValueError):
        log.warning("OpenAI streamed an unreadable event: %s", type(exc).__name__)
        return UpstreamBusy("error.upstream_busy", maybe_billed=True)
    error = _translate(exc)
    if isinstance(error, UpstreamBusy):
        error.maybe_billed = True
    return error


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _translate(exc: openai.OpenAIError) -> BotError:
    """Our error for a client exception. Only the code is logged, never a header or key."""
    code = getattr(exc, "code", None)
    param = getattr(exc, "param", None)
    log.warning("OpenAI call failed: %s (code=%s, param=%s)", type(exc).__name__, code, param)
    if code in _REFUSAL_CODES:
        return ContentRefused("error.content_refused", categories="")
    if isinstance(exc, openai.RateLimitError):
        if code == "insufficient_quota":
            return ConfigError("error.billing", reason="insufficient_quota")
        return UpstreamBusy("error.upstream_busy", retry_after=_retry_after(exc))
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ConfigError("error.config", reason="openai_auth")
    if isinstance(exc, openai.NotFoundError | openai.BadRequestError) and (
        param == "model" or code == "model_not_found"
    ):
        return ConfigError("error.config", reason="model_unavailable")
    if isinstance(exc, openai.APIConnectionError):  # (a timeout is one too)
        # Sent, then unanswered in time or cut off (a body cut short is a picture drawn):
        # OpenAI may have drawn, and billed, it all the same.
        return UpstreamBusy("error.upstream_busy", maybe_billed=not _never_connected(exc))
    if isinstance(exc, openai.InternalServerError):
        return UpstreamBusy("error.upstream_busy")
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return UpstreamBusy("error.upstream_busy")
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError):
        # An error event inside a stream, or a body that was not valid JSON: transient.
        return UpstreamBusy("error.upstream_busy")
    return BotError("error.image_failed")
