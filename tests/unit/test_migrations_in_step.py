"""The SQLite and PostgreSQL migrations stay in step: after both are applied, the same
tables, columns (names and nullability), indexes and unique keys, from the same number of
migration files. (A column's type differs on purpose: BIGINT/DOUBLE PRECISION in PostgreSQL.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg

from bot.storage import Storage
from bot.storage.database import migration_scripts
from bot.storage.postgres import TABLES_WITH_IDS
from tests.postgres_server import PostgresServer

Schema = dict[str, dict[str, object]]


def test_both_dialects_ship_the_same_migration_numbers() -> None:
    sqlite_versions = [version for version, _, _ in migration_scripts("sqlite")]
    postgres_versions = [version for version, _, _ in migration_scripts("postgresql")]
    assert sqlite_versions == postgres_versions


def _sqlite_schema(path: Path) -> Schema:
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        schema: Schema = {}
        for table in tables:
            columns = {
                row[1]: bool(row[3] or row[5])  # NOT NULL, or part of the primary key
                for row in conn.execute(f"PRAGMA table_info({table})")
            }
            indexes = set()
            unique = set()
            for _, name, is_unique, origin, _ in conn.execute(f"PRAGMA index_list({table})"):
                keys = tuple(row[2] for row in conn.execute(f"PRAGMA index_info({name})"))
                if origin == "c":
                    indexes.add(name)
                if is_unique:
                    unique.add(keys)
            primary = tuple(
                row[1]
                for row in sorted(conn.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5])
                if row[5]
            )
            unique.add(primary)
            schema[table] = {"columns": columns, "indexes": indexes, "unique": unique}
        return schema
    finally:
        conn.close()


async def _postgres_schema(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        schema: Schema = {}
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " AND table_name != 'schema_version'"
        )
        for (table,) in tables:
            columns = {
                row["column_name"]: row["is_nullable"] == "NO"
                for row in await conn.fetch(
                    "SELECT column_name, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = $1",
                    table,
                )
            }
            indexes = set()
            unique = set()
            for row in await conn.fetch(
                "SELECT i.relname AS name, x.indisunique AS is_unique, x.indisprimary AS pk,"
                " ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(num, pos)"
                "       JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.num"
                "       ORDER BY k.pos) AS keys,"
                " EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = x.indexrelid)"
                "   AS from_constraint"
                " FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = $1::regclass",
                table,
            ):
                if not row["from_constraint"]:
                    indexes.add(row["name"])
                if row["is_unique"]:
                    unique.add(tuple(row["keys"]))
            schema[table] = {"columns": columns, "indexes": indexes, "unique": unique}
        return schema
    finally:
        await conn.close()


async def test_both_dialects_migrate_to_the_same_schema(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite_path = tmp_path / "bot.sqlite3"
    sqlite_storage = Storage(sqlite_path)
    await sqlite_storage.open()
    await sqlite_storage.close()
    url = await postgres_server.fresh_database(migrated=False)
    postgres_storage = Storage(tmp_path, url)
    await postgres_storage.open()
    await postgres_storage.close()

    sqlite_schema = _sqlite_schema(sqlite_path)
    postgres_schema = await _postgres_schema(url)
    await postgres_server.drop(url)
    assert sorted(postgres_schema) == sorted(sqlite_schema)
    for table, expected in sqlite_schema.items():
        assert postgres_schema[table] == expected, table


async def test_the_dialect_layer_knows_every_table_with_identity_ids(
    postgres_server: PostgresServer,
) -> None:
    url = await postgres_server.fresh_database()
    conn = await asyncpg.connect(url)
    try:
        tables = {
            row[0]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND is_identity = 'YES'"
            )
        }
    finally:
        await conn.close()
        await postgres_server.drop(url)
    assert tables == TABLES_WITH_IDS
