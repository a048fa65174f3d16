"""Find a font that can draw both Latin and CJK text, plus text-fitting helpers.

Character names are often Japanese or Chinese ("星野アイ", "小雪"). Pillow has no font
fallback: a Latin-only font draws every CJK character as an empty box ("tofu"), so the
renderers must be given one font that covers both scripts.

Lookup order (first usable font wins):

1. ``BOT_FONT_PATH`` (and optionally ``BOT_FONT_BOLD_PATH``): an operator override.
   It is used even if it lacks CJK glyphs, because the operator asked for it.
2. System CJK fonts, under the system font folders (``/usr/share/fonts`` and
   ``/usr/local/share/fonts``, or the ``os.pathsep``-separated list in
   ``BOT_SYSTEM_FONT_DIRS``; an empty value hides them all, which is how the tests play
   a fresh machine): Noto Sans CJK (Debian/Ubuntu ``fonts-noto-cjk``, plus the Fedora
   and Arch locations), WenQuanYi Micro Hei (``fonts-wqy-microhei``) and Zen Hei
   (``fonts-wqy-zenhei``). They come first because they are complete and have a real
   bold face. A candidate only counts if it really has CJK glyphs.
3. Fonts packaged in ``bot/images/fonts/`` (``*.ttf``, ``*.otf``, ``*.ttc``, ``*.otc``;
   a file whose name contains "bold" is used for bold text). The package ships a
   subset of Noto Sans CJK JP (SIL OFL 1.1, about 5 MB, made by
   ``scripts/subset_cjk_font.py``), so a plain ``pip install`` draws Chinese and
   Japanese names on a machine with no CJK font at all.
4. DejaVu Sans (Latin only), then ``ImageFont.load_default(size)``.

Glyph shapes per language: Japanese, Simplified and Traditional Chinese write many of the
same characters differently (骨, 直, 角...). Every lookup takes the reader's locale; for
``ja``, ``zh-CN`` and ``zh-TW`` the face of the reader's region (Noto Sans CJK JP, SC, TC:
found by family name inside a collection) is preferred wherever it is installed, and the
packaged subset, which is the JP face, counts as one for ``ja``. Without such a face the
order above applies unchanged, so a reader never gets tofu for the sake of shapes.

The packaged subset has one weight, for which the renderers fake bold
(:func:`has_bold_face`). :func:`check_fonts` runs once at start and logs one warning
when no font can draw CJK names.

Fonts are cached and shared between threads. That is safe on the regular (GIL) build of
CPython, where Pillow holds the GIL while it touches a FreeType face.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from PIL import ImageFont

from bot.i18n import resolve_locale
from bot.images.text_fit import (
    ELLIPSIS,
    FontLike,
    ellipsize,
    line_height,
    text_width,
    wrap_text,
)

__all__ = [
    "BUNDLED_FONT_DIR",
    "ELLIPSIS",
    "FontLike",
    "check_fonts",
    "drawable",
    "ellipsize",
    "font_path",
    "get_font",
    "has_bold_face",
    "has_cjk_font",
    "line_height",
    "region_of",
    "reset_font_cache",
    "text_width",
    "wrap_text",
]

logger = logging.getLogger(__name__)


BUNDLED_FONT_DIR: Final = Path(__file__).resolve().parent / "fonts"

ENV_FONT_PATH: Final = "BOT_FONT_PATH"
ENV_BOLD_FONT_PATH: Final = "BOT_FONT_BOLD_PATH"
ENV_SYSTEM_FONT_DIRS: Final = "BOT_SYSTEM_FONT_DIRS"
DEFAULT_SYSTEM_FONT_DIRS: Final = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

_FONT_SUFFIXES: Final = frozenset({".ttf", ".otf", ".ttc", ".otc"})

# Characters that must not come out as tofu: kanji, hiragana, katakana.
_CJK_PROBE: Final = "星野アイ小雪の"
# A code point no font maps, so it renders as the .notdef glyph ("tofu").
_MISSING_PROBE: Final = "\U0010fffd"


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One font file (and face index inside a collection) for regular and bold."""

    regular: Path
    bold: Path | None = None
    index: int = 0
    override: bool = False


# Paths relative to a system font folder. Face 0 of the Noto Sans CJK collections is the
# Japanese variant, which suits an anime bot; it still covers Chinese and Korean.
_SYSTEM_CJK: Final[tuple[tuple[str, str | None], ...]] = (
    ("opentype/noto/NotoSansCJK-Regular.ttc", "opentype/noto/NotoSansCJK-Bold.ttc"),
    ("google-noto-cjk/NotoSansCJK-Regular.ttc", "google-noto-cjk/NotoSansCJK-Bold.ttc"),
    ("noto-cjk/NotoSansCJK-Regular.ttc", "noto-cjk/NotoSansCJK-Bold.ttc"),
    ("truetype/wqy/wqy-microhei.ttc", None),
    ("truetype/wqy/wqy-zenhei.ttc", None),
)
# Latin only: the last resort before Pillow's built-in font, after the packaged CJK font.
_SYSTEM_LATIN: Final[tuple[tuple[str, str | None], ...]] = (
    ("truetype/dejavu/DejaVuSans.ttf", "truetype/dejavu/DejaVuSans-Bold.ttf"),
)


