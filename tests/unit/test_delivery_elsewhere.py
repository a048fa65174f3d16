"""A process that stalled past its lease says nothing more of a job another process took
over: no "Drawing…" edit, preview or failure notice of its own lands on the member's message
(which may show the other process's finished picture by then), and no second post."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from bot.errors import BotError, PostedElsewhere
from bot.i18n import Catalog
from bot.records import JobState
from cogs.pictures.delivery import DiscordDelivery
from tests.storage_helpers import JOB


def test_a_job_another_process_took_over_gets_no_edit_from_this_one() -> None:
    edits: list[dict[str, Any]] = []

    async def held_elsewhere(_job_id: int) -> bool:
        return True  # this process stood still past its lease; the other holds the job

    async def nothing(*_args: object) -> None:
        return None

    async def edit(_job: object, **fields: Any) -> object:
        edits.append(fields)
        return SimpleNamespace(id=1)

    job_posts = SimpleNamespace(
        held_elsewhere=held_elsewhere, character=nothing, note_status_message=nothing
    )
    bot = SimpleNamespace(services=SimpleNamespace(job_posts=job_posts, catalog=Catalog.load()))
    d = DiscordDelivery(bot)  # type: ignore[arg-type]
    d._edit_original = edit  # type: ignore[method-assign,assignment]
    preview = io.BytesIO()
    Image.new("RGB", (8, 8)).save(preview, "PNG")
    running = dataclasses.replace(JOB, state=JobState.RUNNING)
    failed = dataclasses.replace(JOB, state=JobState.FAILED)

    async def run() -> None:
        await d.job_started(running)
        await d.job_progress(running, preview.getvalue())
        await d.job_failed(failed, BotError("error.generic"))
        with pytest.raises(PostedElsewhere):
            await d.job_done(dataclasses.replace(JOB, state=JobState.DONE), None, [])  # type: ignore[arg-type]

    asyncio.run(run())
    assert edits == []
    assert d._locks == {}
