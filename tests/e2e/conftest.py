"""Fixtures that run the real bot (``python -m bot``) against the loopback fakes.

A test reads like a story::

    async def test_create(bot, guild, fake_openai):
        alice = guild.add_member("alice")
        h = await alice.slash("character create", name="Aiko", description="silver hair")
        msg = await h.wait_original(lambda m: m.attachments)

A test that needs most of the surroundings takes ``world`` (both fakes, the guild and the data
folder in one) instead of four parameters: ``world.guild.add_member("alice")``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.botproc import BotProcess
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild
from tests.fakes.openai import FakeOpenAI
from tests.postgres_server import E2E_DATABASE_URLS, PostgresServer

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
    # Every request the bot made is held to Discord's published API (tests/contracts)...
    fake.assert_contract_kept()
    # ...and to its documented rules, in every test. A test that makes Discord refuse the bot
    # on purpose names the refusals it provokes: a permission taken away or a message deleted
    # mid-job, or a token aged on the fake's clock (the bot's own clock did not move, so it
    # still tries the token once and must fall back when Discord says it is dead).
    provoked = {
        rule for marker in request.node.iter_markers("provokes_violations") for rule in marker.args
    }
    fake.assert_no_violations(except_rules=provoked)


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake
    # Every request the bot made is held to OpenAI's published API (tests/contracts).
    fake.assert_contract_kept()


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> Guild:
    return fake_discord.add_guild("Anime Club")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@dataclass(frozen=True)
class World:
    """Everything around the bot in one test: both fakes, the server it serves, its data folder.

    Most tests need three or four of these; one ``world`` parameter keeps their signatures short.
    The single fixtures stay for tests that need only one or two.
    """

    discord: FakeDiscord
    openai: FakeOpenAI
    guild: Guild
    data_dir: Path


@pytest.fixture
def world(
    fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild, data_dir: Path
) -> World:
    return World(fake_discord, fake_openai, guild, data_dir)


def bot_environment(
    fake_discord: FakeDiscord, fake_openai: FakeOpenAI, guild: Guild, data_dir: Path
) -> dict[str, str]:
    """What a server owner would set, pointed at the fakes, with quick test timings."""
    return {
        "DISCORD_TOKEN": fake_discord.bot_token,
        "OPENAI_API_KEY": fake_openai.api_key,
        "OPENAI_BASE_URL": fake_openai.base_url,
        "DISCORD_API_BASE": fake_discord.base_url,
        "DATA_DIR": str(data_dir),
        "DEV_GUILD_ID": str(guild.id),
        "LOG_LEVEL": "INFO",
        "PROGRESS_EDIT_SECONDS": "0.2",
        "RETRY_BASE_SECONDS": "0.1",
        # A write meets a database another program locked (database_busy) in 1 s, not 5.
        "SQLITE_BUSY_TIMEOUT_SECONDS": "1",
        "SHUTDOWN_GRACE_SECONDS": "2",
        "IMAGES_PER_MINUTE": "600",
    }


# --- the PostgreSQL leg -------------------------------------------------------------------
# These tests run twice: on SQLite, and with DATABASE_URL pointing at a fresh PostgreSQL
# database (create, vary, queue and money, gallery, scenes, restarts, healthcheck); the whole
# modules pass there too, but twice the e2e suite would cost minutes. Every other test runs
# on SQLite only, as before. A name matches a test function, or every test in a module.
POSTGRES_LEG = (
    "test_create.py::test_create_with_description_posts_the_picture_with_buttons",
    "test_create.py::test_four_pictures_in_one_message_and_a_reference_becomes_an_edit",
    "test_create.py::test_refused_prompt_gets_a_private_explanation_and_costs_nothing",
    "test_vary.py::test_autocomplete_lists_own_then_shared_characters_never_others_private",
    "test_vary.py::test_vary_buttons_work_on_a_message_posted_before_a_restart",
    "test_vary.py::test_varying_someone_elses_character_forks_it_and_leaves_the_original",
    "test_money.py::test_a_burst_against_a_tiny_budget_draws_at_most_the_budget_plus_one_estimate",
    "test_money.py::test_a_stream_that_ends_short_is_charged_for_what_was_delivered",
    "test_gallery.py::test_gallery_pages_open_and_favorites_survive_a_restart",
    "test_gallery.py::test_another_server_sees_nothing_and_private_characters_stay_private",
    "test_gallery.py::test_deleting_a_gallery_repost_removes_the_picture_everywhere",
    "test_scenes.py::test_two_members_characters_meet_in_one_scene",
    "test_scenes.py::test_hiding_and_deleting_a_scene_work_after_a_restart",
    "test_scenes.py::test_mydata_delete_takes_a_character_out_of_others_scenes",
    "test_queue.py::test_a_members_four_jobs_do_not_starve_anothers_one",
    "test_queue.py::test_sigkill_with_jobs_queued_and_running_loses_nothing",
    "test_cockpit_health.py::test_healthy_while_running_and_not_once_stopped",
    "test_takedowns.py::test_a_deleted_characters_messages_come_off_discord_after_a_restart",
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "e2e_database" not in metafunc.fixturenames:
        return
    module = Path(metafunc.definition.path).name
    test = f"{module}::{metafunc.definition.originalname}"
    if module in POSTGRES_LEG or test in POSTGRES_LEG:
        metafunc.parametrize("e2e_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def e2e_database(request: pytest.FixtureRequest) -> str:
    """The bot's database in this test: "sqlite" unless the test is on the PostgreSQL leg."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def e2e_database_url(
    e2e_database: str, data_dir: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str | None]:
    if e2e_database != "postgresql":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.fresh_database(migrated=False)  # the bot migrates it, as in production
    E2E_DATABASE_URLS[data_dir] = url
    yield url
    del E2E_DATABASE_URLS[data_dir]
    # The leg is real: the bot kept nothing in SQLite.
    assert not (data_dir / "bot.sqlite3").exists(), "the bot used SQLite despite DATABASE_URL"
    await server.drop(url)