def _system_font_dirs() -> list[Path]:
    """Folders searched for system fonts (``BOT_SYSTEM_FONT_DIRS`` overrides them)."""
    raw = os.environ.get(ENV_SYSTEM_FONT_DIRS)
    if raw is None:
        return list(DEFAULT_SYSTEM_FONT_DIRS)
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def _system_candidates(names: tuple[tuple[str, str | None], ...]) -> list[_Candidate]:
    """``names`` under every system font folder, in folder order."""
    return [
        _Candidate(root / regular, root / bold if bold else None)
        for root in _system_font_dirs()
        for regular, bold in names
    ]


def _env_candidate() -> _Candidate | None:
    """The operator's override from the environment, if set."""
    regular = os.environ.get(ENV_FONT_PATH, "").strip()
    if not regular:
        return None
    bold = os.environ.get(ENV_BOLD_FONT_PATH, "").strip()
    return _Candidate(Path(regular), Path(bold) if bold else None, override=True)


def _bundled_candidates(directory: Path) -> list[_Candidate]:
    """Fonts shipped in the package directory, regular and bold paired up."""
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in _FONT_SUFFIXES)
    bolds = [p for p in files if "bold" in p.stem.lower()]
    regulars = [p for p in files if p not in bolds]
    if not regulars and bolds:
        regulars = bolds[:1]
    return [_Candidate(r, bolds[0] if bolds else None) for r in regulars]


def _load(path: Path, size: int, index: int) -> ImageFont.FreeTypeFont | None:
    """Open a font file, or None if it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        return ImageFont.truetype(str(path), size, index=index)
    except (OSError, ValueError):
        return None


def _covers(font: FontLike, text: str) -> bool:
    """Whether every character of ``text`` has a real glyph (not .notdef) in ``font``."""
    if not isinstance(font, ImageFont.FreeTypeFont):
        return False
    return all(_has_glyph(font, char) for char in text)


@lru_cache(maxsize=8192)
def _has_glyph(font: ImageFont.FreeTypeFont, char: str) -> bool:
    """Whether ``font`` draws ``char`` with ink of its own (a space or a joiner has none).

    Pillow exposes no character map, so we compare the glyph's bitmap with the bitmap of
    a code point that no font maps. Cached: fonts are (see :func:`get_font`), and a name
    drawn on every gallery page asks about the same few characters each time.
    """
    missing = font.getmask(_MISSING_PROBE)
    mask = font.getmask(char)
    if mask.size[0] == 0 or mask.size[1] == 0:
        return False
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


def _invisible(char: str) -> bool:
    """A format character (a zero-width joiner, a direction mark) or a variation selector:
    they only steer how their neighbours are drawn, which Pillow's basic layout does not do."""
    code = ord(char)
    selector = 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
    return selector or unicodedata.category(char) == "Cf"


def drawable(text: str, font: FontLike) -> str:
    """``text`` as ``font`` can draw it: a character it has no glyph for is replaced by its
    compatibility form when the font draws that (a styled 𝕭𝖔𝖑𝖉 letter becomes B), and
    dropped otherwise (emoji, scripts no bundled font covers), rather than drawn as an
    empty box; spaces left doubled by a drop are collapsed.

    Members name characters with emoji and styled letters as they please: the name stays as
    typed everywhere Discord shows it, and a picture the bot draws shows what it can of it.
    """
    if not isinstance(font, ImageFont.FreeTypeFont):
        return text
    kept: list[str] = []
    for char in text:
        if _invisible(char):
            continue  # a joiner or an emoji's presentation selector: nothing of its own
        if char.isspace() or _has_glyph(font, char):
            kept.append(char)
            continue
        folded = unicodedata.normalize("NFKC", char)
        if folded != char and all(c.isspace() or _has_glyph(font, c) for c in folded):
            kept.append(folded)
    shown = "".join(kept)
    return shown if shown == text else re.sub(" {2,}", " ", shown).strip(" ")


# The glyph shapes each catalog's readers expect, as Noto Sans CJK ends its face names.
# English has none: it keeps the first face of a collection, the JP one.
_REGION_OF_CATALOG: Final = {"ja": "JP", "zh-CN": "SC", "zh-TW": "TC"}
# Faces looked at inside one collection (Noto Sans CJK has 10: five regions, then Mono).
_MAX_FACES: Final = 10


def region_of(locale: str | None) -> str | None:
    """The regional glyph shapes (``"JP"``, ``"SC"``, ``"TC"``) a reader of ``locale`` expects."""
    return _REGION_OF_CATALOG.get(resolve_locale(locale)) if locale else None


def locale_for_text(text: str, locale: str | None) -> str | None:
    """The locale whose glyph shapes ``text`` should be drawn with: Japanese for text with
    kana (only Japanese writes it, so a name like 星野アイ keeps its Japanese shapes in a
    Chinese reader's gallery), else the reader's own."""
    if any(_is_kana(char) for char in text):
        return "ja"
    return locale


