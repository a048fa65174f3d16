"""What many end-to-end tests do the same way: ask for a picture, read the posted message's
buttons, look into the bot's database, wait for an answer with some words.

Tests import these by name (``from tests.e2e.helpers import create, finished``) rather than
from one another, so a test module can be read, moved or deleted on its own.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from bot.i18n import Catalog
from bot.images.store import ImageStore
from tests.botproc import BotProcess
from tests.fakes.discord import FakeDiscord, InteractionHandle
from tests.fakes.discord.models import Channel, Guild, Member
from tests.fakes.discord.records import Message
from tests.fakes.openai import FakeOpenAI
from tests.postgres_server import E2E_DATABASE_URLS, query_postgres
from tests.storage_helpers import Seeder, open_storage, raw_png

EN = Catalog.load()

# --- what the member sees -------------------------------------------------------------------


def say(key: str, **values: Any) -> str:
    """What the bot tells an English-speaking member for ``key``."""
    return EN.t("en", key, **values)


def finished(message: object) -> bool:
    """The picture is posted: attachments and the picture buttons under them."""
    return bool(getattr(message, "attachments", None)) and any(
        cid.startswith("pic:vary:") for cid in getattr(message, "custom_ids", [])
    )


def accepted(message: object) -> bool:
    """The member's message says the job is queued, drawing, or done."""
    content = getattr(message, "content", None) or ""
    return "Queued" in content or "Drawing" in content or finished(message)


def drawing(message: object) -> bool:
    """The member's message says the picture is being drawn."""
    return "Drawing" in (getattr(message, "content", None) or "")


def says(*words: str) -> Callable[[Any], bool]:
    """A message whose text contains every one of ``words``."""
    return lambda m: all(w in (m.content or "") for w in words)


def private(*words: str) -> Callable[[Any], bool]:
    """An ephemeral message containing every one of ``words``."""
    return lambda m: m.ephemeral and all(w in (m.content or "") for w in words)


def embed_text(message: Any) -> str:
    return json.dumps(message.embeds, ensure_ascii=False)


def picture_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


# --- the buttons under a posted picture ----------------------------------------------------


def button(message: Message, action: str, index: int = 0) -> str:
    """The custom_id of the ``index``-th ``pic:<action>:`` button of ``message``."""
    return [cid for cid in message.custom_ids if cid.startswith(f"pic:{action}:")][index]


def image_ids(message: Message) -> list[int]:
    """The picture ids of a posted message, in order (from its Vary (Subtle) buttons)."""
    return [int(cid.split(":")[2]) for cid in message.custom_ids if cid.startswith("pic:vary:")]


def image_id(message: Message) -> int:
    return image_ids(message)[0]


# --- what a member asks for ---------------------------------------------------------------


async def create(
    member: Member, name: str = "Aiko", description: str = "silver hair", **options: Any
) -> InteractionHandle:
    """``/character create`` with a description (so no modal), answered later."""
    return await member.slash("character create", name=name, description=description, **options)


async def created(
    member: Member, name: str = "Aiko", description: str = "silver hair", **options: Any
) -> Message:
    """``/character create`` and wait for the finished picture."""
    handle = await create(member, name, description, **options)
    return await handle.wait_original(finished, timeout=20)


async def drawn(member: Member, name: str, description: str) -> tuple[Message, int]:
    """A finished picture and its (first) picture id."""
    message = await created(member, name, description)
    return message, image_ids(message)[0]


async def drawn_character(
    member: Member, data_dir: Path, name: str = "Aiko", description: str = "silver hair"
) -> tuple[Message, int, int]:
    """A finished picture, its (first) picture id, and the id of the character it drew."""
    message, picture = await drawn(member, name, description)
    return message, picture, character_of(data_dir, picture)


async def refusal(handle: InteractionHandle) -> str:
    """The private answer a refused member gets (and no public trace of the attempt)."""
    reply = await handle.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    callback = handle.callback
    if callback is not None and callback.type in (4, 5):  # a response of its own...
        original = handle.original
        # ...is private, or the public "thinking…" placeholder is taken away again (just
        # after the private answer exists: before it, the answer would have edited it).
        await handle.fake.wait_for(
            lambda _f: original is None or original.ephemeral or original.deleted,
            timeout=5,
            what=f"no public trace of {original!r}",
        )
    return reply.content or ""


async def private_answer(handle: InteractionHandle) -> str:
    """The text of the first private answer to ``handle``."""
    reply = await handle.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    return str(reply.content or "")


async def start_drawing(
    fake_openai: FakeOpenAI, member: Member, name: str = "Aiko"
) -> InteractionHandle:
    """Ask for a picture and hold it at OpenAI: the member's message says it is drawing."""
    fake_openai.hold()
    handle = await create(member, name)
    await handle.wait_original(drawing, timeout=10)
    return handle


