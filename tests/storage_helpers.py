"""The bot's real storage layer, opened on a database a test chooses, and the records and
pictures tests put in it."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant
from PIL import Image, ImageDraw

from bot.images.convert import make_thumbnail
from bot.images.store import ImageStore
from bot.records import CreateJobRequest, Job, JobKind, JobRequest, JobState
from bot.storage import Limits, NewImage, NewJob, Storage
from tests.postgres_server import PostgresServer


@asynccontextmanager
async def open_storage(path: Path, database_url: str | None = None) -> AsyncIterator[Storage]:
    """The storage layer on ``path`` (or PostgreSQL at ``database_url``), migrated on open,
    closed again on leaving."""
    storage = Storage(path, database_url)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


def new_job(
    user_id: int = 1,
    count: int = 1,
    *,
    guild_id: int = 10,
    request: JobRequest | None = None,
    **fields: Any,
) -> NewJob:
    """A create job as a member's command submits it; ``fields`` set the optional columns."""
    return NewJob(
        guild_id=guild_id,
        channel_id=20,
        user_id=user_id,
        kind="create",
        request=request or CreateJobRequest("1024x1024"),
        image_count=count,
        locale="en",
        **fields,
    )


def roomy_limits(**budget: Any) -> Limits:
    """Counts no test sequence reaches, windows that began a minute ago; ``budget`` sets the
    dollar fields (``server_daily_usd=…``, ``month_start=…``)."""
    now = time.time()
    return Limits(
        member_pending_cap=100,
        guild_pending_cap=1000,
        member_daily=None,
        member_hourly=None,
        server_daily=None,
        day_start=now - 60,
        hour_start=now - 60,
        **budget,
    )


async def finish_with_one_picture(
    storage: Storage, job: Job, file_path: str, **columns: Any
) -> list[int] | None:
    """Finish ``job`` as the runner would, with one tiny 8 x 8 PNG stored at ``file_path``.

    The server, member, character and parent picture are the job's own; the job is priced
    at nothing, one token each way. ``columns`` set or replace any other argument of
    ``finish_job`` (``cost_usd=…``, ``scene_id=…``, ``prompt=…``). What ``finish_job`` returns.
    """
    record: dict[str, Any] = {
        "job_id": job.id,
        "guild_id": job.guild_id,
        "character_id": job.character_id,
        "owner_id": job.user_id,
        "parent_image_id": job.parent_image_id,
        "prompt": "p",
        "model": "m",
        "input_tokens": 1,
        "output_tokens": 1,
        "cost_usd": None,
    }
    images = [NewImage(file_path, None, 8, 8, "image/png")]
    return await storage.images.finish_job(images=images, **(record | columns))


# The error asyncpg's TLS negotiation leaves behind when the connect is cancelled.
_ASYNCPG_CANCELLED_CONNECT = ("unexpected connection_lost() call",)


class StorageMachine(RuleBasedStateMachine):
    """A state machine over the real storage layer: each run opens a fresh database in a
    folder of its own under ``tmp_root`` (a test sets it to its ``tmp_path``), on an event
    loop of its own, and closes both at teardown."""

    tmp_root = "/tmp"
    # Set (by ``run_machine``) to run on a fresh PostgreSQL database instead of SQLite.
    postgres: PostgresServer | None = None

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        # What the loop's exception handler is given: asyncpg reports there a connection it
        # was handed back inside a transaction, and asyncio a task that failed unobserved.
        self.loop_reports: list[str] = []
        self.loop.set_exception_handler(self._record_loop_report)
        self.folder = Path(type(self).tmp_root) / f"run-{id(self)}-{time.monotonic_ns()}"
        self.folder.mkdir(parents=True)
        server = type(self).postgres
        self.database_url = self.run(server.fresh_database()) if server else None
        self.storage = Storage(self.folder / "bot.sqlite3", self.database_url)
        self.run(self.storage.open())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _record_loop_report(self, _: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, ConnectionError) and error.args == _ASYNCPG_CANCELLED_CONNECT:
            # asyncpg's own, not the storage layer's: a read cancelled while the pool opens
            # a connection leaves its TLS negotiation's future unread (asyncpg issues 1211,
            # 1310). The bot logs it once and carries on; nothing is lost.
            return
        self.loop_reports.append(f"{context['message']} ({error!r})")

    @invariant()
    def nothing_reported_to_the_event_loop(self) -> None:
        assert not self.loop_reports, f"reported to the event loop: {self.loop_reports}"

    def teardown(self) -> None:
        self.run(self.storage.close())
        server = type(self).postgres
        if server and self.database_url:
            self.run(server.drop(self.database_url))
        self.loop.close()


