"""The operator's subcommands of ``python -m bot``: healthcheck, backup and restore.

Each prints what it did (or what is wrong) in plain lines and returns the exit status.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.config import Settings, make_data_dir_private
from bot.ops.backup import BackupError, backup, restore
from bot.ops.heartbeat import health_problems

__all__ = ["run_backup", "run_healthcheck", "run_restore"]

EXIT_OK = 0
EXIT_FAILED = 1


def run_healthcheck(settings: Settings) -> int:
    if settings.database_url is None:
        problems = health_problems(settings.heartbeat_path, settings.database_path)
    else:
        from bot.storage.postgres import database_problem

        problems = health_problems(settings.heartbeat_path, None)
        trouble = asyncio.run(database_problem(settings.database_url.get_secret_value()))
        if trouble:
            problems.append(f"the PostgreSQL database does not answer ({trouble})")
    if problems:
        print("unhealthy: " + "; ".join(problems))
        return EXIT_FAILED
    print("healthy")
    return EXIT_OK


# SQLite's online backup does not apply to a server database; PostgreSQL has its own tools.
_USE_PG_DUMP = (
    "{what} covers the SQLite database only. With DATABASE_URL (PostgreSQL), {how}"
    " and copy DATA_DIR/images (the pictures) alongside; see the README."
)


def run_backup(settings: Settings, dest: Path) -> int:
    if settings.database_url is not None:
        how = "back the database up with pg_dump --format=custom"
        print(_USE_PG_DUMP.format(what="backup", how=how), file=sys.stderr)
        return EXIT_FAILED
    # A backup holds members' prompts and pictures: readable by the bot's user only.
    os.umask(0o077)
    try:
        files = backup(settings.data_dir, dest)
    except (BackupError, OSError) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Backed up the database and {files} picture files to {dest}")
    return EXIT_OK


def run_restore(settings: Settings, source: Path) -> int:
    if settings.database_url is not None:
        how = "restore the database with pg_restore"
        print(_USE_PG_DUMP.format(what="restore", how=how), file=sys.stderr)
        return EXIT_FAILED
    try:
        files = restore(source, settings.data_dir)
    except (BackupError, OSError) as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    make_data_dir_private(settings.data_dir)
    print(f"Restored the database and {files} picture files into {settings.data_dir}")
    return EXIT_OK
