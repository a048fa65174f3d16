"""Members' text in the bot's messages and ids: invariants over arbitrary Unicode."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserInputError
from bot.i18n import Catalog, Markdown, escape_member_text
from bot.ids import id_in, parse_id
from bot.images.prompts import DIRECTION_CONTROLS, clean_text
from bot.logging_setup import RedactingFilter
from tests.e2e.helpers import unescaped_markdown

MARKDOWNISH = st.sampled_from([*list("*_~|`>#-[]()\\ \n"), "](", "https", "://", "²", "①"])
TEXT = st.lists(st.one_of(st.text(max_size=8), MARKDOWNISH), max_size=30).map("".join)


@given(TEXT)
def test_escaped_member_text_renders_literally(text: str) -> None:
    escaped = escape_member_text(text)
    assert unescaped_markdown(escaped) == []
    if "://" not in text:  # bare URLs are left as they are, everything else reads back
        assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == text


@given(TEXT)
def test_catalog_escapes_member_values_and_keeps_its_own(text: str) -> None:
    catalog = Catalog.load()
    drawn = catalog.t("en", "progress.drawing", name=text, count=2)
    assert drawn == catalog.plain("en", "progress.drawing", name=escape_member_text(text), count=2)
    mention = Markdown("<@12>")
    assert catalog.t("en", "delivery.late", user=mention).count("<@12>") == 1


@given(st.text(max_size=30))
def test_ids_are_understood_or_refused_never_crash(text: str) -> None:
    found = id_in(text)
    if found is None:
        with pytest.raises(UserInputError):
            parse_id(text, "error.character_pick")
    else:
        assert 0 <= found < 10**18 and parse_id(text, "error.character_pick") == found


@pytest.mark.parametrize("text", ["²", "①", "#³", "1²", "٣", "１２", "#" * 3, "9" * 19])
def test_digits_that_are_not_ascii_are_not_ids(text: str) -> None:
    assert id_in(text) is None


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=8))
def test_interaction_tokens_are_scrubbed_wherever_they_appear(token: str) -> None:
    token = "T0k-" + re.sub(r"[\s/'\"?]", "x", token)
    scrub = RedactingFilter([])._scrub
    for line in (
        f"PATCH https://discord.com/api/v10/webhooks/123/{token}/messages/@original",
        f"POST /api/v10/interactions/456/{token}/callback",
        f"WebSocket Event: {{'d': {{'token': '{token}', 'id': '1'}}}}",
        f'{{"interaction_token": "{token}"}}',
    ):
        assert token not in scrub(line), line


# Right-to-left letters, spaces, and every direction embedding, override and isolate.
DIRECTION = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
DIRECTED = st.text(alphabet=st.sampled_from([*"ab אב ١ ", *DIRECTION, "\u200f"]))


@given(DIRECTED)
def test_member_text_keeps_no_direction_control_that_would_reorder_the_bots_lines(
    text: str,
) -> None:
    """A name with U+202E would show the rest of every line it is in reversed (a scene's
    "created by", a list): the controls go, and the rest of what was typed stays."""
    cleaned = clean_text(text, 200)
    assert not DIRECTION_CONTROLS.search(cleaned)
    assert cleaned == clean_text(DIRECTION_CONTROLS.sub("", text), 200)
    assert clean_text("Aiko\u202e (by Bob)", 40) == "Aiko (by Bob)"
