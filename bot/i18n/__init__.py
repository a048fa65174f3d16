"""Message catalogs: every word a member reads comes from here.

Each locale is a folder (``en/``, ``ja/``, ``zh-CN/``, ``zh-TW/``) of flat JSON files, one per
feature, of ``key -> text`` with ``{placeholders}``; reviewers can read and diff them without
tooling. A key must be unique across a locale's files.

A message about a number of things has plural forms: its value is an object of CLDR plural
categories, ``{"one": "{count} picture", "other": "{count} pictures"}``, and the number in
its ``count`` placeholder chooses the form (``"by": "limit"`` names another placeholder).
English has ``one`` and ``other``; Japanese and Chinese have only ``other``, so their
catalogs keep plain strings. Rule, checked by ``tests/unit/test_structure.py``: in English, a
count placeholder (see :data:`COUNT_PLACEHOLDERS`) directly before a plural noun
("{count} pictures"), or a "(s)", needs plural forms. A message counting two things names
each through its own plural message (``count.pictures`` …) passed in as a value.

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
    "COUNT_PLACEHOLDERS",
    "DEFAULT_LOCALE",
    "LOCALES",
    "PLURAL_CATEGORIES",
    "Catalog",
    "Markdown",
    "escape_member_text",
    "format_number",
    "plural_category",
    "resolve_locale",
]

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
LOCALES = ("en", "ja", "zh-CN", "zh-TW")

# The CLDR plural categories each catalog uses (https://cldr.unicode.org, "Language Plural
# Rules"): a plural message in that catalog has exactly these forms.
PLURAL_CATEGORIES: dict[str, tuple[str, ...]] = {
    "en": ("one", "other"),
    "ja": ("other",),
    "zh-CN": ("other",),
    "zh-TW": ("other",),
}

# Placeholder names that carry a number of things; the catalog test holds English messages
# that put one of them before a plural noun to plural forms. A name ending in ``_count``
# counts too.
COUNT_PLACEHOLDERS = frozenset(
    {
        "count",
        "n",
        "total",
        "days",
        "max",
        "cap",
        "limit",
        "used",
        "left",
        "images",
        "pictures",
        "characters",
        "favorites",
        "files",
    }
)

Template = str | dict[str, str]
_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?")


def plural_category(locale: str, value: object) -> str:
    """The CLDR plural category of ``value`` in ``locale``'s catalog.

    A rule per catalog, copied from CLDR, rather than Babel: Babel carries every locale's
    CLDR data (about 30 MB installed) for what is one line for each of our catalogs.
    A new catalog adds its rule here and its categories to :data:`PLURAL_CATEGORIES`.
    ``value`` may be an ``int`` or the text a call site formatted (``format_number`` puts
    commas between thousands), as the number is shown as it is written.
    """
    match = _NUMBER.fullmatch(str(value).replace(",", "").strip())
    if match is None or isinstance(value, bool):
        return "other"
    integer, fraction = int(match[1]), match[2] or ""
    if resolve_locale(locale) == "en":
        # CLDR en: one → i = 1 and v = 0 ("1 picture", but "1.0 pictures").
        return "one" if integer == 1 and not fraction else "other"
    return "other"  # CLDR ja and zh: every number is "other".


_TRADITIONAL_CHINESE = frozenset({"zh-TW", "zh-HK", "zh-MO", "zh-Hant"})


def resolve_locale(*candidates: str | None) -> str:
    """The first catalog matching the candidates (member locale, then guild locale)."""
    for candidate in candidates:
        if not candidate:
            continue
        if candidate in LOCALES:
            return candidate
        language = candidate.split("-")[0]
        if language == "zh":
            # Traditional characters are read in Taiwan, Hong Kong and Macau; Simplified elsewhere.
            return "zh-TW" if candidate in _TRADITIONAL_CHINESE else "zh-CN"
        if language in ("en", "ja"):
            return language
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
    def __init__(self, messages: dict[str, dict[str, Template]]) -> None:
        self.messages = messages

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> Catalog:
        root = resources.files("bot.i18n")
        messages: dict[str, dict[str, Template]] = {}
        for locale in LOCALES:
            table: dict[str, Template] = {}
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
        return Markdown(self._template(locale, key, values).format_map(_SafeValues(escaped)))

    def plain(self, locale: str, key: str, /, **values: Any) -> str:
        """The text for ``key`` filled in as it is: for labels, autocomplete, modal titles,
        footers and drawn pictures, which Discord (or Pillow) shows without markdown."""
        return self._template(locale, key, values).format_map(_SafeValues(values))

    def command_text(self, locale: str, key: str) -> str | None:
        """A command's localised name or description, if ``locale``'s catalog has one.
        Discord takes one text per command, so a plural message is never one."""
        template = self.messages[locale].get(key)
        return template if isinstance(template, str) else None

    def _template(self, locale: str, key: str, values: dict[str, Any]) -> str:
        catalog = resolve_locale(locale)
        table = self.messages.get(catalog, self.messages[DEFAULT_LOCALE])
        template = table.get(key)
        if not template:
            catalog, template = DEFAULT_LOCALE, self.messages[DEFAULT_LOCALE].get(key)
        if template is None:
            log.error("Missing catalog key %r", key)
            # The apology in the member's own language, as the rest of their answers are.
            generic = table.get("error.generic") or self.messages[DEFAULT_LOCALE].get(
                "error.generic"
            )
            return str(generic or key)
        if isinstance(template, str):
            return template
        return self._form(catalog, key, template, values)

    @staticmethod
    def _form(locale: str, key: str, forms: dict[str, str], values: dict[str, Any]) -> str:
        selector = forms.get("by", "count")
        if selector not in values:
            # A wrong form reads better than no message; the log points at the call site.
            log.error("Catalog key %r needs the number %r to choose its form", key, selector)
            return forms["other"]
        return forms.get(plural_category(locale, values[selector]), forms["other"])

    def forms(self, locale: str, key: str) -> dict[str, str]:
        """The texts of ``key``, by plural category (``other`` alone for a plain message)."""
        template = self.messages[locale].get(key, "")
        if isinstance(template, str):
            return {"other": template}
        return {name: text for name, text in template.items() if name != "by"}

    def placeholders(self, locale: str, key: str) -> set[str]:
        return {
            name
            for template in self.forms(locale, key).values()
            for _, name, _, _ in Formatter().parse(template)
            if name
        }
