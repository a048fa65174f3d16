"""Localised command names and descriptions for Discord clients, from the catalogs.

Commands declare English text with ``locale_str(text, key="cmd....")``; this translator
looks the key up in each non-English catalog. No key or no entry means Discord shows English.
"""

from __future__ import annotations

from discord import Locale, app_commands

from bot.i18n import Catalog

__all__ = ["CatalogTranslator"]

_DISCORD_TO_CATALOG = {
    Locale.japanese: "ja",
    Locale.chinese: "zh-CN",
    Locale.taiwan_chinese: "zh-TW",
}


class CatalogTranslator(app_commands.Translator):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        catalog_locale = _DISCORD_TO_CATALOG.get(locale)
        key = string.extras.get("key")
        if catalog_locale is None or not key:
            return None
        return self._catalog.command_text(catalog_locale, key)
