"""Modals: describing a character field by field, and asking what a variation changes."""

from __future__ import annotations

import dataclasses

import discord

from bot.images.prompts import CHANGE_LIMIT
from bot.jobs.queue import Submitted
from bot.jobs.submit import CreateRequest, VaryRequest
from cogs._shared.context import requester, services, tr, tr_plain
from cogs._shared.reply import reply
from cogs.character.submit import submit_and_track

__all__ = ["CreateModal", "VaryModal", "submit_vary"]


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
            title=tr_plain(interaction, "modal.create.title", name=request.name)[:45],
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
    """What a variation of a posted picture changes; empty means a fresh take."""

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        image_id: int,
        character_id: int,
        strength: str = "subtle",
    ) -> None:
        strength = "strong" if strength == "strong" else "subtle"
        # Not persistent: if the member walks away, forget the modal after the token's life.
        super().__init__(
            title=tr(interaction, f"modal.vary_{strength}.title", id=image_id)[:45],
            timeout=15 * 60,
        )
        self.image_id = image_id
        self.character_id = character_id
        self.strength = strength
        self.change: discord.ui.TextInput[VaryModal] = discord.ui.TextInput(
            placeholder=tr(interaction, "modal.vary.change_hint")[:100],
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=CHANGE_LIMIT,
            custom_id="change",
        )
        self.add_item(
            discord.ui.Label(text=tr(interaction, "modal.vary.change")[:45], component=self.change)
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        request = VaryRequest(
            character_id=self.character_id,
            change=self.change.value,
            strength=self.strength,
            parent_image_id=self.image_id,
        )
        await submit_vary(interaction, request)


async def submit_vary(interaction: discord.Interaction, request: VaryRequest) -> None:
    """Submit a variation (after the interaction was deferred) and show where it stands.

    When the character was someone else's, the member is told privately that the pictures
    go to their own copy of it.
    """
    who = requester(interaction)
    submitted: list[Submitted] = []

    async def submit() -> Submitted:
        result = await services(interaction).submit.vary(who, request)
        submitted.append(result)
        return result

    await submit_and_track(interaction, submit)
    if not submitted or submitted[0].job.character_id == request.character_id:
        return
    fork = await services(interaction).storage.characters.get(submitted[0].job.character_id or 0)
    if fork is not None:
        await reply(
            interaction,
            content=tr(interaction, "vary.forked", name=fork.name, id=fork.id),
            ephemeral=True,
        )
