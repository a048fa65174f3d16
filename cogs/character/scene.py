"""/character scene and /character scenes, as a mixin for the /character group.

``CharacterCog`` (cogs/character/cog.py) lists ``CharacterSceneCommands`` among its bases,
as it does the manage commands. The rules (consent, references, the prompt) are
bot/scenes.py's; here the options are read, names resolved, and the answer rendered.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.scenes import SETTING_LIMIT, SceneRequest
from cogs._shared.characters import (
    OWN_CHARACTER,
    resolve_character,
    scene_characters,
    switch_own_character,
)
from cogs._shared.choices import COUNT, SIZE_CHOICES, STYLE, STYLE_CHOICES, Count
from cogs._shared.context import requester, services
from cogs._shared.options import Autocompleted, Option, command, options
from cogs._shared.start_job import start_job

__all__ = ["CharacterSceneCommands"]


# This file's slash-command options, each declared once (cogs/_shared/options.py).
FIRST = Option(
    "first",
    "A character in the scene (yours, or one shared here)",
    key="scene_first",
    autocomplete=scene_characters,
)
SECOND = Option(
    "second", "Another character in the scene", key="scene_second", autocomplete=scene_characters
)
THIRD = Option(
    "third", "A third character (optional)", key="scene_third", autocomplete=scene_characters
)
FOURTH = Option(
    "fourth", "A fourth character (optional)", key="scene_fourth", autocomplete=scene_characters
)
SETTING = Option(
    "setting", "What happens and where, e.g. sharing ramen at a night market", key="scene_setting"
)
SCENE_SIZE = Option(
    "size", "Picture shape (wide unless you choose)", key="scene_size", name_key="size"
)
SWITCH_ALLOWED = Option(
    "allowed", "True: others may put it in their scenes. False: only you", key="scenes_allowed"
)


class CharacterSceneCommands(commands.Cog):
    """Scenes of several characters. Mix into the /character GroupCog."""

    @command("scene", "Two to four characters together in one picture", key="scene")
    @options(
        first=FIRST,
        second=SECOND,
        setting=SETTING,
        third=THIRD,
        fourth=FOURTH,
        style=STYLE,
        size=SCENE_SIZE,
        count=COUNT,
    )
    @app_commands.choices(style=STYLE_CHOICES, size=SIZE_CHOICES)
    async def scene(
        self,
        interaction: discord.Interaction,
        first: Autocompleted,
        second: Autocompleted,
        setting: app_commands.Range[str, 1, SETTING_LIMIT],
        third: Autocompleted | None = None,
        fourth: Autocompleted | None = None,
        style: str | None = None,
        size: str | None = None,
        count: Count = 1,
    ) -> None:
        await interaction.response.defer(thinking=True)
        # A bad pick raises; the tree's error handler answers privately.
        picked = [value for value in (first, second, third, fourth) if value]
        ids = [await resolve_character(interaction, value) for value in picked]
        request = SceneRequest(ids, setting, style=style, size=size, count=count)
        who = requester(interaction)
        scenes = services(interaction).scenes
        await start_job(interaction, lambda: scenes.request_scene(who, request))

    @command(
        "scenes",
        "Let others put one of your characters in their scenes, or not",
        key="scenes_switch",
    )
    @options(character=OWN_CHARACTER, allowed=SWITCH_ALLOWED)
    async def scenes_switch(
        self,
        interaction: discord.Interaction,
        character: Autocompleted,
        allowed: bool,
    ) -> None:
        await switch_own_character(
            interaction,
            character,
            services(interaction).scenes.set_scenes_allowed,
            allowed,
            on_key="scene.switch_on",
            off_key="scene.switch_off",
        )
