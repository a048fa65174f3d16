"""aiohttp application: one catch-all handler that records every request, applies injected
faults and auth, parses JSON / multipart bodies, routes to RestAPI, serves the fake CDN and
turns APIError into Discord's JSON error bodies (recording each as a violation)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import MultipartReader, web

from .errors import APIError, method_not_allowed, not_found_route, request_too_large, unauthorized
from .records import RequestRecord, Upload

if TYPE_CHECKING:
    from .fake import FakeDiscord

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_FILE_FIELD = re.compile(r"files\[(\d+)\]")


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    code: int | None
    times: int
    message: str | None = None
    is_global: bool = False
    via: bool = True  # 429 only: False drops the Via header (Cloudflare-style, not the API's)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (method, "*") and bool(self.pattern.search(path))


@dataclass
class Stall:
    """Handle the next ``times`` matching requests, then hold their answers until released."""

    method: str
    pattern: re.Pattern[str]
    times: int
    released: asyncio.Event = field(default_factory=asyncio.Event)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (method, "*") and bool(self.pattern.search(path))

    def release(self) -> None:
        self.released.set()


@dataclass
class ApiRequest:
    """What a RestAPI handler receives."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Any
    payload: Any = None
    files: dict[int, Upload] = field(default_factory=dict)
    body_size: int = 0
    # Run once the response has been written to the bot's socket (see build_app's handle).
    on_sent: list[Callable[[], None]] = field(default_factory=list)

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")


def ratelimit_headers(
    route: str, *, remaining: int = 49, reset_after: float = 1.0
) -> dict[str, str]:
    """Discord's rate-limit headers. The fake never limits on its own (generous numbers keep
    discord.py from pre-emptively sleeping); use ``fake.fail_next(...)`` to inject a 429."""
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": f"{abs(hash(route)) & 0xFFFFFFFFFFFF:012x}",
        "Via": "1.1 google",
    }


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # exactly "application/json" (no charset): discord.py compares the header verbatim
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_body(request: web.Request) -> tuple[Any, dict[int, Upload], int]:
    """(payload, files by index, total bytes). Multipart: payload_json + files[n]."""
    payload, files, total, _form_files = await read_form(request)
    return payload, files, total


async def read_form(
    request: web.Request,
) -> tuple[Any, dict[int, Upload], int, tuple[str, ...] | None]:
    """``read_body`` and, for a plain form (fields, no payload_json: Create Guild Sticker),
    the names of its file fields; None for a JSON body or payload_json."""
    form_files: list[str] = []
    is_form = False
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        payload: Any = None
        files: dict[int, Upload] = {}
        total = 0
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, MultipartReader):
                continue
            data = bytes(await part.read(decode=False))
            total += len(data)
            if part.name == "payload_json":
                payload = json.loads(data.decode() or "null")
            elif part.filename is not None:
                match = _FILE_FIELD.fullmatch(part.name or "")
                index = int(match.group(1)) if match else len(files)
                ctype = part.headers.get("Content-Type")
                files[index] = Upload(part.filename, data, ctype)
                form_files.append(part.name or "")
            elif part.name:
                # form field other than payload_json: treat like JSON keys (rare)
                is_form = True
                payload = payload or {}
                if isinstance(payload, dict):
                    payload[part.name] = data.decode()
        return payload, files, total, tuple(form_files) if is_form else None
    raw = await request.read()
    if not raw:
        return None, {}, 0, None
    return json.loads(raw), {}, len(raw), None


