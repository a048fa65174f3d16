"""Chinese and Japanese names on a machine without CJK system fonts (issue 21, item 3).

The README's own install (``pip install -e .``) on a fresh machine has no CJK font in
the system. The bot is started with every system font folder hidden
(``BOT_SYSTEM_FONT_DIRS`` pointed at an empty folder), so only what the package itself
ships can draw the name; the card a member opens must show real glyphs, not two
missing-glyph boxes.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.e2e.conftest import StartBot
from tests.e2e.helpers import finished
from tests.fakes.discord.models import Guild

NAME = "小樱"
# The card's text colour is near white; nothing else in the text column is that bright
# except the name and the fact values below it.
_INK = 200


def name_line(card: Image.Image) -> Image.Image:
    """The first line of bright text in the card's text column (the name), cropped to its ink."""
    width, height = card.size
    column = card.convert("L").crop((width * 2 // 5, 0, width, height))
    rows = [ink(column.crop((0, y, column.width, y + 1))) for y in range(column.height)]
    top = next(y for y, count in enumerate(rows) if count)
    bottom = next(y for y in range(top, column.height) if not rows[y])
    line = column.crop((0, top, column.width, bottom))
    columns = [ink(line.crop((x, 0, x + 1, line.height))) for x in range(line.width)]
    left = next(x for x, count in enumerate(columns) if count)
    right = max(x for x, count in enumerate(columns) if count)
    return line.crop((left, 0, right + 1, line.height))


def ink(image: Image.Image) -> int:
    """How many pixels are (nearly) the text colour."""
    return sum(image.convert("L").histogram()[_INK + 1 : 256])


async def test_card_draws_a_chinese_name_with_no_system_cjk_font(
    start_bot: StartBot, guild: Guild, tmp_path: Path
) -> None:
    no_system_fonts = tmp_path / "no-system-fonts"
    no_system_fonts.mkdir()
    bot = await start_bot(bot_system_font_dirs=str(no_system_fonts))
    # One line at start says which font draws text; no warning about boxes.
    line = await bot.wait_for_log(r"Drawing text with ")
    assert "bot/images/fonts/NotoSansCJK" in line  # the font the package ships
    assert "No font that can draw Chinese or Japanese" not in bot.output

    alice = guild.add_member("alice")
    created = await alice.slash("character create", name=NAME, description="pink hair, green eyes")
    await created.wait_original(finished, timeout=20)
    (choice,) = await alice.autocomplete("character show", focused="character", value=NAME)
    shown = await alice.slash("character show", character=str(choice["value"]))
    message = await shown.wait_original(lambda m: bool(m.attachments), timeout=15)
    card = Image.open(io.BytesIO(message.attachments[0].data))

    name = name_line(card)
    first = name.crop((0, 0, name.width // 2, name.height))
    second = name.crop((name.width // 2, 0, name.width, name.height))
    # Two missing-glyph boxes are the same box twice: equal ink, same picture. 小 has three
    # strokes and 樱 fifteen, so real glyphs differ plainly in how much ink they use.
    assert ink(first) > 50, "no name drawn at all"
    assert ink(second) > 1.5 * ink(first), (ink(first), ink(second))
