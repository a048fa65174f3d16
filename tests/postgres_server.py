"""A throwaway PostgreSQL server for tests, started from the installed binaries.

One cluster per test session (per xdist worker), in a temp dir, on loopback with trust
authentication; each test gets a fresh database copied from a migrated template (``CREATE
DATABASE … TEMPLATE`` takes milliseconds, migrating takes longer). PostgreSQL refuses to run
as root, so under root every server command runs as the ``postgres`` user.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage import Storage

__all__ = ["E2E_DATABASE_URLS", "PostgresServer", "find_pg_bin", "query_postgres"]

TEMPLATE = "bot_template"


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "pg_ctl").exists() and (folder / "initdb").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)
        self._template_ready = False

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        # fsync off: a test cluster need not survive a power cut, and it is much faster.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.root / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def fresh_database(self, *, migrated: bool = True) -> str:
        """The URL of a new database: migrated (from the template) or empty."""
        if migrated and not self._template_ready:
            await self._admin(f"CREATE DATABASE {TEMPLATE}")
            storage = Storage(Path("unused"), self.url(TEMPLATE))
            await storage.open()
            await storage.close()
            self._template_ready = True
        name = f"test_{os.getpid()}_{next(self._names)}"
        template = f" TEMPLATE {TEMPLATE}" if migrated else ""
        await self._admin(f"CREATE DATABASE {name}{template}")
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# The PostgreSQL database of each e2e test on the PostgreSQL leg, by the test's DATA_DIR, so
# the helpers that read the bot's database (tests/e2e/helpers.query …) read the right one.
E2E_DATABASE_URLS: dict[Path, str] = {}


def query_postgres(url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run one portable statement (``?`` placeholders) and return its rows, synchronously:
    the e2e helpers are plain functions, like the sqlite3 calls they stand in for."""
    from bot.storage.postgres import translate

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(translate(sql, want_id=False), *params)]
        finally:
            await conn.close()

    # The caller's event loop is busy running the test: use a loop of its own, elsewhere.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=30)
