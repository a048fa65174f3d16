"""The prompts of the creator tools (issue #23): a reference sheet, an avatar, a cut-out.

Each is an edit whose reference images show the character (bot.jobs.references), so every
prompt says what to keep (the identity) and what the picture must be. Member text reaches
these prompts only through the character's sheet, which is capped (bot.images.prompts).
"""

from __future__ import annotations

from bot.images.prompts import SHEET_LEAD, CharacterSheet, sheet_lines
from bot.images.styles import StylePreset
from bot.records_creator import AvatarJobRequest, CutoutJobRequest, ImageKind, SheetJobRequest

__all__ = [
    "build_avatar_prompt",
    "build_creator_prompt",
    "build_cutout_prompt",
    "build_sheet_prompt",
    "image_kind_for",
]

_NO_TEXT = "No text, labels, captions, arrows, signatures or watermarks."


def _identity(sheet: CharacterSheet, references: int, *, sheet_leads: bool) -> list[str]:
    lines = [f"Same character as the reference images: {sheet.name}."]
    if sheet_leads and references > 1:
        lines.append(SHEET_LEAD)
    lines.append(
        "Keep the identity exact: the same face, eye colour and shape, hairstyle and hair "
        "colour, body type, outfit and colours."
    )
    return lines


def build_sheet_prompt(
    sheet: CharacterSheet, style: StylePreset, *, references: int, sheet_leads: bool = False
) -> str:
    """One landscape character reference sheet: three turnaround views and three faces."""
    lines = [
        *_identity(sheet, references, sheet_leads=sheet_leads),
        *sheet_lines(sheet),
        f"Art style: {style.technique}.",
        "Draw a character reference sheet in one landscape picture. Top row: the full body "
        "standing in a neutral pose, seen from the front, from the side (profile) and from "
        "the back, all the same size and height. Bottom row: three head-and-shoulders "
        "close-ups of the face with different expressions: happy, angry and surprised.",
        "Background: plain, flat, very light grey, evenly lit, with nothing else on it.",
        "The same outfit, proportions and colours in every view.",
        _NO_TEXT,
    ]
    return "\n".join(lines)


def build_avatar_prompt(
    sheet: CharacterSheet,
    style: StylePreset,
    *,
    references: int,
    transparent: bool,
    sheet_leads: bool = False,
) -> str:
    """A square head-and-shoulders portrait that still reads as a small round avatar."""
    background = (
        "Background: fully transparent; the character isolated with crisp clean edges and no "
        "shadow."
        if transparent
        else "Background: a simple soft gradient in a colour that suits the character."
    )
    lines = [
        *_identity(sheet, references, sheet_leads=sheet_leads),
        *sheet_lines(sheet),
        f"Art style: {style.technique}.",
        "A square profile picture: head and shoulders, facing the viewer, face centred and "
        "large in the frame, nothing important near the corners (it will be cropped to a "
        "circle), a friendly characteristic expression.",
        background,
        "One character only. " + _NO_TEXT,
    ]
    return "\n".join(lines)


def build_cutout_prompt(sheet: CharacterSheet, style: StylePreset, *, references: int) -> str:
    """The first reference picture again, the character cut out on transparency."""
    lines = [
        f"Redraw the first reference image of {sheet.name} exactly: the same pose, "
        "expression, outfit, framing and art style.",
        *(
            ["The other reference images show the same character: use them for the details."]
            if references > 1
            else []
        ),
        f"Art style: {style.technique}.",
        "Remove everything behind the character. Background: fully transparent; the character "
        "isolated as a clean, sticker-ready cutout with crisp edges and no ground shadow.",
        _NO_TEXT,
    ]
    return "\n".join(lines)


def build_creator_prompt(
    request: SheetJobRequest | AvatarJobRequest | CutoutJobRequest,
    sheet: CharacterSheet,
    style: StylePreset,
    *,
    references: int,
    sheet_leads: bool,
) -> str:
    """The prompt of a creator job, by its request."""
    if isinstance(request, SheetJobRequest):
        return build_sheet_prompt(sheet, style, references=references, sheet_leads=sheet_leads)
    if isinstance(request, AvatarJobRequest):
        return build_avatar_prompt(
            sheet,
            style,
            references=references,
            transparent=request.transparent,
            sheet_leads=sheet_leads,
        )
    return build_cutout_prompt(sheet, style, references=references)


def image_kind_for(kind: str) -> ImageKind:
    """What the pictures of a job of ``kind`` (a ``JobKind`` value) are stored as."""
    if kind == "sheet":
        return ImageKind.SHEET
    if kind == "avatar":
        return ImageKind.AVATAR
    return ImageKind.ORDINARY
