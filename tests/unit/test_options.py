"""One declaration per option gives Discord both its name and its description, localised."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import Catalog
from bot.i18n.translator import CatalogTranslator
from cogs._shared.options import Option, options

OWN = Option("character", "One of your characters", key="character", name_key="manage_character")


async def test_an_option_is_named_and_described_from_its_catalog_keys() -> None:
    @app_commands.command(name="probe", description="probe")
    @options(character=OWN)
    async def probe(interaction: discord.Interaction, character: str) -> None: ...

    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    translator = CatalogTranslator(Catalog.load())
    await tree.set_translator(translator)
    payload = await probe.get_translated_payload(tree, translator)
    (option,) = payload["options"]
    assert option["name"] == "character"
    assert option["description"] == "One of your characters"
    catalog = Catalog.load()
    assert option["name_localizations"]["zh-CN"] == catalog.t("zh-CN", "opt.manage_character.name")
    assert option["description_localizations"]["zh-CN"] == catalog.t(
        "zh-CN", "opt.character.description"
    )
