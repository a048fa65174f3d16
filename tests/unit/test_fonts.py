"""The font lookup: system CJK fonts first, then the one the package ships (issue 21, item 3),
and the face with the reader's glyph shapes when one is installed (issue 24)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import ImageFont

from bot.images import fonts
from bot.images.render._common import Canvas

TOFU = "\U0010fffd"  # no font maps it: it is drawn as the font's missing-glyph box
NAMES = "小樱星野アイ"
PACKAGED_BUDGET = 6_000_000  # bytes; the README states the install-size cost


@pytest.fixture(autouse=True)
def fresh_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test chooses the font again, with no operator override."""
    monkeypatch.delenv(fonts.ENV_FONT_PATH, raising=False)
    monkeypatch.delenv(fonts.ENV_BOLD_FONT_PATH, raising=False)
    fonts.reset_font_cache()
    yield
    fonts.reset_font_cache()


def packaged_fonts() -> list[Path]:
    return [p for p in fonts.BUNDLED_FONT_DIR.iterdir() if p.suffix in {".otf", ".ttf", ".ttc"}]


def test_packaged_font_draws_chinese_and_japanese_without_system_fonts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONT_DIRS, "")  # a fresh machine: no system fonts
    assert fonts.check_fonts()
    path = fonts.font_path()
    assert path is not None and path.parent == fonts.BUNDLED_FONT_DIR
    font = fonts.get_font(54, bold=True)  # the card's name size; bold is faked
    assert isinstance(font, ImageFont.FreeTypeFont)
    box = bytes(font.getmask(TOFU))
    glyphs = [bytes(font.getmask(char)) for char in NAMES]
    assert box not in glyphs
    assert len(set(glyphs)) == len(NAMES)  # six different glyphs, not one box six times
    assert not fonts.has_bold_face()


def test_a_system_cjk_font_is_preferred_to_the_packaged_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = tmp_path / "fonts"
    wqy = system / "truetype" / "wqy" / "wqy-microhei.ttc"
    wqy.parent.mkdir(parents=True)
    wqy.symlink_to(packaged_fonts()[0])  # any CJK-capable file will do for the lookup
    monkeypatch.setenv(
        fonts.ENV_SYSTEM_FONT_DIRS, os.pathsep.join([str(tmp_path / "gone"), str(system)])
    )
    assert fonts.font_path() == wqy
    assert fonts.has_cjk_font()


def test_a_latin_only_system_font_does_not_beat_the_packaged_cjk_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Where the lookup expects DejaVu Sans, a Latin-only face: Pillow's own built-in one,
    # so the test needs no system font.
    latin = tmp_path / "truetype" / "dejavu" / "DejaVuSans.ttf"
    latin.parent.mkdir(parents=True)
    builtin = ImageFont.load_default(size=12)
    assert isinstance(builtin, ImageFont.FreeTypeFont)
    latin.write_bytes(builtin.font_bytes)
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONT_DIRS, str(tmp_path))
    path = fonts.font_path()
    assert path is not None and path.parent == fonts.BUNDLED_FONT_DIR


def test_no_cjk_font_at_all_is_one_clear_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONT_DIRS, "")
    monkeypatch.setattr(fonts, "BUNDLED_FONT_DIR", tmp_path)  # as if the file were removed
    with caplog.at_level(logging.INFO, logger=fonts.__name__):
        assert not fonts.check_fonts()
        assert not fonts.check_fonts()  # asked again: chosen once, warned once
        fonts.get_font(20)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "Chinese or Japanese" in warnings[0] and "empty boxes" in warnings[0]
    assert "fonts-noto-cjk" in warnings[0]  # says what to do about it


