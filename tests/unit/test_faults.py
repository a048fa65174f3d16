"""What a member's command is told when it meets an exception: storage failing, or a bug."""

from __future__ import annotations

import sqlite3

import aiohttp
import asyncpg
import pytest

from bot.errors import StorageUnavailable
from bot.faults import storage_unavailable


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        OSError(28, "No space left on device"),
        ConnectionRefusedError(111, "Connection refused"),  # PostgreSQL down
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),  # a restart
        asyncpg.InternalClientError("cannot switch to state 12"),  # the same, met mid-way
        asyncpg.exceptions.ReadOnlySQLTransactionError("read-only transaction"),  # failover
        asyncpg.exceptions.InvalidPasswordError("password authentication failed"),  # rotated
        TimeoutError(),  # PostgreSQL's command timeout
    ],
)
def test_storage_failing_is_told_as_such(error: BaseException) -> None:
    assert isinstance(storage_unavailable(error), StorageUnavailable)


@pytest.mark.parametrize(
    "error",
    [
        # An OSError too, but Discord or its CDN unreachable, not our storage.
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        aiohttp.ServerDisconnectedError(),
        ValueError("a bug"),
        KeyError("sheet"),
    ],
)
def test_anything_else_is_not_called_storage(error: BaseException) -> None:
    assert storage_unavailable(error) is None
