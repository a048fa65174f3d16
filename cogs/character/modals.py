"""The form that describes a new character field by field."""

from __future__ import annotations

import dataclasses

import discord

from bot.jobs.submit import CreateRequest
from cogs._shared.context import tr, tr_plain
from cogs.character.uploads import start_create

__all__ = ["CreateModal"]


def _field(
    interaction: discord.Interaction, name: str, *, max_length: int
) -> discord.ui.TextInput[discord.ui.Modal]:
    return discord.ui.TextInput(
        custom_id=name,
        label=tr(interaction, f"modal.create.{name}")[:45],
        placeholder=tr(interaction, f"modal.create.{name}_hint")[:100],
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=max_length,
    )


class CreateModal(discord.ui.Modal):
    """The first-class path for members who prefer filling in fields to one long option."""

    def __init__(
        self,
        interaction: discord.Interaction,
        request: CreateRequest,
        reference: discord.Attachment | None,
    ) -> None:
        # Not persistent: a dismissed modal is forgotten after the token's life, not kept in
        # memory for the life of the process (discord.py's Modal timeout defaults to None).
        super().__init__(
            title=tr_plain(interaction, "modal.create.title", name=request.sheet.name)[:45],
            timeout=15 * 60,
        )
        self.request = request
        self.reference = reference
        self.appearance = _field(interaction, "appearance", max_length=600)
        self.outfit = _field(interaction, "outfit", max_length=600)
        self.personality = _field(interaction, "personality", max_length=400)
        self.details = _field(interaction, "details", max_length=600)
        for item in (self.appearance, self.outfit, self.personality, self.details):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        sheet = dataclasses.replace(
            self.request.sheet,
            appearance=self.appearance.value,
            outfit=self.outfit.value,
            personality=self.personality.value,
            details=self.details.value,
        )
        request = dataclasses.replace(self.request, sheet=sheet)
        await start_create(interaction, request, self.reference)
