"""Once a job is queued, nothing said about it afterwards may claim the request failed."""

from __future__ import annotations

import dataclasses
import sqlite3
from types import SimpleNamespace
from typing import Any

import pytest

from bot.records import Submitted
from cogs._shared import start_job as module
from tests.storage_helpers import JOB


async def test_a_fork_notice_that_cannot_be_read_leaves_the_queued_job_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    told: list[BaseException] = []

    async def unreadable(*_args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    async def tell(_interaction: Any, error: BaseException) -> None:
        told.append(error)

    characters = SimpleNamespace(visible_character=unreadable)
    monkeypatch.setattr(module, "services", lambda _i: SimpleNamespace(characters=characters))
    monkeypatch.setattr(module, "require_picture_permissions", lambda _i: None)
    monkeypatch.setattr(module, "handle_interaction_error", tell)
    queued = Submitted(dataclasses.replace(JOB, character_id=7), 1, None)

    async def request() -> Submitted:
        return queued

    interaction: Any = SimpleNamespace(guild_id=1, user=SimpleNamespace(id=5))
    # Bob varied Alice's character 3: the job draws his fork, 7, and is in line.
    assert await module.start_job(interaction, request, character_id=3) is queued
    assert told == []  # no "storage trouble, try again" for a job that will be drawn
