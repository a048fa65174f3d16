"""Our own minimal image bot: the baseline ``bench/sidebyside.py`` measures us against.

Written for this benchmark (not taken from any other project): ``/character create``
defers, asks the Images API for one picture, and sends it as a followup. It stores
nothing, checks nothing (no moderation, no quota, no queue) and shows no preview, so its
time from command to picture is what the API and Discord alone cost.

It is started like our bot, with the same environment variables: ``DISCORD_TOKEN``,
``DISCORD_API_BASE`` (the fake Discord), ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` (the fake
OpenAI), ``DEV_GUILD_ID`` (where its command is synced), ``IMAGE_MODEL``.

    .venv/bin/python bench/minimal_bot.py
"""

from __future__ import annotations

import base64
import io
import logging
import os

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from openai import AsyncOpenAI

log = logging.getLogger("minimal_bot")

# The same picture our bot asks for by default (portrait, medium quality, PNG).
SIZE = "1024x1536"
QUALITY = "medium"


class MinimalBot(discord.Client):
    def __init__(self, openai_client: AsyncOpenAI, guild_id: int, model: str) -> None:
        super().__init__(intents=discord.Intents.none())
        self.openai = openai_client
        self.guild = discord.Object(guild_id)
        self.model = model
        self.tree = app_commands.CommandTree(self)
        group = app_commands.Group(name="character", description="Draw a character")

        @group.command(name="create", description="Draw a new character")
        @app_commands.describe(name="Character name", description="What they look like")
        async def create(interaction: discord.Interaction, name: str, description: str) -> None:
            await self.draw(interaction, name, description)

        self.tree.add_command(group, guild=self.guild)

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=self.guild)

    async def on_ready(self) -> None:
        log.info("Minimal bot ready as %s", self.user)

    async def draw(self, interaction: discord.Interaction, name: str, description: str) -> None:
        await interaction.response.defer(thinking=True)
        response = await self.openai.images.generate(
            model=self.model,
            prompt=f"An anime character named {name}. {description}",
            size=SIZE,
            quality=QUALITY,
            n=1,
        )
        picture = base64.b64decode(response.data[0].b64_json or "") if response.data else b""
        await interaction.followup.send(file=discord.File(io.BytesIO(picture), "picture.png"))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    base = os.environ.get("DISCORD_API_BASE")
    if base:  # the fake Discord: REST and gateway on a loopback port
        Route.BASE = f"{base.rstrip('/')}/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base).with_scheme("ws").with_path("/gateway")
    client = AsyncOpenAI(
        api_key=os.environ["OPENAI_API_KEY"], base_url=os.environ.get("OPENAI_BASE_URL")
    )
    bot = MinimalBot(
        client,
        int(os.environ["DEV_GUILD_ID"]),
        os.environ.get("IMAGE_MODEL", "gpt-image-2.5-flare"),
    )
    bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
