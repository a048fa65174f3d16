"""Hardening, authorization and secrets.

* Every admin command is hidden from members (``default_member_permissions``) *and* refused
  by the bot when a member reaches it anyway (a server can change Discord's setting): the
  member is told why and nothing in the database changes.
* Another member's picture cannot be deleted, re-rolled or made the main picture, and their
  character is never varied in place (a member's variation goes to their own copy; with
  forks off it is refused).
* Ids from another server, typed into options or carried by a button's custom_id, are
  refused with a clear message and touch nothing there.
* The Discord token and the OpenAI key never reach the database, even at LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import button, character_of, db_path, finished, image_id, query, refusal, say
from tests.fakes.discord import FakeDiscord, InteractionRejected
from tests.fakes.discord.models import Channel, Guild, Member, Role
from tests.fakes.discord.records import Message, MessageState

# Bookkeeping the bot writes just *after* a Discord call returns (where a picture was
# posted, that it was delivered): no recorded event follows it for a test to wait on, so a
# snapshot would race it. Any other change, by anyone, still shows.
VOLATILE = {
    "jobs": {"delivered", "response_message_id", "interaction_token"},  # written at delivery
    "images": {"channel_id", "message_id", "thumb_path"},  # the thumbnail: after the post
}


def snapshot(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compared before and after to prove nothing changed."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with closing(sqlite3.connect(db_path(data_dir))) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = [
                f'"{name}"'
                for (_, name, *_rest) in db.execute(f'PRAGMA table_info("{table}")')
                if name not in VOLATILE.get(table, set())
            ]
            found = db.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            rows[table] = sorted(found, key=repr)
    return rows


def synced(fake: FakeDiscord, guild: Guild, path: str) -> bool:
    """Whether ``/path`` (e.g. "character show") exists in the synced commands."""
    parts = path.split()
    options: list[dict[str, Any]] = fake.synced_commands(guild)
    for part in parts:
        found = next((o for o in options if o["name"] == part), None)
        if found is None:
            return False
        options = list(found.get("options") or [])
    return True


# --------------------------------------------------------------------------- admin commands


def admin_leaves(fake: FakeDiscord, guild: Guild) -> list[tuple[str, list[dict[str, Any]]]]:
    """(path, options) of every invocable admin command: default_member_permissions set."""
    found: list[tuple[str, list[dict[str, Any]]]] = []

    def walk(path: list[str], options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o.get("type") in (1, 2)]
        if not subs:
            found.append((" ".join(path), options))
        for sub in subs:
            walk([*path, sub["name"]], list(sub.get("options") or []))

    for command in fake.synced_commands(guild):
        if command.get("default_member_permissions") is not None:
            walk([command["name"]], list(command.get("options") or []))
    return found


def full_options(
    options: list[dict[str, Any]], bob: Member, role: Role, channel: Channel
) -> dict[str, Any]:
    """A valid value for every option, so the command would really change something."""
    values: dict[str, Any] = {}
    for option in options:
        kind = option["type"]
        if option.get("choices"):
            values[option["name"]] = option["choices"][-1]["value"]
        elif kind == 3:
            values[option["name"]] = "⭐"
        elif kind == 4:
            values[option["name"]] = max(1, int(option.get("min_value", 1)))
        elif kind == 10:
            values[option["name"]] = float(max(1, option.get("min_value", 1)))
        elif kind == 5:
            values[option["name"]] = False
        elif kind in (6, 9):
            values[option["name"]] = bob
        elif kind == 7:
            values[option["name"]] = channel
        elif kind == 8:
            values[option["name"]] = role
    return values


async def test_every_admin_command_refuses_members_even_when_invoked_directly(
    bot: BotProcess, world: World
) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    carol = world.guild.add_member("carol", admin=True)
    role = world.guild.add_role("Artists")
    # Give the server some state that a refused command could damage.
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await h.wait_original(finished, timeout=20)

    leaves = admin_leaves(world.discord, world.guild)
    paths = {path for path, _ in leaves}
    for expected in ("config show", "config forks", "quota-admin set member", "usage"):
        assert expected in paths, f"/{expected} is missing or not marked admin-only: {paths}"

    before = snapshot(world.data_dir)
    for path, options in leaves:
        values = full_options(options, bob, role, world.guild.default_channel)
        # Discord hides it from members...
        with pytest.raises(InteractionRejected, match="default_member_permissions"):
            await alice.slash(path, options=values)
        # ...and when a member reaches it anyway, the bot itself says no.
        forced = await alice.slash(path, force=True, options=values)
        assert say("error.admin_only") in await refusal(forced), f"/{path}"
        assert snapshot(world.data_dir) == before, f"/{path} by a member changed the database"

    # A member may see their own quota, not someone else's.
    peek = await alice.slash("quota show", member=bob)
    assert say("error.quota_show_others") in await refusal(peek)
    assert snapshot(world.data_dir) == before

    # The same invocations work for an admin: the refusals above were about who asked.
    for path, options in leaves:
        values = full_options(options, bob, role, world.guild.default_channel)
        done = await carol.slash(path, options=values)
        await done.wait_ack()
        answer = await done.wait_for_reply(lambda m: not m.loading, timeout=15)
        assert say("error.admin_only") not in (answer.content or ""), f"/{path} refused an admin"
    assert snapshot(world.data_dir) != before


# --------------------------------------------------------------------------- other members


async def test_another_members_picture_and_character_are_not_theirs_to_change(
    bot: BotProcess, world: World
) -> None:
    alice, mallory = world.guild.add_member("alice"), world.guild.add_member("mallory")
    carol = world.guild.add_member("carol", admin=True)
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    posted = await h.wait_original(finished, timeout=20)
    picture = image_id(posted)
    aiko = character_of(world.data_dir, picture)
    before = snapshot(world.data_dir)

    delete = await mallory.click(posted, button(posted, "del"))
    assert say("error.delete_not_owner") in await refusal(delete)
    reroll = await mallory.click(posted, button(posted, "reroll"))
    assert say("error.reroll_not_owner") in await refusal(reroll)
    main = await mallory.slash("character main", character=str(aiko), picture=str(picture))
    assert say("error.main_not_owner") in await refusal(main)
    if synced(world.discord, world.guild, "character delete"):
        gone = await mallory.slash("character delete", character=str(aiko))
        assert say("gallery.error.delete_not_owner") in await refusal(gone)
    if synced(world.discord, world.guild, "character private"):
        hide = await mallory.slash("character private", character=str(aiko))
        assert say("gallery.error.private_not_owner") in await refusal(hide)
    assert not world.discord.message(posted.id).deleted
    assert snapshot(world.data_dir) == before

    # Vary never works in place on someone else's character: it goes to Mallory's own copy.
    vary = await mallory.click(posted, button(posted, "vary"))
    await vary.wait_ack()
    assert vary.modal is not None
    submitted = await vary.submit_modal({"change": "waving"})
    await submitted.wait_original(finished, timeout=20)
    notice = await submitted.wait_followup(lambda m: m.ephemeral, timeout=10)
    assert "someone else" in (notice.content or "")
    rows = query(world.data_dir, "SELECT id, owner_id, forked_from_id FROM characters ORDER BY id")
    assert rows == [(aiko, alice.id, None), (rows[1][0], mallory.id, aiko)]
    assert query(world.data_dir, "SELECT COUNT(*) FROM images WHERE character_id = ?", aiko) == [
        (1,)
    ]
    assert query(
        world.data_dir, "SELECT canonical_image_id FROM characters WHERE id = ?", aiko
    ) == [(picture,)]

    # With forks turned off, the member is refused before typing anything.
    off = await carol.slash("config forks", allowed=False)
    await off.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    again = await mallory.click(posted, button(posted, "vary"))
    assert say("error.fork_disabled") in await refusal(again)
    assert again.modal is None
    typed = await mallory.slash("character vary", character=str(aiko), change="waving")
    assert say("error.fork_disabled") in await refusal(typed)
    assert query(world.data_dir, "SELECT COUNT(*) FROM jobs") == [(2,)]


# --------------------------------------------------------------------------- other servers


def plant(fake: FakeDiscord, channel: Channel, components: list[dict[str, Any]]) -> Message:
    """A bot message whose components carry the given custom_ids (the fake only lets a member
    press components that exist on a message, as Discord does)."""
    now = fake.clock.now()
    state = MessageState(
        content="",
        embeds=[{"title": "planted by the test"}],
        components=components,
        attachments=(),
        flags=0,
        allowed_mentions={"parse": []},
        tts=False,
        edited_at=None,
        recorded_at=now,
        via="test: planted",
    )
    message = Message(
        id=fake._new_id(), channel=channel, author=fake.bot_user, created_at=now, state=state
    )
    fake._add_message(message)
    return message


def buttons(*custom_ids: str) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(custom_ids), 5):
        row = [
            {"type": 2, "style": 2, "label": cid[:80], "custom_id": cid}
            for cid in custom_ids[start : start + 5]
        ]
        rows.append({"type": 1, "components": row})
    return rows


def select(custom_id: str, value: int) -> dict[str, Any]:
    option = {"label": str(value), "value": str(value)}
    return {"type": 1, "components": [{"type": 3, "custom_id": custom_id, "options": [option]}]}


async def test_ids_from_another_server_are_refused_in_options_and_custom_ids(
    start_bot: StartBot, world: World
) -> None:
    other = world.discord.add_guild("Other Server")
    # Commands are synced to DEV_GUILD_ID; one start per server leaves both with commands.
    first = await start_bot(dev_guild_id=other.id)
    assert await first.stop() == 0
    await start_bot(max_concurrent_jobs=1)

    eve = other.add_member("eve")
    h = await eve.slash("character create", name="Zed", description="green hair")
    theirs = await h.wait_original(finished, timeout=20)
    their_picture = image_id(theirs)
    their_character = character_of(world.data_dir, their_picture)
    world.openai.hold()
    running = await eve.slash("character create", name="Yui", description="red hair")
    await world.openai.wait_for_requests(2, endpoint="images")
    waiting = await eve.slash("character create", name="Xia", description="blue hair")
    await waiting.wait_original(lambda m: "position" in (m.content or ""), timeout=10)
    their_job = int(query(world.data_dir, "SELECT MAX(id) FROM jobs")[0][0])

    mallory = world.guild.add_member("mallory")
    before = snapshot(world.data_dir)
    not_found = say("error.character_not_found")

    # Typed into options.
    for text in (str(their_character), f"#{their_character}", f"Zed #{their_character}"):
        vary = await mallory.slash("character vary", character=text, change="x")
        assert not_found in await refusal(vary), text
    main = await mallory.slash(
        "character main", character=str(their_character), picture=str(their_picture)
    )
    assert not_found in await refusal(main)
    gallery = await mallory.slash("gallery", character=str(their_character))
    assert not_found in await refusal(gallery)
    for path in ("character show", "character delete", "character private"):
        if synced(world.discord, world.guild, path):
            attempt = await mallory.slash(path, character=str(their_character))
            assert not_found in await refusal(attempt), path
    # Autocomplete never offers them.
    choices = await mallory.autocomplete("character vary", focused="character", value="Zed")
    assert str(their_character) not in [c["value"] for c in choices]

    # Carried by custom_ids on a message in this server.
    actions = ("vary", "varys", "reroll", "fav", "del")
    planted = plant(
        world.discord,
        world.guild.default_channel,
        [
            *buttons(*(f"pic:{a}:{their_picture}" for a in actions)),
            *buttons(
                f"job:cancel:{their_job}",
                f"gal:a:{mallory.id}:0:n:s:0:{their_character}",
            ),
            select(f"gal:o:{mallory.id}", their_picture),
            select(f"gal:c:{mallory.id}:n:s:0", their_character),
        ],
    )
    for action in actions:
        pressed = await mallory.click(planted, f"pic:{action}:{their_picture}")
        assert say("error.image_gone") in await refusal(pressed), action
    cancel = await mallory.click(planted, f"job:cancel:{their_job}")
    assert say("error.job_not_found") in await refusal(cancel)
    page = await mallory.click(planted, f"gal:a:{mallory.id}:0:n:s:0:{their_character}")
    assert not_found in await refusal(page)
    opened = await mallory.select(planted, f"gal:o:{mallory.id}", [str(their_picture)])
    assert say("error.image_gone") in await refusal(opened)
    filtered = await mallory.select(planted, f"gal:c:{mallory.id}:n:s:0", [str(their_character)])
    assert not_found in await refusal(filtered)

    # Nothing of the other server was touched or shown here.
    assert snapshot(world.data_dir) == before
    assert not world.discord.message(theirs.id).deleted
    shown_here = [
        m
        for m in world.discord.messages(include_deleted=True)
        if m.guild_id == world.guild.id and m.by_bot and m.id != planted.id
    ]
    for message in shown_here:
        for state in message.states:
            text = (state.content or "") + repr(state.embeds)
            assert "Zed" not in text and not state.attachments, message

    world.openai.release()
    await running.wait_original(finished, timeout=20)
    await waiting.wait_original(finished, timeout=20)


# --------------------------------------------------------------------------- secrets


def has_wal(data_dir: Path) -> bool:
    return any(p.name.endswith("-wal") for p in data_dir.iterdir())


async def test_secrets_never_reach_the_database_even_at_debug(
    start_bot: StartBot, world: World
) -> None:
    bot = await start_bot(log_level="DEBUG")
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    carol = world.guild.add_member("carol", admin=True)
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    posted = await h.wait_original(finished, timeout=20)
    vary = await alice.slash("character vary", character="Aiko", change="waving")
    await vary.wait_original(finished, timeout=20)
    fav = await bob.click(posted, button(posted, "fav"))
    await fav.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    forks = await carol.slash("config forks", allowed=True)
    await forks.wait_for_reply(lambda m: m.ephemeral, timeout=10)

    secrets = {
        "DISCORD_TOKEN": world.discord.bot_token.encode(),
        "OPENAI_API_KEY": world.openai.api_key.encode(),
    }

    def leaks() -> dict[str, list[str]]:
        files = [p for p in world.data_dir.rglob("*") if p.is_file() and "bot.sqlite3" in p.name]
        found: dict[str, list[str]] = {}
        contents = {p.name: p.read_bytes() for p in files}
        # The search really reads the database: the character's name is in there.
        assert any(b"Aiko" in data for data in contents.values()), sorted(contents)
        for name, secret in secrets.items():
            found[name] = [f for f, data in contents.items() if secret in data]
        return {name: where for name, where in found.items() if where}

    # While running (the -wal holds the latest writes) and after a clean stop (checkpointed).
    assert has_wal(world.data_dir)
    assert leaks() == {}
    assert await bot.stop() == 0
    assert leaks() == {}
    assert "DEBUG" in bot.output
