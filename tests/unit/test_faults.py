"""What a member's command is told, and what the log says, when the bot meets an exception:
storage failing, or a bug."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import aiohttp
import asyncpg
import pytest

from bot.errors import StorageUnavailable
from bot.faults import log_failure, storage_unavailable
from bot.ops.background import start_beside


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


def test_a_storage_failure_on_the_side_is_one_warning_and_a_bug_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("test_faults")
    with caplog.at_level(logging.WARNING, logger="test_faults"):
        log_failure(log, sqlite3.OperationalError("database is locked"), "Delivering job %s", 7)
        log_failure(log, KeyError("sheet"), "Delivering job %s", 8)
    storage, bug = caplog.records
    assert storage.levelno == logging.WARNING and storage.exc_info is None
    assert storage.getMessage() == (
        "Delivering job 7: storage failed (OperationalError: database is locked)"
    )
    assert bug.levelno == logging.ERROR and bug.getMessage() == "Delivering job 8"
    assert bug.exc_info is not None and bug.exc_info[0] is KeyError


async def test_work_left_in_the_background_is_logged_as_it_ends_and_let_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    async def buggy() -> None:
        raise KeyError("sheet")

    async def forever() -> None:
        await asyncio.Event().wait()

    held: set[asyncio.Task[None]] = set()
    with caplog.at_level(logging.WARNING, logger="bot.faults"):
        start_beside(locked(), held, "deliver-7")
        start_beside(buggy(), held, "positions-8")
        start_beside(forever(), held, "stuck")
        stuck = next(task for task in held if task.get_name() == "stuck")
        stuck.cancel()
        await asyncio.wait(set(held))  # after the callbacks start_beside added first
    assert held == set()
    storage, bug = caplog.records  # the cancelled task is no failure
    assert storage.levelno == logging.WARNING and storage.exc_info is None
    assert storage.getMessage() == (
        "Background work deliver-7 failed: storage failed (OperationalError: database is locked)"
    )
    assert bug.levelno == logging.ERROR and bug.getMessage() == "Background work positions-8 failed"
    assert bug.exc_info is not None and bug.exc_info[0] is KeyError
