"""Style presets and picture sizes members choose from.

Styles are described by technique and era, never by naming a living artist or studio.
Display names live in the message catalogs under ``style.<key>``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SIZES", "STYLES", "StylePreset"]


@dataclass(frozen=True, slots=True)
class StylePreset:
    key: str
    technique: str


STYLES: dict[str, StylePreset] = {
    preset.key: preset
    for preset in (
        StylePreset(
            "cel",
            "classic cel-shaded TV anime: clean confident line art, flat colour fills with one "
            "hard shadow tone, bright key light, crisp highlights in the eyes",
        ),
        StylePreset(
            "watercolor",
            "soft watercolor anime illustration: delicate pencil line art, translucent washes "
            "that bleed at the edges, visible paper grain, gentle pastel light",
        ),
        StylePreset(
            "retro90s",
            "1990s retro anime: hand-painted cel look, slightly grainy film texture, muted "
            "warm palette, sharp angular highlights in the hair, VHS-era softness",
        ),
        StylePreset(
            "chibi",
            "chibi super-deformed style: head about a third of the body height, big expressive "
            "eyes, rounded simple shapes, thick clean outlines, cheerful flat colours",
        ),
        StylePreset(
            "lightnovel",
            "light-novel cover illustration: polished digital painting, luminous rim light, "
            "detailed hair strands and fabric, soft bokeh, dramatic yet clean composition",
        ),
        StylePreset(
            "manga",
            "black-and-white manga page art: inked line work with varied line weight, "
            "screentone shading and hatching, high contrast, no colour",
        ),
        StylePreset(
            "fantasy",
            "painterly fantasy anime art: rich oil-like brushwork, atmospheric lighting, "
            "saturated jewel tones, intricate costume details, epic mood",
        ),
        StylePreset(
            "pixel",
            "pixel-art game sprite: crisp pixel grid, limited 32-colour palette, clean "
            "readable silhouette, no anti-aliasing, no blur",
        ),
    )
}

DEFAULT_STYLE = "cel"

# Portrait suits full-body character art and works on every current model (API facts §10).
SIZES: dict[str, str] = {
    "portrait": "1024x1536",
    "square": "1024x1024",
    "landscape": "1536x1024",
}
DEFAULT_SIZE = "portrait"
