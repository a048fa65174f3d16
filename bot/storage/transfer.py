"""Moving a bot from SQLite to PostgreSQL: ``python -m bot migrate-db --to postgresql://…``.

Every table is copied with its ids, in one PostgreSQL transaction (a failure leaves the
target as it was), then each identity sequence is set past both the largest id copied and
SQLite's own high-water mark (``sqlite_sequence``), so an id deleted in SQLite is still never
handed out again. Row counts are compared table by table before the commit. The target must
be empty: this never merges two bots' data.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage.database import SqliteDatabase
from bot.storage.postgres import TABLES_WITH_IDS, PostgresDatabase

__all__ = ["TargetNotEmpty", "TransferError", "copy_sqlite_to_postgres"]


class TransferError(Exception):
    """A copy that cannot be done or did not add up, said in one plain line."""


class TargetNotEmpty(TransferError):
    pass


# Insert order: a row's references are copied before it. References that can point forward
# or at the same table (a character's main picture, a fork's source, a picture's or a job's
# parent) are copied as NULL first and filled in once every row is there.
_ORDER = (
    "meta",
    "guild_config",
    "quota_limits",
    "alerts_sent",
    "characters",
    "jobs",
    "scenes",
    "images",
    "scene_characters",
    "favorites",
    "picture_posts",
    "character_pictures",
    "image_spends",
    "message_takedowns",
)
_LATER = {
    "characters": ("canonical_image_id", "forked_from_id"),
    "jobs": ("parent_image_id",),
    "images": ("parent_image_id",),
}


async def copy_sqlite_to_postgres(sqlite_path: Path, url: str) -> dict[str, int]:
    """Copy the database at ``sqlite_path`` into the empty PostgreSQL database at ``url``;
    return the rows copied per table."""
    if not await asyncio.to_thread(sqlite_path.is_file):
        raise TransferError(f"no SQLite database at {sqlite_path}: is DATA_DIR right?")
    source_db = SqliteDatabase(sqlite_path)  # brings an older database up to date first
    await source_db.open()
    await source_db.close()
    await _refuse_unless_empty(url)
    target = PostgresDatabase(url, pool_size=1)
    await target.open()  # migrates the empty database
    await target.close()

    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        tables = {
            name
            for (name,) in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if unknown := tables - set(_ORDER):
            raise TransferError(f"tables this version cannot copy: {sorted(unknown)}")
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                counts = await _copy_tables(source, conn)
                await _advance_sequences(source, conn)
        finally:
            await conn.close()
    finally:
        source.close()
    return counts


async def _refuse_unless_empty(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = [
            row[0]
            for row in await conn.fetch(
                "SELECT quote_ident(table_name) FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                " AND table_name != 'schema_version'"
            )
        ]
        for table in tables:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise TargetNotEmpty(
                    f"the PostgreSQL database is not empty (table {table} has rows):"
                    " migrate-db copies into an empty database only"
                )
    finally:
        await conn.close()


async def _copy_tables(source: sqlite3.Connection, conn: asyncpg.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in _ORDER:
        columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
        kinds = await _column_kinds(conn, table)
        later = _LATER.get(table, ())
        rows = [
            tuple(
                None if column in later else _as(kinds[column], value)
                for column, value in zip(columns, row, strict=True)
            )
            for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}")
        ]
        if table == "character_pictures":
            # The triggers listed the copied pictures already; keep SQLite's rows exactly.
            await conn.execute("DELETE FROM character_pictures")
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        counts[table] = len(rows)
    for table, late_columns in _LATER.items():
        for column in late_columns:
            pairs = source.execute(
                f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"
            ).fetchall()
            await conn.executemany(f"UPDATE {table} SET {column} = $2 WHERE id = $1", pairs)
    for table, expected in counts.items():
        copied = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
        if copied != expected:
            raise TransferError(f"{table}: {expected} rows in SQLite but {copied} copied")
    return counts


async def _column_kinds(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = $1",
        table,
    )
    return {row[0]: row[1] for row in rows}


def _as(kind: str, value: Any) -> Any:
    """SQLite keeps what it was given; PostgreSQL's binary COPY wants the column's type."""
    if value is None:
        return None
    if kind in ("bigint", "integer"):
        return int(value)
    if kind == "double precision":
        return float(value)
    return str(value)


async def _advance_sequences(source: sqlite3.Connection, conn: asyncpg.Connection) -> None:
    high_water = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    for table in sorted(TABLES_WITH_IDS):
        largest = await conn.fetchval(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        last = max(int(largest), int(high_water.get(table, 0)))
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
        # is_called false with 1: the next id is 1; otherwise the next is last + 1.
        await conn.execute("SELECT setval($1, $2, $3)", sequence, max(last, 1), last > 0)
