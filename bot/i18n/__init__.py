"""Message catalogs: every word a member reads comes from here.

Each locale is a folder (``en/``, ``zh-CN/``) of flat JSON files, one per feature, of
``key -> text`` with ``{placeholders}``; reviewers can read and diff them without tooling.
A key must be unique across a locale's files.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from string import Formatter
from typing import Any

__all__ = ["DEFAULT_LOCALE", "LOCALES", "Catalog", "format_number", "resolve_locale"]

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
LOCALES = ("en", "zh-CN")


def resolve_locale(*candidates: str | None) -> str:
    """The first catalog matching the candidates (member locale, then guild locale)."""
    for candidate in candidates:
        if not candidate:
            continue
        if candidate in LOCALES:
            return candidate
        language = candidate.split("-")[0]
        if language == "zh" and candidate in ("zh-CN", "zh-SG", "zh"):
            return "zh-CN"
        if language == "en":
            return "en"
    return DEFAULT_LOCALE


def format_number(value: float, locale: str, digits: int = 0) -> str:
    # Both catalogs group thousands with commas; the function is the one place to change that.
    return f"{value:,.{digits}f}"


class _SafeValues(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalog:
    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self.messages = messages

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> Catalog:
        root = resources.files("bot.i18n")
        messages: dict[str, dict[str, str]] = {}
        for locale in LOCALES:
            table: dict[str, str] = {}
            files = sorted((root / locale).iterdir(), key=lambda entry: entry.name)
            for entry in files:
                if not entry.name.endswith(".json"):
                    continue
                part = json.loads(entry.read_text("utf-8"))
                clash = set(part) & set(table)
                if clash:
                    raise ValueError(f"{locale}/{entry.name} repeats keys {sorted(clash)}")
                table.update(part)
            messages[locale] = table
        return cls(messages)

    def t(self, locale: str, key: str, /, **values: Any) -> str:
        """The text for ``key`` in ``locale`` (falling back to English), filled in."""
        table = self.messages.get(resolve_locale(locale), self.messages[DEFAULT_LOCALE])
        template = table.get(key) or self.messages[DEFAULT_LOCALE].get(key)
        if template is None:
            log.error("Missing catalog key %r", key)
            template = self.messages[DEFAULT_LOCALE].get("error.generic", key)
        return template.format_map(_SafeValues(values))

    def placeholders(self, locale: str, key: str) -> set[str]:
        template = self.messages[locale].get(key, "")
        return {name for _, name, _, _ in Formatter().parse(template) if name}
