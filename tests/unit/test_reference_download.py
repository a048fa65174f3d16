"""A reference picture that cannot be downloaded is a friendly refusal, whatever went wrong."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from bot.errors import UserInputError
from cogs.character.uploads import read_reference


def attachment(failure: BaseException) -> Any:
    """What discord.py's Attachment offers: Discord's own measures, and a download."""

    async def read() -> bytes:
        raise failure

    return SimpleNamespace(content_type="image/png", size=1000, width=10, height=10, read=read)


@pytest.mark.parametrize(
    "failure",
    [aiohttp.ClientConnectionError("reset by peer"), aiohttp.ClientPayloadError(), TimeoutError()],
    ids=["connection reset", "cut off mid-way", "timed out"],
)
async def test_a_download_that_breaks_off_asks_for_the_picture_again(
    failure: BaseException,
) -> None:
    with pytest.raises(UserInputError) as refused:
        await read_reference(attachment(failure))
    assert refused.value.message_key == "error.upload_unreadable"
