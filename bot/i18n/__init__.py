"""Message catalogs: every word a member reads comes from here.

Each locale is a folder (``en/``, ``zh-CN/``) of flat JSON files, one per feature, of
``key -> text`` with ``{placeholders}``; reviewers can read and diff them without tooling.
A key must be unique across a locale's files.

Messages are Discord markdown, and members' text (names, descriptions, changes, display
names) goes into them as placeholder values. :meth:`Catalog.t` escapes every plain ``str``
value, so a character called ``[Claim Nitro](https://…)`` shows as those characters and not
as a link; values the bot wrote itself (other catalog messages, mentions, bold around
escaped names) are :class:`Markdown` and go in as they are. Surfaces Discord shows without
markdown (button and option labels, autocomplete, modal titles, footers, drawn pictures)
use :meth:`Catalog.plain`, so no backslash ever shows.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from importlib import resources
from string import Formatter
from typing import Any

from discord.utils import escape_markdown as _escape_markdown

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "Catalog",
    "Markdown",
    "escape_member_text",
    "format_number",
    "resolve_locale",
]

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


class Markdown(str):
    """Text the bot wrote itself, safe to place into a message as it is."""


_BRACKETS = re.compile(r"([\[\]])")
_LINE_START = re.compile(r"^((?:[ \t]|\\[ \t])*)([#>\-])", re.MULTILINE)


def escape_member_text(text: str) -> Markdown:
    """``text`` made literal in Discord markdown: no bold, links, headings or spoilers.

    ``discord.utils.escape_markdown`` escapes a masked link ``[a](b)`` only by its first
    bracket and leaves the markdown inside it alone, so every bracket is escaped here and
    the rest is escaped piece by piece. Bare URLs stay clickable, as Discord shows them
    anyway. Mentions are not pings: every message is sent with allowed mentions off.
    """
    parts = _BRACKETS.split(text)
    escaped = "".join(
        "\\" + part if part in ("[", "]") else _escape_markdown(part) for part in parts
    )
    # escape_markdown misses a heading, quote or list marker after leading spaces.
    return Markdown(_LINE_START.sub(r"\1\\\2", escaped))


def _as_markdown(value: Any) -> Any:
    return escape_member_text(value) if type(value) is str else value


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

    def t(self, locale: str, key: str, /, **values: Any) -> Markdown:
        """The message for ``key`` in ``locale`` (falling back to English), filled in, with
        plain ``str`` values escaped: for message content and embed titles and texts."""
        escaped = {name: _as_markdown(value) for name, value in values.items()}
        return Markdown(self._template(locale, key).format_map(_SafeValues(escaped)))

    def plain(self, locale: str, key: str, /, **values: Any) -> str:
        """The text for ``key`` filled in as it is: for labels, autocomplete, modal titles,
        footers and drawn pictures, which Discord (or Pillow) shows without markdown."""
        return self._template(locale, key).format_map(_SafeValues(values))

    def _template(self, locale: str, key: str) -> str:
        table = self.messages.get(resolve_locale(locale), self.messages[DEFAULT_LOCALE])
        template = table.get(key) or self.messages[DEFAULT_LOCALE].get(key)
        if template is None:
            log.error("Missing catalog key %r", key)
            template = self.messages[DEFAULT_LOCALE].get("error.generic", key)
        return template

    def placeholders(self, locale: str, key: str) -> set[str]:
        template = self.messages[locale].get(key, "")
        return {name for _, name, _, _ in Formatter().parse(template) if name}
