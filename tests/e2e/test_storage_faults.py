"""Storage faults when a job finishes (issue #17.2, #16.4b): nothing is stranded or paid twice.

A database locked past busy_timeout by another program, a full disk and a read-only picture
folder, each while a job is drawing; a command that meets the locked database. The disk tests
mount a small tmpfs, which needs root. PostgreSQL's own faults: test_postgres_faults.py.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    alerts_to,
    confirm,
    create,
    created,
    database_busy,
    db_value,
    finished,
    held_up,
    image_id,
    query,
    start_drawing,
    storage_alerts,
)
from tests.fakes.discord import FakeDiscord, InteractionHandle
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI

# The bot rightly logs the storage incident and alerts admins.
pytestmark = pytest.mark.allow_errors(
    r"Storage incident: writes fail", r"Admin alert for guild \d+: storage"
)

# The bot hit the lock: our retry's log line, or (before the fix) the job's crash.
STORAGE_FAILED = r"storage write failed|crashed"


def jobs(data_dir: Path) -> list[tuple[Any, ...]]:
    """(state, charged) of every job, oldest first."""
    return query(data_dir, "SELECT state, charged FROM jobs ORDER BY id")


def leftovers(data_dir: Path) -> list[Path]:
    """Half-written files and notes of answers nobody will record."""
    images = data_dir / "images"
    return [*images.rglob(".*.tmp"), *images.rglob("answers/*.json")]


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a disk that fills up) needs root")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Write zeros until the disk is full."""
    with open(path, "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * (1 << 20))
            handle.flush()


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


@contextlib.asynccontextmanager
async def answered_into_a_locked_database(
    start_bot: StartBot, world: World
) -> AsyncIterator[tuple[BotProcess, InteractionHandle]]:
    """Alice's picture is answered while another program holds the database locked; the
    block runs once the bot has hit the lock (past its busy timeout), still locked."""
    bot = await start_bot(partial_images=0)
    h = await start_drawing(world.openai, world.guild.add_member("alice"))
    with database_busy(world.data_dir):
        world.openai.release()
        await bot.wait_for_log(STORAGE_FAILED, timeout=30)
        yield bot, h


async def test_a_database_locked_past_busy_timeout_at_finish_is_waited_out(
    start_bot: StartBot, world: World
) -> None:
    async with answered_into_a_locked_database(start_bot, world) as (_, h):
        pass  # the lock is lifted on leaving: the bot's retry must then record the picture
    message = await h.wait_original(finished, timeout=30)
    assert message.attachments
    assert jobs(world.data_dir) == [("done", 1)]
    assert len(world.openai.image_requests) == 1


async def test_a_crash_before_the_record_delivers_at_restart_without_paying_again(
    start_bot: StartBot, world: World
) -> None:
    async with answered_into_a_locked_database(start_bot, world) as (bot, h):
        await bot.kill()  # answered and written, not recorded
    await start_bot(partial_images=0)
    message = await h.wait_original(finished, timeout=30)
    assert message.attachments
    assert len(world.openai.image_requests) == 1  # the restart did not pay again
    assert jobs(world.data_dir) == [("done", 1)]
    assert leftovers(world.data_dir) == []


async def test_a_command_that_meets_a_locked_database_is_told_to_try_again_and_costs_nothing(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    with database_busy(world.data_dir):
        h = await create(alice)
        notice = await h.wait_for_reply(
            lambda m: m.ephemeral and "storage isn't working" in (m.content or ""), timeout=30
        )
    assert "try again later" in notice.content
    assert jobs(world.data_dir) == []  # nothing queued, nothing charged
    assert "Unexpected error" not in bot.output  # a fault of the host, not a bug to report
    # Once the lock is gone, the same command works.
    message = await (await create(alice)).wait_original(finished, timeout=30)
    assert message.attachments


async def test_a_confirmed_deletion_that_meets_a_locked_database_is_told_and_loses_nothing(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(partial_images=0)
    alice = world.guild.add_member("alice")
    await created(alice)
    ask = await alice.slash("character delete", character="Aiko")
    prompt = await ask.wait_original(lambda m: m.buttons, timeout=10)
    delete = next(b for b in prompt.buttons if b.get("style") == 4)  # the red button
    with database_busy(world.data_dir):
        pressed = await alice.click(prompt, delete["custom_id"])
        notice = await pressed.wait_for_reply(
            lambda m: m.ephemeral and "storage isn't working" in (m.content or ""), timeout=30
        )
    assert "try again later" in notice.content
    assert "Unexpected error" not in bot.output  # a fault of the host, not a bug to report
    assert query(world.data_dir, "SELECT name FROM characters") == [("Aiko",)]
    # Once the lock is gone, the same deletion works.
    again = await alice.slash("character delete", character="Aiko")
    await confirm(
        alice, await again.wait_original(lambda m: m.buttons, timeout=10), world.discord, "🗑️"
    )
    assert query(world.data_dir, "SELECT name FROM characters") == []


async def test_favorites_that_meet_a_locked_database_count_once_it_is_free_in_their_order(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(partial_images=0)
    alice, bob, carol = (world.guild.add_member(name) for name in ("alice", "bob", "carol"))
    post = await created(alice)
    await bot.wait_for_log(r"Job 1 done", timeout=15)  # its post recorded: favorites count
    picture = image_id(post)
    with database_busy(world.data_dir):
        await bob.react(post, "⭐")
        await bot.wait_for_log("Favorite reaction held until storage works again", timeout=30)
        # Behind Bob's: Carol's add then remove, which must end un-favorited.
        await carol.react(post, "⭐")
        await carol.unreact(post, "⭐")
        assert query(world.data_dir, "SELECT user_id FROM favorites") == []
    # Logged as the host's fault (a warning with its cause); an ERROR would fail this test.
    assert "storage failed (OperationalError: database is locked)" in bot.output
    await bot.wait_for_log(rf"Favorite added by {bob.id} on pictures \[{picture}\]", timeout=30)
    await bot.wait_for_log(rf"Favorite removed by {carol.id}", timeout=30)
    assert query(world.data_dir, "SELECT user_id FROM favorites") == [(bob.id,)]
    # What the gallery's "most favorited" counts.
    assert db_value(world.data_dir, "SELECT favorite_count FROM images WHERE id = ?", picture) == 1


async def test_favorites_still_held_at_shutdown_are_one_warning_with_their_count(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(partial_images=0)
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    post = await created(alice)
    await bot.wait_for_log(r"Job 1 done", timeout=15)
    with database_busy(world.data_dir):
        await bob.react(post, "⭐")
        await bot.wait_for_log("Favorite reaction held until storage works again", timeout=30)
        assert await bot.stop(timeout=30) == 0
    assert "Shutting down with 1 favorite reactions held by a storage fault" in bot.output
    assert query(world.data_dir, "SELECT user_id FROM favorites") == []  # lost, as in a crash


async def test_a_favorite_held_by_a_storage_fault_does_not_outlive_my_erasure(
    start_bot: StartBot, world: World
) -> None:
    """Bob's ⭐ meets a locked database and is held; storage works again and Bob erases his
    data before the held reaction is tried again: it must not bring his favorite back."""
    # The held reaction is tried again 10 s after the fault: time enough to erase first.
    bot = await start_bot(partial_images=0, retry_base_seconds=2)
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    post = await created(alice)
    await bot.wait_for_log(r"Job 1 done", timeout=15)
    picture = image_id(post)
    with database_busy(world.data_dir):
        await bob.react(post, "⭐")
        await bot.wait_for_log("Favorite reaction held until storage works again", timeout=30)
    ask = await bob.slash("mydata delete")
    await confirm(
        bob, await ask.wait_original(lambda m: m.buttons, timeout=10), world.discord, "✅"
    )

    dropped = rf"Dropped 1 held favorite reaction\(s\) of member {bob.id}"
    outcome = rf"Favorite added by {bob.id}|{dropped}"
    await bot.wait_for_log(outcome, timeout=30)
    assert query(world.data_dir, "SELECT user_id FROM favorites") == []
    assert db_value(world.data_dir, "SELECT favorite_count FROM images WHERE id = ?", picture) == 0


class TestDisk:
    """DATA_DIR on a small tmpfs (the picture folder only, for read-only)."""

    async def test_a_full_disk_holds_the_job_tells_everyone_and_recovers(
        self,
        start_bot: StartBot,
        fake_discord: FakeDiscord,
        fake_openai: FakeOpenAI,
        guild: Guild,
        tmp_path: Path,
    ) -> None:
        with mounted_tmpfs(tmp_path / "disk", "24m") as disk:
            data_dir = disk / "data"
            bot = await start_bot(partial_images=0, member_pending_cap=1, data_dir=str(data_dir))
            mods = guild.add_channel("mods")
            await alerts_to(guild, mods)
            alice = guild.add_member("alice")
            h = await start_drawing(fake_openai, alice)
            filler = disk / "filler"
            fill(filler)
            fake_openai.release()
            await h.wait_original(held_up, timeout=30)  # the member is told
            await fake_discord.wait_for(
                lambda _f: storage_alerts(_f, mods), timeout=10, what="the admins' alert"
            )
            filler.unlink()  # an admin frees some space
            message = await h.wait_original(finished, timeout=30)
            assert message.attachments and leftovers(data_dir) == []
            assert len(fake_openai.image_requests) == 1
            assert len(storage_alerts(fake_discord, mods)) == 1
            # The pending slot is free again: the next request is accepted.
            again = await alice.slash("character create", name="Ren", description="red eyes")
            await again.wait_original(finished, timeout=30)
            await bot.stop()

    async def test_a_read_only_picture_folder_mid_run_holds_the_job_until_writable(
        self, start_bot: StartBot, world: World
    ) -> None:
        with mounted_tmpfs(world.data_dir / "images", "64m") as images:
            bot = await start_bot(partial_images=0)
            h = await start_drawing(world.openai, world.guild.add_member("alice"))
            remount(images, "ro")
            world.openai.release()
            await h.wait_original(held_up, timeout=30)
            remount(images, "rw")
            message = await h.wait_original(finished, timeout=30)
            assert message.attachments and leftovers(world.data_dir) == []
            assert jobs(world.data_dir) == [("done", 1)]
            assert len(world.openai.image_requests) == 1
            await bot.stop()


async def test_half_written_files_are_removed_at_start(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    folder = data_dir / "images" / str(guild.id)
    folder.mkdir(parents=True)
    stale = folder / ".img-0123456789abcdef.png.tmp"  # a crash in the middle of a write
    stale.write_bytes(b"\x89PNG half")
    bot = await start_bot()
    await bot.wait_for_log(r"Removed 1 half-written", timeout=15)
    assert leftovers(data_dir) == []
