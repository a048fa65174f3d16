"""A zh-CN member sees Chinese everywhere; the synced commands carry fitting localisations."""

from __future__ import annotations

import re
from typing import Any

from tests.botproc import BotProcess
from tests.e2e.helpers import finished
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI

NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def walk(command: dict[str, Any]) -> list[dict[str, Any]]:
    found = [command]
    for option in command.get("options", []):
        found += walk(option)
    return found


async def test_synced_commands_carry_zh_cn_localisations_within_limits(
    bot: BotProcess, fake_discord: FakeDiscord, guild: Guild
) -> None:
    entries = [e for c in fake_discord.synced_commands(guild) for e in walk(c)]
    assert entries
    for entry in entries:
        names = entry.get("name_localizations") or {}
        descriptions = entry.get("description_localizations") or {}
        if "description" in entry:  # every command and option is described in Chinese
            assert CJK.search(descriptions.get("zh-CN", "")), entry["name"]
            assert 1 <= len(descriptions["zh-CN"]) <= 100
        if names:
            zh = names["zh-CN"]
            assert NAME.match(zh) and zh == zh.lower(), zh
        for choice in entry.get("choices", []):
            assert 1 <= len(choice["name_localizations"]["zh-CN"]) <= 100


async def test_a_chinese_member_sees_chinese_progress_picture_buttons_and_errors(
    bot: BotProcess, fake_openai: FakeOpenAI, guild: Guild
) -> None:
    mei = guild.add_member("mei", locale="zh-CN")
    fake_openai.hold()
    h = await mei.slash("character create", name="小雪", description="银色长发")
    queued = await h.wait_original(lambda m: "任务" in (m.content or ""), timeout=10)
    assert "已加入队列" in queued.content
    fake_openai.release()
    message = await h.wait_original(finished, timeout=20)
    drawing = [s for s in message.history if "正在绘制" in (s.content or "")]
    assert drawing, [s.content for s in message.history]
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
