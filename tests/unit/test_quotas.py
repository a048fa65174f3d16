"""Quotas against real SQLite: which limit applies, windows, refusals, budgets and alerts."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.errors import QuotaExhausted
from bot.images.models import ModelPrice
from bot.quotas import QuotaService
from bot.records import QuotaLimit
from bot.storage import Storage
from tests.storage_helpers import new_job

GUILD = 10
ALICE = 1
BOB = 2
ARTISTS = 500  # a role
PATRONS = 501  # another role
EVERYONE = GUILD  # Discord's @everyone role has the guild's id


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": "token",
        "openai_api_key": "key",
        "data_dir": tmp_path,
        "default_daily_quota": 25,
        "member_pending_cap": 4,
    }
    values.update(overrides)
    return Settings(**values)


async def submit(
    service: QuotaService,
    storage: Storage,
    *,
    user_id: int = ALICE,
    roles: list[int] | None = None,
    now: float | None = None,
    count: int = 1,
) -> int:
    limits = await service.limits_for(GUILD, user_id, roles or [], now or time.time())
    return (await storage.jobs.insert_job(new_job(user_id, count), limits)).id


async def deliver(storage: Storage, job_id: int, *, cost: float | None, tokens: int = 100) -> None:
    await storage.db.execute(
        "UPDATE jobs SET state = 'done', charged = 1, cost_usd = ?, input_tokens = ?,"
        " output_tokens = ? WHERE id = ?",
        (cost, tokens, tokens * 2, job_id),
    )


async def set_limit(storage: Storage, scope: str, target: int, **fields: Any) -> None:
    row = QuotaLimit(GUILD, scope, target, fields.pop("daily", None), **fields)  # type: ignore[arg-type]
    await storage.quotas.set(row, updated_by=99, now=time.time())


# --- windows -----------------------------------------------------------------------------


def test_window_is_midnight_to_midnight_in_the_configured_zone(tmp_path: Path) -> None:
    service = QuotaService(None, settings(tmp_path, quota_timezone="Asia/Shanghai"))  # type: ignore[arg-type]
    zone = ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2025, 3, 10, 1, 30, tzinfo=zone).timestamp()
    window = service.window(now)
    assert window.day_start == dt.datetime(2025, 3, 10, tzinfo=zone).timestamp()
    assert window.day_end == dt.datetime(2025, 3, 11, tzinfo=zone).timestamp()
    assert window.hour_start == dt.datetime(2025, 3, 10, 1, tzinfo=zone).timestamp()
    assert window.hour_end == window.hour_start + 3600
    assert window.month_start == dt.datetime(2025, 3, 1, tzinfo=zone).timestamp()
    assert window.month_end == dt.datetime(2025, 4, 1, tzinfo=zone).timestamp()
    # 01:30 in Shanghai is still the previous day in UTC: the zone decides, not UTC.
    assert dt.datetime.fromtimestamp(now, dt.UTC).day == 9


def test_window_survives_daylight_saving_and_the_year_end(tmp_path: Path) -> None:
    service = QuotaService(None, settings(tmp_path, quota_timezone="America/New_York"))  # type: ignore[arg-type]
    zone = ZoneInfo("America/New_York")
    spring = service.window(dt.datetime(2025, 3, 9, 12, tzinfo=zone).timestamp())
    assert spring.day_end - spring.day_start == 23 * 3600  # the short day
    assert spring.day_end == dt.datetime(2025, 3, 10, tzinfo=zone).timestamp()
    december = service.window(dt.datetime(2025, 12, 31, 23, 59, tzinfo=zone).timestamp())
    assert december.month_end == dt.datetime(2026, 1, 1, tzinfo=zone).timestamp()
    assert december.day_end == december.month_end


# --- which limit applies -----------------------------------------------------------------


async def test_defaults_out_of_the_box(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))
    limits = await service.limits_for(GUILD, ALICE, [EVERYONE], time.time())
    assert limits.member_daily == 25 and limits.member_hourly is None
    assert limits.member_pending_cap == 4
    assert limits.server_daily is None and limits.server_daily_usd is None
    assert (await service.effective(GUILD, ALICE, [])).source == "default"


async def test_most_generous_role_applies_and_a_member_override_beats_roles(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "role", ARTISTS, daily=50, hourly_limit=10)
    await set_limit(storage, "role", PATRONS, daily=50, pending_cap=8)  # no hourly limit
    await set_limit(storage, "role", EVERYONE, daily=5)

    everyone_only = await service.effective(GUILD, ALICE, [EVERYONE])
    assert (everyone_only.source, everyone_only.member_daily) == ("role", 5)

    artist = await service.effective(GUILD, ALICE, [EVERYONE, ARTISTS])
    assert (artist.role_id, artist.member_daily, artist.member_hourly) == (ARTISTS, 50, 10)

    # Same daily limit, but no hourly limit is worth more; the whole role then applies.
    both = await service.effective(GUILD, ALICE, [EVERYONE, ARTISTS, PATRONS])
    assert (both.role_id, both.member_hourly, both.member_pending_cap) == (PATRONS, None, 8)

    await set_limit(storage, "member", ALICE, daily=2)
    personal = await service.effective(GUILD, ALICE, [EVERYONE, ARTISTS, PATRONS])
    assert (personal.source, personal.member_daily, personal.member_pending_cap) == (
        "member",
        2,
        4,
    )
    # Other members are untouched by Alice's override.
    assert (await service.effective(GUILD, BOB, [EVERYONE])).member_daily == 5


async def test_a_role_raises_the_limit_and_losing_it_lowers_it_again(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(
        storage, settings(tmp_path, default_daily_quota=2, member_pending_cap=10)
    )
    await set_limit(storage, "role", ARTISTS, daily=4)
    for _ in range(2):
        await submit(service, storage)
    with pytest.raises(QuotaExhausted):
        await submit(service, storage)
    await submit(service, storage, roles=[ARTISTS])  # the role gives two more
    await submit(service, storage, roles=[ARTISTS])
    with pytest.raises(QuotaExhausted):
        await submit(service, storage, roles=[ARTISTS])
    assert await storage.quotas.clear(GUILD, "role", ARTISTS)
    assert not await storage.quotas.clear(GUILD, "role", ARTISTS)
    assert (await service.effective(GUILD, ALICE, [ARTISTS])).member_daily == 2


async def test_owner_is_exempt_only_when_configured(tmp_path: Path, storage: Storage) -> None:
    await set_limit(storage, "server", 0, daily=1)
    plain = QuotaService(storage, settings(tmp_path, bot_owner_id=ALICE))
    assert (await plain.effective(GUILD, ALICE, [])).member_daily == 25
    exempt = QuotaService(
        storage, settings(tmp_path, bot_owner_id=ALICE, owner_exempt_from_quota=True)
    )
    limits = await exempt.limits_for(GUILD, ALICE, [], time.time())
    assert limits.member_daily is None and limits.server_daily is None
    assert (await exempt.effective(GUILD, BOB, [])).member_daily == 25


# --- refusals and resets -----------------------------------------------------------------


async def test_two_a_day_refuses_the_third_with_the_reset_time_and_allows_it_tomorrow(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "member", ALICE, daily=2)
    now = time.time()
    await submit(service, storage, now=now)
    await submit(service, storage, now=now)
    with pytest.raises(QuotaExhausted) as refused:
        await submit(service, storage, now=now)
    assert refused.value.message_key == "error.quota_daily_until"
    assert refused.value.values["resets"] == int(service.window(now).day_end)
    assert refused.value.values["left"] == 0

    # The next day (the jobs above were made today), the window has moved on.
    tomorrow = service.window(now).day_end + 60
    await submit(service, storage, now=tomorrow)


async def test_a_request_bigger_than_what_is_left_is_refused_whole(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "member", ALICE, daily=5)
    await submit(service, storage, count=4)
    with pytest.raises(QuotaExhausted) as refused:
        await submit(service, storage, count=2)
    assert (refused.value.values["left"], refused.value.values["count"]) == (1, 2)
    await submit(service, storage, count=1)


async def test_hourly_limit_and_its_reset(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "member", ALICE, daily=10, hourly_limit=1)
    now = time.time()
    await submit(service, storage, now=now)
    with pytest.raises(QuotaExhausted) as refused:
        await submit(service, storage, now=now)
    assert refused.value.message_key == "error.quota_hourly_until"
    assert refused.value.values["resets"] == int(service.window(now).hour_end)


async def test_twenty_at_once_with_five_left_accept_exactly_five(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "member", ALICE, daily=5, pending_cap=20)
    results = await asyncio.gather(
        *(submit(service, storage) for _ in range(20)), return_exceptions=True
    )
    assert sum(isinstance(r, int) for r in results) == 5
    assert sum(isinstance(r, QuotaExhausted) for r in results) == 15


async def test_failed_jobs_are_refunded(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "member", ALICE, daily=1)
    job_id = await submit(service, storage)
    with pytest.raises(QuotaExhausted):
        await submit(service, storage)
    await storage.jobs.fail(job_id, "upstream_busy")
    await submit(service, storage)


# --- the server's budget -----------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, dict[str, Any]]] = []

    async def __call__(self, guild_id: int, key: str, values: dict[str, Any]) -> None:
        self.calls.append((guild_id, key, values))


async def test_server_budget_refuses_everyone_and_alerts_admins_once_a_day(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    sink = Sink()
    service.alert_sink = sink
    await set_limit(storage, "server", 0, daily=2)
    now = time.time()
    await submit(service, storage, user_id=ALICE, now=now)
    await submit(service, storage, user_id=BOB, now=now)
    for user_id in (ALICE, BOB, ALICE):
        with pytest.raises(QuotaExhausted) as refused:
            await submit(service, storage, user_id=user_id, now=now)
        assert refused.value.message_key == "error.quota_server_until"
        assert refused.value.values["resets"] == int(service.window(now).day_end)
    assert [(g, k) for g, k, _ in sink.calls] == [(GUILD, "alert.server_budget_images")]
    assert sink.calls[0][2]["limit"] == 2

    # Tomorrow the budget is fresh; when it runs out again, admins hear about it again.
    tomorrow = service.window(now).day_end + 60
    tomorrow_window = service.window(tomorrow)
    await storage.db.execute("UPDATE jobs SET created_at = ?", (tomorrow_window.day_start + 1,))
    with pytest.raises(QuotaExhausted):
        await submit(service, storage, now=tomorrow)
    assert len(sink.calls) == 2


async def test_a_failing_alert_sink_still_refuses_cleanly(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))

    async def broken(guild_id: int, key: str, values: dict[str, Any]) -> None:
        raise RuntimeError("channel deleted")

    service.alert_sink = broken
    await set_limit(storage, "server", 0, daily=0)
    with pytest.raises(QuotaExhausted):
        await submit(service, storage)


async def test_dollar_budget_counts_priced_work_and_never_guesses(
    tmp_path: Path, storage: Storage
) -> None:
    prices = {"m": ModelPrice(text_input=1, image_input=1, image_output=1)}
    service = QuotaService(storage, settings(tmp_path, price_table=prices))
    sink = Sink()
    service.alert_sink = sink
    await set_limit(storage, "server", 0, daily_usd=1.0)
    first = await submit(service, storage)
    await deliver(storage, first, cost=None)  # a model without a price: unknown, not $0 guessed
    second = await submit(service, storage)
    await deliver(storage, second, cost=0.6)
    third = await submit(service, storage)
    await deliver(storage, third, cost=0.5)
    with pytest.raises(QuotaExhausted) as refused:
        await submit(service, storage)
    assert refused.value.message_key == "error.budget_daily"
    assert refused.value.values["spent"] == "1.10"
    assert [k for _, k, _ in sink.calls] == ["alert.server_budget_daily"]

    status = await service.status(GUILD, ALICE, [], time.time())
    assert status.spent_today_usd == pytest.approx(1.1)
    assert status.unpriced_today == 1


async def test_monthly_dollar_budget_is_checked_atomically_too(
    tmp_path: Path, storage: Storage
) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "server", 0, monthly_usd=0.5)
    limits = await service.limits_for(GUILD, ALICE, [], time.time())
    job_id = (await storage.jobs.insert_job(new_job(), limits)).id
    await deliver(storage, job_id, cost=0.5)
    # Limits computed before the spend: the reservation itself still refuses.
    with pytest.raises(QuotaExhausted) as refused:
        await storage.jobs.insert_job(new_job(), limits)
    assert refused.value.message_key == "error.budget_monthly"
    assert refused.value.values["resets"] == int(limits.month_end or 0)


async def test_server_pending_cap_replaces_the_setting(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "server", 0, pending_cap=1)
    limits = await service.limits_for(GUILD, ALICE, [], time.time())
    assert limits.guild_pending_cap == 1 and limits.server_daily is None


# --- what /quota show reports ------------------------------------------------------------


async def test_status_reports_usage_left_and_reset(tmp_path: Path, storage: Storage) -> None:
    service = QuotaService(storage, settings(tmp_path))
    await set_limit(storage, "role", ARTISTS, daily=6, hourly_limit=3)
    await set_limit(storage, "server", 0, daily=100)
    now = time.time()
    done = await submit(service, storage, roles=[ARTISTS], count=2, now=now)
    await deliver(storage, done, cost=None)
    await submit(service, storage, roles=[ARTISTS], now=now)  # still waiting
    await submit(service, storage, user_id=BOB, now=now)
    status = await service.status(GUILD, ALICE, [ARTISTS], now)
    assert (status.used_today, status.used_this_hour, status.pending) == (3, 3, 1)
    assert (status.left_today, status.left_this_hour) == (3, 0)
    assert (status.server_used_today, status.server_left_today) == (4, 96)
    assert status.limits.source == "role" and status.limits.role_id == ARTISTS
    assert status.window.day_end == service.window(now).day_end
    assert status.spent_today_usd is None  # no price table: unknown, not $0


async def test_limit_rows_round_trip_and_scopes_are_checked(storage: Storage) -> None:
    await set_limit(storage, "member", ALICE, daily=3, hourly_limit=1, pending_cap=2)
    await set_limit(storage, "member", ALICE, daily=4)  # replaces every column
    row = await storage.quotas.get(GUILD, "member", ALICE)
    assert row is not None and (row.daily_limit, row.hourly_limit, row.pending_cap) == (
        4,
        None,
        None,
    )
    assert row.updated_by == 99
    with pytest.raises(ValueError):
        await storage.quotas.set(QuotaLimit(GUILD, "server", 5, 1), updated_by=1, now=0)
    with pytest.raises(ValueError):
        await storage.quotas.set(QuotaLimit(GUILD, "everyone", 1, 1), updated_by=1, now=0)  # type: ignore[arg-type]