@pytest.fixture
async def start_bot(
    request: pytest.FixtureRequest, world: World, tmp_path: Path, e2e_database_url: str | None
) -> AsyncIterator[StartBot]:
    """Start (or restart) the bot process with optional extra settings; stop it after."""
    started: list[BotProcess] = []

    async def start(*args: str, wait_ready: bool = True, **overrides: object) -> BotProcess:
        """``overrides``: settings by name; None unsets one (``dev_guild_id=None``: commands
        synced globally, so every server has them)."""
        env = bot_environment(world.discord, world.openai, world.guild, world.data_dir)
        if e2e_database_url:
            env["DATABASE_URL"] = e2e_database_url
        for key, value in overrides.items():
            if value is None:
                env.pop(key.upper(), None)
            else:
                env[key.upper()] = str(value)
        process = BotProcess(env, tmp_path / "cwd")
        started.append(process)
        await process.start(*args)
        if wait_ready:
            # Each further shard IDENTIFYs 5 s after the one before (Discord's limit).
            await process.wait_for_log(r"Logged in as .*serving \d+ guilds", timeout=40)
            await world.discord.wait_until_ready(timeout=15)
        return process

    yield start

    # A test that makes the bot log errors on purpose names them (patterns searched in each
    # line); any other ERROR line or traceback in the bot's log fails it.
    expected = [
        re.compile(pattern)
        for marker in request.node.iter_markers("allow_errors")
        for pattern in marker.args
    ]
    for process in started:
        if process.process is not None and process.process.returncode is None:
            code = await process.stop(timeout=15)
            assert code == 0, f"bot exited with {code}:\n{process.output[-3000:]}"
        unexpected = [
            line
            for line in process.unexpected_errors()
            if not any(pattern.search(line) for pattern in expected)
        ]
        assert not unexpected, f"the bot logged errors: {unexpected[:3]}\n" + process.output[-6000:]


@pytest.fixture
async def bot(start_bot: StartBot) -> BotProcess:
    return await start_bot()
