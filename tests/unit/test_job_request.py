"""A job's request is read from its stored JSON in one place, whichever version wrote it."""

from __future__ import annotations

import json
from pathlib import Path

from bot.records import (
    CreateJobRequest,
    JobKind,
    JobState,
    VaryJobRequest,
    parse_job_request,
)
from bot.storage import Storage


def test_a_request_round_trips_through_its_json() -> None:
    create = CreateJobRequest("1024x1536", "portrait", "cel", transparent=True)
    vary = VaryJobRequest("1024x1024", "square", "ink", "waving", "strong", 7)
    assert parse_job_request(JobKind.CREATE, create.to_json()) == create
    assert parse_job_request(JobKind.VARY, vary.to_json()) == vary


def test_the_stored_json_keeps_its_keys() -> None:
    """Other readers (the gallery's size label, older versions) read these keys as before."""
    assert list(CreateJobRequest("1024x1536", "portrait", "cel").to_json()) == [
        "style",
        "size",
        "size_key",
        "transparent",
    ]
    assert list(VaryJobRequest("1024x1536", "portrait", "cel").to_json()) == [
        "style",
        "size",
        "size_key",
        "change",
        "strength",
        "varied_character_id",
    ]


def test_old_and_unknown_keys_still_load() -> None:
    # The first version's variation: no varied_character_id, and a key we no longer know.
    old_vary = {
        "style": "cel",
        "size": "1024x1536",
        "size_key": "portrait",
        "change": "waving",
        "strength": "strong",
        "seed": 42,
    }
    vary = parse_job_request(JobKind.VARY, old_vary)
    assert vary == VaryJobRequest("1024x1536", "portrait", "cel", "waving", "strong", None)
    # An early "reroll" job is a creation; without a size, its size key gives it.
    reroll = parse_job_request(JobKind.REROLL, {"size_key": "square", "colour": "red"})
    assert reroll == CreateJobRequest("1024x1024", "square", None, transparent=False)
    # A request erased by /mydata still loads (its job is over; nothing draws it).
    assert parse_job_request(JobKind.CREATE, {}) == CreateJobRequest("1024x1536")


async def test_a_job_queued_by_the_previous_version_loads(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "bot.sqlite3")
    await storage.open()
    stored = {"style": "cel", "size": "1024x1536", "change": "waving", "unknown": [1, 2]}
    await storage.db.execute(
        "INSERT INTO jobs (guild_id, channel_id, user_id, kind, state, request_json,"
        " image_count, locale, created_at) VALUES (10, 20, 1, 'vary', 'queued', ?, 1, 'en', 0)",
        (json.dumps(stored),),
    )
    (job,) = await storage.jobs.pending()
    assert (job.kind, job.state) == (JobKind.VARY, JobState.QUEUED)
    assert job.request == VaryJobRequest("1024x1536", None, "cel", "waving", "subtle", None)
    await storage.close()
