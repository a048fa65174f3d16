"""The fake Discord, exercised by a real discord.py client running in-process.

The client is a tiny AutoShardedBot (same shape as the real bot) whose slash commands hit
exactly the rules the fake enforces. Each test reads as a story: a member acts, the bot
answers, the fake's records show what Discord would have seen.
"""

from __future__ import annotations

import asyncio
import io
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakes.discord import (
    ATTACH_FILES,
    FLAG_EPHEMERAL,
    FakeDiscord,
    Guild,
    InteractionRejected,
    Upload,
)
from tests.storage_helpers import raw_png

pytestmark = pytest.mark.timeout(30)


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return raw_png(width, height, zlib.compress(raw))


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Yes", custom_id="vote:yes", style=discord.ButtonStyle.success)
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]
    ) -> None:
        await interaction.response.edit_message(
            content=f"{interaction.user.name} voted yes", view=None
        )


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", custom_id="feedback:text", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


class TinyBot(commands.AutoShardedBot):
    """A minimal bot with one command per rule the fake enforces."""

    CHARACTERS = ("Aiko", "Airi", "Akira", "Ren", "Sora")

    def __init__(self, guild_id: int) -> None:
        super().__init__(
            command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.1
        )
        self.guild_id = guild_id
        self.errors: list[discord.HTTPException] = []
        self.late_delay = 0.0
        self.release = asyncio.Event()
        self.reactions: list[discord.RawReactionActionEvent] = []
        self.register()

    def register(self) -> None:
        tree = self.tree

        @tree.command(description="Render a prompt into an image")
        async def render(interaction: discord.Interaction, prompt: str, big: bool = False) -> None:
            await interaction.response.defer(thinking=True)
            data = tiny_png() if not big else b"\0" * (interaction.filesize_limit + 1)
            try:
                await interaction.edit_original_response(
                    content=f"Here is {prompt}",
                    attachments=[discord.File(io.BytesIO(data), "render.png")],
                )
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Answers after a delay")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.late_delay)  # a slow bot, on purpose
            try:
                await interaction.response.send_message("finally")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Defers, then finishes when released")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await self.release.wait()
            try:
                await interaction.edit_original_response(content="done")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="A vote with a button")
        async def vote(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Vote!", view=VoteView())

        @tree.command(description="Opens a feedback form")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        async def character_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=n, value=n)
                for n in self.CHARACTERS
                if n.startswith(current)
            ][:25]

        @tree.command(description="Vary a character")
        @app_commands.autocomplete(character=character_names)
        @app_commands.describe(character="Who", strength="How much")
        async def vary(
            interaction: discord.Interaction,
            character: str,
            strength: app_commands.Range[int, 1, 10] = 5,
        ) -> None:
            await interaction.response.send_message(f"Varying {character} by {strength}")

        @tree.command(description="Describe an uploaded picture")
        async def inspect(interaction: discord.Interaction, image: discord.Attachment) -> None:
            data = await image.read()  # fetched from the fake CDN
            await interaction.response.send_message(
                f"{image.filename} {image.content_type} {image.width}x{image.height} {len(data)}"
            )

        @tree.command(description="Server settings")
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.checks.has_permissions(manage_guild=True)
        async def settings(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("settings", ephemeral=True)

        @settings.error
        async def settings_error(
            interaction: discord.Interaction, error: app_commands.AppCommandError
        ) -> None:
            await interaction.response.send_message("You need Manage Server.", ephemeral=True)

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.user_id == self.user.id:  # type: ignore[union-attr]
            return
        self.reactions.append(payload)
        channel = self.get_partial_messageable(payload.channel_id)
        await channel.get_partial_message(payload.message_id).add_reaction(payload.emoji)


@asynccontextmanager
async def running_bot(fake: FakeDiscord, guild: Guild) -> AsyncIterator[TinyBot]:
    """Start TinyBot against the fake (patching discord.py's endpoints), stop and restore after."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    bot = TinyBot(guild.id)
    task = asyncio.create_task(bot.start(fake.bot_token))
    try:
        await fake.wait_until_ready(timeout=10)
        yield bot
    finally:
        await bot.close()
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


@pytest.fixture
async def bot(fake: FakeDiscord, guild: Guild) -> AsyncIterator[TinyBot]:
    async with running_bot(fake, guild) as bot:
        yield bot


# ------------------------------------------------------------------------------------------
# startup and command sync
# ------------------------------------------------------------------------------------------


async def test_bot_logs_in_syncs_commands_and_identifies(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    names = {c["name"] for c in fake.synced_commands(guild)}
    assert names == {"render", "late", "slow", "vote", "feedback", "vary", "inspect", "settings"}
    vary = fake.synced_command("vary", guild)
    assert vary["options"][0] == {
        "type": 3,
        "name": "character",
        "description": "Who",
        "required": True,
        "autocomplete": True,
    }
    assert fake.synced_command("settings", guild)["default_member_permissions"] == str(1 << 5)
    assert fake.identify_count == 1
    routes = [(r.method, r.route) for r in fake.requests]
    assert ("GET", r"/users/@me") in routes
    assert ("GET", r"/gateway/bot") in routes
    assert all(r.status < 400 for r in fake.requests), fake.requests
    assert bot.user is not None and bot.user.id == fake.bot_user_id
    fake.assert_no_violations()


async def test_invalid_command_schema_is_rejected_with_50035(
    fake: FakeDiscord, guild: Guild
) -> None:
    bad = [{"name": "Bad Name", "description": "x" * 101, "type": 1}]
    url = f"{fake.api_base}/applications/{fake.application_id}/guilds/{guild.id}/commands"
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        async with session.put(url, json=bad, headers=headers) as resp:
            body = await resp.json()
        async with session.get(f"{fake.api_base}/users/@me") as unauth:
            assert unauth.status == 401
    assert resp.status == 400
    assert body["code"] == 50035
    assert set(body["errors"]["0"]) == {"name", "description"}
    assert [v["rule"] for v in fake.violations] == ["invalid_command_schema", "unauthorized"]
    assert fake.synced_commands(guild) == []


# ------------------------------------------------------------------------------------------
# interactions
# ------------------------------------------------------------------------------------------


async def test_defer_then_edit_original_with_a_file(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    h = await alice.slash("render", prompt="a red fox")
    ack = await h.wait_ack()
    assert ack.type == 5 and ack.elapsed_ms < 3000
    msg = await h.wait_original(lambda m: m.attachments)
    assert msg.content == "Here is a red fox"
    (png,) = msg.attachments
    assert (png.filename, png.content_type, png.width, png.height) == (
        "render.png",
        "image/png",
        3,
        2,
    )
    assert png.data == tiny_png()
    assert msg.history[0].flags & (1 << 7)  # first state: "Bot is thinking..."
    assert not msg.ephemeral and msg.interaction_kind == "original"
    assert msg.channel is guild.default_channel
    # the CDN serves the bytes back (what attachment.read() does)
    channel = bot.get_channel(guild.default_channel.id)
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(msg.id)
    assert await fetched.attachments[0].read() == tiny_png()
    fake.assert_no_violations()


async def test_answer_after_the_deadline_gets_10062(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    """Discord docs, Receiving and Responding: "Interaction tokens are valid for 15 minutes
    ... you must send an initial response within 3 seconds"; later, 404 Unknown interaction
    (10062, Opcodes and Status Codes)."""
    fake.ack_deadline = 0.5  # Discord's is 3 s; shortened to keep the suite fast
    bot.late_delay = 0.7
    alice = guild.add_member("alice")
    h = await alice.slash("late")
    with pytest.raises(AssertionError, match="not acknowledged"):
        await h.wait_ack(timeout=2)
    violation = await fake.wait_for_violation("unknown_interaction")
    assert violation["code"] == 10062 and violation["status"] == 404
    assert fake.violations_of("interaction_not_acknowledged")
    (attempt,) = h.attempts
    assert attempt.error_code == 10062 and attempt.elapsed_ms >= 500
    await fake.wait_for(lambda f: bot.errors)
    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062
    assert h.original is None


async def test_token_expires_after_15_minutes_on_the_fake_clock(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    h = await alice.slash("slow")
    await h.wait_ack()
    fake.clock.advance(16 * 60)
    assert h.token_expired
    bot.release.set()
    violation = await fake.wait_for_violation("invalid_webhook_token")
    assert violation["status"] == 401 and violation["code"] == 50027
    await fake.wait_for(lambda f: bot.errors)
    assert bot.errors[0].code == 50027
    assert h.original is not None and h.original.loading  # never filled in


async def test_oversize_upload_gets_40005(fake: FakeDiscord, guild: Guild, bot: TinyBot) -> None:
    guild.filesize_limit = 64 * 1024  # small limit keeps the upload tiny
    alice = guild.add_member("alice")
    h = await alice.slash("render", prompt="huge", big=True)
    await h.wait_ack()
    violation = await fake.wait_for_violation("request_too_large")
    assert violation["status"] == 413 and violation["code"] == 40005
    await fake.wait_for(lambda f: bot.errors)
    assert bot.errors[0].status == 413 and bot.errors[0].code == 40005


async def test_missing_attach_files_gives_50013(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    art = guild.add_channel("art")
    guild.set_bot_channel_permissions(art, deny=ATTACH_FILES)
    alice = guild.add_member("alice")
    h = await alice.slash("render", art, prompt="a cat")
    assert not int(h.record.payload["app_permissions"]) & ATTACH_FILES
    await h.wait_ack()
    violation = await fake.wait_for_violation("missing_permissions")
    assert violation["code"] == 50013 and "ATTACH_FILES" in violation["detail"]
    await fake.wait_for(lambda f: bot.errors)
    assert isinstance(bot.errors[0], discord.Forbidden)


async def test_button_click_round_trip(fake: FakeDiscord, guild: Guild, bot: TinyBot) -> None:
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    h = await alice.slash("vote")
    msg = await h.wait_original(lambda m: "vote:yes" in m.custom_ids)
    assert msg.content == "Vote!" and msg.buttons[0]["label"] == "Yes"
    click = await bob.click(msg, "vote:yes")
    assert (await click.wait_ack()).type == 7
    assert msg.content == "bob voted yes" and msg.components == []
    assert [s.content for s in msg.states] == ["Vote!", "bob voted yes"]
    assert click.original is msg
    with pytest.raises(InteractionRejected, match="no component"):
        await alice.click(msg, "vote:yes")
    fake.assert_no_violations()


async def test_modal_round_trip(fake: FakeDiscord, guild: Guild, bot: TinyBot) -> None:
    alice = guild.add_member("alice")
    h = await alice.slash("feedback")
    assert (await h.wait_ack()).type == 9
    assert h.modal is not None and h.modal["title"] == "Feedback"
    with pytest.raises(InteractionRejected, match="no field"):
        await h.submit_modal({"nope": "x"})
    with pytest.raises(InteractionRejected, match="200 characters"):
        await h.submit_modal({"feedback:text": "x" * 201})
    submit = await h.submit_modal({"feedback:text": "love it"})
    reply = await submit.wait_original()
    assert reply.content == "Thanks: love it"
    assert reply.ephemeral and reply.flags & FLAG_EPHEMERAL and submit.ephemeral
    fake.assert_no_violations()


async def test_autocomplete_and_option_validation(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    choices = await alice.autocomplete("vary", focused="character", value="Ai")
    assert [c["value"] for c in choices] == ["Aiko", "Airi"]
    with pytest.raises(InteractionRejected, match="between 1 and 10"):
        await alice.slash("vary", character="Aiko", strength=11)
    with pytest.raises(InteractionRejected, match="required option 'character'"):
        await alice.slash("vary")
    with pytest.raises(InteractionRejected, match="unknown option"):
        await alice.slash("vary", character="Aiko", colour="red")
    h = await alice.slash("vary", character="Aiko", strength=7)
    assert (await h.wait_original()).content == "Varying Aiko by 7"
    fake.assert_no_violations()


async def test_attachment_option_is_served_by_the_cdn(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    h = await alice.slash("inspect", image=Upload("sketch.png", tiny_png(4, 5)))
    reply = await h.wait_original()
    assert reply.content == f"sketch.png image/png 4x5 {len(tiny_png(4, 5))}"
    cdn = [r for r in fake.requests if r.route == "cdn"]
    assert [r.status for r in cdn] == [200]
    too_big = Upload("huge.png", b"\0" * (guild.filesize_limit + 1))
    with pytest.raises(InteractionRejected, match="upload limit"):
        await alice.slash("inspect", image=too_big)
    fake.assert_no_violations()


async def test_default_member_permissions_and_force(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    admin = guild.add_member("root", admin=True)
    with pytest.raises(InteractionRejected, match="default_member_permissions"):
        await alice.slash("settings")
    assert (await (await admin.slash("settings")).wait_original()).content == "settings"
    forced = await alice.slash("settings", force=True)  # the bot's own check must refuse
    assert (await forced.wait_original()).content == "You need Manage Server."


# ------------------------------------------------------------------------------------------
# gateway: reactions, drop and resume, faults
# ------------------------------------------------------------------------------------------


async def test_reaction_reaches_on_raw_reaction_add(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    sparkle = guild.add_emoji("sparkle")
    msg = await (await alice.slash("vote")).wait_original()
    await alice.react(msg, "⭐")
    await alice.react(msg, sparkle)
    await fake.wait_for(
        lambda f: msg.reaction_count("⭐") == 2 and msg.reaction_count(sparkle.route_key) == 2
    )
    assert [(p.user_id, str(p.emoji)) for p in bot.reactions] == [
        (alice.id, "⭐"),
        (alice.id, str(sparkle)),
    ]
    assert (
        bot.reactions[0].member is not None
        and bot.reactions[0].message_author_id == fake.bot_user_id
    )
    fake.assert_no_violations()


async def test_gateway_drop_resumes_and_replays_missed_events(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    msg = await (await alice.slash("vote")).wait_original()
    await fake.drop_gateway(resume=True)
    assert not fake.gateway.connected
    await alice.react(msg, "🎉")  # dispatched while the bot is away: buffered for RESUME
    await fake.wait_for(lambda f: f.resume_count == 1, timeout=10)
    await fake.wait_for(lambda f: msg.reaction_count("🎉") == 2)  # replayed, and the bot echoed it
    assert fake.identify_count == 1
    sent = [g.t for g in fake.gateway_log if g.direction == "send" and g.op == 0]
    assert sent.index("RESUMED") > sent.index("MESSAGE_REACTION_ADD")
    seqs = [g.s for g in fake.gateway_log if g.direction == "send" and g.op == 0 and g.s]
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))
    # and interactions still work on the resumed session
    h = await alice.slash("vary", character="Ren")
    assert (await h.wait_original()).content == "Varying Ren by 5"
    fake.assert_no_violations()


async def test_reconnect_opcode_and_injected_rate_limit(
    fake: FakeDiscord, guild: Guild, bot: TinyBot
) -> None:
    alice = guild.add_member("alice")
    await fake.send_reconnect()
    await fake.wait_for(lambda f: f.resume_count == 1, timeout=10)
    fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", status=429, retry_after=0.05)
    h = await alice.slash("vary", character="Sora")
    assert (await h.wait_original()).content == "Varying Sora by 5"
    callbacks = [r for r in fake.requests if (r.route and "callback" in r.route) or r.injected]
    assert [(r.status, r.injected) for r in callbacks] == [(429, True), (200, False)]
    fake.assert_no_violations()


async def test_a_component_that_is_not_an_object_is_rejected_with_50035(
    fake: FakeDiscord, guild: Guild
) -> None:
    # Discord answers a malformed component with a form-body error, never a server error.
    url = f"{fake.api_base}/channels/{guild.default_channel.id}/messages"
    payload = {"content": "hi", "components": [{"type": 1, "components": ["not a button"]}]}
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake.bot_token}"}
        async with session.post(url, json=payload, headers=headers) as resp:
            body = await resp.json()
    assert resp.status == 400, body
    assert body["code"] == 50035
    assert "components" in body["errors"]
    assert guild.default_channel.messages() == []
