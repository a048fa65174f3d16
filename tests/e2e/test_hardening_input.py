"""Hardening, text input: every free-text option, autocomplete and modal field, fuzzed.

Hypothesis feeds nasty text (empty, whitespace, 4,000 characters clipped to each option's
limit as Discord's client would, zero-width and right-to-left marks, emoji, Chinese and
Japanese, ``@everyone``, role and member mentions, markdown, masked links and code fences,
SQL, NUL bytes, digits that are not ASCII, very long CJK text)
to every string option of every synced command, to the autocomplete of every option that has
one, and to every text field of the modals the bot opens. Whatever the text:

* every interaction is answered and reaches a final state (no crash, no stuck "thinking…"),
  and every job it started ends with a picture or an explanation;
* the bot logs no traceback and no ERROR line;
* no message state the bot ever set pings anyone (roles, @everyone, or a member other than
  the one who asked);
* every message, embed, component, autocomplete answer and modal fits Discord's limits (the
  fake records a violation for anything that does not);
* no answer is the "something unexpected went wrong" apology (ids typed with digits such as
  "²" or "①" included), and no public message shows the member's text as markdown (masked
  links, bold, spoilers, headings): it is escaped.

Hypothesis runs its examples in a worker thread; each example's coroutine runs on the test's
event loop (``run_coroutine_threadsafe``), where the fakes and the bot process live.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.i18n import Catalog
from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot
from tests.e2e.helpers import drawn_character, finished, public_texts, unescaped_markdown
from tests.fakes.discord import FakeDiscord, InteractionHandle, Upload
from tests.fakes.discord.models import Guild, Member, Role
from tests.fakes.discord.records import Message, MessageState, walk_components
from tests.fakes.openai import FakeOpenAI

# Placeholders replaced by real ids at run time (examples are fixed before the guild exists).
BOB, ROLE, CHANNEL = "\x01BOB\x01", "\x01ROLE\x01", "\x01CHAN\x01"

FRAGMENTS = [
    "",
    " ",
    "\t\n  \n",
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width
    "\u200e\u200f\u202a\u202b\u202d\u202e\u2066\u2067\u2069",  # direction marks and overrides
    "שלום עולם مرحبا",
    "🦊👩‍👩‍👧‍👦🏳️‍🌈🇯🇵✨",
    "银色长发，红色眼睛，穿着校服",
    "銀髪の少女、赤い目、セーラー服",
    "@everyone",
    "@here",
    f"<@&{ROLE}>",
    f"<@{BOB}>",
    f"<@!{BOB}>",
    f"<#{CHANNEL}>",
    "**bold** __under__ ~~strike~~ ||spoiler|| > quote\n# Heading\n-# small",
    "```py\nprint('x')\n```",
    "`code` ``` unclosed fence",
    "'; DROP TABLE characters; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM jobs;--",
    "\x00",
    "a\x00b",
    "%s %d {name} {0} ${x}",
    "<:fake:123456789012345678> <a:anim:1> <t:0:R>",
    "https://discord.gg/invite [link](https://example.com)",
    "#12",
    "999999999999999999999999",
    "-1",
    "\\",
    "\r\n\r\n",
    "\ud7ff\ue000\U0010fffd",
    # Digits str.isdigit() accepts but int() does not, and ones int() does accept.
    "²",
    "①",
    "#³",
    "1²",
    "٣",
    "１２",
    "[Claim Nitro](https://discord-gift.example/x)",
    "[**bold link**](<https://x.example>) *it* _it_ -# small",
    "龍" * 300,
]

ALL_NASTY = "".join(FRAGMENTS)


def _text_strategy() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(st.characters(codec="utf-8"), max_size=25),
    )
    mixed = st.lists(piece, max_size=8).map("".join)
    # Long input: Discord clips it to each option's max_length (done in ``fit``).
    long = st.tuples(st.sampled_from(FRAGMENTS[3:]), st.integers(100, 4000)).map(
        lambda pair: (pair[0] * (pair[1] // max(1, len(pair[0])) + 1))[: pair[1]]
    )
    return st.one_of(mixed, mixed, long)


@dataclass
class World:
    """Everything a fuzz round needs: the fakes, the actors and a valid character."""

    fake: FakeDiscord
    guild: Guild
    alice: Member  # an ordinary member: runs every non-admin command
    carol: Member  # an admin: runs the admin commands
    bob: Member  # never acts; only ever named in the fuzzed text
    role: Role
    bot: BotProcess
    character_id: int
    image_id: int
    base: Message  # Alice's finished picture message (its Vary button opens a modal)
    exercised: set[tuple[str, str]] = field(default_factory=set)

    def concrete(self, text: str) -> str:
        return (
            text.replace(BOB, str(self.bob.id))
            .replace(ROLE, str(self.role.id))
            .replace(CHANNEL, str(self.guild.default_channel.id))
        )


def fit(text: str, option: dict[str, Any]) -> str | None:
    """What Discord's client would send: at most max_length; None if too short to send."""
    clipped = text[: int(option.get("max_length", 6000))]
    return clipped if len(clipped) >= int(option.get("min_length", 0)) else None


