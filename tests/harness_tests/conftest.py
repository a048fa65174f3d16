"""The fake Discord the harness tests drive (test_fake_openai.py defines its own ``fake``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def guild(fake: FakeDiscord) -> Guild:
    return fake.add_guild("Test Guild")
