"""Make the CJK font subset bundled in ``bot/images/fonts/`` (maintainers only).

Why a subset: a pip install on a machine without CJK system fonts must still draw
Chinese and Japanese names, and no well-kept PyPI package ships a CJK font (the ones
there are single-release uploads by one person). The full Noto Sans CJK collection is
19 MB; the characters names are actually written in fit in about a fifth of that.

What it keeps: Latin (Basic, Latin-1, Extended-A), common punctuation and symbols,
hiragana, katakana, full/half-width forms, every character of GB 2312 (Simplified
Chinese), Big5 level 1 (common Traditional Chinese), JIS X 0208 (Japanese kanji), and
every character the bot's own message catalogs use. A rarer character falls back to the
.notdef box, as it would with many system fonts.

Run it with fontTools (``pip install fonttools``; not a project dependency, only this
script needs it) on the Regular collection from Debian's ``fonts-noto-cjk``::

    python scripts/subset_cjk_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

It writes ``bot/images/fonts/NotoSansCJKjp-Regular-subset.otf`` (face "Noto Sans CJK JP",
the face the system lookup also prefers: its Latin punctuation such as "·" is
proportional, where the SC face draws it full width in the middle of English text; the
glyph set is shared, so Chinese names draw all the same).
The licence (SIL OFL 1.1) sits beside it in ``OFL.txt`` and must stay with the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bot" / "images" / "fonts" / "NotoSansCJKjp-Regular-subset.otf"
JP_FACE = 0  # face order in NotoSansCJK-Regular.ttc: JP, KR, SC, TC, HK, then Mono

# Ranges kept whole: Latin, punctuation, symbols the renderers draw (★ … · •), kana,
# CJK punctuation and full/half-width forms.
_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x017F),
    (0x2000, 0x206F),
    (0x2100, 0x21FF),
    (0x2460, 0x24FF),
    (0x2500, 0x26FF),
    (0x3000, 0x30FF),
    (0x31F0, 0x31FF),
    (0xFF00, 0xFFEF),
)


def _double_byte(codec: str, lead: Iterable[int], trail: Iterable[int]) -> Iterator[str]:
    """Every character a double-byte legacy encoding can express."""
    trail_bytes = list(trail)
    for hi in lead:
        for lo in trail_bytes:
            try:
                yield bytes((hi, lo)).decode(codec)
            except UnicodeDecodeError:
                continue


def wanted_characters() -> set[str]:
    """The characters the subset keeps."""
    chars = {chr(cp) for start, end in _RANGES for cp in range(start, end + 1)}
    chars.update(_double_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF)))
    # Big5 level 1 (frequent characters) runs from A440 to C67E.
    chars.update(_double_byte("big5", range(0xA1, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]))
    chars.update(
        _double_byte("euc_jp", range(0xA1, 0xFF), range(0xA1, 0xFF))  # JIS X 0208
    )
    for catalog in (ROOT / "bot" / "i18n").glob("*/*.json"):
        chars.update(json.dumps(json.loads(catalog.read_text("utf-8")), ensure_ascii=False))
    return {c for c in chars if len(c) == 1 and c.isprintable()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    from fontTools import subset  # only this maintenance script needs fontTools
    from fontTools.ttLib import TTFont

    font = TTFont(args.source, fontNumber=JP_FACE)
    options = subset.Options()
    # Default layout features only: the renderers set horizontal text, and the vertical,
    # locale and width alternates would double the glyph count.
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True  # the missing-glyph box stays a visible box
    options.hinting = False  # FreeType's autohinter does as well on CJK; saves space
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted_characters()])
    subsetter.subset(font)
    font.save(args.output)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size / 1e6:.2f} MB, {len(font.getBestCmap())} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
