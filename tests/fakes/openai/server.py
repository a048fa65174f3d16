"""FakeOpenAI: a loopback aiohttp server speaking the Images + Moderations wire format.

It runs in the test's event loop; the bot under test (a separate process) reaches it through
``OPENAI_BASE_URL=fake.base_url`` and ``OPENAI_API_KEY=fake.api_key``.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, hdrs, web
from PIL import Image

from tests.contracts.contract import Violation, contract

from . import errors, images, moderation
from .errors import ApiError
from .faults import (
    Fault,
    FaultQueue,
    Gate,
    RateLimiter,
    Stopped,
    format_seconds,
    make_fault,
)
from .records import IMAGE_ENDPOINTS, Endpoint, RecordedRequest, Upload
from .validation import ImageJob, validate_image_request

DEFAULT_API_KEY = "sk-fake-openai-0123456789abcdef"
SHUTDOWN_TIMEOUT = 2.0
_STREAM_FAULTS = ("stream_cut", "stream_error")
_SERVER_ERROR_TYPE = "server_error"
# Where each endpoint lives in the API specification.
CONTRACT_PATHS = {"moderations": "/moderations"}


class FakeOpenAI:
    """Loopback fake of POST /v1/images/generations, /v1/images/edits and /v1/moderations.

    Use as ``async with FakeOpenAI() as fake:`` or ``await fake.start()`` / ``await
    fake.stop()``. See the package docstring for the controls.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        api_key: str = DEFAULT_API_KEY,
        sse_done: bool = False,
    ) -> None:
        self.latency = latency
        self.api_key = api_key
        # The client stops at `data: [DONE]` but also ends cleanly at EOF; OpenAI's documented
        # image streams show no [DONE], so it is off by default.
        self.sse_done = sse_done
        # How an error inside an image stream is shaped. Unverified: OpenAI's spec does not
        # define it for image streams. "nested" is {"type": "error", "error": {...}} (what the
        # openai client reads for other streams); "flat" is the spec's ErrorEvent shape,
        # {"type": "error", "code": ..., "message": ..., "param": ...}. The bot must cope
        # with both (tests/e2e/test_openai_faults.py runs each).
        self.stream_error_shape: str = "nested"
        # hold_finals(): streams send their partial images, then wait before each finished
        # picture until release_finals(), so a test can watch the progress preview land.
        self._finals_open = asyncio.Event()
        self._finals_open.set()
        self.requests: list[RecordedRequest] = []
        # Requests the official API specification does not allow (tests/contracts).
        self.contract_violations: list[Violation] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.rate_limited_count = 0

        self._faults = FaultQueue()
        self._gate = Gate()
        self._limiter: RateLimiter | None = None
        self._flags: list[tuple[str, str]] = []
        self._blocks: list[tuple[str, str]] = []
        self._published: set[str] = set()
        self._cond = asyncio.Condition()
        self._stopping = asyncio.Event()
        self._hang_release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -----------------------------------------------------------------------------------------
    # Lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeOpenAI is already running")
        # Fresh loop-bound primitives, so a fake can be started again in another event loop.
        self._stopping = asyncio.Event()
        self._cond = asyncio.Condition()
        self._hang_release = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/images/generations", self._on_generations)
        app.router.add_post("/v1/images/edits", self._on_edits)
        app.router.add_post("/v1/moderations", self._on_moderations)
        app.router.add_post("/v1/images/variations", self._on_variations)
        app.router.add_route("*", "/{tail:.*}", self._on_unknown)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer every waiting request (503) and shut the server down."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()
        self._gate.abort_all()
        await runner.cleanup()
        self._port = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not running; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """Environment for the bot process: OPENAI_BASE_URL and OPENAI_API_KEY."""
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": self.api_key}

    def reset(self) -> None:
        """Forget requests, faults, flags, blocks, the rate limit and the hold."""
        self.requests.clear()
        self._published.clear()
        self._faults.clear()
        self._flags.clear()
        self._blocks.clear()
        self._limiter = None
        self.rate_limited_count = 0
        self.max_in_flight = self.in_flight
        self._gate.release()
        self.release_hangs()

    # -----------------------------------------------------------------------------------------
    # Test controls

    @property
    def image_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint in IMAGE_ENDPOINTS]

    def requests_for(self, endpoint: str | None) -> list[RecordedRequest]:
        """Requests for ``endpoint``: None = all, "images" = generations + edits."""
        if endpoint is None:
            return list(self.requests)
        if endpoint == "images":
            return self.image_requests
        return [r for r in self.requests if r.endpoint == endpoint]

    def inject(self, kind: str, times: int = 1, **options: Any) -> None:
        """Queue a fault for the next ``times`` image requests (see faults.FaultKind).

        Options: ``endpoint`` ("generations"/"edits"/"moderations"; default: either image
        endpoint), ``retry_after`` (rate_limit), ``message``, ``code`` (stream_error),
        ``categories`` (moderation_blocked), ``after_partials`` (stream_cut/stream_error).
        """
        self._faults.add(make_fault(kind, times, **options))

    @property
    def pending_faults(self) -> list[Fault]:
        return list(self._faults.faults)

    def clear_faults(self) -> None:
        self._faults.clear()

    def hold(self) -> None:
        """Make image requests wait (after validation) until release()."""
        self._gate.hold()

    def release(self, n: int | None = None) -> None:
        """Let ``n`` held requests through in arrival order, or (None) stop holding."""
        self._gate.release(n)

    @property
    def held_count(self) -> int:
        """Image requests currently waiting at the hold gate."""
        return self._gate.waiting

    def hold_finals(self) -> None:
        """Streams stop before each finished picture (partials still flow) until released."""
        self._finals_open.clear()

    def release_finals(self) -> None:
        self._finals_open.set()

    def release_hangs(self) -> None:
        """Let requests stuck on a "hang" fault go on and answer normally."""
        self._hang_release.set()
        self._hang_release = asyncio.Event()

    def flag_text(self, substring: str, category: str = "sexual") -> None:
        """Moderations flag any text containing ``substring`` (case-insensitive)."""
        self._flags.append((substring.lower(), moderation.normalize_category(category)))

    def block_text(self, substring: str, category: str = "sexual") -> None:
        """Image prompts containing ``substring`` get a 400 moderation_blocked."""
        self._blocks.append((substring.lower(), moderation.normalize_category(category)))

    def rate_limit(self, images_per_minute: int | None) -> None:
        """Enforce an images-per-minute budget (None removes it); 429s count in
        ``rate_limited_count``."""
        self._limiter = None if images_per_minute is None else RateLimiter(images_per_minute)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,
    ) -> None:
        """Wait until ``predicate()`` is true; re-checked whenever the fake's state changes."""
        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"condition not met within {timeout}s; in_flight={self.in_flight}, "
                f"held={self.held_count}, requests seen:\n{self._describe(self.requests)}"
            ) from None

    async def wait_for_requests(
        self,
        n: int,
        timeout: float = 10.0,
        endpoint: str | None = None,
    ) -> list[RecordedRequest]:
        """Wait until at least ``n`` requests (for ``endpoint``, see requests_for) arrived."""
        try:
            await self.wait_for(lambda: len(self.requests_for(endpoint)) >= n, timeout)
        except AssertionError:
            seen = self.requests_for(endpoint)
            raise AssertionError(
                f"expected {n} request(s) for endpoint={endpoint!r} within {timeout}s, "
                f"saw {len(seen)}; all requests:\n{self._describe(self.requests)}"
            ) from None
        return self.requests_for(endpoint)

    @staticmethod
    def _describe(records: list[RecordedRequest]) -> str:
        return "\n".join(f"  - {r.summary()}" for r in records) or "  (none)"

    # -----------------------------------------------------------------------------------------
    # Bookkeeping

    def _check_contract(self, record: RecordedRequest) -> None:
        """Hold one request the bot made to OpenAI's published API specification."""
        path = CONTRACT_PATHS.get(record.endpoint, f"/images/{record.endpoint}")
        files: tuple[str, ...] = ()
        if record.endpoint == "edits":
            files = tuple("image[]" for _ in record.images) + (("mask",) if record.mask else ())
        self.contract_violations += contract("openai").check_request(
            "POST", path, body=record.fields, form=record.endpoint == "edits", files=files
        )

    def assert_contract_kept(self) -> None:
        if self.contract_violations:
            lines = "\n".join(f"  - {v}" for v in self.contract_violations)
            raise AssertionError(f"requests OpenAI's API specification does not allow:\n{lines}")

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _publish(self, record: RecordedRequest) -> None:
        if record.request_id not in self._published:
            self._published.add(record.request_id)
            self.requests.append(record)
            self._check_contract(record)
        await self._notify()

    async def _tracked(
        self,
        endpoint: Endpoint,
        request: web.Request,
        serve: Callable[[web.Request, RecordedRequest], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        record = RecordedRequest(
            endpoint=endpoint,
            request_id=f"req_{secrets.token_hex(16)}",
            started_at=time.monotonic(),
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        counted = endpoint in IMAGE_ENDPOINTS
        if counted:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await serve(request, record)
        except ApiError as error:
            return self._error_response(record, error)
        except Stopped:
            return self._error_response(
                record,
                ApiError(503, "The fake server is shutting down.", type=_SERVER_ERROR_TYPE),
            )
        except asyncio.CancelledError:  # the client went away (handler_cancellation)
            if record.status is None:
                record.status = 499
            raise
        finally:
            if counted:
                self.in_flight -= 1
            record.finished_at = time.monotonic()
            await self._publish(record)

    def _headers(
        self, record: RecordedRequest, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        elapsed_ms = int((time.monotonic() - record.started_at) * 1000)
        return {
            "x-request-id": record.request_id,
            "openai-processing-ms": str(elapsed_ms),
            "openai-version": "2020-10-01",
            **(extra or {}),
        }

    def _error_response(self, record: RecordedRequest, error: ApiError) -> web.Response:
        record.status = error.status
        record.error = error.error_object()
        return web.json_response(
            error.body(), status=error.status, headers=self._headers(record, error.headers)
        )

    # -----------------------------------------------------------------------------------------
    # Routes

    async def _on_generations(self, request: web.Request) -> web.StreamResponse:
        return await self._tracked("generations", request, self._serve_image)

    async def _on_edits(self, request: web.Request) -> web.StreamResponse:
        return await self._tracked("edits", request, self._serve_image)

    async def _on_moderations(self, request: web.Request) -> web.StreamResponse:
        return await self._tracked("moderations", request, self._serve_moderation)

    async def _on_variations(self, request: web.Request) -> web.StreamResponse:
        async def retired(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            await self._publish(record)
            self._check_auth(request)
            raise errors.invalid_url(request.method, request.path)

        return await self._tracked("variations", request, retired)

    async def _on_unknown(self, request: web.Request) -> web.StreamResponse:
        error = errors.invalid_url(request.method, request.path)
        return web.json_response(error.body(), status=error.status)

    # -----------------------------------------------------------------------------------------
    # Reading requests

    def _check_auth(self, request: web.Request) -> None:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.missing_api_key()
        if token != self.api_key:
            raise errors.incorrect_api_key(token)

    @staticmethod
    async def _read_json(request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise errors.invalid_json_body() from None
        if not isinstance(body, dict):
            raise errors.invalid_json_body()
        return body

    @staticmethod
    async def _read_multipart(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
        if not request.content_type.startswith("multipart/form-data"):
            raise ApiError(
                400,
                f"Invalid Content-Type header ({request.content_type}), expected "
                "multipart/form-data. (HINT: If you're using curl, you can pass in "
                "multipart/form-data with the -F option.)",
            )
        fields: dict[str, Any] = {}
        files: list[Upload] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "Nested multipart bodies are not supported.")
            name = part.name or ""
            if part.filename is not None:
                data = bytes(await part.read())
                files.append(Upload(name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), data))
                continue
            value = await part.text()
            if name not in fields:
                fields[name] = value
            elif isinstance(fields[name], list):
                fields[name].append(value)
            else:
                fields[name] = [fields[name], value]
        return fields, files

    # -----------------------------------------------------------------------------------------
    # Images

    async def _serve_image(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        multipart = record.endpoint == "edits"
        try:
            self._check_auth(request)
            if multipart:
                fields, files = await self._read_multipart(request)
            else:
                fields, files = await self._read_json(request), []
            _fill_record(record, fields, files)
        finally:
            await self._publish(record)

        job = validate_image_request(record.endpoint, fields, files, multipart=multipart)
        self._check_rate_limit(job)
        await self._pass_gate()
        fault = self._faults.take(record.endpoint)
        if fault is not None:
            record.fault = fault.kind
            await self._raise_for_fault(fault, record, model=job.model, n=job.n)
        self._check_blocked(job, record)
        if job.stream:
            return await self._stream(request, record, job, fault)
        return await self._complete(request, record, job, fault)

    def _check_rate_limit(self, job: ImageJob) -> None:
        if self._limiter is None:
            return
        now = time.monotonic()
        wait = self._limiter.try_acquire(job.n, now)
        if wait is None:
            return
        self.rate_limited_count += 1
        error = errors.rate_limit_exceeded(
            job.model, self._limiter.limit, self._limiter.used(now), job.n, wait
        )
        error.headers["retry-after-ms"] = str(math.ceil(wait * 1000))
        error.headers["retry-after"] = str(math.ceil(wait))
        raise error

    async def _pass_gate(self) -> None:
        ticket = self._gate.enter()
        if ticket is None:
            return
        await self._notify()
        await self._gate.wait(ticket)
        await self._notify()

    def _check_blocked(self, job: ImageJob, record: RecordedRequest) -> None:
        lowered = job.prompt.lower()
        categories = sorted({c for needle, c in self._blocks if needle in lowered})
        if categories:
            raise errors.moderation_blocked(record.request_id, categories)

    async def _raise_for_fault(
        self, fault: Fault, record: RecordedRequest, *, model: str, n: int
    ) -> None:
        """Raise the ApiError an error fault stands for; wait out a hang; else return."""
        error: ApiError | None = None
        match fault.kind:
            case "server_error":
                error = errors.server_error()
            case "rate_limit":
                error = errors.rate_limit_exceeded(model, 5, 5, n, fault.retry_after)
                if fault.retry_after is not None:
                    error.headers["retry-after"] = format_seconds(fault.retry_after)
            case "insufficient_quota":
                error = errors.insufficient_quota()
            case "moderation_blocked":
                error = errors.moderation_blocked(record.request_id, fault.categories)
            case "bad_model":
                error = errors.model_not_found(model)
            case "hang":
                await self._wait_or_stop(self._hang_release)
            case _:
                return
        if error is not None:
            if fault.message:
                error.message = fault.message
            raise error

    async def _wait_or_stop(self, event: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if self._stopping.is_set():
            raise Stopped()

    async def _sleep(self, seconds: float) -> None:
        """Simulated processing time; cut short (Stopped) when the fake stops."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise Stopped()

    async def _complete(
        self, request: web.Request, record: RecordedRequest, job: ImageJob, fault: Fault | None
    ) -> web.StreamResponse:
        # The latency is the whole time OpenAI takes, its drawing included: the fake draws
        # within it (on a busy machine its own work must not add to what is measured).
        pace = _Pace(self.latency)
        pictures = await asyncio.to_thread(self._render_finals, job, record.request_id)
        await self._sleep(pace.until_next())
        if fault is not None and fault.kind == "stream_error":
            # A non-streaming request has no stream to put the error in: answer 500.
            raise errors.server_error(fault.message)
        body: dict[str, Any] = {
            "created": int(time.time()),
            "data": [{"b64_json": images.b64(p)} for p in pictures],
            "background": job.background,
            "output_format": job.output_format,
            "quality": job.quality,
            "size": job.size,
            "usage": self._usage(job, pictures=job.n, partial_images=0),
        }
        if job.safety_identifier:
            body["safety_identifier"] = job.safety_identifier
        usage = body["usage"]
        usage["output_tokens_details"] = {"image_tokens": usage["output_tokens"], "text_tokens": 0}
        payload = json.dumps(body).encode()
        record.status = 200
        headers = self._headers(record, {hdrs.CONTENT_TYPE: "application/json"})

        if fault is not None and fault.kind == "malformed_json":
            return web.Response(status=200, body=payload[: len(payload) // 2], headers=headers)
        if fault is not None and fault.kind == "stream_cut":
            # Promise the whole body, send half of it, drop the connection.
            response = web.StreamResponse(status=200, headers=headers)
            response.content_length = len(payload)
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            self._drop_connection(request)
            return response
        record.outputs = pictures
        record.billed.append(usage)
        return web.Response(status=200, body=payload, headers=headers)

    async def _stream(
        self, request: web.Request, record: RecordedRequest, job: ImageJob, fault: Fault | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200,
            headers=self._headers(
                record,
                {
                    hdrs.CONTENT_TYPE: "text/event-stream; charset=utf-8",
                    "Cache-Control": "no-cache",
                },
            ),
        )
        await response.prepare(request)
        record.status = 200
        prefix = "image_generation" if job.endpoint == "generations" else "image_edit"
        # Each event is due one slice of the latency after the one before (counted from the
        # start, so the fake's drawing and encoding happen within the slices).
        pace = _Pace(self.latency / (job.n * (job.partial_images + 1)))
        created_at = int(time.time())
        common = {
            "background": job.background,
            "created_at": created_at,
            "output_format": job.output_format,
            "quality": job.quality,
            "size": job.size,
        }
        breaks = fault is not None and fault.kind in _STREAM_FAULTS
        partials_sent = 0

        try:
            if fault is not None and fault.kind == "malformed_json":
                await response.write(f'data: {{"type": "{prefix}.partial_image", "b64\n\n'.encode())
                await response.write_eof()
                return response
            for index in range(job.n):
                if fault is not None and fault.kind == "short_stream" and index >= fault.pictures:
                    break
                final = await asyncio.to_thread(self._render_final, job, index)
                for p in range(job.partial_images):
                    if breaks and fault and partials_sent >= fault.after_partials:
                        return await self._break_stream(request, response, record, fault)
                    data = await asyncio.to_thread(self._encode_partial, job, final, p)
                    await self._sleep(pace.until_next())
                    partial = {
                        "type": f"{prefix}.partial_image",
                        "b64_json": images.b64(data),
                        "partial_image_index": p,
                        **common,
                    }
                    await self._send_event(response, record, partial)
                    partials_sent += 1
                if breaks and fault:
                    return await self._break_stream(request, response, record, fault)
                data = await asyncio.to_thread(
                    self._encode_final, job, final, index, record.request_id
                )
                await self._sleep(pace.until_next())
                if not self._finals_open.is_set():
                    await self._wait_or_stop(self._finals_open)
                completed: dict[str, Any] = {
                    "type": f"{prefix}.completed",
                    "b64_json": images.b64(data),
                    **common,
                    "usage": self._usage(job, pictures=1, partial_images=job.partial_images),
                }
                if job.safety_identifier:
                    completed["safety_identifier"] = job.safety_identifier
                await self._send_event(response, record, completed)
                record.outputs.append(data)
                record.billed.append(completed["usage"])
            if self.sse_done:
                await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            record.error = {"message": "client disconnected during the stream"}
        except Stopped:  # headers are already out: the only way to fail now is to hang up
            self._drop_connection(request)
        return response

    async def _send_event(
        self, response: web.StreamResponse, record: RecordedRequest, payload: dict[str, Any]
    ) -> None:
        data = json.dumps(payload, separators=(",", ":"))
        await response.write(f"event: {payload['type']}\ndata: {data}\n\n".encode())
        record.events_sent += 1
        await self._notify()

    async def _break_stream(
        self,
        request: web.Request,
        response: web.StreamResponse,
        record: RecordedRequest,
        fault: Fault,
    ) -> web.StreamResponse:
        if fault.kind == "stream_cut":
            self._drop_connection(request)
            return response
        error = {
            "type": _SERVER_ERROR_TYPE,
            "code": fault.code or "image_generation_failed",
            "message": fault.message or "Image generation failed. Please try again later.",
            "param": None,
        }
        record.error = error
        event = (
            {"type": "error", **error}
            if self.stream_error_shape == "flat"
            else {"type": "error", "error": error}
        )
        payload = json.dumps(event, separators=(",", ":"))
        await response.write(f"event: error\ndata: {payload}\n\n".encode())
        await response.write_eof()
        return response

    @staticmethod
    def _drop_connection(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.close()  # flushes what was written, then closes: an incomplete body

    # -----------------------------------------------------------------------------------------
    # Pictures (run in a worker thread)

    def _render_final(self, job: ImageJob, index: int) -> Image.Image:
        reference = job.images[0].open() if job.images else None
        return images.render_picture(
            job.prompt,
            index,
            job.width,
            job.height,
            transparent=job.background == "transparent",
            reference=reference,
        )

    def _encode_final(
        self, job: ImageJob, final: Image.Image, index: int, request_id: str
    ) -> bytes:
        tag = images.PictureTag(job.endpoint, request_id, job.prompt, index)
        return images.encode(final, job.output_format, compression=job.output_compression, tag=tag)

    def _encode_partial(self, job: ImageJob, final: Image.Image, partial_index: int) -> bytes:
        partial = images.render_partial(final, partial_index, job.partial_images)
        return images.encode(
            partial,
            job.output_format,
            compression=job.output_compression,
            partial_index=partial_index,
        )

    def _render_finals(self, job: ImageJob, request_id: str) -> list[bytes]:
        return [
            self._encode_final(job, self._render_final(job, index), index, request_id)
            for index in range(job.n)
        ]

    @staticmethod
    def _usage(job: ImageJob, *, pictures: int, partial_images: int) -> dict[str, Any]:
        return images.usage(
            prompt=job.prompt,
            quality=job.quality,
            width=job.width,
            height=job.height,
            pictures=pictures,
            input_sizes=job.input_sizes,
            input_fidelity=job.input_fidelity,
            partial_images=partial_images,
        )

    # -----------------------------------------------------------------------------------------
    # Moderations

    async def _serve_moderation(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        try:
            self._check_auth(request)
            body = await self._read_json(request)
            record.fields = body
            record.model = body.get("model") if isinstance(body.get("model"), str) else None
            record.prompt = _moderation_text(body.get("input"))
        finally:
            await self._publish(record)

        model = body.get("model", moderation.DEFAULT_MODERATION_MODEL)
        if not isinstance(model, str):
            raise errors.invalid_type("model", "a string", "another type")
        if model not in moderation.MODERATION_MODELS:
            raise errors.model_not_found(model)
        items = moderation.parse_input(body)

        fault = self._faults.take("moderations")
        if fault is not None:
            record.fault = fault.kind
            await self._raise_for_fault(fault, record, model=model, n=1)
        result = {
            "id": f"modr-{secrets.token_hex(12)}",
            "model": model,
            "results": [moderation.moderate(item, self._flags) for item in items],
        }
        payload = json.dumps(result).encode()
        record.status = 200
        headers = self._headers(record, {hdrs.CONTENT_TYPE: "application/json"})
        if fault is not None and fault.kind == "malformed_json":
            return web.Response(status=200, body=payload[: len(payload) // 2], headers=headers)
        if fault is not None and fault.kind in _STREAM_FAULTS:
            raise errors.server_error(fault.message)
        return web.Response(status=200, body=payload, headers=headers)


# ---------------------------------------------------------------------------------------------
# Helpers


class _Pace:
    """When the next event of a request is due: ``step`` seconds after the one before,
    counted from the request's start rather than from when the fake got round to it."""

    def __init__(self, step: float) -> None:
        self._step = step
        self._due = time.monotonic()

    def until_next(self) -> float:
        self._due += self._step
        return self._due - time.monotonic()


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


#: The parameters a RecordedRequest keeps as ``str | None`` attributes of the same name.
_TEXT_FIELDS = (
    "model",
    "prompt",
    "size",
    "quality",
    "background",
    "output_format",
    "input_fidelity",
    "complexity",
    "safety_identifier",
)


def _fill_record(record: RecordedRequest, fields: Mapping[str, Any], files: list[Upload]) -> None:
    """Copy the raw parameters onto the record (best effort, before validation)."""
    record.fields = dict(fields)
    for name in _TEXT_FIELDS:
        setattr(record, name, _as_str(fields.get(name)))
    record.n = _as_int(fields.get("n"))
    record.partial_images = _as_int(fields.get("partial_images"))
    record.stream = _as_bool(fields.get("stream"))
    record.images = [u for u in files if u.field_name in ("image", "image[]")]
    record.mask = next((u for u in files if u.field_name == "mask"), None)
    record.markup = next((u for u in files if u.field_name == "markup"), None)


def _moderation_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [
            item if isinstance(item, str) else item.get("text", "")
            for item in value
            if isinstance(item, str) or (isinstance(item, dict) and item.get("type") == "text")
        ]
        return "\n".join(texts)
    return None
