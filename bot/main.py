"""The composition root: settings, logging, services, the bot, signals, exit codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import discord

from bot.config import ConfigurationError, Settings, load_settings, make_data_dir_private
from bot.discord_endpoint import use_discord_api_base
from bot.logging_setup import configure_logging

__all__ = ["main", "run"]

log = logging.getLogger("bot")

EXIT_OK = 0
EXIT_CONFIG = 2


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--sync",
        action="store_true",
        help="sync slash commands now (to DEV_GUILD_ID if set, else globally), then run",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "healthcheck",
        help="exit 0 if the running bot is connected, responsive and its database answers",
    )
    backup = commands.add_parser("backup", help="copy the database and pictures while the bot runs")
    backup.add_argument("dest", type=Path, help="a folder, or an archive ending in .tar.gz")
    restore = commands.add_parser("restore", help="put a backup into an empty DATA_DIR")
    restore.add_argument("src", type=Path, help="a backup folder or .tar.gz archive")
    migrate = commands.add_parser(
        "migrate-db", help="copy the SQLite database into an empty PostgreSQL database"
    )
    migrate.add_argument(
        "--to", metavar="URL", help="postgresql://user:password@host/db (default: DATABASE_URL)"
    )
    return parser.parse_args(argv)


def _settings() -> Settings | None:
    """The settings, or None after saying on stderr what is wrong with them."""
    try:
        return load_settings()
    except ConfigurationError as exc:
        for line in exc.lines:
            print(f"Configuration error: {line}", file=sys.stderr)
        return None


def _operate(args: argparse.Namespace) -> int:
    """The operator's subcommands (bot/ops/commands.py): no Discord, no OpenAI."""
    from bot.ops.commands import run_backup, run_healthcheck, run_restore

    settings = _settings()
    if settings is None:
        return EXIT_CONFIG
    if args.command == "healthcheck":
        return run_healthcheck(settings)
    if args.command == "backup":
        return run_backup(settings, args.dest)
    if args.command == "migrate-db":
        from bot.ops.migrate_db import run_migrate_db

        return run_migrate_db(settings, args.to)
    return run_restore(settings, args.src)


async def main(force_sync: bool = False) -> int:
    settings = _settings()
    if settings is None:
        return EXIT_CONFIG

    configure_logging(
        settings.log_level,
        settings.secrets(),
        log_sql=settings.log_sql,
        log_format=settings.log_format,
    )
    make_data_dir_private(settings.data_dir)
    if settings.discord_api_base:
        use_discord_api_base(settings.discord_api_base)

    if settings.database_url is not None:
        from bot.storage.postgres import database_problem

        problem = await database_problem(settings.database_url.get_secret_value())
        if problem:
            print(
                f"Configuration error: the PostgreSQL database in DATABASE_URL cannot be used"
                f" ({problem}): check the host, port, user, password and database name.",
                file=sys.stderr,
            )
            return EXIT_CONFIG

    # Imported here so a configuration error is reported before the heavy imports.
    from bot.app import CharacterBot
    from bot.services import Services

    bot = CharacterBot(Services.build(settings), force_sync=force_sync)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def request_stop() -> None:
        if not closing:  # a second Ctrl+C while shutting down changes nothing
            closing.append(asyncio.create_task(bot.close(), name="shutdown"))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop)

    try:
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
        # start() returns as soon as the gateway closes; let the shutdown finish its work.
        for task in closing:
            await task
    except discord.LoginFailure:
        print(
            "Configuration error: DISCORD_TOKEN was rejected by Discord: copy the bot token "
            "again from https://discord.com/developers/applications (Bot → Reset Token).",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print("Configuration error: Discord refused the bot's intents.", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is not None:
        return _operate(args)
    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(main(force_sync=args.sync))
    except KeyboardInterrupt:
        return EXIT_OK


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (not on Windows): the same asyncio, at a fraction of the
    CPU per socket event, which a burst of members at once waits on. Else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