async def held_at_openai(
    fake_openai: FakeOpenAI, member: Member, name: str = "Aiko", description: str = "silver hair"
) -> InteractionHandle:
    """With OpenAI holding its answers, ask for a picture and wait until it is the one held
    there (no other request is held)."""
    fake_openai.hold()
    handle = await create(member, name, description)
    await fake_openai.wait_for(lambda: fake_openai.held_count == 1)
    return handle


async def admin_says(admin: Member, command: str, *words: str, **options: Any) -> Any:
    """Run an admin command and wait for its private answer containing ``words``."""
    handle = await admin.slash(command, options=options)
    return await handle.wait_for_reply(
        lambda m: m.ephemeral and all(w in embed_text(m) + m.content for w in words),
        timeout=10,
    )


async def confirm(member: Member, prompt: Message, fake: FakeDiscord, done: str) -> Message:
    """Press the red button of a confirmation and wait until the prompt says ``done``."""
    danger = next(b for b in prompt.buttons if b.get("style") == 4)
    press = await member.click(prompt, danger["custom_id"])
    await press.wait_ack()

    def finished_text(_f: FakeDiscord) -> Message | None:
        current = fake.message(prompt.id)
        return current if done in current.content else None

    result = await fake.wait_for(finished_text, timeout=15, what=done)
    assert isinstance(result, Message)
    return result


# --- the bot's database and files ----------------------------------------------------------


def db_path(data_dir: Path) -> Path:
    return data_dir / "bot.sqlite3"


def db(data_dir: Path) -> sqlite3.Connection:
    """A connection for ``with db(data_dir) as conn:`` (commits on leaving the block)."""
    return sqlite3.connect(db_path(data_dir), timeout=10)


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    if data_dir in E2E_DATABASE_URLS:  # the PostgreSQL leg
        return query_postgres(E2E_DATABASE_URLS[data_dir], sql, params)
    with closing(db(data_dir)) as conn:
        return conn.execute(sql, params).fetchall()


async def until_stored(data_dir: Path, sql: str, expected: object, timeout: float = 10) -> None:
    """Wait until ``sql`` reads ``expected``: a write of the bot's that no Discord event
    follows, so the database is the one place to see it (read every 50 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (found := query(data_dir, sql)) != expected:
        assert loop.time() < deadline, f"{sql!r} read {found}, not {expected}, in {timeout} s"
        await asyncio.sleep(0.05)


def db_value(data_dir: Path, sql: str, *params: Any) -> Any:
    """The first column of the first row, or None when there is no row."""
    rows = query(data_dir, sql, *params)
    return rows[0][0] if rows else None


def execute(data_dir: Path, sql: str, *params: Any) -> None:
    if data_dir in E2E_DATABASE_URLS:  # the PostgreSQL leg
        query_postgres(E2E_DATABASE_URLS[data_dir], sql, params)
        return
    with closing(db(data_dir)) as conn, conn:
        conn.execute(sql, params)


@contextmanager
def database_busy(data_dir: Path) -> Iterator[None]:
    """Another program holds SQLite's write lock (the bot's busy timeout is 1 s in tests)."""
    other = sqlite3.connect(db_path(data_dir), isolation_level=None, timeout=10)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def character_of(data_dir: Path, picture: int) -> int:
    """The character a stored picture belongs to."""
    return int(query(data_dir, "SELECT character_id FROM images WHERE id = ?", picture)[0][0])


def stored_files(data_dir: Path) -> set[str]:
    root = data_dir / "images"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def stored_text(data_dir: Path) -> str:
    """Every text value in the database, for a search of words a member erased."""
    out = []
    with db(data_dir) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                out.extend(str(v) for v in row if isinstance(v, str))
    return "\n".join(out)


async def thumbnails_made(bot: BotProcess, *pictures: int, timeout: float = 10.0) -> None:
    """Wait until ``bot`` made the gallery thumbnails of ``pictures`` (after their post)."""
    for picture in pictures:
        await bot.wait_for_log(rf"Thumbnails made for pictures \[(.*, )?{picture}[],]", timeout)


def stored_picture(data_dir: Path, picture: int) -> bytes:
    path = query(data_dir, "SELECT file_path FROM images WHERE id = ?", picture)[0][0]
    return (data_dir / "images" / path).read_bytes()


# --- gallery messages ----------------------------------------------------------------------


def cid(message: Message, prefix: str) -> str:
    """The first custom_id of ``message`` that starts with ``prefix``."""
    return next(c for c in message.custom_ids if c.startswith(prefix))


# The buttons under a single posted picture, by the action in their custom_ids, sorted.
ONE_PICTURE_BUTTONS = [
    "avatar",
    "del",
    "emoji",
    "fav",
    "reroll",
    "sheet",
    "sticker",
    "vary",
    "varys",
]


def button_actions(message: Message) -> list[str]:
    """The actions of ``message``'s components (``pic:<action>:<id>``), sorted."""
    return sorted(custom_id.split(":")[1] for custom_id in message.custom_ids)