def test_packaged_font_keeps_its_licence_and_size_budget() -> None:
    packaged = packaged_fonts()
    assert packaged, "the package must ship a CJK-capable font"
    licence = (fonts.BUNDLED_FONT_DIR / "OFL.txt").read_text("utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert sum(p.stat().st_size for p in packaged) < PACKAGED_BUDGET


# Double-byte code ranges of the character sets the packaged subset promises (see
# scripts/subset_cjk_font.py): GB 2312 hanzi, JIS X 0208 kanji and kana, Big5 level 1.
_PROMISED = st.one_of(
    st.tuples(st.just("gb2312"), st.integers(0xB0, 0xF7), st.integers(0xA1, 0xFE)),
    st.tuples(st.just("euc_jp"), st.integers(0xA4, 0xA5), st.integers(0xA1, 0xF6)),
    st.tuples(st.just("euc_jp"), st.integers(0xB0, 0xF4), st.integers(0xA1, 0xFE)),
    st.tuples(st.just("big5"), st.integers(0xA4, 0xC5), st.integers(0xA1, 0xFE)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PROMISED, min_size=1, max_size=8))
def test_every_promised_character_has_a_real_glyph_in_the_packaged_font(
    codes: list[tuple[str, int, int]],
) -> None:
    names = []
    for codec, lead, trail in codes:
        try:
            names.append(bytes((lead, trail)).decode(codec))
        except UnicodeDecodeError:
            continue  # a hole in the code table, not a character
    assume(names)
    font = ImageFont.truetype(str(packaged_fonts()[0]), 24)
    box = bytes(font.getmask(TOFU))
    for char in names:
        assert bytes(font.getmask(char)) != box, f"{char} (U+{ord(char):04X}) is drawn as a box"


# -- glyph shapes per reader (issue 24) -----------------------------------------------------

# Face order inside Debian's NotoSansCJK-Regular.ttc (and -Bold.ttc): the lookup must find a
# region's face by its name, so the fake collection below names its faces the same way.
NOTO_REGIONS = ("JP", "KR", "SC", "TC", "HK")


class NamedFace(ImageFont.FreeTypeFont):
    """The packaged font under another family name: a stand-in for one face of a system
    collection (the glyphs are real, so the CJK check still passes)."""

    def __init__(self, path: str, size: int, family: str) -> None:
        super().__init__(path, size)
        self.family = family

    def getname(self) -> tuple[str, str]:
        return self.family, "Regular"


def install_fake_system_fonts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, families: dict[str, tuple[str, ...]]
) -> Path:
    """System fonts at ``relative path -> family of each face``, all drawing with the packaged
    font's glyphs; returns the system font folder."""
    system = tmp_path / "fonts"
    named: dict[Path, tuple[str, ...]] = {}
    for relative, faces in families.items():
        path = system / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(packaged_fonts()[0])
        named[path] = faces
    real_load = fonts._load

    def load(path: Path, size: int, index: int) -> ImageFont.FreeTypeFont | None:
        if path not in named:
            return real_load(path, size, index)
        faces = named[path]
        return NamedFace(str(path), size, faces[index]) if index < len(faces) else None

    monkeypatch.setattr(fonts, "_load", load)
    monkeypatch.setenv(fonts.ENV_SYSTEM_FONT_DIRS, str(system))
    return system


