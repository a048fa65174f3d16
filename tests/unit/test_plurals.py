"""Plural forms: the CLDR rule per catalog, and every plural message in every catalog."""

from __future__ import annotations

import logging
import re
from string import Formatter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import LOCALES, PLURAL_CATEGORIES, Catalog, format_number, plural_category

CATALOG = Catalog.load()
PLURAL_KEYS = sorted(k for k, v in CATALOG.messages["en"].items() if not isinstance(v, str))
counts = st.integers(min_value=0, max_value=10**9)


def filled(locale: str, key: str, number: int) -> dict[str, object]:
    """Values for every placeholder of ``key``, with ``number`` as its count (named by the
    English message: a Chinese one has no forms, so no ``by``)."""
    template = CATALOG.messages["en"][key]
    selector = template.get("by", "count") if isinstance(template, dict) else "count"
    values: dict[str, object] = {name: f"<{name}>" for name in CATALOG.placeholders(locale, key)}
    values[selector] = number
    return values


def test_there_are_plural_messages() -> None:
    assert {"progress.drawing", "count.pictures", "gallery.subtitle"} <= set(PLURAL_KEYS)


@given(counts)
def test_english_is_one_for_exactly_one_and_chinese_never(number: int) -> None:
    assert plural_category("en", number) == ("one" if number == 1 else "other")
    assert plural_category("zh-CN", number) == "other"
    # A count formatted for display ("1,000") chooses the form its number would.
    for locale in LOCALES:
        shown = format_number(number, locale)
        assert plural_category(locale, shown) == plural_category(locale, number)
        assert plural_category(locale, number) in PLURAL_CATEGORIES[locale]


def test_decimals_and_non_numbers_are_other() -> None:
    assert plural_category("en", "1.0") == "other"  # CLDR: v = 1, so not "one"
    assert plural_category("en", "1") == "one"
    assert plural_category("en", True) == "other"
    assert plural_category("en", "lots") == "other"


@given(st.lists(st.tuples(st.sampled_from(PLURAL_KEYS), counts), min_size=1, max_size=30))
def test_every_plural_message_reads_right_for_any_count(
    messages: list[tuple[str, int]],
) -> None:
    for key, number in messages:
        for locale in LOCALES:
            text = CATALOG.plain(locale, key, **filled(locale, key, number))
            form = CATALOG.forms(locale, key)["one" if number == 1 and locale == "en" else "other"]
            assert text == form.format_map(filled(locale, key, number))
            assert str(number) in text and "(s)" not in text
            assert not any(name for _, name, _, _ in Formatter().parse(text) if name), text
            if locale == "en" and number == 1:
                # The counted noun agrees ("1 picture", "1 day"); other plurals in the
                # sentence ("Favorited pictures are always kept") are not counted.
                assert not re.search(r"\b1 (pictures|days|images|jobs)\b", text), text


def test_member_text_in_a_plural_message_is_still_escaped() -> None:
    drawn = CATALOG.t("en", "progress.drawing", name="**Aiko**", count=1)
    assert drawn == "🎨 Drawing **\\*\\*Aiko\\*\\***… (1 picture)"
    assert CATALOG.plain("en", "progress.drawing", name="**Aiko**", count=3).endswith(
        "(3 pictures)"
    )


def test_a_missing_count_falls_back_to_other_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert CATALOG.plain("en", "count.pictures") == "{count} pictures"
    assert "count.pictures" in caplog.text
