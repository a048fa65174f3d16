"""The job's prompt is noted beside the image request, never in its way (issue 27)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.images.service import GeneratedImage, ImageRequest, ImageResult
from bot.jobs.runner import JobRunner
from bot.records import CreateJobRequest

REQUEST = ImageRequest(
    prompt="An anime character named Aiko",
    model="gpt-image-2.5-flare",
    size="1024x1536",
    n=1,
    quality="medium",
    output_format="png",
    transparent=False,
    user_id=7,
)


class Recorder:
    """Stands for storage and the image service: the note waits until the request is out."""

    def __init__(self, *, note_fails: bool = False) -> None:
        self.request_out = asyncio.Event()
        self.noted: list[tuple[int, str, str]] = []
        self.note_fails = note_fails

    async def record_prompt(self, job_id: int, prompt: str, model: str) -> None:
        # A slow write (a busy database): it ends only once the request has gone out.
        await asyncio.wait_for(self.request_out.wait(), timeout=5)
        if self.note_fails:
            raise OSError("database is locked")
        self.noted.append((job_id, prompt, model))

    async def create(self, request: ImageRequest, on_partial: Any) -> ImageResult:
        self.request_out.set()
        return ImageResult([GeneratedImage(b"picture", "image/png")], 10, 0, 100)


def runner_for(recorder: Recorder) -> JobRunner:
    character = SimpleNamespace(id=3)
    storage = SimpleNamespace(
        characters=SimpleNamespace(get=lambda _id: asyncio.sleep(0, character)),
        jobs=SimpleNamespace(record_prompt=recorder.record_prompt),
    )
    images = SimpleNamespace(create=recorder.create)
    settings = SimpleNamespace(price_table={})
    runner = JobRunner(cast(Any, storage), cast(Any, images), cast(Any, None), cast(Any, settings))

    async def build(_job: Any, _character: Any) -> ImageRequest:
        return REQUEST

    runner._build_request = build  # type: ignore[method-assign]
    return runner


def job() -> Any:
    return SimpleNamespace(
        id=11,
        guild_id=1,
        user_id=7,
        character_id=3,
        parent_image_id=None,
        kind="create",
        request=CreateJobRequest(size="1024x1536"),
    )


async def test_the_request_goes_out_while_the_prompt_is_still_being_noted() -> None:
    recorder = Recorder()
    answer = await asyncio.wait_for(runner_for(recorder).draw(job(), None), timeout=5)
    # Before the change the note came first, so the request never went out: a timeout.
    assert recorder.noted == [(11, REQUEST.prompt, REQUEST.model)]
    assert answer.record["prompt"] == REQUEST.prompt


async def test_a_failed_note_does_not_lose_the_paid_pictures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(note_fails=True)
    answer = await asyncio.wait_for(runner_for(recorder).draw(job(), None), timeout=5)
    assert [image.data for image in answer.images] == [b"picture"]
    assert answer.record["prompt"] == REQUEST.prompt  # kept with the pictures all the same
    assert "prompt not noted" in caplog.text
