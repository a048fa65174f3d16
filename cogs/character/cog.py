"""/character: create and vary characters. Parses options, calls bot services, renders."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.errors import UserInputError
from bot.ids import parse_id
from bot.images.prompts import CHANGE_LIMIT, CharacterSheet
from bot.jobs.submit import CreateRequest, VaryRequest
from cogs._shared.autocomplete import answers_while_storage_fails
from cogs._shared.characters import OWN_CHARACTER, resolve_character, usable_characters
from cogs._shared.choices import COUNT, SIZE_CHOICES, STYLE, STYLE_CHOICES, Count, localised_choices
from cogs._shared.context import locale_of, requester, services, tr
from cogs._shared.options import Autocompleted, Option, command, options
from cogs._shared.permissions import require_picture_permissions
from cogs._shared.start_job import start_job
from cogs._shared.variation import start_vary
from cogs.character.manage import CharacterManageCommands
from cogs.character.modals import CreateModal
from cogs.character.scene import CharacterSceneCommands
from cogs.character.uploads import check_declared, start_create

__all__ = ["CharacterCog"]

BACKGROUND_CHOICES = localised_choices(
    "background.{value}", {"normal": "Normal", "transparent": "Transparent (sticker cutout)"}
)
STRENGTH_CHOICES = localised_choices(
    "strength.{value}",
    {"subtle": "Subtle: keep it close", "strong": "Strong: new pose or scene"},
)


# This file's slash-command options, each declared once (cogs/_shared/options.py).
BACKGROUND = Option("background", "Normal, or a transparent sticker cutout", key="background")
CHANGE = Option("change", "What changes, e.g. waving, summer festival yukata", key="change")
DESCRIPTION = Option(
    "description",
    "Looks, outfit, personality (any language). Leave empty to fill in a form",
    key="description",
)
NAME = Option("name", "Your character's name", key="name")
PICTURE = Option("picture", "One of the character's pictures (its number, e.g. #12)", key="picture")
REFERENCE = Option("reference", "A picture to take inspiration from", key="reference")
SIZE = Option("size", "Picture shape", key="size")
STRENGTH = Option("strength", "How far the picture may move", key="strength")
VARY_CHARACTER = Option(
    "character",
    "Your character, or one shared here (you vary your own copy)",
    key="vary_character",
    name_key="character",
    autocomplete=usable_characters,
)


@app_commands.guild_only()
class CharacterCog(
    CharacterManageCommands,
    CharacterSceneCommands,
    commands.GroupCog,
    group_name=_("character", key="cmd.character.name"),
    group_description=_("Create and vary your anime characters", key="cmd.character.description"),
):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @command("create", "Turn a few words into an anime character", key="create")
    @options(
        name=NAME,
        description=DESCRIPTION,
        style=STYLE,
        size=SIZE,
        count=COUNT,
        reference=REFERENCE,
        background=BACKGROUND,
    )
    @app_commands.choices(style=STYLE_CHOICES, size=SIZE_CHOICES, background=BACKGROUND_CHOICES)
    async def create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 64],
        description: app_commands.Range[str, 1, 1000] | None = None,
        style: str | None = None,
        size: str | None = None,
        count: Count = 1,
        reference: discord.Attachment | None = None,
        background: str = "normal",
    ) -> None:
        request = CreateRequest(
            CharacterSheet(name, appearance=description or ""),
            style=style,
            size=size,
            count=count,
            transparent=background == "transparent",
        )
        if description is None:
            # What would be refused after the form is refused before it, so nothing typed
            # is lost to it: both checks are free (no database, no download).
            require_picture_permissions(interaction)
            if reference is not None:
                check_declared(reference)
            # A modal must be the first response; the reference is read only after submit.
            # The form fills in the looks (appearance, outfit, ...) of this same request.
            await interaction.response.send_modal(CreateModal(interaction, request, reference))
            return
        await interaction.response.defer(thinking=True)
        await start_create(interaction, request, reference)

    @command("vary", "The same character in a new pose, outfit or scene", key="vary")
    @options(character=VARY_CHARACTER, change=CHANGE, strength=STRENGTH, count=COUNT, size=SIZE)
    @app_commands.choices(strength=STRENGTH_CHOICES, size=SIZE_CHOICES)
    async def vary(
        self,
        interaction: discord.Interaction,
        character: Autocompleted,
        change: app_commands.Range[str, 0, CHANGE_LIMIT] = "",
        strength: str = "subtle",
        count: Count = 1,
        size: str | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        # A bad pick raises; the tree's error handler answers privately.
        character_id = await resolve_character(interaction, character)
        request = VaryRequest(
            character_id=character_id, change=change, strength=strength, count=count, size=size
        )
        await start_vary(interaction, request)

    @command(
        "sheet", "A reference sheet: front, side and back, plus three expressions", key="sheet"
    )
    @options(character=VARY_CHARACTER)
    async def sheet(self, interaction: discord.Interaction, character: Autocompleted) -> None:
        await interaction.response.defer(thinking=True)
        character_id = await resolve_character(interaction, character)
        who = requester(interaction)
        creator = services(interaction).creator
        await start_job(
            interaction, lambda: creator.request_sheet(who, character_id), character_id=character_id
        )

    @command("main", "Choose the picture your character's variations start from", key="main")
    @options(character=OWN_CHARACTER, picture=PICTURE)
    async def main(
        self,
        interaction: discord.Interaction,
        character: Autocompleted,
        picture: Autocompleted,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        character_id = await resolve_character(interaction, character, own_only=True)
        image_id = parse_id(picture, "error.picture_pick")
        updated = await services(interaction).requests.set_main(
            requester(interaction), character_id, image_id
        )
        await interaction.edit_original_response(
            content=tr(interaction, "main.done", id=image_id, name=updated.name)
        )

    @main.autocomplete("picture")
    @answers_while_storage_fails
    async def picture_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        svc = services(interaction)
        try:
            character_id = await resolve_character(
                interaction, str(interaction.namespace.character or ""), own_only=True
            )
        except UserInputError:
            return []
        found = await svc.characters.main_picture_choices(
            interaction.guild_id or 0, interaction.user.id, character_id, current
        )
        if found is None:
            return []
        locale = locale_of(interaction)
        choices = []
        for image in found.pictures:
            key = (
                "autocomplete.picture_main"
                if image.id == found.character.canonical_image_id
                else "autocomplete.picture"
            )
            label = svc.catalog.t(locale, key, id=image.id, favorites=image.favorite_count)
            choices.append(app_commands.Choice(name=label[:100], value=str(image.id)))
        return choices[:25]
