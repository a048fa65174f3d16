"""Quotas, server configuration and usage, end to end: the real bot through both fakes.

Time: the bot reads the wall clock, so "the next day" is shown two ways. Unit tests
(tests/unit/test_quotas.py) call the quota service with an injected ``now`` a day later.
Here, the member's jobs are moved back one day in the database, exactly as they would look
after midnight, and the bot lets the member draw again.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import (
    accepted,
    admin_says,
    create,
    created,
    db,
    embed_text,
    finished,
    private,
)
from tests.fakes.discord import MANAGE_GUILD, FakeDiscord, InteractionHandle, InteractionRejected
from tests.fakes.discord.models import Guild, Member

PRICES = {"gpt-image-2.5-flare": {"text_input": 5, "image_input": 8, "image_output": 32}}


def next_utc_midnight() -> int:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return int(dt.datetime.combine(tomorrow, dt.time(0), tzinfo=dt.UTC).timestamp())


async def refused(member: Member, name: str, *words: str) -> str:
    """Ask for a character and wait for the private refusal; return its text."""
    handle = await create(member, name)
    message = await handle.wait_for_reply(private(*words), timeout=10)
    return message.content


# --- member quota --------------------------------------------------------------------------


async def test_two_a_day_refuses_the_third_with_the_reset_time_then_allows_it_next_day(
    bot: object, world: World
) -> None:
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    await admin_says(boss, "quota-admin set member", "2 a day", member=alice, **{"per-day": 2})

    await created(alice, "Aiko")
    await created(alice, "Ren")
    text = await refused(alice, "Mio", "daily limit")
    midnight = next_utc_midnight()
    assert f"<t:{midnight}:R>" in text  # when it resets, in the member's own time zone
    assert "2 of 2" in text

    show = await alice.slash("quota show")
    card = await show.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    assert "**2** of **2** used" in embed_text(card)
    assert f"<t:{midnight}:R>" in embed_text(card)
    assert "personal limit" in embed_text(card)

    with db(world.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM characters").fetchone()[0] == 2
        # Midnight passes: today's jobs become yesterday's.
        conn.execute("UPDATE jobs SET created_at = created_at - 86400")
    await created(alice, "Mio")


async def test_a_role_raises_the_limit_and_losing_the_role_lowers_it(
    start_bot: StartBot, guild: Guild
) -> None:
    await start_bot(default_daily_quota=1, member_pending_cap=10)
    boss = guild.add_member("boss", admin=True)
    artists = guild.add_role("Artists")
    alice = guild.add_member("alice")
    await admin_says(boss, "quota-admin set role", "3 a day", role=artists, **{"per-day": 3})

    await created(alice, "A1")
    await refused(alice, "A2", "1 of 1")  # the default: one a day

    alice.add_role(artists)
    show = await alice.slash("quota show")
    card = await show.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    assert f"<@&{artists.id}>" in embed_text(card)
    await created(alice, "A2")
    await created(alice, "A3")
    await refused(alice, "A4", "3 of 3")

    alice.remove_role(artists)
    await refused(alice, "A4", "of 1")  # back to one a day, already used


async def test_twenty_at_once_with_five_left_queue_exactly_five(bot: object, world: World) -> None:
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    await admin_says(
        boss, "quota-admin set member", "7 a day", member=alice, **{"per-day": 7, "pending": 20}
    )
    await created(alice, "Warm1")
    await created(alice, "Warm2")  # five left

    world.openai.hold()
    handles = await asyncio.gather(*(create(alice, f"Rush{i}") for i in range(20)))

    def outcome(handle: InteractionHandle) -> str | None:
        for message in handle.replies:
            if message.ephemeral and "daily limit" in (message.content or ""):
                return "refused"
            if not message.loading and accepted(message):
                return "queued"
        return None

    await world.discord.wait_for(
        lambda _f: all(outcome(h) for h in handles), timeout=30, what="every answer"
    )
    outcomes = [outcome(h) for h in handles]
    assert outcomes.count("queued") == 5 and outcomes.count("refused") == 15
    with db(world.data_dir) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        assert conn.execute("SELECT COUNT(*) FROM characters").fetchone()[0] == 7
    # The two warm-up pictures are done; the five accepted ones wait or are being drawn
    # (OpenAI is held), none has finished or failed.
    assert states.pop("done") == 2
    assert set(states) <= {"queued", "running"} and sum(states.values()) == 5, states

    # What the admin sees for Alice, per member and for the whole server, and the limit set.
    show = await boss.slash("quota show", member=alice)
    card = await show.wait_for_reply(lambda m: m.ephemeral and m.embeds, timeout=10)
    assert card.embeds[0]["title"] == "Picture quota: Alice"
    fields = {f["name"]: f["value"] for f in card.embeds[0]["fields"]}
    assert fields["Today"].startswith("**7** of **7** used · **0** left"), fields
    assert fields["Waiting in the queue"] == "5 of at most 20", fields
    assert fields["Limit from"] == "A personal limit set by an admin", fields
    assert fields["Whole server today"] == "7 pictures · no server cap", fields
    limits = await admin_says(boss, "quota-admin list", "Picture limits")
    assert f"**Member** <@{alice.id}>: 7 a day · 20 waiting at once" in embed_text(limits)
    world.openai.release()
    for handle in handles:
        if outcome(handle) == "queued":
            await handle.wait_original(finished, timeout=30)


# --- the server's budget -------------------------------------------------------------------


async def test_server_budget_refuses_everyone_and_tells_admins_once(
    bot: object, fake_discord: FakeDiscord, guild: Guild
) -> None:
    boss = guild.add_member("boss", admin=True)
    alerts = guild.add_channel("admin-alerts")
    alice, bob, carol = (guild.add_member(name) for name in ("alice", "bob", "carol"))
    await admin_says(boss, "config alerts", str(alerts.id), channel=alerts)
    await admin_says(boss, "quota-admin set server", "2 a day", **{"per-day": 2})

    await created(alice, "A1")
    await created(bob, "B1")
    midnight = next_utc_midnight()
    for member, name in ((alice, "A2"), (bob, "B2"), (carol, "C1"), (alice, "A3")):
        text = await refused(member, name, "This server has used its budget")
        assert f"<t:{midnight}:R>" in text

    notices = fake_discord.bot_messages(alerts)
    assert len(notices) == 1, notices
    assert "2 pictures for today" in notices[0].content
    assert f"<t:{midnight}:R>" in notices[0].content
    assert notices[0].allowed_mentions == {"parse": []}


async def test_dollar_budget_uses_the_price_table(
    start_bot: StartBot, guild: Guild, data_dir: Path
) -> None:
    await start_bot(price_table=json.dumps(PRICES))
    boss = guild.add_member("boss", admin=True)
    alice = guild.add_member("alice")
    # A picture is reserved at its estimate (about $0.09 here) and settles at its cost.
    await admin_says(boss, "quota-admin set server", "$0.12 a day", **{"usd-per-day": 0.12})
    await created(alice, "A1")
    with db(data_dir) as conn:
        cost, reserved = conn.execute("SELECT cost_usd, reserved_usd FROM jobs").fetchone()
    assert cost is not None and 0 < cost <= reserved  # the estimate errs on the high side
    # The next picture's estimate no longer fits what is left: refused before any spend.
    text = await refused(alice, "A2", "would take the server over its estimated budget of $0.12")
    assert f"${cost:,.2f} spent or reserved" in text


async def test_a_budget_set_with_a_model_missing_from_the_price_table_says_so(
    start_bot: StartBot, guild: Guild
) -> None:
    """Pictures of a model PRICE_TABLE has no price for cost nothing against the budget (no
    price is guessed): the admin who sets one must hear which model escapes it."""
    await start_bot(price_table=json.dumps(PRICES))  # Flare's price only
    boss = guild.add_member("boss", admin=True)
    answer = await admin_says(boss, "quota-admin set server", "$5.00 a day", **{"usd-per-day": 5})
    assert "gpt-image-2.5-sunburst" in answer.content
    assert "gpt-image-2.5-flare" not in answer.content


async def test_a_server_limit_that_replaces_a_dollar_budget_says_so(
    start_bot: StartBot, guild: Guild
) -> None:
    """Each /quota-admin set replaces the whole limit. An admin who set a dollar budget and
    later only raises the pictures a day is told the budget is gone, not just "saved"."""
    await start_bot(price_table=json.dumps(PRICES))
    boss = guild.add_member("boss", admin=True)
    await admin_says(boss, "quota-admin set server", "$5.00 a day", **{"usd-per-day": 5.0})
    answer = await admin_says(boss, "quota-admin set server", "100 a day", **{"per-day": 100})
    assert "replaces" in answer.content and "$5.00 a day" in answer.content
    # Giving every part again loses nothing, and says nothing more.
    answer = await admin_says(
        boss, "quota-admin set server", "$6.00 a day", **{"per-day": 100, "usd-per-day": 6.0}
    )
    assert "replaces" not in answer.content


# --- who may change what -------------------------------------------------------------------


async def test_admin_commands_are_hidden_and_refused_at_run_time(bot: object, world: World) -> None:
    alice = world.guild.add_member("alice")
    bob = world.guild.add_member("bob")
    for name in ("quota-admin", "config", "usage"):
        synced = world.discord.synced_command(name, world.guild)
        assert synced["default_member_permissions"] == str(MANAGE_GUILD), name
    assert world.discord.synced_command("quota", world.guild)["default_member_permissions"] is None

    # Discord's client does not even offer the command to a member...
    with pytest.raises(InteractionRejected):
        await alice.slash("quota-admin set member", member=alice, options={"per-day": 1000})
    # ...and when a server lets members see it anyway, the bot itself refuses.
    attempts: list[InteractionHandle] = [
        await alice.slash(
            "quota-admin set member", member=alice, force=True, options={"per-day": 1000}
        ),
        await alice.slash("quota-admin set server", force=True, options={"per-day": 1000}),
        await alice.slash("quota-admin clear server", force=True),
        await alice.slash(
            "config allow-channel", force=True, options={"channel": world.guild.default_channel}
        ),
        await alice.slash("config emoji", force=True, emoji="🌸"),
        await alice.slash("usage", force=True),
    ]
    for handle in attempts:
        await handle.wait_for_reply(private("Only server admins"), timeout=10)
    seeing_others = await alice.slash("quota show", member=bob)
    await seeing_others.wait_for_reply(private("only see your own"), timeout=10)
    with db(world.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM quota_limits").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM guild_config").fetchone()[0] == 0


async def test_bad_input_gets_clear_errors(bot: object, world: World) -> None:
    boss = world.guild.add_member("boss", admin=True)
    other_guild = world.discord.add_guild("Elsewhere")
    foreign_role = other_guild.add_role("Foreign")
    stranger = other_guild.add_member("stranger")

    for value in (-1, 10_001):  # out of Range: the client refuses to send it
        with pytest.raises(InteractionRejected):
            await boss.slash("quota-admin set member", member=boss, options={"per-day": value})
    handle = await boss.slash("quota-admin set role", role=foreign_role, options={"per-day": 5})
    await handle.wait_for_reply(private("doesn't belong to this server"), timeout=10)
    handle = await boss.slash(
        "quota-admin set member", member=stranger.user, options={"per-day": 5}
    )
    await handle.wait_for_reply(private("is not a member of this server"), timeout=10)
    handle = await boss.slash(
        "quota-admin set member", member=boss, options={"per-day": 2, "per-hour": 5}
    )
    await handle.wait_for_reply(private("can't be higher than the daily limit"), timeout=10)
    handle = await boss.slash("quota-admin set server")
    await handle.wait_for_reply(private("at least one limit"), timeout=10)
    handle = await boss.slash("config emoji", emoji="not an emoji")
    await handle.wait_for_reply(private("single emoji"), timeout=10)
    with db(world.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM quota_limits").fetchone()[0] == 0


async def test_crafted_values_beyond_the_limits_are_refused_and_change_nothing(
    bot: object, world: World
) -> None:
    """A patched client sends what Discord's client would not: a "most pictures" of 0 (which
    would refuse every member's picture), negative limits, no waiting room, a dollar budget
    of zero or less. Each is refused with a clear private answer; nothing is stored and
    members draw as before."""
    boss = world.guild.add_member("boss", admin=True)
    alice = world.guild.add_member("alice")
    artists = world.guild.add_role("Artists")
    for max_count in (0, -1, 5):
        handle = await boss.slash(
            "config defaults", modified_client=True, options={"max-count": max_count}
        )
        await handle.wait_for_reply(private("between 1 and 4 pictures"), timeout=10)
    crafted: list[tuple[str, dict[str, object]]] = [
        ("quota-admin set member", {"member": alice, "per-day": -5}),
        ("quota-admin set member", {"member": alice, "per-day": 5, "per-hour": -1}),
        ("quota-admin set role", {"role": artists, "per-day": 5, "pending": 0}),
        ("quota-admin set server", {"per-day": -1}),
        ("quota-admin set server", {"pending": -3}),
        ("quota-admin set server", {"usd-per-day": 0.0}),
        ("quota-admin set server", {"usd-per-month": -2.5}),
    ]
    for command, options in crafted:
        handle = await boss.slash(command, modified_client=True, options=options)
        await handle.wait_for_reply(private("doesn't look right"), timeout=10)
    with db(world.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM quota_limits").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM guild_config").fetchone()[0] == 0
    await created(alice, "Still drawn")


# --- configuration -------------------------------------------------------------------------


async def test_allowed_channels_refuse_commands_elsewhere_but_buttons_keep_working(
    bot: object, guild: Guild
) -> None:
    boss = guild.add_member("boss", admin=True)
    alice = guild.add_member("alice")
    art = guild.add_channel("art")
    earlier = await created(alice, "Aiko")  # posted in #general

    card = await admin_says(boss, "config allow-channel", f"<#{art.id}>", channel=art)
    assert "Commands allowed in" in embed_text(card)

    text = await refused(alice, "Ren", "can't be used in this channel")
    assert f"<#{art.id}>" in text
    show = await alice.slash("quota show")
    await show.wait_for_reply(private(f"<#{art.id}>"), timeout=10)

    in_art = await alice.slash(
        "character create", channel=art, name="Ren", description="short black hair"
    )
    await in_art.wait_original(finished, timeout=20)
    favorite = next(cid for cid in earlier.custom_ids if cid.startswith("pic:fav:"))
    pressed = await alice.click(earlier, favorite)
    await pressed.wait_for_reply(lambda m: m.ephemeral and "⭐" in (m.content or ""), timeout=10)
    # Admin commands work anywhere, so admins can't lock themselves out.
    await admin_says(boss, "config remove-channel", "work everywhere", channel=art)
    await created(alice, "Mio")


async def test_config_is_shown_and_changed(bot: object, guild: Guild, data_dir: Path) -> None:
    boss = guild.add_member("boss", admin=True)
    card = await admin_says(boss, "config show", "Server settings")
    assert "⭐" in embed_text(card) and "Every channel" in embed_text(card)
    await admin_says(boss, "config emoji", "🌸", emoji="🌸")
    await admin_says(boss, "config forks", "Not allowed", allowed=False)
    await admin_says(boss, "config gallery", "Private", visibility="private")
    await admin_says(boss, "config model", "Premium", tier="premium")
    await admin_says(boss, "config defaults", "Chibi", style="chibi", **{"max-count": 2})
    with db(data_dir) as conn:
        row = conn.execute(
            "SELECT favorite_emoji, allow_forks, gallery_public, model_tier, default_style,"
            " max_count FROM guild_config"
        ).fetchone()
    assert row == ("🌸", 0, 0, "premium", "chibi", 2)

    mei = guild.add_member("mei", admin=True, locale="zh-CN")
    card = await admin_says(mei, "config show", "服务器设置")
    assert "🌸" in embed_text(card) and "不允许" in embed_text(card)


# --- usage ---------------------------------------------------------------------------------


async def test_usage_chart_and_csv_match_the_database(start_bot: StartBot, world: World) -> None:
    await start_bot(price_table=json.dumps(PRICES))
    boss = world.guild.add_member("boss", admin=True)
    alice, bob = world.guild.add_member("alice"), world.guild.add_member("bob")
    await created(alice, "A1", count=2)
    await created(alice, "A2")
    await created(bob, "B1")

    handle = await boss.slash("usage", period=7)
    report = await handle.wait_for_reply(lambda m: m.attachments, timeout=20)
    assert report.ephemeral
    chart = report.attachment("usage.png")
    image = Image.open(io.BytesIO(chart.data))
    assert (image.format, image.size) == ("PNG", (1200, 675))
    await asyncio.to_thread((world.data_dir / "usage-chart.png").write_bytes, chart.data)

    with db(world.data_dir) as conn:
        images, tokens_in, tokens_out, cost = conn.execute(
            "SELECT SUM(image_count), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd)"
            " FROM jobs WHERE state = 'done' AND charged = 1"
        ).fetchone()
        per_member = dict(
            conn.execute(
                "SELECT user_id, SUM(image_count) FROM jobs WHERE state = 'done' GROUP BY user_id"
            ).fetchall()
        )
    assert images == 4 and cost > 0

    days_file = next(a for a in report.attachments if a.filename.startswith("usage-days-"))
    rows = list(csv.reader(io.StringIO(days_file.data.decode("utf-8-sig"))))
    assert len(rows) == 1 + 7 + 1  # header, seven days, total
    today = rows[-2]
    assert today[0] == dt.datetime.now(dt.UTC).date().isoformat()
    assert [int(today[1]), int(today[2]), int(today[3])] == [images, tokens_in, tokens_out]
    assert float(today[4]) == pytest.approx(cost, abs=1e-4)
    assert all(row[1] == "0" for row in rows[1:-2])

    members_file = next(a for a in report.attachments if a.filename.startswith("usage-members-"))
    members = list(csv.reader(io.StringIO(members_file.data.decode("utf-8-sig"))))[1:]
    assert {int(r[0]): int(r[1]) for r in members} == per_member
    assert int(members[0][0]) == alice.id  # most pictures first

    embed = report.embeds[0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Pictures"] == "4"
    assert f"${cost:,.2f}" in fields["Estimated cost"]
    assert f"<@{alice.id}>" in fields["Top members"]
    assert embed["image"]["url"].endswith("usage.png")


async def test_usage_without_prices_says_unknown(bot: object, guild: Guild) -> None:
    boss = guild.add_member("boss", admin=True)
    alice = guild.add_member("alice")
    await created(alice, "A1")
    handle = await boss.slash("usage")
    report = await handle.wait_for_reply(lambda m: m.attachments, timeout=20)
    fields = {f["name"]: f["value"] for f in report.embeds[0]["fields"]}
    assert "Unknown" in fields["Estimated cost"] and "$" not in fields["Estimated cost"]
    days_file = next(a for a in report.attachments if a.filename.startswith("usage-days-"))
    total = list(csv.reader(io.StringIO(days_file.data.decode("utf-8-sig"))))[-1]
    assert total[1] == "1" and total[4] == ""  # the cost cell is empty, never a guess
