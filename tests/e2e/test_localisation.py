"""Members read their own language everywhere; the synced commands carry fitting localisations.

zh-CN (Simplified Chinese), ja (Japanese) and zh-TW (Traditional Chinese, Taiwan usage) are the
catalogs besides English (issue 24 added the last two). Texts a member should see are taken from
the catalog of their language, and each check also makes sure that text is not the English one,
so a member silently answered in English fails.
"""

from __future__ import annotations

import json
import re
from string import Formatter
from typing import Any

import pytest

from bot.i18n import Catalog
from tests.botproc import BotProcess
from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    cid,
    drawing,
    embed_text,
    finished,
    open_gallery,
    refusal,
    seed,
    wait_edited,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.discord.records import Message
from tests.fakes.openai import FakeOpenAI

NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
CATALOG = Catalog.load()
# What each language's text is written in: a Japanese description without kana, or a
# Chinese one without hanzi, is English (or the wrong catalog) showing through.
SCRIPT = {"zh-CN": CJK, "zh-TW": CJK, "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")}


def walk(command: dict[str, Any]) -> list[dict[str, Any]]:
    found = [command]
    for option in command.get("options", []):
        found += walk(option)
    return found


@pytest.mark.parametrize("locale", ["zh-CN", "ja", "zh-TW"])
async def test_synced_commands_carry_localisations_within_limits(
    bot: BotProcess, fake_discord: FakeDiscord, guild: Guild, locale: str
) -> None:
    commands = fake_discord.synced_commands(guild)
    entries = [e for c in commands for e in walk(c)]
    assert entries
    for entry in entries:
        names = entry.get("name_localizations") or {}
        descriptions = entry.get("description_localizations") or {}
        if "description" in entry:  # every command and option is described in the language
            assert SCRIPT[locale].search(descriptions.get(locale, "")), (locale, entry["name"])
            assert 1 <= len(descriptions[locale]) <= 100
        if names:
            name = names[locale]
            assert NAME.match(name) and name == name.lower(), (locale, name)
        for choice in entry.get("choices", []):
            assert 1 <= len(choice["name_localizations"][locale]) <= 100
        # Discord refuses a command whose localised option names repeat.
        siblings = [o.get("name_localizations", {}).get(locale) for o in entry.get("options", [])]
        named = [n for n in siblings if n]
        assert len(named) == len(set(named)), (locale, entry["name"], named)


