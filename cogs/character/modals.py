"""Modals: describing a character field by field, and asking what a variation changes."""

from __future__ import annotations

import dataclasses

import discord

from bot.jobs.submit import CreateRequest, VaryRequest
from cogs._shared.context import requester, services, tr
from cogs.character.submit import submit_and_track

__all__ = ["CreateModal", "VaryModal"]


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
        super().__init__(title=tr(interaction, "modal.create.title", name=request.name)[:45])
        self.request = request
        self.reference = reference
        self.appearance = _field(interaction, "appearance", max_length=600)
        self.outfit = _field(interaction, "outfit", max_length=600)
        self.personality = _field(interaction, "personality", max_length=400)
        self.details = _field(interaction, "details", max_length=600)
        for item in (self.appearance, self.outfit, self.personality, self.details):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        from cogs.character.uploads import submit_create

        await interaction.response.defer(thinking=True)
        request = dataclasses.replace(
            self.request,
            appearance=self.appearance.value,
            outfit=self.outfit.value,
            personality=self.personality.value,
            details=self.details.value,
        )
        await submit_create(interaction, request, self.reference)


class VaryModal(discord.ui.Modal):
    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        image_id: int,
        character_id: int,
        strength: str = "subtle",
    ) -> None:
        super().__init__(title=tr(interaction, "modal.vary.title")[:45])
        self.image_id = image_id
        self.character_id = character_id
        self.strength = strength
        self.change: discord.ui.TextInput[VaryModal] = discord.ui.TextInput(
            label=tr(interaction, "modal.vary.change")[:45],
            placeholder=tr(interaction, "modal.vary.change_hint")[:100],
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=600,
            custom_id="change",
        )
        self.add_item(self.change)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        request = VaryRequest(
            character_id=self.character_id,
            change=self.change.value,
            strength=self.strength,
            parent_image_id=self.image_id,
        )
        who = requester(interaction)
        await submit_and_track(interaction, lambda: services(interaction).submit.vary(who, request))