def build_app(fake: FakeDiscord) -> web.Application:
    from .routes import ROUTES, RestAPI

    api = RestAPI(fake)
    compiled = [(m, re.compile(p), getattr(api, h), auth, p) for m, p, h, auth in ROUTES]

    async def handle(request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        query = {k: v for k, v in request.query.items()}
        method = request.method
        if raw_path.startswith("/attachments/") or raw_path.startswith("/proxy/attachments/"):
            return await _cdn(fake, request, raw_path, query)
        if not raw_path.startswith(API_PREFIX + "/"):
            return _error(
                fake,
                request,
                method,
                raw_path,
                query,
                not_found_route(f"{method} {raw_path} (not under {API_PREFIX})"),
                None,
            )
        path = raw_path[len(API_PREFIX) :]
        decoded = unquote(path)
        for fault in fake._faults:
            if fault.matches(method, decoded):
                fault.times -= 1
                fault.hits += 1
                await request.read()
                return _fault_response(fake, fault, method, path, query)
        candidates = [
            (m, rx, h, auth, tpl) for m, rx, h, auth, tpl in compiled if rx.fullmatch(path)
        ]
        if not candidates:
            return _error(
                fake, request, method, path, query, not_found_route(f"{method} {path}"), None
            )
        chosen = next((c for c in candidates if c[0] == method), None)
        if chosen is None:
            return _error(
                fake, request, method, path, query, method_not_allowed(f"{method} {path}"), None
            )
        _m, rx, handler, needs_auth, template = chosen
        match = rx.fullmatch(path)
        assert match is not None
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        if needs_auth and request.headers.get("Authorization") != f"Bot {fake.bot_token}":
            await request.read()
            return _error(
                fake,
                request,
                method,
                path,
                query,
                unauthorized(f"{method} {path} without 'Authorization: Bot <token>'"),
                template,
            )
        req = ApiRequest(method, path, params, query, request.headers)
        form_files: tuple[str, ...] | None = None
        try:
            if method in ("POST", "PUT", "PATCH"):
                try:
                    req.payload, req.files, req.body_size, form_files = await read_form(request)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise APIError(
                        400,
                        50109,
                        "The request body contains invalid JSON.",
                        "invalid_json",
                        str(exc),
                    ) from exc
                if req.body_size > fake.max_request_size:
                    raise request_too_large(
                        f"request body is {req.body_size} bytes, limit {fake.max_request_size}"
                    )
            fake.check_contract(method, path, query, req.payload, form_files=form_files)
            response = await handler(req)
        except APIError as exc:
            return _error(fake, request, method, path, query, exc, template, req)
        except Exception as exc:  # a bug in the fake (or a payload it cannot parse): be loud
            log.exception("fake discord crashed on %s %s", method, path)
            crash = APIError(
                500,
                0,
                "500: Internal Server Error",
                "fake_internal_error",
                f"{type(exc).__name__}: {exc} on {method} {path}",
            )
            return _error(fake, request, method, path, query, crash, template, req)
        _record(fake, method, path, query, response.status, template, req)
        for key, value in ratelimit_headers(template).items():
            response.headers.setdefault(key, value)
        stall = next((s for s in fake._stalls if s.matches(method, path)), None)
        if stall is not None:
            # Done (the message exists) but not yet answered: a crash now loses the answer.
            stall.times -= 1
            stall.hits += 1
            fake._notify()
            await stall.released.wait()
        if req.on_sent:
            # Write the answer here rather than after returning it, so that a test can wait
            # until the bot has it (discord.py registers a modal only once the answer arrives).
            await response.prepare(request)
            await response.write_eof()
            for sent in req.on_sent:
                sent()
            fake._notify()
        return response

    app = web.Application(client_max_size=1024**3)
    app.router.add_get("/gateway", fake.gateway.handle)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _record(
    fake: FakeDiscord,
    method: str,
    path: str,
    query: dict[str, str],
    status: int,
    template: str | None,
    req: ApiRequest | None = None,
    *,
    injected: bool = False,
    error: dict[str, Any] | None = None,
) -> None:
    fake.requests.append(
        RequestRecord(
            method=method,
            path=path,
            query=query,
            status=status,
            route=template,
            json=req.payload if req is not None else None,
            files=[(f.filename, len(f.data)) for f in req.files.values()]
            if req is not None
            else [],
            injected=injected,
            error=error,
            at=fake.clock.now(),
        )
    )
    fake._notify()


def _error(
    fake: FakeDiscord,
    request: web.Request,
    method: str,
    path: str,
    query: dict[str, str],
    exc: APIError,
    template: str | None,
    req: ApiRequest | None = None,
) -> web.Response:
    body = exc.body()
    _record(fake, method, path, query, exc.status, template, req, error=body)
    if exc.violation:
        fake._violation(
            exc.rule,
            exc.detail or exc.message,
            status=exc.status,
            code=exc.code,
            method=method,
            path=path,
            errors=body.get("errors"),
        )
    headers = ratelimit_headers(template or path)
    return json_response(body, exc.status, headers)


def _fault_response(
    fake: FakeDiscord, fault: Fault, method: str, path: str, query: dict[str, str]
) -> web.Response:
    if fault.status == 429:
        body: dict[str, Any] = {
            "message": fault.message or "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": fault.is_global,
        }
        if fault.code is not None:
            body["code"] = fault.code
        headers = ratelimit_headers(path, remaining=0, reset_after=fault.retry_after)
        headers["Retry-After"] = str(max(1, math.ceil(fault.retry_after)))
        headers["X-RateLimit-Scope"] = "global" if fault.is_global else "user"
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        if not fault.via:
            # discord.py's webhook adapter raises such a 429 at once instead of sleeping.
            headers.pop("Via", None)
    else:
        reason = {
            500: "500: Internal Server Error",
            502: "502: Bad Gateway",
            503: "503: Service Unavailable",
        }
        body = {
            "message": fault.message or reason.get(fault.status, f"{fault.status}: Error"),
            "code": fault.code or 0,
        }
        headers = ratelimit_headers(path)
    _record(fake, method, path, query, fault.status, None, injected=True, error=body)
    return json_response(body, fault.status, headers)


async def _cdn(
    fake: FakeDiscord, request: web.Request, raw_path: str, query: dict[str, str]
) -> web.StreamResponse:
    parts = raw_path.split("/")
    # ['', ('proxy',) 'attachments', channel_id, attachment_id, filename]
    if parts[1] == "proxy":
        parts = parts[1:]
    attachment = None
    if len(parts) == 5 and parts[3].isdigit():
        attachment = fake._attachments.get(int(parts[3]))
    problem = (
        "no such attachment" if attachment is None else fake.check_signature(attachment, query)
    )
    if problem is not None or attachment is None:
        _record(fake, request.method, raw_path, query, 404, "cdn", error={"message": problem})
        return web.Response(status=404, text="This content is no longer available.")
    _record(fake, request.method, raw_path, query, 200, "cdn")
    return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})
