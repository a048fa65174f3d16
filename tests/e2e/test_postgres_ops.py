"""The operator's commands with DATABASE_URL set: backup and restore say to use pg_dump
(SQLite's online backup cannot copy a server database), and no command shows the URL."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import StartBot
from tests.e2e.test_cockpit_backup import run_command

URL = "postgresql://bot:s3cret-pw@127.0.0.1:1/bot"


async def test_backup_and_restore_point_to_pg_dump_and_never_show_the_url(
    start_bot: StartBot, tmp_path: Path
) -> None:
    code, said = await run_command(start_bot, "backup", str(tmp_path / "b"), DATABASE_URL=URL)
    assert code == 1
    assert "pg_dump" in said and "s3cret-pw" not in said
    assert not (tmp_path / "b").exists()

    code, said = await run_command(start_bot, "restore", str(tmp_path / "b"), DATABASE_URL=URL)
    assert code == 1
    assert "pg_restore" in said and "s3cret-pw" not in said


async def test_a_database_url_that_is_not_postgresql_is_named_not_shown(
    start_bot: StartBot,
) -> None:
    code, said = await run_command(start_bot, DATABASE_URL="mysql://bot:s3cret-pw@db/bot")
    assert code != 0
    assert "DATABASE_URL" in said and "postgresql://" in said
    assert "s3cret-pw" not in said and "mysql" not in said


async def test_an_unreachable_database_stops_the_bot_with_a_plain_error(
    start_bot: StartBot,
) -> None:
    process = await start_bot(wait_ready=False, DATABASE_URL=URL)
    code = await process.wait_exit(timeout=60)
    assert code != 0
    assert "the PostgreSQL database in DATABASE_URL cannot be used" in process.output
    # What went wrong, in the system's words (the event loop words the rest its own way).
    assert "ConnectionRefusedError" in process.output
    assert "s3cret-pw" not in process.output and "Traceback" not in process.output


async def test_a_password_with_a_hash_not_percent_encoded_is_a_plain_error_never_shown(
    start_bot: StartBot, data_dir: Path
) -> None:
    # '#' starts a URL's fragment: what follows the user name reads as a port ('Xq7').
    url = "postgresql://bot:Xq7#s3cret@db/bot"
    process = await start_bot(wait_ready=False, DATABASE_URL=url)
    code = await process.wait_exit(timeout=60)
    assert code == 2
    assert "the PostgreSQL database in DATABASE_URL cannot be used" in process.output
    assert "percent-encode" in process.output
    assert "Xq7" not in process.output and "Traceback" not in process.output
    # The operator's commands that reach the database say the same (migrate-db has a
    # SQLite database to copy).
    (data_dir / "bot.sqlite3").touch()
    for command in ("healthcheck", "migrate-db"):
        code, said = await run_command(start_bot, command, DATABASE_URL=url)
        assert code == 1 and "percent-encode" in said, command
        assert "Xq7" not in said and "Traceback" not in said, command