def _is_kana(char: str) -> bool:
    # Hiragana, katakana, their phonetic extensions, and half-width katakana.
    code = ord(char)
    return 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F


def _candidates() -> list[_Candidate]:
    """Every font worth trying, in order of preference (see the module docstring)."""
    env = _env_candidate()
    return [
        *([env] if env else []),
        *_system_candidates(_SYSTEM_CJK),
        *_bundled_candidates(BUNDLED_FONT_DIR),
        *_system_candidates(_SYSTEM_LATIN),
    ]


def _regional_face(candidate: _Candidate, region: str) -> _Candidate | None:
    """The face of ``candidate``'s file (a collection's faces one by one) whose family name
    ends with ``region``, e.g. "Noto Sans CJK TC", and that really draws CJK; None if the
    file has no such face."""
    for index in range(_MAX_FACES):
        font = _load(candidate.regular, 24, index)
        if font is None:
            return None  # no such face: past the end of the collection (or no file)
        family = font.getname()[0] or ""
        if family.split()[-1:] == [region] and _covers(font, _CJK_PROBE):
            return _Candidate(candidate.regular, candidate.bold, index)
    return None


@lru_cache(maxsize=8)
def _chosen(region: str | None) -> tuple[_Candidate, bool] | None:
    """Pick the font once per process and region: (candidate, has CJK glyphs).

    For a region, the first installed face with its shapes (system collections first,
    then the packaged subset) that really draws CJK; else, and always when the operator
    set a font, the same font as every other reader (where any warning is logged once).
    """
    if region is not None:
        if _env_candidate() is None:
            for candidate in [
                *_system_candidates(_SYSTEM_CJK),
                *_bundled_candidates(BUNDLED_FONT_DIR),
            ]:
                face = _regional_face(candidate, region)
                if face is not None:
                    return face, True
        return _chosen(None)
    latin_only: _Candidate | None = None
    for candidate in _candidates():
        probe = _load(candidate.regular, 24, candidate.index)
        if probe is None:
            if candidate.override:
                logger.warning("%s=%s could not be loaded", ENV_FONT_PATH, candidate.regular)
            continue
        cjk = _covers(probe, _CJK_PROBE)
        if cjk:
            return candidate, True
        if candidate.override:
            logger.warning("%s has no CJK glyphs; CJK names will show as boxes", candidate.regular)
            return candidate, False
        latin_only = latin_only or candidate
    if latin_only is not None:
        logger.warning(_NO_CJK_WARNING, latin_only.regular)
        return latin_only, False
    logger.warning(_NO_CJK_WARNING, "Pillow's built-in font")
    return None


_NO_CJK_WARNING: Final = (
    "No font that can draw Chinese or Japanese was found: such names will show as empty "
    "boxes on character cards, gallery pages and the usage chart (drawing with %s). The "
    "package ships one in bot/images/fonts/ (reinstall it), or install fonts-noto-cjk."
)


def check_fonts() -> bool:
    """Choose the font now, at start, so a missing CJK font is one warning in the log.

    Returns whether CJK names will render. Blocking (it opens font files): call it
    through ``asyncio.to_thread`` from async code.
    """
    chosen = _chosen(None)
    if chosen is not None and chosen[1]:
        logger.info("Drawing text with %s", chosen[0].regular)
        return True
    return False


def font_path(*, bold: bool = False, locale: str | None = None) -> Path | None:
    """Path of the font file :func:`get_font` uses, or None for Pillow's built-in font."""
    chosen = _chosen(region_of(locale))
    if chosen is None:
        return None
    candidate = chosen[0]
    if bold and candidate.bold is not None and candidate.bold.is_file():
        return candidate.bold
    return candidate.regular


@lru_cache(maxsize=128)
def get_font(size: int, *, bold: bool = False, locale: str | None = None) -> FontLike:
    """A font of ``size`` pixels that can draw Latin and (when installed) CJK text, with the
    glyph shapes a reader of ``locale`` expects when such a face is installed.

    Cached: renderers ask for the same few sizes on every render, and opening a 20 MB
    font collection each time would dominate render time. Without a bold face the
    regular face is returned.
    """
    chosen = _chosen(region_of(locale))
    if chosen is not None:
        candidate = chosen[0]
        if bold and candidate.bold is not None:
            font = _load(candidate.bold, size, candidate.index)
            if font is not None:
                return font
        font = _load(candidate.regular, size, candidate.index)
        if font is not None:
            return font
    return ImageFont.load_default(size)


def has_cjk_font(locale: str | None = None) -> bool:
    """Whether the chosen font really draws CJK characters (not empty boxes)."""
    chosen = _chosen(region_of(locale))
    return chosen is not None and chosen[1]


def has_bold_face(locale: str | None = None) -> bool:
    """Whether the chosen family has a real bold file (else renderers fake the weight)."""
    chosen = _chosen(region_of(locale))
    if chosen is None:
        return False
    bold = chosen[0].bold
    return bold is not None and bold.is_file()


def reset_font_cache() -> None:
    """Forget the chosen font, e.g. after a test changes ``BOT_FONT_PATH``."""
    _chosen.cache_clear()
    get_font.cache_clear()
    _has_glyph.cache_clear()
