"""Varying a picture: the modal that asks what changes, and starting the variation.

Shared because two extensions start variations: /character vary and the Vary buttons under
every posted picture.
"""

from __future__ import annotations

from typing import TypeVar

import discord

from bot.images.prompts import CHANGE_LIMIT
from bot.jobs.submit import VaryRequest
from cogs._shared.context import requester, services, tr
from cogs._shared.start_job import start_job

__all__ = ["VaryModal", "add_change_field", "start_vary"]


ModalT = TypeVar("ModalT", bound=discord.ui.Modal)


def add_change_field(
    modal: ModalT, interaction: discord.Interaction, *, label_key: str, hint_key: str
) -> discord.ui.TextInput[ModalT]:
    """The optional "what changes" box of a vary form (a picture's or a scene's), added to it."""
    change: discord.ui.TextInput[ModalT] = discord.ui.TextInput(
        placeholder=tr(interaction, hint_key)[:100],
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=CHANGE_LIMIT,
        custom_id="change",
    )
    modal.add_item(discord.ui.Label(text=tr(interaction, label_key)[:45], component=change))
    return change


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
        self.change = add_change_field(
            self, interaction, label_key="modal.vary.change", hint_key="modal.vary.change_hint"
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        request = VaryRequest(
            character_id=self.character_id,
            change=self.change.value,
            strength=self.strength,
            parent_image_id=self.image_id,
        )
        await start_vary(interaction, request)


async def start_vary(interaction: discord.Interaction, request: VaryRequest) -> None:
    """Ask for a variation (after the interaction was deferred); the queue's observer shows
    where it stands. Another member's character is varied in the member's own copy, and
    they are told so privately."""
    who = requester(interaction)
    await start_job(
        interaction,
        lambda: services(interaction).requests.request_vary(who, request),
        character_id=request.character_id,
        forked_key="vary.forked",
    )
