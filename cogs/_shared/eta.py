"""How long until a picture is ready, in words a member reads."""

from __future__ import annotations

import discord

from bot.i18n import Catalog
from cogs._shared.context import locale_of, services

__all__ = ["eta_for", "eta_text"]


def eta_text(catalog: Catalog, locale: str, seconds: float | None) -> str:
    if seconds is None:
        return catalog.t(locale, "queue.eta_unknown")
    if seconds < 90:
        return catalog.t(locale, "queue.eta_seconds", seconds=max(5, round(seconds / 5) * 5))
    return catalog.t(locale, "queue.eta_minutes", minutes=round(seconds / 60))


def eta_for(interaction: discord.Interaction, seconds: float | None) -> str:
    """The estimate in the language of the member who asked."""
    return eta_text(services(interaction).catalog, locale_of(interaction), seconds)