@asynccontextmanager
async def two_processes(server: PostgresServer) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two bot processes' storages (shards 0 and 1, each with its own pool) on one fresh
    PostgreSQL database."""
    url = await server.fresh_database()
    first = Storage(Path("unused"), url, worker="shards-0")
    second = Storage(Path("unused"), url, worker="shards-1")
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
        await server.drop(url)


def run_machine(
    machine: type[StorageMachine],
    tmp_path: Path,
    storage_dialect: str,
    request: pytest.FixtureRequest,
    *,
    examples: int,
    steps: int,
    also_suppress: tuple[HealthCheck, ...] = (),
) -> None:
    """Run ``examples`` random sequences of up to ``steps`` rules of a storage state machine
    on the dialect the test is given. Each rule awaits real storage, so no deadline applies."""
    machine.tmp_root = str(tmp_path)
    machine.postgres = None
    if storage_dialect == "postgresql":
        machine.postgres = request.getfixturevalue("postgres_server")
        # The rules are the same on both; PostgreSQL's leg checks the dialect with a third
        # of the sequences (each opens a database of its own), keeping the suite's time.
        examples = max(5, examples // 3)
    case = machine.TestCase()
    case.settings = settings(
        case.settings,
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, *also_suppress],
    )
    case.runTest()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, kind, data and the CRC of kind and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, idat: bytes, *, color_type: int = 2) -> bytes:
    """A PNG written byte by byte, for files PIL would not write (forged sizes, bombs): an
    IHDR declaring ``width`` x ``height`` 8-bit pixels of ``color_type`` (2 RGB, 6 RGBA),
    the compressed ``idat`` as it is, and the IEND."""
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


# A queued job as a fresh row holds it.
JOB = Job(
    id=0,
    guild_id=1,
    channel_id=2,
    user_id=3,
    kind=JobKind.CREATE,
    state=JobState.QUEUED,
    character_id=None,
    parent_image_id=None,
    request=CreateJobRequest("1024x1024"),
    image_count=1,
    reference_path=None,
    locale="en",
    application_id=None,
    interaction_token=None,
    interaction_at=None,
    response_message_id=None,
    attempts=0,
    not_before=0.0,
    error_code=None,
    charged=False,
    delivered=False,
    created_at=0.0,
    started_at=None,
    finished_at=None,
)


PALETTES = [
    ((255, 183, 197), (120, 60, 140)),
    ((160, 210, 255), (40, 70, 140)),
    ((255, 225, 150), (180, 90, 40)),
    ((190, 240, 200), (30, 110, 90)),
    ((230, 200, 255), (90, 50, 160)),
    ((255, 200, 170), (150, 50, 70)),
]


def picture_png(seed: int, size: tuple[int, int] = (512, 768)) -> bytes:
    """A small stand-in illustration: a gradient sky and a simple figure, per seed."""
    top, bottom = PALETTES[seed % len(PALETTES)]
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    for y in range(h):
        t = y / (h - 1)
        draw.line(
            [(0, y), (w, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=False)),
        )
    cx = w // 2 + (seed % 3 - 1) * w // 6
    draw.ellipse((cx - w // 7, h // 4, cx + w // 7, h // 4 + 2 * w // 7), fill=(255, 230, 215))
    draw.ellipse((cx - w // 6, h // 4 - w // 20, cx + w // 6, h // 4 + w // 8), fill=bottom)  # hair
    draw.rounded_rectangle(
        (cx - w // 5, h // 4 + 2 * w // 7, cx + w // 5, h - h // 10), radius=w // 12, fill=bottom
    )
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


class Seeder:
    """Characters and pictures written the way the job runner writes them."""

    def __init__(self, storage: Storage, store: ImageStore) -> None:
        self.storage = storage
        self.store = store
        self.count = 0

    async def character(
        self,
        guild_id: int,
        owner_id: int,
        name: str,
        *,
        private: bool = False,
        forked_from: int | None = None,
        style: str = "cel",
    ) -> int:
        character_id = await self.storage.characters.create(
            guild_id=guild_id,
            owner_id=owner_id,
            name=name,
            sheet={
                "name": name,
                "appearance": "long silver hair, red eyes",
                "outfit": "navy school uniform with a red ribbon",
                "personality": "cheerful, a little shy, loves stargazing",
            },
            style=style,
            forked_from_id=forked_from,
        )
        if private:
            await self.storage.gallery.set_private(guild_id, character_id, True)
        return character_id

    async def picture(
        self,
        guild_id: int,
        character_id: int,
        owner_id: int,
        *,
        message: tuple[int, int] | None = None,
        thumb: bool = True,
        prompt: str = "a prompt",
    ) -> int:
        self.count += 1
        data = picture_png(self.count)
        path = self.store.save(guild_id, data, "image/png")
        thumb_path = (
            self.store.save(guild_id, make_thumbnail(data), "image/webp", kind="thumb")
            if thumb
            else None
        )
        async with self.storage.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO images (guild_id, character_id, owner_id, file_path, thumb_path,"
                " width, height, mime, prompt, model, channel_id, message_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, 512, 768, 'image/png', ?, 'gpt-image', ?, ?, ?)",
                (
                    guild_id,
                    character_id,
                    owner_id,
                    path,
                    thumb_path,
                    prompt,
                    message[0] if message else None,
                    message[1] if message else None,
                    time.time(),
                ),
            )
            image_id = cursor.lastrowid
            assert image_id is not None
            await conn.execute(
                "UPDATE characters SET canonical_image_id = ?"
                " WHERE id = ? AND canonical_image_id IS NULL",
                (image_id, character_id),
            )
        return image_id
