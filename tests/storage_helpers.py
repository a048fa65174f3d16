"""The bot's real storage layer, opened on a database a test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.storage import NewJob, Storage


@asynccontextmanager
async def open_storage(path: Path) -> AsyncIterator[Storage]:
    """The storage layer on ``path`` (migrated on open), closed again on leaving."""
    storage = Storage(path)
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
    request: dict[str, Any] | None = None,
    **fields: Any,
) -> NewJob:
    """A create job as a member's command submits it; ``fields`` set the optional columns."""
    return NewJob(
        guild_id=guild_id,
        channel_id=20,
        user_id=user_id,
        kind="create",
        request=request or {},
        image_count=count,
        locale="en",
        **fields,
    )
