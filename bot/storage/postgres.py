"""PostgreSQL through asyncpg, behind the same interface as SQLite (see bot/storage/__init__).

The repositories write their SQL once, in a portable subset with ``?`` placeholders;
``translate`` turns it into PostgreSQL's: ``$n`` placeholders, ``INSERT OR IGNORE`` as
``ON CONFLICT DO NOTHING``, SQLite's ASCII case-insensitive ``LIKE`` as ``ILIKE``, its
join-order hint ``CROSS JOIN … ON`` as a plain ``JOIN``, and
``RETURNING id`` on inserts into tables with identity ids (what ``lastrowid`` reads), and
``db_now()`` (seconds since the epoch by the database's clock, a function the SQLite
connections define) as the server's own clock, one for every process whatever their hosts'.

Write transactions are serial across every process on the database, as SQLite's one writer
makes them: each takes a transaction-scoped advisory lock first. Repositories read and then
write inside one transaction (a budget reservation counts what is reserved, then reserves);
two such transactions can never interleave, so the budget is never overspent. Reads run on
any pooled connection and see committed data only. (The multi-process work may narrow this
lock to row locks where throughput needs it; claiming a job is one repository method.)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import zlib
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.storage.database import Database, Dialect, migration_scripts

__all__ = ["PostgresDatabase", "database_problem", "translate"]

log = logging.getLogger(__name__)

# Tables whose rows get an identity id (tests/unit/test_migrations_in_step.py checks the list).
TABLES_WITH_IDS = frozenset({"characters", "image_spends", "images", "jobs", "scenes"})

# Advisory lock keys (any fixed bigints; they only have to differ from each other).
_WRITE_LOCK = 0x616E696D65_01
_MIGRATION_LOCK = 0x616E696D65_02
# How long a command waits for the server (for the write lock, too) before it fails.
COMMAND_TIMEOUT = 30.0
# Work one process does at a time (Database.exclusive): this prefix, then a CRC of its name.
_EXCLUSIVE_LOCKS = 0x616E69 << 32

_INSERT_OR_IGNORE = re.compile(r"\bINSERT OR IGNORE INTO\b", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+(?:OR \w+\s+)?INTO\s+(\w+)", re.IGNORECASE)
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES)\b", re.IGNORECASE)
_LIKE = re.compile(r"\bLIKE\b")
# SQLite's join-order hint (CROSS JOIN … ON) is an inner join to PostgreSQL's planner.
_CROSS_JOIN_ON = re.compile(r"\bCROSS JOIN (\w+(?: AS \w+)?) ON\b")
# SQLite's CAST(real AS INTEGER) truncates; PostgreSQL's rounds. Times are positive: floor.
_CAST_DIVIDED = re.compile(r"CAST\((\w+) / \? AS INTEGER\)")


@functools.lru_cache(maxsize=1024)
def translate(sql: str, *, want_id: bool = True) -> str:
    """The PostgreSQL text of a portable statement written for SQLite."""
    text = _CAST_DIVIDED.sub(r"FLOOR(\1 / ?)::BIGINT", sql)
    text = _LIKE.sub("ILIKE", text)
    text = _CROSS_JOIN_ON.sub(r"JOIN \1 ON", text)
    text = text.replace("db_now()", "EXTRACT(EPOCH FROM clock_timestamp())::float8")
    if _INSERT_OR_IGNORE.search(text):
        text = _INSERT_OR_IGNORE.sub("INSERT INTO", text) + " ON CONFLICT DO NOTHING"
    insert = _INSERT_INTO.match(text)
    if (
        want_id
        and insert
        and insert.group(1).lower() in TABLES_WITH_IDS
        and "RETURNING" not in text.upper()
    ):
        text += " RETURNING id"
    return _numbered_placeholders(text)


def _numbered_placeholders(sql: str) -> str:
    """``?`` → ``$1, $2, …``, leaving question marks inside string literals alone."""
    out: list[str] = []
    number = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


def _arguments(params: Iterable[Any]) -> list[Any]:
    # SQLite stores True as 1; asyncpg wants an int for an INTEGER column.
    return [int(p) if isinstance(p, bool) else p for p in params]


async def database_problem(url: str) -> str | None:
    """Why the PostgreSQL database at ``url`` cannot be used, in one line without the URL
    (it may carry a password), or None when it answers."""
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    except ValueError:
        # The URL could not be read, and the reason quotes a piece of it (a password with
        # '#', '/' or '?' splits where a port or path is looked for): never shown.
        return "the URL cannot be read: percent-encode any # / ? @ : in the password, e.g. %23"
    await conn.close()
    return None


class PgCursor:
    """What a repository reads after a statement: rows, rows changed, the new id."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int, lastrowid: int | None):
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return list(self._rows)


