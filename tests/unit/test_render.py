"""Tests for the renderers and the font lookup they depend on."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageFont

from bot.images import fonts
from bot.images.convert import load_picture, make_thumbnail
from bot.images.fonts import ellipsize, get_font, has_cjk_font, text_width, wrap_text
from bot.images.render import (
    CARD_SIZE,
    CHART_SIZE,
    MAX_SHEET_BYTES,
    CardData,
    DayUsage,
    SheetItem,
    render_character_card,
    render_contact_sheet,
    render_usage_chart,
    sheet_size,
)
from bot.images.render.usage_chart import _money_formatter, _nice_ceil, nice_axis

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TOFU = "\U0010fffd"


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def picture(color: tuple[int, int, int], size: tuple[int, int] = (300, 400)) -> bytes:
    """A gallery thumbnail (WebP bytes) of a simple picture."""
    im = Image.new("RGB", size, color)
    im.paste((255, 255, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return make_thumbnail(out.getvalue())


def tile(color: tuple[int, int, int]) -> Image.Image:
    """A thumbnail decoded, as the thumbnail cache hands it to the contact sheet."""
    decoded = load_picture(picture(color))
    assert decoded is not None
    return decoded


@pytest.fixture
def fresh_fonts() -> Iterator[None]:
    """Re-run font discovery for tests that change the environment."""
    fonts.reset_font_cache()
    yield
    fonts.reset_font_cache()


def sheet(labels: list[str], **kwargs: object) -> Image.Image:
    items = [
        SheetItem(number=i + 1, label=label, stars=i, picture=tile((40 * i % 255, 80, 160)))
        for i, label in enumerate(labels)
    ]
    params: dict[str, object] = {"title": "Gallery", "subtitle": "Page 1/1", "empty_text": "-"}
    params.update(kwargs)
    return decode(render_contact_sheet(items, **params))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fonts


def test_cjk_font_is_installed_where_it_matters() -> None:
    """Every machine draws CJK: the package ships a CJK face (bot/images/fonts/), and CI and
    the Docker image add fonts-noto-cjk. Nothing here may skip."""
    assert has_cjk_font()
    font = get_font(32)
    assert isinstance(font, ImageFont.FreeTypeFont)
    # Real glyphs differ from each other and from the missing-glyph box.
    masks = {bytes(font.getmask(ch)) for ch in ("星", "野", "ア", "イ", TOFU)}
    assert len(masks) == 5


def test_font_override_from_environment(monkeypatch: pytest.MonkeyPatch, fresh_fonts: None) -> None:
    if not DEJAVU.is_file():
        pytest.skip("DejaVu Sans not installed")
    monkeypatch.setenv("BOT_FONT_PATH", str(DEJAVU))
    fonts.reset_font_cache()
    assert fonts.font_path() == DEJAVU
    assert not has_cjk_font()  # DejaVu has no kanji: reported honestly


def test_missing_override_falls_through(monkeypatch: pytest.MonkeyPatch, fresh_fonts: None) -> None:
    monkeypatch.setenv("BOT_FONT_PATH", "/nonexistent/font.ttf")
    fonts.reset_font_cache()
    assert fonts.font_path() != Path("/nonexistent/font.ttf")
    assert get_font(20) is not None


def test_ellipsize_measures_width() -> None:
    font = get_font(20)
    name = "星野アイ, the brightest idol of the Ichibanboshi stage"
    short = ellipsize(name, font, 150)
    assert short.endswith("…")
    assert text_width(font, short) <= 150
    assert ellipsize("Mira", font, 150) == "Mira"
    assert ellipsize("Mira", font, 1) == ""


def test_wrap_text_breaks_cjk_and_latin_and_marks_overflow() -> None:
    font = get_font(20)
    lines = wrap_text("one two three four five six seven eight nine ten", font, 120, 2)
    assert len(lines) == 2
    assert lines[-1].endswith("…")
    assert all(text_width(font, line) <= 120 for line in lines)
    cjk = wrap_text("星野アイは伝説のアイドルです" * 3, font, 100, 3)
    assert len(cjk) == 3
    assert all(text_width(font, line) <= 100 for line in cjk)
    assert wrap_text("", font, 100, 3) == []


# --------------------------------------------------------------------------- contact sheet


def test_contact_sheet_nine_tiles() -> None:
    labels = ["星野アイ", "小雪", "A" * 80, "Kaito", "Mira", "Sakura", "ルビー", "Theo", "Lin"]
    data_im = sheet(labels)
    assert data_im.format == "JPEG"
    assert data_im.size == sheet_size(3, 3)
    assert 900 <= data_im.width <= 1200


def test_contact_sheet_stays_under_size_budget() -> None:
    items = [SheetItem(i + 1, "name", 1, tile((i * 20, 100, 50))) for i in range(9)]
    data = render_contact_sheet(items, title="t", subtitle="s", empty_text="e")
    assert len(data) <= MAX_SHEET_BYTES


def test_contact_sheet_same_size_for_partial_and_overfull_pages() -> None:
    assert sheet(["a", "b"]).size == sheet_size(3, 3)
    assert sheet([str(i) for i in range(15)]).size == sheet_size(3, 3)
    assert sheet(["a"], columns=4, rows=2).size == sheet_size(4, 2)


def test_contact_sheet_empty_and_placeholders() -> None:
    empty = decode(
        render_contact_sheet([], title="Gallery", subtitle="0", empty_text="まだキャラがいません")
    )
    assert empty.size == sheet_size(empty=True)
    items = [
        SheetItem(1, "no picture", 0, None),
        SheetItem(2, "broken picture", 0, load_picture(b"\x89PNG\r\n\x1a\ntruncated")),
    ]
    im = decode(render_contact_sheet(items, title="", subtitle="", empty_text=""))
    assert im.size == sheet_size()


def _label_strip(im: Image.Image) -> Image.Image:
    """The first tile's name area (left part of the strip under the picture)."""
    x0 = 28
    tile_w = (im.width - 2 * 28 - 2 * 18) // 3
    y0 = 108 + tile_w
    return im.crop((x0, y0, x0 + tile_w - 80, y0 + 56)).convert("L")


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is not None


