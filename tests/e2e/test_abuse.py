"""Bounded under abuse (issue 18): hostile input gets a clear answer and costs no more than
its share. Each test here fails on the code before the fix it proves."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import stat
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    character_of,
    finished,
    flat_png,
    image_id,
    picture_size,
    public_texts,
    refusal,
    say,
    seed,
    unescaped_markdown,
)
from tests.fakes.discord import FakeDiscord, InteractionHandle, Upload
from tests.fakes.discord.models import Guild, Member

# Characters str.isdigit() accepts but int() refuses (superscript, circled, and a mix).
ODD_DIGITS = ["²", "①", "#³", "1²", "⑫"]


@pytest.mark.parametrize("typed", ODD_DIGITS)
async def test_digits_that_are_not_ascii_get_the_pick_message_not_a_crash(
    bot: BotProcess, world: World, typed: str
) -> None:
    alice = world.guild.add_member("alice")
    pick = say("error.character_pick")
    for path in ("character show", "character private", "character delete", "character vary"):
        handle = await alice.slash(path, character=typed)
        assert pick in await refusal(handle), f"/{path} character:{typed!r}"
    handle = await alice.slash("gallery", character=typed)
    assert pick in await refusal(handle)
    handle = await alice.slash("character main", character=typed, picture=typed)
    assert pick in await refusal(handle)
    # Autocomplete reads the other option too: it must still answer (with nothing).
    choices = await alice.autocomplete(
        "character main", focused="picture", value="1", options={"character": typed}, timeout=3
    )
    assert choices == []
    for path in ("character vary", "gallery", "character show"):
        assert await alice.autocomplete(path, focused="character", value=typed, timeout=3) == []
    assert not world.openai.requests
    assert "unexpected" not in " ".join(m.content or "" for m in world.discord.bot_messages())


async def test_a_crafted_size_or_style_is_refused_and_cannot_break_the_server(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    carol = world.guild.add_member("carol", admin=True)

    # A patched client sends values that are not among the options' choices.
    for options, key in (
        ({"style": "hacked"}, "error.unknown_style"),
        ({"size": "9999x9999"}, "error.unknown_size"),
    ):
        handle = await carol.slash("config defaults", modified_client=True, options=options)
        assert say(key) in await refusal(handle)
        handle = await alice.slash(
            "character create",
            modified_client=True,
            name="Aiko",
            description="silver hair",
            options=options,
        )
        assert say(key) in await refusal(handle)
    assert not world.openai.requests  # refused before moderation was paid for

    # Nothing was stored: every member still creates with the server's defaults.
    done = await alice.slash("character create", name="Aiko", description="silver hair")
    await done.wait_original(finished, timeout=20)


def loose_modes(root: Path) -> list[str]:
    """Everything under ``root`` (itself included) that another local user could read."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            loose.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return loose


def leave_old_files(data_dir: Path) -> Path:
    """What an older version left behind, created with the usual umask (022)."""
    (data_dir / "images").mkdir(parents=True)
    data_dir.chmod(0o755)
    (data_dir / "images").chmod(0o755)
    old = data_dir / "images" / "old.png"
    old.write_bytes(b"\x89PNG")
    old.chmod(0o644)
    return old


