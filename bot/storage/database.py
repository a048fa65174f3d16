"""The database behind the repositories: SQLite (the default) or PostgreSQL (``DATABASE_URL``).

Both give the repositories the same interface: ``transaction()`` yields a connection whose
``execute``/``executemany`` take SQL with ``?`` placeholders and return a cursor with
``fetchone``/``fetchall``/``rowcount``/``lastrowid``; ``execute``/``insert``/``fetch_*`` run
one statement. Write transactions are serial, as SQLite's single writer makes them: every
reader of a transaction may rely on nothing changing between its read and its write.

SQLite: one writer connection behind a lock (SQLite allows one writer anyway; the lock keeps
two coroutines' statements out of each other's transactions) and one reader connection, which
in WAL mode sees only committed data and never waits for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import aiosqlite
import asyncpg

__all__ = [
    "STORAGE_ERRORS",
    "Connection",
    "Database",
    "Dialect",
    "Repository",
    "Row",
    "SqliteDatabase",
    "guild_scope",
    "migration_scripts",
    "placeholders",
]

# What a write raises when the database fails: SQLite locked past busy_timeout, a full or
# read-only disk (sqlite3.OperationalError), a picture file that cannot be written (OSError,
# which also covers a PostgreSQL server that refuses the connection); PostgreSQL gone away
# mid-session, shutting down, or out of disk. A statement that meets a session while the
# server ends it (a restart, a failover) gets asyncpg's InternalClientError instead of the
# connection error, as often as not: the connection is going, and the pool replaces it.
# A server that refuses writes (a failover's old primary, or a standby named by mistake)
# waits like a read-only disk: until the bot's sessions reach a primary again. So does one
# that refuses the bot's login once it runs (credentials revoked or rotated under it); at
# start, the same refusal stops the bot with a configuration error instead.
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,  # (a frozen process, woken)
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
)

Dialect = Literal["sqlite", "postgresql"]


# A result row: sqlite3.Row or asyncpg.Record; both read by column name or by position.
Row = Any


class Connection(Protocol):
    """What a transaction yields, on either dialect (aiosqlite's, or postgres.PgConnection):
    ``await conn.execute(sql, params)`` or ``async with conn.execute(...) as cursor``; the
    cursor has ``fetchone``, ``fetchall``, ``rowcount`` and ``lastrowid``. A read is best
    made with ``execute_fetchall``: one trip for the statement and all its rows (a cursor's
    execute, fetch and close are three on SQLite's thread)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = ..., /) -> Iterable[Any]: ...

    async def executemany(self, sql: str, parameters: Any, /) -> Any: ...


async def fetch_first(conn: Connection, sql: str, params: Any = ()) -> Row | None:
    """The first row a statement returns inside a transaction, or None, in one trip."""
    for row in await conn.execute_fetchall(sql, params):
        return row
    return None


log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_MIGRATION_FOLDERS: dict[Dialect, str] = {"sqlite": "migrations", "postgresql": "migrations_pg"}


def migration_scripts(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped for ``dialect``, in order."""
    folder = resources.files("bot.storage") / _MIGRATION_FOLDERS[dialect]
    scripts = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            scripts.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    scripts.sort()
    versions = [v for v, _, _ in scripts]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migration numbers must run 1..N without gaps, got {versions}")
    return scripts


class Database:
    """What every dialect provides (see the module docstring)."""

    dialect: Dialect

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def migrate(self) -> list[int]:
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A write transaction: committed on success, rolled back on any exception."""
        raise NotImplementedError

    def exclusive(self, work: str) -> AbstractAsyncContextManager[bool]:
        """Whether this process does ``work`` (a command sync, a sweep) now, alone among
        the processes sharing the database: True for the one that holds it while the block
        runs, False for the others. One SQLite file has one process: always True."""
        return contextlib.nullcontext(True)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement in its own transaction; returns the number of rows changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, tuple(params))
            return int(cursor.rowcount)

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One INSERT in its own transaction; returns the new row's id."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, tuple(params))
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


class Repository:
    """One kind of record's statements, run on the storage's one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, busy_timeout_seconds: float = 5.0) -> None:
        self.path = path
        self._busy_timeout_ms = round(busy_timeout_seconds * 1000)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self.migrate()
        self._reader = await self._connect()

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # ``db_now()``, the database's clock in SQL: one process on one host, so this host's.
        await conn.create_function("db_now", 0, time.time)
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        # WAL with NORMAL keeps every committed transaction across a process crash.
        await conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def migrate(self) -> list[int]:
        """Apply the migrations newer than ``PRAGMA user_version``; return those applied."""
        conn = self._require(self._writer)
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        applied = []
        for version, name, sql in migration_scripts("sqlite"):
            if version <= current:
                continue
            log.info("Applying database migration %s", name)
            # executescript commits first; the script and the version bump land together.
            # Foreign keys are off while a migration runs (SQLite's advice for rebuilding a
            # table), then checked before they are switched back on.
            await conn.executescript(
                "PRAGMA foreign_keys = OFF;\n"
                f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;\n"
                "PRAGMA foreign_keys = ON;"
            )
            async with conn.execute("PRAGMA foreign_key_check") as cursor:
                broken = list(await cursor.fetchall())
            if broken:
                raise RuntimeError(f"migration {name} left broken references: {broken[:5]}")
            applied.append(version)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        conn = self._require(self._writer)
        async with self._write_lock:
            try:
                # Inside the try: a coroutine cancelled while BEGIN is on its way still has
                # it run on the writer's thread, and without the rollback queued behind it,
                # the writer stayed in that transaction and every later write failed.
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
            except BaseException:
                await conn.rollback()  # nothing to undo (BEGIN failed) is a no-op
                raise
            else:
                await conn.commit()

    # One statement needs no BEGIN and COMMIT around it: in autocommit mode SQLite runs it
    # as a transaction of its own, whole or not at all. One trip to the writer's thread
    # instead of three, on every write the job path makes. The write lock still orders it
    # with the transactions, so it never lands inside one.

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        conn = self._require(self._writer)
        async with self._write_lock:
            cursor = await conn.execute(sql, tuple(params))
            return int(cursor.rowcount)

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        conn = self._require(self._writer)
        async with self._write_lock:
            cursor = await conn.execute(sql, tuple(params))
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row. Reads every row the query returns: for queries of one row."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        # Executed and read to the end in one call on the reader's thread, never as a cursor
        # the event loop steps through. While a SELECT is unfinished, SQLite keeps the
        # connection's read snapshot. A coroutine cancelled between a cursor's execute and
        # its close left the cursor unfinished (aiosqlite's worker holds it until its next
        # call), so the reader's next query read the data as it was before later commits:
        # a job just marked running read back as queued, a job's new pictures as none.
        return list(await self._require(self._reader).execute_fetchall(sql, tuple(params)))

    @staticmethod
    def _require(conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("the database is not open")
        return conn


def guild_scope(guild_id: int | None) -> tuple[str, tuple[int, ...]]:
    """One server's rows, or (None) every server's: a fixed WHERE fragment and its
    parameters. Two texts rather than ``? IS NULL OR guild_id = ?``, which hides the index
    on ``guild_id`` from both planners."""
    return ("guild_id = ?", (guild_id,)) if guild_id is not None else ("1 = 1", ())


def placeholders(count: int) -> str:
    """``?, ?, ?``: one placeholder for each of ``count`` values, for an ``IN (…)`` list or
    a ``VALUES (…)`` row. Only the marks go into the SQL text; the values are always bound.
    Callers skip an empty list: SQLite reads ``IN ()`` as matching nothing, PostgreSQL
    refuses it."""
    return ", ".join("?" * count)
