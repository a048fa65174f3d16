"""Every catalog, in every language, fits the Discord surfaces its texts are shown on.

The synced commands are also checked end to end (tests/e2e/test_localisation.py); this test
covers the texts only a click would show (button labels, modal titles, select placeholders,
choice names), so a long Japanese label fails here rather than as a 400 in front of a member.
"""

from __future__ import annotations

import re
from string import Formatter

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import LOCALES, Catalog, Markdown, resolve_locale
from bot.images.prompts import NAME_LIMIT
from bot.scenes import SETTING_LIMIT

# Discord's command and option name rule (discord-facts: Application commands). Python's
# ``\w`` is \p{L}, \p{N}, marks and "_", which covers kana, kanji, the long-vowel mark ー
# and Devanagari/Thai vowel signs.
COMMAND_NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")

# (what Discord shows it as, the catalog keys shown there, the most characters Discord takes)
SURFACES: list[tuple[str, re.Pattern[str], int]] = [
    ("command description", re.compile(r"^(cmd|opt)\..*\.description$"), 100),
    (
        "button label",
        re.compile(r"^(button\.|.*\.button[._]|.*_button$|gallery\.button\.|card\.button\.)"),
        80,
    ),
    ("modal title", re.compile(r"^(modal\..*\.title|scene\.modal\.title|creator\.\w+_title)$"), 45),
    (
        "modal field label",
        re.compile(
            r"^(modal\.create\.(appearance|outfit|personality|details)|modal\.vary\.change"
            r"|scene\.modal\.change|creator\.\w+_label)$"
        ),
        45,
    ),
    (
        "modal field placeholder",
        re.compile(r"^(modal\..*_hint|scene\.modal\.change_hint|creator\.\w+_hint)$"),
        100,
    ),
    ("select placeholder", re.compile(r"^gallery\.select\."), 150),
    (
        "choice name",
        re.compile(
            r"^(style\.|size\.|background\.|strength\.|gallery\.choice\.|usage\.choice_"
            r"|config\.choice_|scene\.config\.choice_|status\.choice_)"
        ),
        100,
    ),
]


def _without_placeholders(text: str) -> str:
    """The fixed part of a template: what a member sees besides the values filled in."""
    return "".join(literal for literal, *_ in Formatter().parse(text))


@pytest.mark.parametrize("locale", LOCALES)
def test_synced_names_follow_discords_name_rule(locale: str) -> None:
    catalog = Catalog.load()
    for key, text in catalog.messages[locale].items():
        if key.startswith(("cmd.", "opt.")) and key.endswith(".name"):
            assert isinstance(text, str) and COMMAND_NAME.match(text), (locale, key, text)
            assert text == text.lower(), (locale, key, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_fits_the_surface_it_is_shown_on(locale: str) -> None:
    catalog = Catalog.load()
    checked = 0
    for surface, keys, limit in SURFACES:
        for key in catalog.messages["en"]:
            if not keys.match(key):
                continue
            for form in catalog.forms(locale, key).values():
                assert 1 <= len(_without_placeholders(form)) <= limit, (locale, surface, key, form)
                checked += 1
    assert checked > 100  # the patterns still find the keys they are meant to


@pytest.mark.parametrize("locale", LOCALES)
def test_localised_option_names_are_unique_within_each_command(locale: str) -> None:
    """Discord refuses a command whose localised option names repeat; options of one command
    are declared side by side, so the check is per catalog key family."""
    catalog = Catalog.load()
    families = {
        "create": ["name", "description", "style", "size", "count", "reference", "background"],
        "vary": ["character", "change", "strength", "style", "size", "count"],
        "gallery": ["gallery_member", "gallery_character", "gallery_sort", "gallery_scope"],
        "scene": [
            "scene_first",
            "scene_second",
            "scene_third",
            "scene_fourth",
            "scene_setting",
            "style",
            "size",
            "count",
        ],
    }
    for command, options in families.items():
        names = [catalog.plain(locale, f"opt.{option}.name") for option in options]
        assert len(set(names)) == len(names), (locale, command, names)


# -- which catalog a member reads ----------------------------------------------------------

# The catalog for each language Discord reports (discord-facts: Localization), where we have one.
_OURS = {"ja": "ja", "zh-CN": "zh-CN", "zh-TW": "zh-TW", "en-US": "en", "en-GB": "en"}


def _expected(*candidates: str | None) -> str:
    return next((_OURS[c] for c in candidates if c in _OURS), "en")


@given(
    member=st.sampled_from([str(locale) for locale in discord.Locale]),
    guild=st.one_of(st.none(), st.sampled_from([str(locale) for locale in discord.Locale])),
)
def test_the_member_language_wins_then_the_servers_then_english(
    member: str, guild: str | None
) -> None:
    """Any pair of Discord locales: the member's client language if we have a catalog for
    it, else the server's preferred locale, else English."""
    assert resolve_locale(member, guild) == _expected(member, guild)


def test_traditional_chinese_regions_read_the_taiwan_catalog() -> None:
    assert resolve_locale("zh-HK") == resolve_locale("zh-TW") == "zh-TW"
    assert resolve_locale("zh") == resolve_locale("zh-SG") == "zh-CN"
    assert resolve_locale("ja") == "ja"


# -- every message, filled with the longest values it is given, fits a message ------------

# The longest text each placeholder is given: members' text (escaped when filled in, so up
# to twice as long) at the limit the bot cuts it to where the value is made.
_MEMBER_TEXT = {
    "name": NAME_LIMIT,
    "names": 10 * (NAME_LIMIT + 3),  # up to ten forks in a lineage line
    "choices": 5 * (NAME_LIMIT + 12),  # five "• name #id ★" lines
    "setting": SETTING_LIMIT,
    "creator": 40,  # a display name, cut in cogs/_shared/scene_message.py
    "server": 100,  # a server name
    "target": 32,
    "models": 200,
    "zone": 40,
}
# The bot's own text placed into another message: another message (a failure's reason with
# its refund line), lists of its own words and mentions; everything else is a short word,
# number, mention or time.
_OWN_TEXT = {"reason": 700, "kinds": 150, "channels": 250, "permissions": 120}
_SHORT = 40
_NASTY = "*_\\[]~|`>#- a銀🦊\u200b\u202e"
_ALL_KEYS = sorted(Catalog.load().messages["en"])
_LONGEST = max(_MEMBER_TEXT.values())


@given(
    key=st.sampled_from(_ALL_KEYS),
    locale=st.sampled_from(LOCALES),
    count=st.integers(0, 10**9),
    member=st.one_of(
        st.just("*" * _LONGEST),  # every character escaped: the longest it gets
        st.text(alphabet=_NASTY, min_size=_LONGEST, max_size=_LONGEST),
    ),
)
def test_every_message_filled_to_the_limits_fits_discords_2000(
    key: str, locale: str, count: int, member: str
) -> None:
    """A message's longest form in every language, with members' text at its longest (and
    most escaped), fits Discord's 2,000 characters of content, and leaves no placeholder
    unfilled."""
    catalog = Catalog.load()
    values: dict[str, object] = {}
    for name in catalog.placeholders(locale, key):
        if name in _MEMBER_TEXT:
            values[name] = member[: _MEMBER_TEXT[name]]
        else:
            values[name] = Markdown("x" * _OWN_TEXT.get(name, _SHORT))
    selector = catalog.messages["en"][key]
    if isinstance(selector, dict):
        values[selector.get("by", "count")] = count
    text = catalog.t(locale, key, **values)
    assert len(text) <= 2000, (locale, key, len(text))
    assert not any(name for _, name, _, _ in Formatter().parse(text) if name), text
