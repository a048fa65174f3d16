"""Character sheets and the prompts built from them.

The sheet is what the bot remembers about a character; every prompt is derived from it, so
a character looks the same whether it is created, re-rolled or varied. Each field is capped
so a prompt stays far below the API's 32,000-character limit whatever a member types.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.images.styles import STYLES, StylePreset

__all__ = [
    "SHEET_LEAD",
    "CharacterSheet",
    "SceneRole",
    "build_create_prompt",
    "build_scene_prompt",
    "build_vary_prompt",
    "clean_text",
    "sheet_lines",
]

FIELD_LIMIT = 600
NAME_LIMIT = 64
CHANGE_LIMIT = 600

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")
# Unicode's direction embeddings, overrides and isolates: in a name they would reverse or
# reorder the rest of every line the bot shows it in (a scene's "created by", a list).
# Right-to-left names need none of them; the marks (U+200E, U+200F) stay, as they do no harm.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str | None, limit: int) -> str:
    """Normalise member text: NFC, no control characters (nor direction controls), trimmed,
    at most ``limit`` chars."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = DIRECTION_CONTROLS.sub("", _CONTROL.sub(" ", text))
    text = _SPACES.sub(" ", text).strip()
    return text[:limit].rstrip()


@dataclass(frozen=True, slots=True)
class CharacterSheet:
    """The facts that make a character recognisable. All but ``name`` may be empty."""

    name: str
    appearance: str = ""
    outfit: str = ""
    personality: str = ""
    details: str = ""
    palette: str = ""

    def cleaned(self) -> CharacterSheet:
        """Every field normalised, trimmed and capped (clean_text): what a member typed, fit
        to keep and to prompt with."""
        return CharacterSheet(
            name=clean_text(self.name, NAME_LIMIT),
            appearance=clean_text(self.appearance, FIELD_LIMIT),
            outfit=clean_text(self.outfit, FIELD_LIMIT),
            personality=clean_text(self.personality, FIELD_LIMIT),
            details=clean_text(self.details, FIELD_LIMIT),
            palette=clean_text(self.palette, FIELD_LIMIT),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CharacterSheet:
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_palette(self, palette: str) -> CharacterSheet:
        return CharacterSheet(**{**self.to_dict(), "palette": palette})

    def facts(self) -> list[tuple[str, str]]:
        """(field, text) for every filled field except the name, in prompt order."""
        return [
            (name, value)
            for name in ("appearance", "outfit", "palette", "personality", "details")
            if (value := getattr(self, name))
        ]


_FACT_LABELS = {
    "appearance": "Appearance",
    "outfit": "Outfit",
    "palette": "Colour palette",
    "personality": "Personality (show it through pose and expression)",
    "details": "Other details",
}

_COMPOSITION = {
    "1024x1536": "Full-body or three-quarter portrait, character centred, head not cropped.",
    "1024x1024": "Waist-up portrait, character centred, head not cropped.",
    "1536x1024": "Wide shot: the character in a scene that suits them, clearly the focus.",
}


def sheet_lines(sheet: CharacterSheet) -> list[str]:
    return [f"{_FACT_LABELS[name]}: {value}" for name, value in sheet.facts()]


def _background_line(transparent: bool) -> str:
    if transparent:
        return (
            "Background: fully transparent; the character isolated as a clean, sticker-ready "
            "cutout with crisp edges and no ground shadow."
        )
    return "Background: a simple setting that complements the character without clutter."


def build_create_prompt(
    sheet: CharacterSheet, style: StylePreset, *, size: str, transparent: bool
) -> str:
    lines = [
        f"Anime character illustration of an original character named {sheet.name}.",
        f"Art style: {style.technique}.",
        *sheet_lines(sheet),
        _COMPOSITION.get(size, _COMPOSITION["1024x1536"]),
        _background_line(transparent),
        "One character only. No text, captions, signatures or watermarks.",
    ]
    return "\n".join(lines)


def build_vary_prompt(
    sheet: CharacterSheet,
    style: StylePreset,
    *,
    change: str,
    strong: bool,
    size: str,
    transparent: bool,
    references: int = 1,
    sheet_leads: bool = False,
) -> str:
    """The prompt of a variation: an edit whose reference images all show the character.

    ``sheet_leads``: the first reference is the character's reference sheet
    (bot.jobs.references), so the picture being varied is the second.

    Subtle: the first reference is the picture being varied and stays close; the others
    (the main picture, favourites) keep the character recognisable. Strong: the first
    reference is the character's main picture; only the identity is kept and pose, angle
    and scene may move.
    """
    change = clean_text(change, CHANGE_LIMIT)
    first = "the first reference image" if references > 1 else "the reference image"
    if sheet_leads and references > 1:
        first = "the second reference image"
    if strong:
        keep = (
            "Keep the identity exact: the same face, eye colour and shape, hairstyle and hair "
            "colour, body type and signature outfit details. Pose, camera angle, expression "
            "and scene may change freely."
        )
        fresh = "Draw a fresh take: a new pose, expression and setting that suit the character."
        others = (
            f"All {references} reference images show this same character; the first is the "
            "main reference and wins where they differ."
        )
    else:
        keep = (
            f"Keep everything identical to {first}: face, hair, eyes, outfit, colours, "
            "composition and art style. Make only the change asked for, subtly."
        )
        fresh = "Draw a fresh take of the same moment."
        others = (
            f"Vary {first}. The other reference images show the same "
            "character: use them to keep the face, hair and outfit exactly right."
        )
    what = f"Change only: {change}." if change else fresh
    lines = [f"Same character as {first}: {sheet.name}."]
    if sheet_leads and references > 1:
        lines.append(SHEET_LEAD)
    if references > 1:
        lines.append(others)
    lines += [
        *sheet_lines(sheet),
        f"Art style: {style.technique}.",
        what,
        keep,
        _COMPOSITION.get(size, _COMPOSITION["1024x1536"]),
        _background_line(transparent),
        "No text, captions, signatures or watermarks.",
    ]
    return "\n".join(lines)


# A reference sheet sent first (bot.jobs.references): it carries the most of the character.
SHEET_LEAD = (
    "The first reference image is the character's reference sheet (front, side and back "
    "views and three expressions): take the identity from it, never its layout."
)


@dataclass(frozen=True, slots=True)
class SceneRole:
    """One character of a scene and how many reference images show it (sent in this order)."""

    sheet: CharacterSheet
    references: int


def _image_numbers(first: int, count: int) -> str:
    if count == 1:
        return f"Reference image {first} shows"
    return f"Reference images {first} to {first + count - 1} show"


def _scene_composition(size: str) -> str:
    if size == "1024x1536":
        return "Tall composition: every character fully in frame, none cropped at the head."
    return "Wide composition: every character clearly visible, none cropped at the head."


def build_scene_prompt(
    roles: list[SceneRole],
    style: StylePreset,
    *,
    setting: str,
    size: str,
    change: str = "",
    edits_first_image: bool = False,
) -> str:
    """The prompt of a scene: several characters, each named with its sheet and with the
    reference images that show it, so faces, hair and outfits stay each one's own.

    The references go out in ``roles`` order (after the scene being edited, when
    ``edits_first_image``); the prompt numbers them the same way. Member text (names,
    sheets, setting, change) is cleaned and capped like every other prompt's.
    """
    names = [role.sheet.name for role in roles]
    together = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    lines = [
        f"Anime illustration of {len(roles)} original characters together in one scene: "
        f"{together}.",
        f"Art style: {style.technique}.",
        f"The scene: {clean_text(setting, CHANGE_LIMIT)}.",
    ]
    number = 1
    if edits_first_image:
        change = clean_text(change, CHANGE_LIMIT)
        what = f"Change only: {change}." if change else "Draw a fresh take of the same moment."
        lines.append(
            "Reference image 1 is an earlier picture of this scene: keep its characters, "
            f"setting and composition. {what}"
        )
        number = 2
    for index, role in enumerate(roles, start=1):
        lines.append(f"{_image_numbers(number, role.references)} {role.sheet.name}.")
        number += role.references
        facts = "; ".join(sheet_lines(role.sheet))
        lines.append(f"Character {index}, {role.sheet.name}: {facts or 'as in the references'}.")
    lines += [
        "Keep each character's own face, eye colour and shape, hairstyle and hair colour, "
        "body type and outfit exactly as in that character's reference images; never swap "
        "or blend features between characters. Each character appears exactly once.",
        _scene_composition(size),
        "No text, captions, signatures or watermarks.",
    ]
    return "\n".join(lines)


def style_for(key: str) -> StylePreset:
    return STYLES.get(key) or STYLES["cel"]
