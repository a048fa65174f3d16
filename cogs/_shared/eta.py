"""How long until a picture is ready, in words a member reads."""

from __future__ import annotations

from bot.i18n import Catalog

__all__ = ["eta_text"]


def eta_text(catalog: Catalog, locale: str, seconds: float | None) -> str:
    if seconds is None:
        return catalog.t(locale, "queue.eta_unknown")
    if seconds < 90:
        return catalog.t(locale, "queue.eta_seconds", seconds=max(5, round(seconds / 5) * 5))
    return catalog.t(locale, "queue.eta_minutes", minutes=round(seconds / 60))