def test_cjk_names_render_as_glyphs_not_tofu(
    monkeypatch: pytest.MonkeyPatch, fresh_fonts: None
) -> None:
    assert has_cjk_font()  # the packaged face at least
    cjk = _label_strip(sheet(["星野アイ"]))
    tofu = _label_strip(sheet([TOFU * 4]))
    assert _differs(cjk, tofu), "CJK name was drawn as missing-glyph boxes"

    if not DEJAVU.is_file():
        return
    # Control: with a Latin-only font the same name *is* tofu, and looks different.
    monkeypatch.setenv("BOT_FONT_PATH", str(DEJAVU))
    fonts.reset_font_cache()
    latin_cjk = _label_strip(sheet(["星野アイ"]))
    latin_tofu = _label_strip(sheet([TOFU * 4]))
    assert not _differs(latin_cjk, latin_tofu)
    assert _differs(cjk, latin_cjk)


@pytest.mark.parametrize(
    ("typed", "drawn"),
    [
        ("🌸Sakura🌸", "Sakura"),  # emoji: no font we ship or look for draws them
        ("Zoë ⚔️ knight", "Zoë knight"),  # an emoji with its presentation selector
        ("👩\u200d👩\u200d👧 Mori", "Mori"),  # a family emoji: three, and two joiners
        ("𝕾𝖆𝖐𝖚𝖗𝖆", "Sakura"),  # styled letters: their plain compatibility form
        ("Layla عربي", "Layla"),  # a script the fonts lack (and Pillow could not shape)
    ],
)
def test_names_are_drawn_without_empty_boxes(
    typed: str, drawn: str, monkeypatch: pytest.MonkeyPatch, fresh_fonts: None
) -> None:
    """Members name characters with emoji and styled letters: a gallery page shows what
    its font can draw of the name, exactly as if that had been typed, and no box."""
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONT_DIRS, "")  # the packaged font, on any machine
    fonts.reset_font_cache()
    assert _label_strip(sheet([typed])).tobytes() == _label_strip(sheet([drawn])).tobytes()


def test_names_the_font_draws_are_drawn_as_typed(fresh_fonts: None) -> None:
    font = get_font(40, bold=True)
    for name in ("星野アイ", "Zoë", "Ａｙａ", "½ pint", "Rin & Ren", "小樱 (v2)"):
        assert fonts.drawable(name, font) == name