async def test_data_dir_contents_are_owner_only(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    old = leave_old_files(data_dir)
    previous = os.umask(0o022)  # what the bot process inherits from a typical shell
    try:
        await start_bot()
    finally:
        os.umask(previous)
    alice = guild.add_member("alice")
    done = await alice.slash("character create", name="Aiko", description="silver hair")
    await done.wait_original(finished, timeout=20)
    stored = [p.name for p in await asyncio.to_thread(lambda: list(data_dir.rglob("*")))]
    assert "bot.sqlite3" in stored and any(n.endswith(".png") and n != old.name for n in stored)
    assert await asyncio.to_thread(loose_modes, data_dir) == []


def stored_tokens(data_dir: Path) -> list[str]:
    with closing(sqlite3.connect(data_dir / "bot.sqlite3")) as db:
        rows = db.execute("SELECT interaction_token FROM jobs").fetchall()
    return [row[0] for row in rows if row[0]]


async def test_interaction_tokens_never_reach_the_log_and_leave_the_database_when_done(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(log_level="DEBUG")
    alice = world.guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    await made.wait_original(finished, timeout=20)
    varied = await alice.slash("character vary", character="Aiko", change="waving")
    await varied.wait_original(finished, timeout=20)
    world.openai.block_text("fox spirit")  # refused by the image model: a settled failure
    refused = await alice.slash("character create", name="Rin", description="a fox spirit")
    await refused.wait_for_reply(lambda m: m.ephemeral, timeout=20)
    handles = [made, varied, refused]

    assert await bot.stop() == 0  # a clean stop: every job's last word has been written
    # Delivered or settled: no job keeps a live token in the database.
    assert await asyncio.to_thread(stored_tokens, world.data_dir) == []
    assert "DEBUG" in bot.output  # the log really was at DEBUG
    leaked = [h.token for h in handles if h.token in bot.output]
    assert leaked == [], "interaction tokens in the DEBUG log"
    # No statement logging (with members' prompts) unless LOG_SQL asks for it.
    assert [line for line in bot.lines if " aiosqlite: " in line] == []


BOMB = flat_png(6324)  # about 155 KB; 160 MB of pixels


def downloads(fake: FakeDiscord) -> list[str]:
    return [r.path for r in fake.requests if r.route == "cdn"]


async def create_with_reference(member: Member, name: str, data: bytes) -> InteractionHandle:
    return await member.slash(
        "character create",
        name=name,
        description="like the reference",
        reference=Upload("flat.png", data, "image/png"),
    )


async def test_a_member_without_quota_sending_a_pixel_bomb_costs_no_download_and_no_moderation(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(default_daily_quota=0)
    alice = world.guild.add_member("alice")
    handle = await create_with_reference(alice, "Aiko", BOMB)
    notice = await refusal(handle)
    assert "daily limit" in notice, notice  # the quota message, not a pixel complaint
    assert not world.openai.requests  # no moderation call
    assert downloads(world.discord) == []  # the picture was never fetched


async def test_a_member_with_a_full_queue_sending_a_pixel_bomb_costs_no_download_either(
    start_bot: StartBot, world: World
) -> None:
    await start_bot(member_pending_cap=1)
    world.openai.hold()  # the first picture stays in the works
    alice = world.guild.add_member("alice")
    waiting = await alice.slash("character create", name="Rin", description="a fox spirit")
    await world.openai.wait_for_requests(1, endpoint="images", timeout=10)  # queued, running
    paid = len(world.openai.requests_for("moderations"))
    handle = await create_with_reference(alice, "Aiko", BOMB)
    assert say("error.member_queue_full", cap=1) in await refusal(handle)
    assert len(world.openai.requests_for("moderations")) == paid  # no moderation call
    assert downloads(world.discord) == []
    world.openai.release()
    await waiting.wait_original(finished, timeout=20)


async def test_a_pixel_bomb_is_refused_from_its_declared_size_before_any_download(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    handle = await create_with_reference(alice, "Aiko", BOMB)
    assert say("error.upload_too_many_pixels") in await refusal(handle)
    assert not world.openai.requests
    assert downloads(world.discord) == []
    # Under the cap, the same kind of file is downloaded, shrunk and used.
    fine = await create_with_reference(alice, "Rin", flat_png(3000))
    await fine.wait_original(finished, timeout=30)
    assert len(downloads(world.discord)) == 1
    sent = world.openai.requests_for("edits")[0].images[0]
    assert max(picture_size(sent.data)) == 2048


HOSTILE_NAME = "[Claim Nitro](https://discord-gift.example/x)"
HOSTILE_TEXT = "**bold** _it_ ~~gone~~ ||spoiler|| `code` [free](https://x.example)\n# Heading\n> q"


async def test_member_text_is_shown_literally_in_every_public_message(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice", global_name="**Alice** [me](https://a.example)")
    bob = world.guild.add_member("bob")
    made = await alice.slash("character create", name=HOSTILE_NAME, description=HOSTILE_TEXT)
    posted = await made.wait_original(finished, timeout=20)
    original = await asyncio.to_thread(character_of, world.data_dir, image_id(posted))
    # Bob varies it: his own copy (a fork), with a hostile change text.
    varied = await bob.slash("character vary", character=str(original), change=HOSTILE_TEXT)
    forked = await varied.wait_original(finished, timeout=20)
    fork = await asyncio.to_thread(character_of, world.data_dir, image_id(forked))
    # Cards, lineage lines and gallery pages name both characters and Alice.
    for handle in (
        await bob.slash("character show", character=str(fork)),
        await alice.slash("character show", character=str(original)),
        await alice.slash("gallery", character=str(original)),
        await bob.slash("gallery", member=alice),
    ):
        await handle.wait_original(lambda m: bool(m.embeds), timeout=20)

    texts = [text for _, text in public_texts(world.discord)]
    assert any("Claim Nitro" in text for text in texts)  # the names really were shown
    for text in texts:
        assert unescaped_markdown(text) == [], text


ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"


async def test_one_export_per_member_at_a_time(
    bot: BotProcess, fake_discord: FakeDiscord, guild: Guild
) -> None:
    alice = guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    await made.wait_original(finished, timeout=20)

    # Discord slows the first export's answer down (a 1 s rate limit): a second one starts.
    fake_discord.fail_next("PATCH", ORIGINAL, status=429, retry_after=1.0)
    first = await alice.slash("mydata export")
    second = await alice.slash("mydata export")
    busy = await second.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert busy.content == say("mydata.export_busy")
    done = await first.wait_original(lambda m: m.attachments, timeout=20)
    assert done.ephemeral and "📦" in done.content
    # Once it is delivered, the member may export again.
    again = await alice.slash("mydata export")
    await again.wait_original(lambda m: m.attachments, timeout=20)


@pytest.mark.parametrize("dms_open", [True, False], ids=["dm", "dms-closed"])
@pytest.mark.provokes_violations("cannot_dm_user")
async def test_an_export_that_outlives_its_token_comes_by_dm_or_a_clear_message(
    bot: BotProcess, fake_discord: FakeDiscord, guild: Guild, dms_open: bool
) -> None:
    alice = guild.add_member("alice")
    made = await alice.slash("character create", name="Aiko", description="silver hair")
    await made.wait_original(finished, timeout=20)
    alice.dms_open = dms_open

    # The token dies while the zips are built: Discord answers 401 Invalid Webhook Token.
    fake_discord.fail_next("PATCH", ORIGINAL, status=401, code=50027)
    await alice.slash("mydata export")
    if dms_open:
        dm = await fake_discord.wait_for_message(
            lambda m: m.by_bot and bool(m.attachments) and m.guild_id is None, timeout=20
        )
        assert dm.channel_id == fake_discord.dm_channel(alice).id  # type: ignore[union-attr]
        assert say("mydata.export_by_dm") in dm.content and "📦" in dm.content
    else:
        notice = await fake_discord.wait_for_message(
            lambda m: m.by_bot and "direct messages are closed" in (m.content or ""), timeout=20
        )
        assert not notice.ephemeral and not notice.attachments  # nothing private in public
        assert not notice.pinged_user_ids
    # Nothing private ever reached the channel.
    assert not any(
        m.attachments
        for m in fake_discord.messages(guild.default_channel)
        if m.by_bot and not m.ephemeral and "zip" in " ".join(a.filename for a in m.attachments)
    )


async def test_an_export_sent_by_dm_fits_a_dms_uploads_in_a_boosted_server(
    start_bot: StartBot, world: World
) -> None:
    """A boosted server takes 50 MiB files, a direct message only 10 MiB: an export whose
    token died on the way comes by DM in parts that fit there too, every picture in one."""
    guild, data_dir, fake = world.guild, world.data_dir, world.discord
    alice = guild.add_member("alice")
    await seed(data_dir, guild.id, [alice.id], 4)
    with closing(sqlite3.connect(data_dir / "bot.sqlite3")) as db:
        paths = [p for (p,) in db.execute("SELECT file_path FROM images")]
    for path in paths:  # four 3.5 MB pictures: 14 MB in all, more than one DM file holds
        (data_dir / "images" / path).write_bytes(os.urandom(3_500_000))
    guild.set_premium_tier(2)
    await start_bot()

    fake.fail_next("PATCH", ORIGINAL, status=401, code=50027)
    await alice.slash("mydata export")

    def parts(_f: FakeDiscord) -> list[Upload] | None:
        dm = fake.dm_channel(alice)
        sent = [a for m in fake.messages(dm) for a in m.attachments] if dm else []
        names = [a.filename for a in sent]
        total = int(names[0].rsplit("of", 1)[1].split(".")[0]) if sent else 0
        return sent if sent and len(sent) == total else None

    sent = await fake.wait_for(parts, timeout=30, what="every export part by DM")
    assert all(a.size <= 10 * 1024 * 1024 for a in sent)
    pictures = []
    for part in sent:
        with zipfile.ZipFile(io.BytesIO(part.data)) as archive:
            pictures += [n for n in archive.namelist() if n != "characters.json"]
    assert len(pictures) == len(set(pictures)) == len(paths)
