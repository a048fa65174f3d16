"""``python -m bot migrate-db --to postgresql://…``: move the bot's SQLite database into an
empty PostgreSQL database (see bot/storage/transfer.py). Pictures stay under DATA_DIR."""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from bot.config import Settings
from bot.storage.postgres import database_problem
from bot.storage.transfer import TransferError, copy_sqlite_to_postgres

__all__ = ["run_migrate_db"]

EXIT_OK = 0
EXIT_FAILED = 1


def run_migrate_db(settings: Settings, url: str | None) -> int:
    # --to, or else DATABASE_URL (which keeps the password out of the process list).
    target = url or (settings.database_url.get_secret_value() if settings.database_url else "")
    if not target.startswith(("postgresql://", "postgres://")):
        print(
            "migrate-db needs the target: --to postgresql://user:password@host/db"
            " (or DATABASE_URL set to one)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    # A URL the driver cannot read fails with a piece of it in the reason: said plainly.
    problem = asyncio.run(database_problem(target))
    if problem:
        print(
            f"migrate-db failed: the PostgreSQL database cannot be used ({problem})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        counts = asyncio.run(copy_sqlite_to_postgres(settings.database_path, target))
    except TransferError as exc:
        print(f"migrate-db failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # Never the URL: it may carry a password. The driver's messages do not include it.
        print(f"migrate-db failed: PostgreSQL said: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    width = max(len(table) for table in counts)
    print(f"Copied {sum(counts.values())} rows from {settings.database_path} to PostgreSQL:")
    for table, rows in counts.items():
        print(f"  {table:<{width}}  {rows}")
    print("Row counts match. Pictures stay in DATA_DIR; set DATABASE_URL and start the bot.")
    return EXIT_OK