def options(message: Message, prefix: str) -> list[dict[str, Any]]:
    """The options of the select menu whose custom_id starts with ``prefix``."""
    comp = message.component(cid(message, prefix))
    assert comp is not None
    return list(comp["options"])


def has_sheet(message: Message) -> bool:
    """A gallery page: its contact sheet is attached."""
    return not message.loading and any(
        a.filename.startswith("gallery-") for a in message.attachments
    )


async def open_gallery(member: Member, **options: Any) -> Message:
    """``/gallery`` with ``options``, and the page it opens once its contact sheet is there."""
    handle = await member.slash("gallery", **options)
    return await handle.wait_original(has_sheet, timeout=15)


async def wait_edited(fake: FakeDiscord, message: Message, filename: str) -> Message:
    """Wait until ``message`` was edited to carry an attachment named ``filename``."""

    def ready(_f: FakeDiscord) -> Message | None:
        current = fake.message(message.id)
        return current if any(a.filename == filename for a in current.attachments) else None

    found = await fake.wait_for(ready, timeout=10, what=f"{filename} on message {message.id}")
    assert isinstance(found, Message)
    return found


# --- what members may not smuggle into public messages --------------------------------------


_ESCAPED = re.compile(r"\\[^\s]")


_MEMBER_MARKDOWN = re.compile(r"[\[\]`*_~|]|^\s*(?:#{1,3}|-#|>)\s", re.MULTILINE)


def direct_messages(fake: FakeDiscord, member: Member) -> list[Message]:
    """What the bot told ``member`` by direct message, oldest first (none: no DM channel)."""
    dm = fake.dm_channel(member)
    return fake.bot_messages(dm) if dm is not None else []


def public_texts(fake: FakeDiscord) -> list[tuple[Message, str]]:
    """Every text Discord renders as markdown in every version of every public bot message:
    content, embed titles, descriptions and field names and values. (Footers are shown
    without markdown, so escapes there would show; the bot puts no member text in them.)"""
    found: list[tuple[Message, str]] = []
    for message in fake.messages(include_deleted=True):
        if not message.by_bot or message.ephemeral:
            continue
        for state in message.states:
            if state.flags & 64:
                continue
            texts = [state.content or ""]
            for embed in state.embeds:
                texts += [embed.get("title") or "", embed.get("description") or ""]
                for item in embed.get("fields") or []:
                    texts += [item.get("name") or "", item.get("value") or ""]
            found += [(message, text) for text in texts if text]
    return found


def unescaped_markdown(text: str) -> list[str]:
    """Markdown characters left unescaped in ``text`` once the bot's own **bold** is set aside."""
    bare = _ESCAPED.sub("x", text).replace("**", "")
    bare = re.sub(r"https?://\S+", "", bare)  # Discord shows no markdown inside a link
    bare = re.sub(r"<(?:@[!&]?|#|t:|a?:\w*:)[^<>]*>", "", bare)  # mentions, timestamps, emoji
    return _MEMBER_MARKDOWN.findall(bare)


# --- pictures a member uploads ------------------------------------------------------------


def flat_png(side: int) -> bytes:
    """A flat RGBA square: a few hundred KB on the wire, ``side² × 4`` bytes once decoded."""
    row = b"\x00" + b"\x10\x20\x30\xff" * side
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return raw_png(side, side, body, color_type=6)


# --- a gallery written before the bot starts -------------------------------------------------


NAMES = ["星野アイ", "Mira", "小雪", "Kaito"]


async def seed(data_dir: Path, guild_id: int, owners: list[int], pictures: int) -> list[int]:
    """Characters (one per name) and ``pictures`` pictures, written before the bot starts."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with open_storage(data_dir / "bot.sqlite3", E2E_DATABASE_URLS.get(data_dir)) as storage:
        seeder = Seeder(storage, ImageStore(data_dir / "images"))
        characters = [
            await seeder.character(guild_id, owners[i % len(owners)], name)
            for i, name in enumerate(NAMES)
        ]
        for i in range(pictures):
            owner = owners[i % len(NAMES) % len(owners)]
            await seeder.picture(guild_id, characters[i % len(NAMES)], owner)
        return characters


# --- storage faults --------------------------------------------------------------------------


def held_up(message: object) -> bool:
    """The member is told their finished picture waits for storage to work again."""
    return "can't save to my storage" in (getattr(message, "content", None) or "")


async def alerts_to(guild: Guild, channel: Channel) -> None:
    """An admin points the bot's alerts at ``channel``."""
    boss = guild.add_member("boss", admin=True)
    set_up = await boss.slash("config alerts", options={"channel": channel})
    await set_up.wait_original(timeout=10)


def storage_alerts(fake: FakeDiscord, channel: Channel) -> list[str]:
    """The storage alerts the admins got in ``channel``."""
    return [m.content for m in fake.messages(channel) if "data folder" in (m.content or "")]
