"""Make the pictures of the README's "What it looks like" section.

Every picture is drawn by the bot's own code, so the README shows what a server gets:
the renderers in ``bot/images/render`` (gallery contact sheet, character card, usage
chart), with captions from the bot's English message catalog, fed with sample data and
with pictures from the test fake of OpenAI (``tests/fakes/openai``), which is what the
bot posts in the tests instead of a real drawing.

Run it from the repository root after changing a renderer, and commit the result::

    .venv/bin/python scripts/readme_images.py            # writes docs/images/*.webp

The files are lossy WebP, small enough to keep in git (under 1 MB together; a test
checks the budget and that the script still runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
# The fake OpenAI lives in tests/, which is not an installed package.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Draw with the font the package ships, as a plain pip install does, so the pictures come
# out the same whichever fonts this machine has (bot/images/fonts.py reads this lazily).
os.environ.setdefault("BOT_SYSTEM_FONT_DIRS", "")

from bot.i18n import Catalog, format_number  # noqa: E402
from bot.images import render  # noqa: E402
from bot.images.convert import load_picture, make_thumbnail  # noqa: E402
from tests.fakes.openai.images import render_picture  # noqa: E402

OUTPUT_DIR = ROOT / "docs" / "images"
BUDGET_BYTES = 1_000_000
LOCALE = "en"
SERVER = "Anime Club"
# Names as members type them: Latin, Japanese and Chinese, so the pictures also show
# that CJK names render.
CHARACTERS = ("Aiko", "星野アイ", "Kaito", "小樱", "Mira", "小雪", "Ren", "Yuki", "Hana")
# The fake prints the start of its prompt in Pillow's Latin-only default font, so its
# prompts use romanized names (the bot's own text, drawn by the renderers, is not affected).
ROMANIZED = {"星野アイ": "Hoshino Ai", "小樱": "Xiao Ying", "小雪": "Xiao Xue"}
_WEBP_QUALITY = 82


def fake_picture(name: str, index: int = 0) -> bytes:
    """A 1024x1536 PNG exactly as the fake OpenAI draws it for this character."""
    prompt = f"Anime character illustration of {ROMANIZED.get(name, name)}"
    out = io.BytesIO()
    render_picture(prompt, index, 1024, 1536, transparent=False).save(out, "PNG")
    return out.getvalue()


def result_picture() -> bytes:
    """What a finished /character create posts: the model's picture, shown smaller here."""
    return fake_picture(CHARACTERS[0])


def gallery_sheet(catalog: Catalog) -> bytes:
    """Page 1 of a server's gallery, as /gallery shows it."""
    t = catalog.plain
    items = [
        render.SheetItem(
            number=i + 1,
            label=name,
            stars=(7 * i + 3) % 11,
            picture=load_picture(make_thumbnail(fake_picture(name, i))),
        )
        for i, name in enumerate(CHARACTERS)
    ]
    total = 42
    return render.render_contact_sheet(
        items,
        title=t(LOCALE, "gallery.title.server", server=SERVER),
        subtitle=t(
            LOCALE,
            "gallery.subtitle",
            page=1,
            pages=5,
            total=format_number(total, LOCALE),
            order=t(LOCALE, "gallery.sort.newest"),
        ),
        columns=3,
        rows=3,
        empty_text=t(LOCALE, "gallery.empty"),
    )


def character_card(catalog: Catalog) -> bytes:
    """/character show for a character with a Chinese name."""
    t = catalog.plain
    facts = {
        "appearance": "long pink hair, green eyes, cherry-blossom hairpin",
        "outfit": "white sailor uniform with a red ribbon",
        "personality": "cheerful, stubborn, secretly afraid of thunder",
    }
    return render.render_character_card(
        render.CardData(
            name="小樱",
            portrait=fake_picture("小樱"),
            facts=[(t(LOCALE, f"card.fact.{key}"), value) for key, value in facts.items()],
            creator=t(LOCALE, "card.creator", name="alice"),
            picture_count_text=t(LOCALE, "count.pictures", count=format_number(12, LOCALE)),
            favorites_text=t(LOCALE, "card.favorites", count=format_number(31, LOCALE)),
            style_text=t(LOCALE, "style.watercolor"),
        )
    )


def usage_chart(catalog: Catalog) -> bytes:
    """/usage for the last two weeks, with prices configured."""
    t = catalog.plain
    last = dt.date(2026, 11, 27)
    counts = (12, 18, 9, 25, 31, 22, 40, 37, 15, 11, 28, 34, 46, 39)
    days = [
        render.DayUsage(last - dt.timedelta(days=len(counts) - 1 - i), n, round(n * 0.042, 2))
        for i, n in enumerate(counts)
    ]
    return render.render_usage_chart(
        days,
        title=t(LOCALE, "usage.chart_title", days=len(days)),
        y_label=t(LOCALE, "usage.chart_images"),
        x_label=t(LOCALE, "usage.chart_days", zone="UTC"),
        secondary_label=t(LOCALE, "usage.chart_cost"),
        empty_text=t(LOCALE, "usage.chart_empty"),
    )


# name -> (how to draw it, widest side kept in the README file)
PICTURES: dict[str, tuple[Callable[[Catalog], bytes], int]] = {
    "result": (lambda _catalog: result_picture(), 512),
    "gallery": (gallery_sheet, 1000),
    "card": (character_card, 1200),
    "usage": (usage_chart, 1200),
}


def to_webp(png: bytes, max_side: int) -> bytes:
    """Shrink to ``max_side`` (never enlarge) and encode as lossy WebP."""
    with Image.open(io.BytesIO(png)) as image:
        picture = image.convert("RGB")
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=_WEBP_QUALITY, method=6)
    return out.getvalue()


def write_all(output_dir: Path = OUTPUT_DIR) -> dict[Path, int]:
    """Render every picture into ``output_dir``; returns each file's size in bytes."""
    catalog = Catalog.load()
    output_dir.mkdir(parents=True, exist_ok=True)
    sizes: dict[Path, int] = {}
    for name, (draw, max_side) in PICTURES.items():
        path = output_dir / f"{name}.webp"
        path.write_bytes(to_webp(draw(catalog), max_side))
        sizes[path] = path.stat().st_size
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    sizes = write_all(args.output_dir)
    for path, size in sizes.items():
        print(f"{path} {size / 1000:.0f} kB")
    total = sum(sizes.values())
    print(f"total {total / 1000:.0f} kB (budget {BUDGET_BYTES / 1000:.0f} kB)")
    return 0 if total <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