async def test_a_chinese_member_sees_chinese_progress_picture_buttons_and_errors(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    mei = guild.add_member("mei", locale="zh-CN")
    fake_openai.hold()
    h = await mei.slash("character create", name="小雪", description="银色长发")
    # Nothing waits ahead of it: straight to drawing (the queued line is in the ja/zh-TW test).
    await h.wait_original(lambda m: "正在绘制" in (m.content or ""), timeout=10)
    fake_openai.release()
    message = await h.wait_original(finished, timeout=20)
    assert "画风" in message.embeds[0]["description"]
    labels = [c.get("label", "") for row in message.components for c in row.get("components", [])]
    assert any(label.startswith("变换") for label in labels) and "删除" in labels

    other = guild.add_member("other")
    denied = await other.click(
        message, next(c for c in message.custom_ids if c.startswith("pic:del:"))
    )
    english = await denied.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "owner" in english.content  # the other member's client is English

    fake_openai.flag_text("禁止", category="violence")
    refused = await mei.slash("character create", name="坏", description="禁止的内容")
    notice = await refused.wait_for_reply(lambda m: m.ephemeral, timeout=10)
    assert "内容过滤器" in notice.content


# --- Japanese and Traditional Chinese, from the form to the refusal (issue 24) -------------


def shown(locale: str, key: str) -> str:
    """The longest fixed stretch of ``key``'s text in ``locale`` (the part between values),
    checked to be the member's language and not the English text."""
    template = CATALOG.forms(locale, key)["other"]
    literal = max((text for text, *_ in Formatter().parse(template)), key=len).strip()
    english = CATALOG.forms("en", key)["other"]
    assert literal and literal not in english and SCRIPT[locale].search(literal), (key, literal)
    return literal


def labels(message: Message) -> list[str]:
    return [
        str(c.get("label") or c.get("placeholder") or "")
        for row in message.components
        for c in row.get("components", [])
    ]


SAMPLES = {
    "ja": {
        "name": "星野アイ",
        "form": {
            "appearance": "ピンクのロングヘア、星の瞳",
            "outfit": "白いセーラー服",
            "personality": "明るくて頑固",
            "details": "",
        },
        "flagged": "禁止ワード",
    },
    "zh-TW": {
        "name": "小櫻",
        "form": {
            "appearance": "粉紅色長髮、綠色眼睛",
            "outfit": "白色水手服",
            "personality": "開朗又固執",
            "details": "",
        },
        "flagged": "違禁內容",
    },
}


@pytest.mark.parametrize("locale", ["ja", "zh-TW"])
async def test_a_member_reads_their_language_from_the_form_to_the_gallery_and_a_refusal(
    start_bot: StartBot, world: World, locale: str
) -> None:
    guild = world.guild
    sample: dict[str, Any] = SAMPLES[locale]
    member = guild.add_member("yui", locale=locale)
    ahead = guild.add_member("ren")  # draws first, so the member's job waits its turn
    await seed(world.data_dir, guild.id, [member.id], 10)  # with the two new: two gallery pages
    await start_bot(max_concurrent_jobs=1)

    # The form (no description given): title and field labels in the member's language.
    h = await member.slash("character create", name=sample["name"])
    await h.wait_ack()
    form = json.dumps(h.modal, ensure_ascii=False)
    assert shown(locale, "modal.create.title") in form
    for field in ("appearance", "outfit", "personality", "details"):
        assert CATALOG.plain(locale, f"modal.create.{field}") in form, field

    # Queued (behind Ren's job), drawing, then the finished picture: messages, embed and
    # buttons. (A job nothing waits ahead of goes straight to drawing.)
    world.openai.hold()
    first = await ahead.slash("character create", name="Ren", description="black hair")
    await first.wait_original(drawing, timeout=10)
    made = await h.submit_modal(sample["form"])
    queued = await made.wait_original(
        lambda m: shown(locale, "queue.queued") in (m.content or ""), timeout=10
    )
    assert not queued.ephemeral
    world.openai.release()
    post = await made.wait_original(finished, timeout=20)
    assert any(
        shown(locale, "progress.drawing") in (step.content or "") for step in post.history
    ), [step.content for step in post.history]
    description = post.embeds[0]["description"]
    assert shown(locale, "picture.style") in description
    assert CATALOG.plain(locale, "style.cel") in description  # the style's own name
    assert shown(locale, "picture.footer") in post.embeds[0]["footer"]["text"]
    buttons = labels(post)
    for key in ("button.vary_subtle", "button.vary_strong", "button.reroll", "button.delete"):
        assert CATALOG.plain(locale, key) in buttons, (key, buttons)
    assert CATALOG.plain(locale, "creator.button_sheet") in buttons

    # The gallery: page 1 of 2, turned to page 2, all in the member's language.
    gallery = await open_gallery(member)
    assert shown(locale, "gallery.title.server") in gallery.embeds[0]["title"]
    assert shown(locale, "gallery.embed.hint") in gallery.embeds[0]["description"]
    newest = CATALOG.plain(locale, "gallery.sort.newest")

    def page_of_two(page: int) -> str:  # the footer: "1 / 2 ページ · 12枚 · 新しい順"
        return CATALOG.plain(locale, "gallery.subtitle", page=page, pages=2, total=12, order=newest)

    assert gallery.embeds[0]["footer"]["text"] == page_of_two(1)
    controls = labels(gallery)
    for key in ("gallery.button.previous", "gallery.button.next", "gallery.select.open"):
        assert CATALOG.plain(locale, key) in controls, (key, controls)
    turn = await member.click(gallery, cid(gallery, "gal:n:"))
    await turn.wait_ack()
    page2 = await wait_edited(world.discord, gallery, "gallery-2.jpg")
    assert (page2.embed or {})["footer"]["text"] == page_of_two(2)

    # A request the content filter refuses: a private answer in the member's language.
    world.openai.flag_text(sample["flagged"], category="violence")
    refused = await member.slash(
        "character create", name=sample["name"], description=sample["flagged"]
    )
    text = await refusal(refused)
    assert shown(locale, "error.content_refused") in text


@pytest.mark.parametrize("locale", ["ja", "zh-TW"])
async def test_a_member_whose_language_has_no_catalog_reads_the_servers(
    bot: BotProcess, guild: Guild, locale: str
) -> None:
    """The server's preferred locale is the fallback: a French client in a Japanese (or
    Taiwanese) server reads Japanese (or Traditional Chinese); an English client, English."""
    guild.locale = locale  # sent as every interaction's guild_locale
    pierre = guild.add_member("pierre", locale="fr")
    ann = guild.add_member("ann", locale="en-US")
    for member, expected in ((pierre, shown(locale, "queue.empty")), (ann, "Nothing is waiting")):
        handle = await member.slash("queue")
        answer = await handle.wait_for_reply(lambda m: m.ephemeral, timeout=10)
        assert expected in (answer.content or "") + embed_text(answer), member.name
