"""A private "are you sure?" with two buttons, for deletions."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from cogs._shared.components import component_error
from cogs._shared.context import tr

__all__ = ["ConfirmView", "ask_before_deleting"]


async def ask_before_deleting(
    interaction: discord.Interaction,
    question: str,
    *,
    keys: str,
    on_confirm: Callable[[discord.Interaction], Awaitable[None]],
) -> None:
    """Ask privately; the button and the answers are ``<keys>.button.delete``,
    ``<keys>.delete_cancelled`` and ``<keys>.delete_expired`` in the member's language."""
    view = ConfirmView(
        interaction,
        confirm_label=tr(interaction, f"{keys}.button.delete"),
        cancel_label=tr(interaction, "manage.button.cancel"),
        cancelled_text=tr(interaction, f"{keys}.delete_cancelled"),
        expired_text=tr(interaction, f"{keys}.delete_expired"),
        on_confirm=on_confirm,
    )
    await interaction.response.send_message(question, view=view, ephemeral=True)


class ConfirmView(discord.ui.View):
    """Confirm or cancel; only the member who asked may press. Expires after a while."""

    def __init__(
        self,
        origin: discord.Interaction,
        *,
        confirm_label: str,
        cancel_label: str,
        cancelled_text: str,
        expired_text: str,
        on_confirm: Callable[[discord.Interaction], Awaitable[None]],
        timeout: float = 120,
    ) -> None:
        super().__init__(timeout=timeout)
        self.origin = origin
        self.cancelled_text = cancelled_text
        self.expired_text = expired_text
        self.on_confirm = on_confirm
        confirm: discord.ui.Button[Any] = discord.ui.Button(
            label=confirm_label[:80], style=discord.ButtonStyle.danger
        )
        cancel: discord.ui.Button[Any] = discord.ui.Button(
            label=cancel_label[:80], style=discord.ButtonStyle.secondary
        )
        confirm.callback = self._confirm  # type: ignore[method-assign]
        cancel.callback = self._cancel  # type: ignore[method-assign]
        self.add_item(confirm)
        self.add_item(cancel)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.origin.user.id

    async def _confirm(self, interaction: discord.Interaction) -> None:
        self.stop()
        try:
            await self.on_confirm(interaction)
        except Exception as error:
            await component_error(interaction, error)

    async def _cancel(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(content=self.cancelled_text, view=None)

    async def on_timeout(self) -> None:
        with contextlib.suppress(discord.HTTPException):
            await self.origin.edit_original_response(content=self.expired_text, view=None)