def leaves(commands: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """(path, top-level command, options) for every invocable command or subcommand."""
    found: list[tuple[str, dict[str, Any], list[Any]]] = []

    def walk(command: dict[str, Any], path: list[str], options: list[Any]) -> None:
        subs = [o for o in options if o.get("type") in (1, 2)]
        if not subs:
            found.append((" ".join(path), command, options))
        for sub in subs:
            walk(command, [*path, sub["name"]], list(sub.get("options") or []))

    for command in commands:
        if command.get("type", 1) == 1:
            walk(command, [command["name"]], list(command.get("options") or []))
    return found


def default_value(option: dict[str, Any], world: World) -> Any:
    """A valid value for a required option that is not the one being fuzzed."""
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    valid_text = {
        "name": "Fuzz",
        "description": "silver hair",
        "character": str(world.character_id),
        "picture": str(world.image_id),
        "emoji": "⭐",
    }
    if kind == 3:
        return valid_text.get(option["name"], "x")
    if kind == 4:
        return max(1, int(option.get("min_value", 1)))
    if kind == 10:
        return float(max(1, option.get("min_value", 1)))
    if kind == 5:
        return False
    if kind in (6, 9):
        return world.bob
    if kind == 7:
        return world.guild.default_channel
    if kind == 8:
        return world.role
    if kind == 11:
        return Upload("ref.png", _tiny_png(), "image/png")
    raise AssertionError(f"no default for option type {kind}: {option}")


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 80, 120)).save(buffer, "PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- settling


def in_progress(message: Message) -> bool:
    """Still waiting or drawing (⏳ / 🎨), or still a "thinking…" placeholder."""
    return message.loading or (message.content or "").startswith(("⏳", "🎨"))


def settled(handle: InteractionHandle) -> bool:
    """Answered, and whatever it started (a job) reached a picture or an explanation."""
    callback = handle.callback
    if callback is None:
        return False
    if callback.type != 5:
        return True  # a message (4), a component update (6, 7), choices (8) or a modal (9)
    original = handle.original
    if original is None:
        return False
    if original.deleted:
        # An error or refusal: the placeholder goes and a private explanation follows.
        return bool(handle.followups)
    return finished(original) or not in_progress(original)


async def settle(fake: FakeDiscord, handle: InteractionHandle, timeout: float = 30) -> None:
    await fake.wait_for(lambda _f: settled(handle), timeout=timeout, what=f"{handle!r} to settle")


async def fill_modal(world: World, handle: InteractionHandle, text: str) -> InteractionHandle:
    """Type ``text`` (clipped to each field) into every text field of the modal and submit."""
    modal = handle.modal
    assert modal is not None
    values: dict[str, str] = {}
    for component in walk_components(modal.get("components", [])):
        if component.get("type") != 4:
            continue
        value = text[: int(component.get("max_length", 4000))]
        if len(value) < int(component.get("min_length", 0)):
            value = "x" * int(component.get("min_length", 1))
        if component.get("required", True) and not value:
            value = "x"
        values[component["custom_id"]] = value
        world.exercised.add((f"modal {modal.get('custom_id')}", component["custom_id"]))
    return await handle.submit_modal(values)


async def drive(world: World, handle: InteractionHandle, text: str) -> None:
    """Follow one interaction to its end, filling in any modal it opens."""
    callback = await handle.wait_ack(timeout=5)
    if callback.type == 9:
        handle = await fill_modal(world, handle, text)
        await handle.wait_ack(timeout=5)
    await settle(world.fake, handle)


# --------------------------------------------------------------------------- checks


_USER = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def pings(state: MessageState) -> tuple[set[int], set[int], bool]:
    """Who this version of a message notifies: (users, roles, @everyone/@here).

    Without allowed_mentions Discord parses every mention in the content.
    """
    allowed = state.allowed_mentions
    parse = (
        set(allowed.get("parse") or []) if allowed is not None else {"users", "roles", "everyone"}
    )
    listed_users = {str(u) for u in (allowed or {}).get("users") or []}
    listed_roles = {str(r) for r in (allowed or {}).get("roles") or []}
    content = state.content or ""
    users = {int(u) for u in _USER.findall(content) if "users" in parse or u in listed_users}
    roles = {
        int(r) for r in _ROLE_MENTION.findall(content) if "roles" in parse or r in listed_roles
    }
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return users, roles, everyone


def assert_no_pings(world: World) -> None:
    """Checked on every version of every bot message: what it would notify, and that it was
    sent with ``allowed_mentions`` parse [] (only the requester may be named explicitly)."""
    requesters = {world.alice.id, world.carol.id}
    for message in world.fake.messages(include_deleted=True):
        if not message.by_bot:
            continue
        for state in message.states:
            if state.content:
                allowed = state.allowed_mentions or {}
                named = {int(u) for u in allowed.get("users") or []}
                assert allowed.get("parse") == [] and not allowed.get("roles"), (message, state)
                assert named <= requesters, (message, state)
            users, roles, everyone = pings(state)
            assert not roles and not everyone and users <= requesters, (
                f"message {message.id} pinged users={users} roles={roles} "
                f"everyone={everyone}: {state.content!r} allowed_mentions={state.allowed_mentions}"
            )


# An escaped character (a backslash before a space is no escape: Discord shows both).
# Markdown a member could smuggle in; none of it appears in the bot's own public texts
# (its only markdown there is **bold**, removed before the check).


def assert_no_member_markdown(world: World) -> None:
    for message, text in public_texts(world.fake):
        leaked = unescaped_markdown(text)
        assert not leaked, f"unescaped {leaked} in public message {message.id}: {text!r}"


_APOLOGY = Catalog.load().t("en", "error.unexpected").split("{")[0].split("`")[0]


def assert_no_apology(world: World) -> None:
    """Every input is understood or refused with a reason, never "something unexpected"."""
    for message in world.fake.messages(include_deleted=True):
        for state in message.states if message.by_bot else []:
            assert _APOLOGY not in (state.content or ""), f"{message!r}: {state.content!r}"


def assert_no_stale_progress(world: World) -> None:
    """A finished picture never shows a progress line (a late "⏳ Queued" edit landing on it)."""
    for message in world.fake.bot_messages():
        if finished(message):
            assert not in_progress(message), f"stale progress text on a picture: {message!r}"


def assert_clean_log(bot: BotProcess, since: int, text: str) -> None:
    bad = [line for line in bot.lines[since:] if "Traceback" in line or " ERROR " in line]
    assert not bad, f"the bot logged errors for {text!r}:\n" + "\n".join(bot.lines[since:][-60:])


# --------------------------------------------------------------------------- one round


async def fuzz_round(world: World, raw: str) -> None:
    text = world.concrete(raw)
    fake = world.fake
    log_mark = len(world.bot.lines)
    commands = fake.synced_commands(world.guild)
    tasks: list[Coroutine[Any, Any, None]] = []

    for path, command, options in leaves(commands):
        admin = command.get("default_member_permissions") is not None
        actor = world.carol if admin else world.alice
        for option in options:
            if option["type"] != 3 or option.get("choices"):
                continue  # only free text: choices are picked, not typed
            if option.get("autocomplete"):
                tasks.append(autocomplete(world, actor, path, options, option, text))
            value = fit(text, option)
            if value is None:
                continue  # Discord's client cannot send it
            values = {o["name"]: default_value(o, world) for o in options if o.get("required")}
            values[option["name"]] = value
            world.exercised.add((path, option["name"]))
            tasks.append(invoke(world, actor, path, values, text))

    # Text typed into the change form behind a posted picture's Vary button.
    tasks.append(click_vary(world, text))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    fake.assert_no_violations()
    assert_no_pings(world)
    assert_no_stale_progress(world)
    assert_no_member_markdown(world)
    assert_no_apology(world)
    assert_clean_log(world.bot, log_mark, text)


async def invoke(world: World, actor: Member, path: str, values: dict[str, Any], text: str) -> None:
    handle = await actor.slash(path, options=values)
    await drive(world, handle, text)


async def autocomplete(
    world: World,
    actor: Member,
    path: str,
    options: list[dict[str, Any]],
    option: dict[str, Any],
    text: str,
) -> None:
    typed = text[: int(option.get("max_length", 100))]
    others = {
        o["name"]: default_value(o, world)
        for o in options
        if o.get("required") and o["name"] != option["name"] and o["type"] != 11
    }
    world.exercised.add((f"{path} [autocomplete]", option["name"]))
    # The fake validates the answer (≤ 25 choices, names 1-100, values ≤ 100) and records it.
    await actor.autocomplete(path, focused=option["name"], value=typed, options=others)


async def click_vary(world: World, text: str) -> None:
    vary = next(cid for cid in world.base.custom_ids if cid.startswith("pic:vary:"))
    handle = await world.alice.click(world.fake.message(world.base.id), vary)
    await drive(world, handle, text)


# --------------------------------------------------------------------------- the test


# Every example drives every command of a live bot: more time than the suite's default 120 s
# when the machine is busy, and a bounded number of examples to keep the suite fast.
@pytest.mark.timeout(300)
async def test_fuzzed_text_in_every_option_never_crashes_pings_or_breaks_limits(
    start_bot: StartBot,
    fake_discord: FakeDiscord,
    fake_openai: FakeOpenAI,
    guild: Guild,
    data_dir: Path,
) -> None:
    bot = await start_bot(
        default_daily_quota=10000,
        member_pending_cap=100,
        guild_pending_cap=1000,
        max_concurrent_jobs=8,
        partial_images=0,
        image_quality="low",
    )
    alice = guild.add_member("alice")
    carol = guild.add_member("carol", admin=True)
    bob = guild.add_member("bob")
    role = guild.add_role("Artists", mentionable=True)

    base, image_id, character_id = await drawn_character(alice, data_dir, "Base", "silver hair")
    world = World(
        fake=fake_discord,
        guild=guild,
        alice=alice,
        carol=carol,
        bob=bob,
        role=role,
        bot=bot,
        character_id=character_id,
        image_id=image_id,
        base=base,
    )

    loop = asyncio.get_running_loop()

    def run(raw: str) -> None:
        future = asyncio.run_coroutine_threadsafe(fuzz_round(world, raw), loop)
        future.result(timeout=90)

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking against a live process
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(raw=_text_strategy())
    @example(raw="")
    @example(raw="   \t\n ")
    @example(raw="x" * 4000)
    @example(raw=" \u3000\u00a0" * 1400)  # 4,200 characters of (unicode) whitespace
    @example(raw="\u200b\u200e\u202eabc\u2066\u200f")
    @example(raw="🦊👩‍👩‍👧‍👦🏳️‍🌈")
    @example(raw="银色长发，红色眼睛 / 銀髪の少女、赤い目")
    @example(raw="@everyone @here")
    @example(raw=f"<@&{ROLE}> <@{BOB}> <@!{BOB}>")
    @example(raw="**bold** ```py\nprint(1)\n``` `x` ||s|| > q")
    @example(raw="'; DROP TABLE characters; --")
    @example(raw="a\x00b\x00")
    @example(raw=ALL_NASTY)
    @example(raw=(ALL_NASTY * 40)[:4000])
    @example(raw="²")
    @example(raw="#①")
    @example(raw="[Claim Nitro](https://discord-gift.example/x)")
    @example(raw="² ① #³ ٣ １２ [Claim Nitro](https://discord-gift.example/x)")
    @example(raw="银色长发的少女" * 600)  # 4,200 CJK characters, clipped per option
    def fuzz(raw: str) -> None:
        run(raw)

    await asyncio.to_thread(fuzz)

    # Every free-text input we know of was really fuzzed (a renamed option would otherwise
    # silently drop out of the test).
    expected = {
        ("character create", "name"),
        ("character create", "description"),
        ("character vary", "character"),
        ("character vary", "change"),
        ("character vary [autocomplete]", "character"),
        ("gallery", "character"),
        ("gallery [autocomplete]", "character"),
        ("config emoji", "emoji"),
        ("character show", "character"),
        ("character private", "character"),
        ("character main", "character"),
        ("character main", "picture"),
    }
    assert expected <= world.exercised, sorted(expected - world.exercised)
    assert any(path.startswith("modal ") for path, _ in world.exercised), world.exercised
    assert len(fake_openai.image_requests) > 30  # the fuzzed text really reached jobs
