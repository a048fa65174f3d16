"""Fixtures every kind of test may use: the bot's real storage on a temporary database,
SQLite or PostgreSQL (every test that takes ``storage`` runs on both)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.postgres_server import PostgresServer, find_pg_bin
from tests.storage_helpers import open_storage


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session. A machine without PostgreSQL fails here,
    never skips: a skipped leg would pass without proving the bot works on PostgreSQL."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL is not installed (pg_ctl, initdb): the storage tests run on it too."
            " Install Debian's postgresql package (.ci/run does) and run the tests again."
        )
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_dialect(request: pytest.FixtureRequest) -> str:
    """Which database the ``storage`` fixture opens; a module overrides it to pin one."""
    return str(request.param)


@pytest.fixture
async def database_url(
    storage_dialect: str, request: pytest.FixtureRequest
) -> AsyncIterator[str | None]:
    """A fresh migrated PostgreSQL database for this test, or None for SQLite."""
    if storage_dialect != "postgresql":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.fresh_database()
    yield url
    await server.drop(url)


@pytest.fixture
def storage_path(tmp_path: Path) -> Path:
    """Where the ``storage`` fixture keeps its database; override it to open another one."""
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def storage(storage_path: Path, database_url: str | None) -> AsyncIterator[Storage]:
    async with open_storage(storage_path, database_url) as opened:
        yield opened