# --------------------------------------------------------------------------- character card


def test_character_card_full() -> None:
    card = CardData(
        name="星野アイ",
        portrait=picture((200, 100, 150), (768, 1152)),
        facts=[
            ("Age", "17"),
            ("Personality", "Cheerful on stage, secretive off it; " * 6),
            *[(f"Fact {i}", f"Value {i}") for i in range(20)],
        ],
        creator="Created by Aki",
        picture_count_text="12 pictures",
        favorites_text="★ 34",
        style_text="Anime · cel-shaded",
    )
    im = decode(render_character_card(card))
    assert im.format == "PNG"
    assert im.size == CARD_SIZE


def test_character_card_minimal_and_odd_inputs() -> None:
    for card in (
        CardData(
            name="",
            portrait=None,
            facts=[],
            creator="",
            picture_count_text="",
            favorites_text="",
            style_text="",
        ),
        CardData(
            name="X" * 300,
            portrait=b"garbage",
            facts=[("", ""), ("k", "")],
            creator="c" * 500,
            picture_count_text="p" * 200,
            favorites_text="f" * 200,
            style_text="s" * 300,
        ),
    ):
        assert decode(render_character_card(card)).size == CARD_SIZE


# --------------------------------------------------------------------------- usage chart


def chart(days: list[DayUsage], **extra: Any) -> Image.Image:
    data = render_usage_chart(
        days,
        title="Usage",
        y_label="Images",
        x_label="Date",
        secondary_label="Cost (USD)",
        empty_text="No data",
        **extra,
    )
    return decode(data)


def test_usage_chart_thirty_days() -> None:
    start = dt.date(2025, 1, 1)
    days = [DayUsage(start + dt.timedelta(days=i), i * 3 % 17, i * 0.04) for i in range(30)]
    im = chart(days)
    assert im.format == "PNG"
    assert im.size == CHART_SIZE


def test_usage_chart_empty_zero_gappy_and_odd() -> None:
    day = dt.date(2025, 3, 1)
    cases: list[list[DayUsage]] = [
        [],
        [DayUsage(day + dt.timedelta(days=i), 0, 0.0) for i in range(10)],
        [DayUsage(day, 5, 0.2)],
        [DayUsage(day, 5, 0.2), DayUsage(day + dt.timedelta(days=40), 1, 0.01)],
        [DayUsage(day, 5, math.nan), DayUsage(day, 3, 0.1), DayUsage(day, -2, -1.0)],
        [DayUsage(day + dt.timedelta(days=i), 10**6, 12345.678) for i in range(365)],
    ]
    for days in cases:
        assert chart(days).size == CHART_SIZE


def test_usage_chart_custom_formatters() -> None:
    days = [DayUsage(dt.date(2025, 5, 9), 3, 0.12)]
    im = chart(days, format_day=lambda d: f"{d.day}.{d.month}.", format_cost=lambda v: f"{v:.2f} $")
    assert im.size == CHART_SIZE


@pytest.mark.parametrize(
    ("max_value", "integer", "expected"),
    [
        (0, True, (1.0, 4)),
        (3, True, (1.0, 3)),
        (7, True, (2.0, 4)),
        (100, True, (25.0, 4)),
        (1234, True, (500.0, 3)),
        (0.37, False, (0.1, 4)),
        (5.0, False, (2.0, 3)),
    ],
)
def test_nice_axis(max_value: float, integer: bool, expected: tuple[float, int]) -> None:
    step, intervals = nice_axis(max_value, integer=integer)
    assert (step, intervals) == pytest.approx(expected)
    assert step * intervals >= max_value


@given(
    max_cost=st.floats(0.001, 5_000, allow_nan=False),
    max_images=st.integers(0, 2_000),
)
def test_the_cost_axis_labels_read_the_dollars_their_lines_stand_for(
    max_cost: float, max_images: int
) -> None:
    # The right axis as the chart draws it: its lines shared with the pictures axis.
    _, intervals = nice_axis(max_images, integer=True)
    step = _nice_ceil(max_cost / intervals, integer=False)
    label = _money_formatter(step)
    for i in range(intervals + 1):
        shown = float(label(step * i).removeprefix("$").replace(",", ""))
        assert shown == pytest.approx(step * i, rel=1e-9, abs=1e-12)