class _Statement:
    """Awaitable for the cursor, or ``async with`` it, as aiosqlite's ``execute`` allows."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        cursor: PgCursor = await self._run
        return cursor

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One connection inside a transaction, speaking the repositories' portable SQL."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Statement:
        return _Statement(self._run(sql, params))

    async def _run(self, sql: str, params: Sequence[Any]) -> PgCursor:
        text = translate(sql)
        arguments = _arguments(params)
        # Both calls go through asyncpg's statement cache (prepare() would not).
        if _RETURNS_ROWS.match(text) or " RETURNING " in text:
            rows = await self._conn.fetch(text, *arguments)
            rowcount = len(rows)
        else:
            status = await self._conn.execute(text, *arguments)  # e.g. "UPDATE 3"
            rows, last = [], status.rsplit(" ", 1)[-1]
            rowcount = int(last) if last.isdigit() else 0
        lastrowid = None
        if text.endswith(" RETURNING id") and rows:
            lastrowid = int(rows[0][0])
        return PgCursor(rows, rowcount, lastrowid)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        return await (await self._run(sql, params)).fetchall()

    async def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(translate(sql, want_id=False), [_arguments(p) for p in params])


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 5, stalled_after: float | None = None) -> None:
        self._url = url
        self._pool_size = pool_size
        # A session that stands still inside a transaction this long (its process frozen:
        # a stop signal, a swapping host) is ended by the server: the write lock it holds
        # would hold up every other process's writes, take-overs included, meanwhile. Ended
        # before those writes give up waiting for it (a process starting would fail).
        self._server_settings: dict[str, str] | None = None
        if stalled_after:
            stalled_ms = max(1, round(min(stalled_after, COMMAND_TIMEOUT / 2) * 1000))
            self._server_settings = {"idle_in_transaction_session_timeout": str(stalled_ms)}
        self._pool: asyncpg.Pool | None = None
        # Keeps this process's writers queued here rather than each holding a pooled
        # connection while it waits for the advisory lock.
        self._write_lock = asyncio.Lock()

    def __repr__(self) -> str:
        # The URL may carry a password: never print it.
        return "PostgresDatabase(<DATABASE_URL>)"

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=1,
            max_size=self._pool_size,
            command_timeout=COMMAND_TIMEOUT,
            server_settings=self._server_settings,
        )
        await self.migrate()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = None

    def _require(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    async def migrate(self) -> list[int]:
        """Apply the migrations newer than the recorded version, one process at a time."""
        applied = []
        async with self._require().acquire() as conn:
            # Two processes starting together: the second waits here, then finds nothing left.
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                current = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
                for version, name, sql in migration_scripts("postgresql"):
                    if version <= current:
                        continue
                    log.info("Applying PostgreSQL migration %s", name)
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_version VALUES ($1)", version)
                    applied.append(version)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        return applied

    @asynccontextmanager
    async def exclusive(self, work: str) -> AsyncIterator[bool]:
        # A session-level advisory lock, tried, not waited for: the process that holds it
        # does the work; a process that dies releases it with its connection.
        key = _EXCLUSIVE_LOCKS | zlib.crc32(work.encode())
        async with self._require().acquire() as conn:
            held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield held
            finally:
                if held:
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """A write transaction, serial with every other one on this database."""
        async with self._write_lock, self._require().acquire() as conn:
            failure: BaseException | None = None
            try:
                # asyncpg's own block, so asyncpg knows the transaction is managed: a BEGIN
                # cancelled on its way is then rolled back when the pool takes the connection
                # back, rather than reported as a leaked transaction.
                async with conn.transaction():
                    try:
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
                        yield PgConnection(conn)
                    except BaseException as error:
                        failure = error
                        raise
            except Exception as error:
                if failure is None or error is failure:
                    raise
            else:
                return
            # The rollback failed too (the connection dropped): the first error is the one the
            # storage-fault handling looks for. The pool discards a broken connection.
            raise failure

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._require().fetch(
            translate(sql, want_id=False), *_arguments(params)
        )
        return rows
