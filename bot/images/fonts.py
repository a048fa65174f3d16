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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from PIL import ImageFont

__all__ = [
    "BUNDLED_FONT_DIR",
    "FontLike",
    "check_fonts",
    "ellipsize",
    "font_path",
    "get_font",
    "has_bold_face",
    "has_cjk_font",
    "line_height",
    "reset_font_cache",
    "text_width",
    "wrap_text",
]

logger = logging.getLogger(__name__)

FontLike = ImageFont.FreeTypeFont | ImageFont.ImageFont

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
    """Whether every character of ``text`` has a real glyph (not .notdef) in ``font``.

    Pillow exposes no character map, so we compare each glyph's bitmap with the
    bitmap of a code point that no font maps.
    """
    if not isinstance(font, ImageFont.FreeTypeFont):
        return False
    missing = font.getmask(_MISSING_PROBE)
    missing_key = (missing.size, bytes(missing))
    for char in text:
        mask = font.getmask(char)
        if mask.size[0] == 0 or mask.size[1] == 0 or (mask.size, bytes(mask)) == missing_key:
            return False
    return True


def _candidates() -> list[_Candidate]:
    """Every font worth trying, in order of preference (see the module docstring)."""
    env = _env_candidate()
    return [
        *([env] if env else []),
        *_system_candidates(_SYSTEM_CJK),
        *_bundled_candidates(BUNDLED_FONT_DIR),
        *_system_candidates(_SYSTEM_LATIN),
    ]


@lru_cache(maxsize=1)
def _chosen() -> tuple[_Candidate, bool] | None:
    """Pick the font family once per process: (candidate, has CJK glyphs)."""
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
    chosen = _chosen()
    if chosen is not None and chosen[1]:
        logger.info("Drawing text with %s", chosen[0].regular)
        return True
    return False


def font_path(*, bold: bool = False) -> Path | None:
    """Path of the font file :func:`get_font` uses, or None for Pillow's built-in font."""
    chosen = _chosen()
    if chosen is None:
        return None
    candidate = chosen[0]
    if bold and candidate.bold is not None and candidate.bold.is_file():
        return candidate.bold
    return candidate.regular


@lru_cache(maxsize=64)
def get_font(size: int, *, bold: bool = False) -> FontLike:
    """A font of ``size`` pixels that can draw Latin and (when installed) CJK text.

    Cached: renderers ask for the same few sizes on every render, and opening a 20 MB
    font collection each time would dominate render time. Without a bold face the
    regular face is returned.
    """
    chosen = _chosen()
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


def has_cjk_font() -> bool:
    """Whether the chosen font really draws CJK characters (not empty boxes)."""
    chosen = _chosen()
    return chosen is not None and chosen[1]


def has_bold_face() -> bool:
    """Whether the chosen family has a real bold file (else renderers fake the weight)."""
    chosen = _chosen()
    if chosen is None:
        return False
    bold = chosen[0].bold
    return bold is not None and bold.is_file()


def reset_font_cache() -> None:
    """Forget the chosen font, e.g. after a test changes ``BOT_FONT_PATH``."""
    _chosen.cache_clear()
    get_font.cache_clear()


# --------------------------------------------------------------------------- text fitting

ELLIPSIS: Final = "…"

# Scripts written without spaces: a line may break between any two of these characters.
_NO_SPACE_SCRIPT = (
    r"\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af"
    r"\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)
_TOKEN_RE: Final = re.compile(rf"\s+|[{_NO_SPACE_SCRIPT}]|[^\s{_NO_SPACE_SCRIPT}]+")


def text_width(font: FontLike, text: str) -> float:
    """Advance width of ``text`` in pixels (what it occupies when drawn)."""
    return float(font.getlength(text))


def line_height(font: FontLike) -> int:
    """Distance between baselines for ``font``: ascent + descent."""
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 2


def ellipsize(text: str, font: FontLike, max_width: float) -> str:
    """Shorten ``text`` with a trailing "…" so it fits ``max_width`` pixels.

    Measures rather than counting characters because a kanji is about twice as wide as
    a Latin letter. Returns ``""`` if not even the ellipsis fits.
    """
    text = " ".join(text.split())
    if text_width(font, text) <= max_width:
        return text
    if text_width(font, ELLIPSIS) > max_width:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that still fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(font, text[:mid].rstrip() + ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def wrap_text(text: str, font: FontLike, max_width: float, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``max_width``.

    Breaks at spaces for Latin-like scripts and between any two characters of CJK
    text; over-long words are split. If the text does not fit, the last line ends
    with "…". Newlines in ``text`` are treated as spaces.
    """
    if max_lines <= 0:
        return []
    tokens = _TOKEN_RE.findall(" ".join(text.split()))
    lines: list[str] = []
    current = ""
    overflow = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        candidate = current + token
        if token.isspace() and not current:
            i += 1
            continue
        if text_width(font, candidate.rstrip()) <= max_width:
            current = candidate
            i += 1
            continue
        if not current.strip():
            # A single token wider than the line: split it at the widest prefix.
            cut = _fitting_prefix(token, font, max_width)
            current, tokens[i] = token[:cut], token[cut:]
        if len(lines) + 1 == max_lines:
            overflow = True
            break
        lines.append(current.rstrip())
        current = ""
    if overflow:
        lines.append(ellipsize(current + "".join(tokens[i:]), font, max_width))
    elif current.strip():
        lines.append(current.rstrip())
    return [line for line in lines if line]


def _fitting_prefix(token: str, font: FontLike, max_width: float) -> int:
    """Length of the longest prefix of ``token`` that fits (at least one character)."""
    lo, hi = 1, len(token)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(font, token[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo
