"""Fixtures every kind of test may use: the bot's real storage on a temporary database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.storage_helpers import open_storage


@pytest.fixture
def storage_path(tmp_path: Path) -> Path:
    """Where the ``storage`` fixture keeps its database; override it to open another one."""
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def storage(storage_path: Path) -> AsyncIterator[Storage]:
    async with open_storage(storage_path) as opened:
        yield opened
