"""What the admin cards share: a long list in one field keeps whole lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cogs.admin.embeds import whole_lines

# Lines like a list of channel mentions, some marked deleted.
LINES = st.lists(st.text(alphabet="<#0123456789> (deleted)", min_size=1, max_size=40), max_size=60)


def more(hidden: int) -> str:
    return f"…and {hidden} more."


@given(lines=LINES, limit=st.integers(20, 1024))
def test_a_long_list_keeps_whole_lines_and_says_how_many_it_left_out(
    lines: list[str], limit: int
) -> None:
    """Allowed channels past what a field holds: the field shows the first ones whole, and
    how many more there are, rather than a mention cut in two."""
    text = whole_lines(lines, limit, more)
    assert len(text) <= limit
    whole = "\n".join(lines)
    if len(whole) <= limit:
        assert text == whole
        return
    *kept, last = text.split("\n")
    assert kept == lines[: len(kept)]
    assert last == more(len(lines) - len(kept))
