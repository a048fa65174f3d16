"""Usage reports: local days, zero days, unknown costs, CSV; and the server config rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.records import CreateJobRequest
from bot.storage import Limits, NewJob, Storage
from bot.usage import UsageService, days_csv, members_csv
from cogs.admin.emoji import parse_emoji

GUILD = 10
NO_LIMITS = Limits(1000, 1000, None, None, None, 0.0, 0.0)


def settings(tmp_path: Path, zone: str) -> Settings:
    return Settings(discord_token="t", openai_api_key="k", data_dir=tmp_path, quota_timezone=zone)  # type: ignore[call-arg]


async def made(
    storage: Storage,
    at: float,
    *,
    user_id: int = 1,
    count: int = 1,
    cost: float | None = 0.25,
    state: str = "done",
    guild_id: int = GUILD,
) -> None:
    job = NewJob(guild_id, 20, user_id, "create", CreateJobRequest("1024x1024"), count, "en")
    job_id = (await storage.jobs.insert_job(job, NO_LIMITS)).id
    await storage.db.execute(
        "UPDATE jobs SET state = ?, charged = ?, cost_usd = ?, input_tokens = ?,"
        " output_tokens = ?, created_at = ? WHERE id = ?",
        (state, int(state == "done"), cost, 10 * count, 100 * count, at, job_id),
    )


async def test_report_groups_by_local_day_fills_gaps_and_keeps_unknown_costs_unknown(
    tmp_path: Path, storage: Storage
) -> None:
    zone = ZoneInfo("Asia/Kolkata")  # UTC+5:30: local midnight is not on a UTC hour
    service = UsageService(storage, settings(tmp_path, "Asia/Kolkata"))
    now = dt.datetime(2025, 6, 10, 12, 0, tzinfo=zone).timestamp()

    def at(day: int, hour: int, minute: int = 0) -> float:
        return dt.datetime(2025, 6, day, hour, minute, tzinfo=zone).timestamp()

    await made(storage, at(10, 0, 10), count=2, cost=0.5)  # just after local midnight
    await made(storage, at(9, 23, 50), user_id=2, cost=0.25)  # just before it
    await made(storage, at(9, 12), user_id=2, cost=None)  # a model without a price
    await made(storage, at(8, 9), state="failed")  # refunded: not usage
    await made(storage, at(7, 9), guild_id=99)  # another server
    await made(storage, at(3, 9))  # before the period

    report = await service.report(GUILD, 7, now)
    assert report.first_day == dt.date(2025, 6, 4) and report.last_day == dt.date(2025, 6, 10)
    assert [d.day for d in report.days] == [dt.date(2025, 6, d) for d in range(4, 11)]
    by_day = {d.day.day: d for d in report.days}
    assert (by_day[10].images, by_day[10].cost_usd, by_day[10].tokens) == (2, 0.5, 220)
    assert (by_day[9].images, by_day[9].unpriced_images, by_day[9].cost_usd) == (2, 1, None)
    assert by_day[9].priced_cost_usd == 0.25
    assert all(by_day[d].images == 0 for d in (4, 5, 6, 7, 8))
    total = report.total
    assert (total.images, total.unpriced_images, total.cost_usd) == (4, 1, None)
    assert [(m.user_id, m.images) for m in report.members] == [(1, 2), (2, 2)]

    rows = list(csv.reader(io.StringIO(days_csv(report).decode("utf-8-sig"))))
    assert rows[0][0] == "date (Asia/Kolkata)"
    assert rows[-2] == ["2025-06-10", "2", "20", "200", "0.5000", "0"]
    assert rows[-3] == ["2025-06-09", "2", "20", "200", "", "1"]  # unknown, not guessed
    assert rows[-1][:2] == ["total", "4"] and rows[-1][4] == ""
    members = list(csv.reader(io.StringIO(members_csv(report).decode("utf-8-sig"))))
    assert members[1] == ["1", "2", "20", "200", "0.5000", "0"]
    assert members[2][4] == ""


async def test_empty_report_has_every_day_at_zero(tmp_path: Path, storage: Storage) -> None:
    service = UsageService(storage, settings(tmp_path, "UTC"))
    report = await service.report(GUILD, 30, dt.datetime(2025, 1, 5, tzinfo=dt.UTC).timestamp())
    assert len(report.days) == 30 and report.total.images == 0
    assert report.days[0].day == dt.date(2024, 12, 7)
    assert report.members == []


async def test_guild_config_updates_and_allowed_channels(storage: Storage) -> None:
    config = await storage.guilds.config(GUILD)
    assert (config.favorite_emoji, config.max_count, config.allowed_channels) == ("⭐", 4, [])
    config = await storage.guilds.update(GUILD, favorite_emoji="🌸", max_count=2)
    assert (config.favorite_emoji, config.max_count, config.model_tier) == ("🌸", 2, "standard")
    config = await storage.guilds.update(GUILD, allow_forks=False, alert_channel_id=77)
    assert (config.allow_forks, config.alert_channel_id, config.favorite_emoji) == (
        False,
        77,
        "🌸",
    )
    assert (await storage.guilds.update(GUILD, alert_channel_id=None)).alert_channel_id is None
    with pytest.raises(ValueError):
        await storage.guilds.update(GUILD, updated_at=5)

    assert await storage.guilds.add_allowed_channel(GUILD, 1) == [1]
    assert await storage.guilds.add_allowed_channel(GUILD, 2) == [1, 2]
    assert await storage.guilds.add_allowed_channel(GUILD, 2) == [1, 2]
    assert await storage.guilds.remove_allowed_channel(GUILD, 1) == [2]
    assert (await storage.guilds.config(GUILD)).allowed_channels == [2]
    # A brand-new server's first change creates its row.
    assert await storage.guilds.remove_allowed_channel(GUILD + 1, 3) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("⭐", "⭐"),
        (" ⭐️ ", "⭐️"),
        ("❤️", "❤️"),
        ("👍🏽", "👍🏽"),
        ("👨‍👩‍👧", "👨‍👩‍👧"),
        ("🇯🇵", "🇯🇵"),
        ("1️⃣", "1️⃣"),
        ("<:star:123456789012345678>", "<:star:123456789012345678>"),
        ("<a:spin:123456789012345678>", "<a:spin:123456789012345678>"),
        ("⭐⭐", None),
        ("🇯🇵🇫🇷", None),
        ("star", None),
        ("1", None),
        ("", None),
        ("<:star:12>", None),
        ("⭐ nice", None),
    ],
)
def test_parse_emoji(text: str, expected: str | None) -> None:
    assert parse_emoji(text) == expected


def test_keys_built_at_run_time_exist_in_every_catalog() -> None:
    """Keys the admin cogs assemble from values (tiers, sources, periods, budgets)."""
    from bot.i18n import LOCALES, Catalog
    from bot.quotas import MODEL_TIERS
    from bot.usage import PERIODS

    keys = [f"config.tier_{t}" for t in MODEL_TIERS]
    keys += [f"config.choice_tier_{t}" for t in MODEL_TIERS]
    keys += [f"quota.source_{s}" for s in ("exempt", "member", "role", "default")]
    keys += [f"quota.{n}" for n in ("today", "hour", "server")]
    keys += [f"quota.field_{n}" for n in ("today", "hour", "server")]
    keys += [f"quota.{n}_unlimited" for n in ("today", "server")]  # no hour field without a limit
    keys += [f"usage.choice_{days}" for days in PERIODS]
    keys += [f"error.budget_{p}" for p in ("daily", "monthly")]
    keys += [f"alert.server_budget_{p}" for p in ("images", "daily", "monthly")]
    catalog = Catalog.load()
    for locale in LOCALES:
        missing = [key for key in keys if key not in catalog.messages[locale]]
        assert not missing, (locale, missing)