def install_noto_collection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A system Noto Sans CJK collection with a face per region, as fonts-noto-cjk ships."""
    collection = tuple(f"Noto Sans CJK {region}" for region in NOTO_REGIONS)
    install_fake_system_fonts(
        monkeypatch, tmp_path, {"opentype/noto/NotoSansCJK-Regular.ttc": collection}
    )


def family(locale: str | None, *, bold: bool = False) -> str:
    font = fonts.get_font(30, bold=bold, locale=locale)
    assert isinstance(font, ImageFont.FreeTypeFont)
    return str(font.getname()[0])


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ja", "Noto Sans CJK JP"),
        ("zh-TW", "Noto Sans CJK TC"),
        ("zh-HK", "Noto Sans CJK TC"),  # Hong Kong reads the zh-TW catalog, in Traditional
        ("zh-CN", "Noto Sans CJK SC"),
        ("en-US", "Noto Sans CJK JP"),  # no regional shapes: the collection's first face
        ("ko", "Noto Sans CJK JP"),  # no catalog: English, as before
        (None, "Noto Sans CJK JP"),
    ],
)
def test_each_reader_gets_the_face_of_their_languages_glyph_shapes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, locale: str | None, expected: str
) -> None:
    collection = tuple(f"Noto Sans CJK {region}" for region in NOTO_REGIONS)
    install_fake_system_fonts(
        monkeypatch,
        tmp_path,
        {
            "opentype/noto/NotoSansCJK-Regular.ttc": collection,
            "opentype/noto/NotoSansCJK-Bold.ttc": collection,
        },
    )
    assert family(locale) == expected
    assert family(locale, bold=True) == expected  # the bold file's face of the same region
    assert fonts.has_cjk_font(locale) and fonts.has_bold_face(locale)


def test_a_japanese_reader_gets_the_packaged_jp_face_before_a_chinese_system_font(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """WenQuanYi draws kanji with Chinese shapes: for a Japanese reader the packaged subset
    (the Noto Sans CJK JP face) wins; everyone else keeps the system font, as before."""
    install_fake_system_fonts(
        monkeypatch,
        tmp_path,
        {"truetype/wqy/wqy-microhei.ttc": ("WenQuanYi Micro Hei", "WenQuanYi Micro Hei Mono")},
    )
    packaged = ImageFont.truetype(str(packaged_fonts()[0]), 20).getname()[0]
    assert packaged == "Noto Sans CJK JP"
    assert family("ja") == packaged
    assert fonts.font_path(locale="ja") == packaged_fonts()[0]
    for reader in ("zh-TW", "zh-CN", "en-US"):
        assert family(reader) == "WenQuanYi Micro Hei", reader  # no TC/SC face: as today


def test_the_operators_font_wins_for_every_reader(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install_noto_collection(monkeypatch, tmp_path)
    monkeypatch.setenv(fonts.ENV_FONT_PATH, str(packaged_fonts()[0]))
    for reader in ("ja", "zh-TW", "zh-CN", "en-US"):
        assert fonts.font_path(locale=reader) == packaged_fonts()[0], reader


KANA = st.characters(min_codepoint=0x3041, max_codepoint=0x30FA)
NO_KANA = st.characters(
    blacklist_characters=[chr(c) for c in range(0x3040, 0x3100)],
    blacklist_categories=["Cs"],
).filter(lambda c: not (0x31F0 <= ord(c) <= 0x31FF or 0xFF66 <= ord(c) <= 0xFF9F))


@settings(max_examples=200)
@given(
    before=st.text(NO_KANA, max_size=6),
    kana=KANA,
    after=st.text(max_size=6),
    reader=st.sampled_from(["zh-CN", "zh-TW", "en-US", "ja", None]),
)
def test_text_with_kana_is_drawn_with_japanese_shapes_for_every_reader(
    before: str, kana: str, after: str, reader: str | None
) -> None:
    assert fonts.locale_for_text(before + kana + after, reader) == "ja"
    assert fonts.locale_for_text(before, reader) == reader  # no kana: the reader's own


def test_a_japanese_name_keeps_its_shapes_in_a_chinese_readers_picture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install_noto_collection(monkeypatch, tmp_path)
    canvas = Canvas(200, 100, locale="zh-CN")

    def face(text: str) -> str:
        font = canvas.font(20, text=text)
        assert isinstance(font, ImageFont.FreeTypeFont)
        return str(font.getname()[0])

    assert face("星野アイ") == "Noto Sans CJK JP"  # katakana: a Japanese name
    assert face("小樱") == "Noto Sans CJK SC"  # the reader's own shapes
    assert face("Aiko") == "Noto Sans CJK SC"
